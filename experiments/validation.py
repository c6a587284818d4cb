#!/usr/bin/python3
"""Validation against real execution: the simulations of experiments/validation.yaml (one
`kmodsim sweep`) and, for each kernel and core count, R replays of the same scenario on real
threads and cores (`kmodsim replay`); then analysis/validation.py writes the table and the plot.

validation.py --kmodsim build/kmodsim --out results/validation [--reps 3] [--max-cores C]

Points with more cores than this machine lets the process use are skipped (the replay would
refuse them). The replays run one at a time (they need the cores to themselves); a replay
folder that already holds a summary.json is kept, so an interrupted run goes on.
"""
import argparse
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SPEC = os.path.join(HERE, "validation.yaml")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kmodsim", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--max-cores", type=int, default=len(os.sched_getaffinity(0)))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sim = os.path.join(a.out, "sim")
    cmd = [a.kmodsim, "sweep", SPEC, "--out", sim, "-j", str(max(1, os.cpu_count() or 1))]
    if os.path.exists(os.path.join(sim, "sweep.journal")):
        cmd += ["--resume", "--force"]  # reuse finished runs; start over if the configs changed
    print("$ " + " ".join(cmd), file=sys.stderr)
    if subprocess.run(cmd).returncode != 0:
        sys.exit("error: the simulation sweep failed")

    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    g = spec["grid"]
    scenario = os.path.normpath(os.path.join(HERE, spec["scenario"]))
    for kernel in g["kernel"]:
        kpath = os.path.normpath(os.path.join(HERE, kernel))
        kname = os.path.splitext(os.path.basename(kpath))[0]
        for cores in g["machine.cores"]:
            if cores > a.max_cores:
                print(f"skip {kname} on {cores} cores: this process may use {a.max_cores}", file=sys.stderr)
                continue
            for r in range(a.reps):
                out = os.path.join(a.out, "replay", f"{kname}-c{cores}-r{r}")
                if os.path.exists(os.path.join(out, "summary.json")):
                    continue
                cmd = [a.kmodsim, "replay", scenario, "--set", f"kernel={kpath}", "--cores", str(cores),
                       "--set", f"machine.speed={g['machine.speed'][0]}", "--set", "outputs.timeline=false",
                       "--out", out, "-q"]
                print(f"replay {kname} on {cores} core(s), {r + 1}/{a.reps}", file=sys.stderr)
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"error: {' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    subprocess.run(["/usr/bin/python3", os.path.join(REPO, "analysis", "validation.py"), a.out], check=True)


if __name__ == "__main__":
    main()
