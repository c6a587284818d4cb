#!/usr/bin/python3
"""Runs a sweep spec: the grid of --set axes x replications, one kmodsim process per run.

Writes OUT/runs/<point>/ (each run's outputs) and OUT/runs.csv (one tidy row per run: the
axis values, the replication, the seed, and the flattened summary.json). Runs whose
summary.json already exists are not run again, so an interrupted sweep resumes.
Usage: run_sweep.py SPEC.yaml --kmodsim build/kmodsim --out results/NAME [--jobs N]
"""
import argparse
import concurrent.futures as cf
import csv
import itertools
import json
import os
import subprocess
import sys

import yaml


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def load_spec(path):
    try:
        with open(path) as f:
            spec = yaml.safe_load(f)
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    except yaml.YAMLError as e:
        fail(f"{path}: YAML syntax error: {e}")
    if not isinstance(spec, dict):
        fail(f"{path}: expected a mapping")
    known = {"schema_version", "name", "scenario", "grid", "replications", "seed"}
    for k in spec:
        if k not in known:
            fail(f"{path}: unknown key '{k}' (known: {', '.join(sorted(known))})")
    for k in ("name", "scenario", "grid"):
        if k not in spec:
            fail(f"{path}: missing required key '{k}'")
    if not isinstance(spec["grid"], dict) or not all(isinstance(v, list) and v for v in spec["grid"].values()):
        fail(f"{path}: grid: expected a mapping of key path -> non-empty list")
    reps = spec.get("replications", 1)
    if not isinstance(reps, int) or reps < 1:
        fail(f"{path}: replications: expected an integer >= 1")
    return spec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("--kmodsim", default="build/kmodsim")
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    spec = load_spec(args.spec)
    base = os.path.dirname(os.path.abspath(args.spec))

    def resolve(v):  # values naming a file are relative to the spec
        if isinstance(v, str) and v.endswith((".yaml", ".yml")):
            return os.path.normpath(os.path.join(base, v))
        return v

    scenario = resolve(spec["scenario"])
    axes = list(spec["grid"].keys())
    points = list(itertools.product(*[spec["grid"][a] for a in axes]))
    reps = spec.get("replications", 1)
    seed0 = int(spec.get("seed", 1))
    runs = []
    for i, values in enumerate(points):
        for r in range(reps):
            seed = seed0 + r  # replication r of every point uses the same seed: paired comparisons
            name = f"p{i:04d}-r{r:03d}"
            runs.append((name, dict(zip(axes, values)), r, seed))

    os.makedirs(args.out, exist_ok=True)

    def run_one(run):
        name, point, r, seed = run
        out = os.path.join(args.out, "runs", name)
        if os.path.exists(os.path.join(out, "summary.json")):
            return run, None
        cmd = [args.kmodsim, "run", scenario, "--out", out, "--seed", str(seed), "--quiet"]
        for k, v in point.items():
            cmd += ["--set", f"{k}={resolve(v)}"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return run, f"{' '.join(cmd)}\n{p.stderr.strip()}"
        return run, None

    done = 0
    errors = []
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for run, err in ex.map(run_one, runs):
            done += 1
            if err:
                errors.append(err)
            print(f"\r[{done}/{len(runs)}] {run[0]}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if errors:
        fail(f"{len(errors)} run(s) failed; first:\n{errors[0]}")

    rows = []
    for name, point, r, seed in runs:
        with open(os.path.join(args.out, "runs", name, "summary.json")) as f:
            summary = flatten(json.load(f))
        row = {"run": name, "replication": r}
        row.update({f"axis.{k}": (os.path.basename(v) if isinstance(v, str) else v) for k, v in point.items()})
        row.update(summary)
        rows.append(row)
    cols = list(dict.fromkeys(k for row in rows for k in row))
    with open(os.path.join(args.out, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    print(os.path.join(args.out, "runs.csv"))


if __name__ == "__main__":
    main()
