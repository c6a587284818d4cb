#!/usr/bin/python3
"""Sweep throughput benchmark (prints figures; not a test).

1,000 runs of the default scenario (2 core counts x 500 replications, no timeline) with -j 2:
  kmodsim sweep         forked children of one loaded process
  process per run       the same runs (same --set's and seeds, from the sweep's runs.csv) as one
                        `kmodsim run` process each, J at a time: the reference, in the same script
Reports runs/s of each, their ratio, and the sweep's overhead over the sum of its run times
(wall x jobs / sum(wall_s) - 1). Usage: bench_sweep.py KMODSIM [--runs N] [--jobs J]
"""
import argparse
import concurrent.futures as cf
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kmodsim")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    reps = max(1, a.runs // 2)
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "bench.yaml")
        open(spec, "w").write(f"""schema_version: 1
name: bench
scenario: {ROOT}/configs/scenarios/desktop-2009.yaml
grid:
  machine.cores: [1, 2]
  outputs.timeline: [false]
replications: {reps}
seed: 1
""")
        t0 = time.perf_counter()
        subprocess.run([a.kmodsim, "sweep", spec, "--out", os.path.join(tmp, "s"), "-j", str(a.jobs)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts = time.perf_counter() - t0
        rows = list(csv.DictReader(open(os.path.join(tmp, "s", "runs.csv"))))
        assert len(rows) == 2 * reps and all(r["status"] == "ok" for r in rows)
        busy = sum(float(r["wall_s"]) for r in rows)
        scen = os.path.join(ROOT, "configs/scenarios/desktop-2009.yaml")

        def one(r):
            out = os.path.join(tmp, "p", r["run"])
            subprocess.run([a.kmodsim, "run", scen, "--quiet", "--out", out, "--seed", r["seed"], "--set",
                            "machine.cores=" + r["axis.machine.cores"], "--set", "outputs.timeline=false"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(os.path.join(out, "summary.json")) as f:
                return f.read()

        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            list(ex.map(one, rows))
        tp = time.perf_counter() - t0
    n = 2 * reps
    print(f"{n} runs of the default scenario, -j {a.jobs}:")
    print(f"  kmodsim sweep     {ts:7.2f} s  {n / ts:7.1f} runs/s  overhead over the runs' own time "
          f"{ts * a.jobs / busy - 1:+.1%}")
    print(f"  process per run   {tp:7.2f} s  {n / tp:7.1f} runs/s  (one kmodsim run process per run)")
    print(f"  ratio             {tp / ts:7.2f}x faster")


if __name__ == "__main__":
    main()
