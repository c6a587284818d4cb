#!/usr/bin/python3
"""kmodsim sweep with many points: memory stays flat, and every point runs its own config.

1. A 1,000-point random sample of the default scenario, --dry-run: peak RSS under 200 MB
   (800 MB in a sanitized build, where the same dry run on ff6b846 takes well over 1 GB). Every
   point was kept prepared before (about 620 KB each: 1,000 points took 620 MB, 5,000 ran out of
   memory); now only the first 256 are kept, and a dry run keeps none.
2. 300 points of base.yaml (tests/e2e/README.md: 2.26 ms at speed 1, all of it CPU work) over
   machine.speed: each run's makespan x speed is 2.26 ms, so the points past the 256 kept ones,
   prepared again one at a time as their runs start, run their own speed; two replications each,
   resumed halfway (the second half prepares its points again).

sweep_many_points.py KMODSIM PROJECT_ROOT [MAX_RSS_MB]   (default 200; a sanitized build's
allocator keeps freed memory in quarantine, and CMake gives it more)
"""
import csv
import os
import resource
import subprocess
import sys
import tempfile

KMODSIM, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
MAX_RSS_MB = float(sys.argv[3]) if len(sys.argv) > 3 else 200.0


def main():
    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "big.yaml")
        with open(spec, "w") as f:
            f.write(f"""schema_version: 1
name: many-points
scenario: {ROOT}/configs/scenarios/desktop-2009.yaml
random:
  samples: 1000
  axes:
    variability.cost_cv: {{distribution: uniform, lo: 0, hi: 0.3}}
    machine.speed: {{distribution: uniform, lo: 0.5, hi: 2}}
replications: 1
seed: 1
""")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        p = subprocess.run([KMODSIM, "sweep", spec, "--dry-run"], capture_output=True, text=True, timeout=600)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if p.returncode != 0 or "1000 points x 1 replications" not in p.stdout:
            fails.append(f"dry run: exit {p.returncode}: {p.stderr.strip()}")
        elif peak_mb > MAX_RSS_MB and peak_mb * 1024 > before:
            fails.append(f"dry run of 1,000 points: peak RSS {peak_mb:.0f} MB, expected under {MAX_RSS_MB:.0f} MB")

        speeds = [round(1 + i / 100, 2) for i in range(300)]
        spec2 = os.path.join(tmp, "speeds.yaml")

        def write(reps):
            with open(spec2, "w") as f:
                f.write(f"""schema_version: 1
name: speeds
scenario: {ROOT}/tests/e2e/configs/base.yaml
grid:
  machine.speed: [{", ".join(str(s) for s in speeds)}]
replications: {reps}
seed: 1
""")
        out = os.path.join(tmp, "o")
        write(1)
        p = subprocess.run([KMODSIM, "sweep", spec2, "--out", out, "-j", "2", "--quiet-progress"],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            fails.append(f"speeds sweep: exit {p.returncode}: {p.stderr.strip()}")
        write(2)
        p = subprocess.run([KMODSIM, "sweep", spec2, "--out", out, "-j", "2", "--quiet-progress", "--resume"],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            fails.append(f"speeds sweep, resumed with 2 replications: exit {p.returncode}: {p.stderr.strip()}")
        rows = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
        if len(rows) != 600:
            fails.append(f"{len(rows)} runs, expected 600")
        for r in rows:
            sp = float(r["axis.machine.speed"])
            if r["status"] != "ok" or abs(float(r["makespan_s"]) * sp - 0.00226) > 1e-9 * max(1, sp):
                fails.append(f"run {r['run']} (speed {sp}): {r['status']}, makespan {r['makespan_s']} "
                             f"(expected {0.00226 / sp:.9f})")
                break
    for f in fails:
        print("FAIL:", f)
    print("ok" if not fails else f"{len(fails)} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
