#!/usr/bin/python3
"""The 2009 prediction, whole: the sweep (experiments/lkml-2009.yaml), the ablations and the
one-at-a-time sensitivity, then analysis/predict_2009.py. `make run` calls it.

lkml_2009.py --kmodsim build/kmodsim --out results/lkml-2009 [--jobs N] [--reps R]

Ablations (2 cores, the race-closed patch against 2.6.28, R replications each, same draws):
  run_to_block      no lock-holder preemption (a task keeps its CPU until it blocks)
  no_userspace      udev and modprobe cost nothing (no dilution by userspace)
  no_init_waits     init functions all CPU, no off-CPU hardware wait
  resolve_one_lock  the patch with one module_mutex hold around the whole resolve loop
Sensitivity: every uncertain input at its point value (no draws) times 0.5 and 1.5, one at a
time, 2 cores, 4 uevent orders, no per-load noise (the same orders at every point).
"""
import argparse
import concurrent.futures as cf
import csv
import json
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCEN = os.path.join(REPO, "configs/scenarios/lkml-2009.yaml")
K = {k: os.path.join(REPO, "configs/kernels", k + ".yaml")
     for k in ("linux-2.6.28", "linux-2.6.29-rusty", "linux-2.6.29-rusty-raceclosed")}
K["resolve_one_lock"] = os.path.join(REPO, "configs/kernels/linux-2.6.29-resolve-one-lock.yaml")
CALIB = os.path.join(REPO, "configs/calibrations/turion-2009-derived.yaml")

ABLATIONS = {
    "baseline": [],
    "run_to_block": ["machine.scheduler.model=run_to_block"],
    "no_userspace": ["userspace.udev.event_us=0", "userspace.udev.spawn_us=0", "userspace.modprobe.startup_us=0",
                     "userspace.modprobe.index_us_per_module=0", "userspace.modprobe.check_us=0",
                     "userspace.modprobe.check_us_per_loaded=0"],
    "no_init_waits": ["calibration.module_init.cpu_fraction.value=1", "calibration.module_init.cpu_fraction.ci95=[1,1]"],
}


def run_all(kmodsim, jobs, runs):
    """runs: list of (id, [--set ...], seed, outdir); returns {id: summary}."""
    def one(r):
        rid, sets, seed, out = r
        summ = os.path.join(out, "summary.json")
        if not os.path.exists(summ):
            cmd = [kmodsim, "run", SCEN, "--out", out, "--seed", str(seed), "--quiet",
                   "--set", "outputs.timeline=false"]
            for s in sets:
                cmd += ["--set", s]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"error: run {rid} failed ({p.returncode}): {p.stderr.strip()}")
        with open(summ) as f:
            return rid, json.load(f)
    out = {}
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        for i, (rid, s) in enumerate(ex.map(one, runs), 1):
            out[rid] = s
            if i % 50 == 0 or i == len(runs):
                print(f"  {i}/{len(runs)} runs", file=sys.stderr)
    return out


