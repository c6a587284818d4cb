#!/usr/bin/python3
"""kmodsim speed benchmark (prints figures; not a test).

Times, as whole processes (median of N runs, min and max shown):
  baseline  `kmodsim --version` (process start, no simulation)
  default   one run of the default scenario (target < 50 ms including process start)
  scale     2,000 modules, 10,000 uevents, 64 cores, fine kernel (target < 3 s, < 500 MB)
  import    with --modules-dir DIR: `kmodsim import` of that whole module tree (target < 10 s
            for a distribution kernel of 4,000+ modules; scripts/import-debian-kernel.sh
            --keep leaves one in its work dir)
and reports each as a ratio to the baseline measured in the same script. Peak memory is the
child's max RSS. Usage: bench.py KMODSIM [--runs N] [--modules-dir DIR]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(cmd, runs):
    times, rss = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            sys.exit(f"error: {' '.join(cmd)} failed:\n{p.stderr}")
    # ru_maxrss of children is the largest so far, in KiB: measure big runs last
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return statistics.median(times), min(times), max(times), rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kmodsim")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--modules-dir", help="a depmod-indexed /lib/modules/<version> tree to time `kmodsim import` on")
    a = ap.parse_args()
    scenario = os.path.join(ROOT, "configs/scenarios/desktop-2009.yaml")
    fine = os.path.join(ROOT, "configs/kernels/linux-2.6.29-rusty.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        wl = os.path.join(tmp, "scale.yaml")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen_workload.py"), "--modules", "2000",
                        "--uevents", "10000", "--seed", "1", "-o", wl], check=True)
        cases = [
            ("baseline (kmodsim --version)", [a.kmodsim, "--version"], a.runs, None),
            ("default scenario", [a.kmodsim, "run", scenario, "--out", os.path.join(tmp, "d"), "-q"], a.runs, 0.050),
            ("scale: 2000 modules, 10000 uevents, 64 cores, fine, no timeline",
             [a.kmodsim, "run", scenario, "--set", f"workload={wl}", "--set", f"kernel={fine}", "--set",
              "machine.cores=64", "--set", "outputs.timeline=false", "--out", os.path.join(tmp, "s1"), "-q"],
             max(1, a.runs // 2), 3.0),
            ("scale, with timeline.csv",
             [a.kmodsim, "run", scenario, "--set", f"workload={wl}", "--set", f"kernel={fine}", "--set",
              "machine.cores=64", "--out", os.path.join(tmp, "s2"), "-q"], max(1, a.runs // 2), 3.0),
        ]
        if a.modules_dir:
            cases.append((f"import of {a.modules_dir}",
                          [a.kmodsim, "import", "--modules-dir", a.modules_dir, "--tsv", os.path.join(tmp, "f.tsv"),
                           "--force"], a.runs, 10.0))
        base = None
        print(f"{'case':66} {'median':>9} {'min':>9} {'max':>9} {'x base':>8} {'peak MB':>8}  target")
        for name, cmd, runs, target in cases:
            med, lo, hi, rss = measure(cmd, runs)
            base = base or med
            tgt = "" if target is None else (f"< {target:g} s " + ("ok" if med < target else "MISSED"))
            print(f"{name:66} {med:8.3f}s {lo:8.3f}s {hi:8.3f}s {med / base:8.1f} {rss:8.0f}  {tgt}")


if __name__ == "__main__":
    main()