def write_rows(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kmodsim", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    py = "/usr/bin/python3"

    print("the prediction sweep (experiments/lkml-2009.yaml)", file=sys.stderr)
    subprocess.run([py, os.path.join(HERE, "run_sweep.py"), os.path.join(HERE, "lkml-2009.yaml"), "--kmodsim",
                    a.kmodsim, "--out", os.path.join(a.out, "sweep"), "--jobs", str(a.jobs)], check=True,
                   stdout=subprocess.DEVNULL)

    print("ablations", file=sys.stderr)
    runs, meta = [], {}
    for ab, sets in ABLATIONS.items():
        kernels = ["linux-2.6.28", "linux-2.6.29-rusty-raceclosed"]
        for k in kernels:
            for r in range(a.reps):
                rid = f"{ab}/{k}/{r}"
                runs.append((rid, [f"kernel={K[k]}", "machine.cores=2"] + sets, 1 + r,
                             os.path.join(a.out, "ablations", ab, k, f"r{r:03d}")))
                meta[rid] = (ab, k, r)
    for r in range(a.reps):
        rid = f"resolve_one_lock/patch/{r}"
        runs.append((rid, [f"kernel={K['resolve_one_lock']}", "machine.cores=2"], 1 + r,
                     os.path.join(a.out, "ablations", "resolve_one_lock", f"r{r:03d}")))
        meta[rid] = ("resolve_one_lock", "linux-2.6.29-rusty-raceclosed", r)
    res = run_all(a.kmodsim, a.jobs, runs)
    rows = [{"ablation": meta[rid][0], "kernel": meta[rid][1], "replication": meta[rid][2],
             "makespan_s": s["makespan_s"], "modules_loaded": s["modules_loaded"], "failures": s["failures"]}
            for rid, s in res.items()]
    # resolve_one_lock's baseline is the ablation-free 2.6.28
    rows += [dict(r, ablation="resolve_one_lock") for r in rows
             if r["ablation"] == "baseline" and r["kernel"] == "linux-2.6.28"]
    write_rows(os.path.join(a.out, "ablations.csv"), rows)

    print("sensitivity (one at a time, x0.5 and x1.5)", file=sys.stderr)
    cal = yaml.safe_load(open(CALIB))
    inputs = [(f"calibration.coefficients.{n}.value", v["value"]) for n, v in cal["coefficients"].items()]
    inputs += [("calibration.module_init.cpu_fraction.value", cal["module_init"]["cpu_fraction"]["value"]),
               ("calibration.module_init.default.median_us", cal["module_init"]["default"]["median_us"])]
    scen = yaml.safe_load(open(SCEN))["workload"]
    inputs += [("workload.kernel_exports", scen["kernel_exports"]["value"]),
               ("workload.index_modules", scen["index_modules"]["value"])]
    inputs += [(f"workload.scale.{k}.value", v["value"]) for k, v in scen["scale"].items()]
    sreps = 4  # uevent orders; no per-load noise: a change of the speedup is the input's
    runs, meta = [], {}
    points = [("none", 1.0, None, None)] + [(key, f, key, v * f) for key, v in inputs for f in (0.5, 1.5)]
    for name, f, key, val in points:
        for k in ("linux-2.6.28", "linux-2.6.29-rusty-raceclosed"):
            for r in range(sreps):
                sets = [f"kernel={K[k]}", "machine.cores=2", "variability.sample_coefficients=false",
                        "variability.cost_cv=0", "variability.init_wait_cv=0"]
                if key:
                    v = min(val, 1.0) if key.endswith("cpu_fraction.value") else val
                    if key.endswith(".value"):  # its interval follows, or the value would fall outside it
                        sets.append(f"{key[:-len('.value')]}.ci95=[{v},{v}]")
                    if key in ("workload.kernel_exports", "workload.index_modules"):
                        v = int(round(v))
                        sets.append(f"{key}={{value: {v}, source: sensitivity}}")
                    else:
                        sets.append(f"{key}={v}")
                rid = f"{name}/{f}/{k}/{r}"
                runs.append((rid, sets, 1 + r, os.path.join(a.out, "sensitivity", name.replace(".", "_"), str(f), k,
                                                             f"r{r:03d}")))
                meta[rid] = (name, f, k, r)
    res = run_all(a.kmodsim, a.jobs, runs)
    rows = [{"input": meta[rid][0], "factor": meta[rid][1], "kernel": meta[rid][2], "replication": meta[rid][3],
             "makespan_s": s["makespan_s"], "modules_loaded": s["modules_loaded"]} for rid, s in res.items()]
    write_rows(os.path.join(a.out, "sensitivity.csv"), rows)

    subprocess.run([py, os.path.join(REPO, "analysis/predict_2009.py"), a.out], check=True)


if __name__ == "__main__":
    main()
