#!/usr/bin/python3
"""kmodsim sweep outputs: runs.csv's columns named once (seed: the run's), points.csv intervals recomputed from runs.csv (Student t), a failed run
recorded with its exit status and error while the sweep goes on, another spec's folder refused
unless --force, more replications reusing the earlier runs, and a resume refused once a
configuration file the runs used has changed (its runs would mix two configurations).

sweep_outputs.py KMODSIM E2E_DIR
"""
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

from scipy import stats

KMODSIM, E2E = sys.argv[1], sys.argv[2]


def sweep(spec, out, *extra):
    return subprocess.run([KMODSIM, "sweep", spec, "--out", out, "-j", "2", *extra], capture_output=True, text=True)


def main():
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "s.yaml")

        def write(reps, axis="[0, 30]"):
            open(spec, "w").write(f"""schema_version: 1
name: outputs
scenario: {E2E}/configs/deadlock.yaml
grid:
  kernel.use_module_timeout_s: {axis}
  variability.cost_cv: [0.3]
replications: {reps}
seed: 9
""")
        write(4)
        out = os.path.join(tmp, "o")
        p = sweep(spec, out)
        if p.returncode != 0:
            print("FAIL: sweep exited", p.returncode, p.stderr)
            return 1
        runs = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
        # one column per name: the summary's seed (the run's own) was a second `seed` column
        header = next(csv.reader(open(os.path.join(out, "runs.csv"))))
        dup = sorted({c for c in header if header.count(c) > 1})
        if dup or header[:4] != ["run", "point", "replication", "seed"]:
            print(f"FAIL: runs.csv header: repeated {dup}, starts {header[:4]}")
            ok = False
        if any(r["metric"] == "seed" for r in csv.DictReader(open(os.path.join(out, "points.csv")))):
            print("FAIL: points.csv averages the seed as a metric")
            ok = False
        failed = [r for r in runs if r["status"] == "failed"]
        good = [r for r in runs if r["status"] == "ok"]
        if len(failed) != 4 or any(r["exit"] != "1" or "deadlock" not in r["error"] for r in failed) or len(good) != 4:
            print("FAIL: expected 4 deadlocked runs (exit 1, error recorded) and 4 good ones")
            ok = False
        # points.csv: n, mean, sd and the Student-t interval of makespan at the good point
        x = [float(r["makespan_s"]) for r in good]
        m, sd = sum(x) / len(x), math.sqrt(sum((v - sum(x) / len(x)) ** 2 for v in x) / (len(x) - 1))
        h = stats.t.ppf(0.975, len(x) - 1) * sd / math.sqrt(len(x))
        pts = [r for r in csv.DictReader(open(os.path.join(out, "points.csv"))) if r["metric"] == "makespan_s"]
        if len(pts) != 1 or int(pts[0]["n"]) != 4 or abs(float(pts[0]["mean"]) - m) > 1e-9 * m or \
                abs(float(pts[0]["ci95_lo"]) - (m - h)) > 1e-9 * m or abs(float(pts[0]["ci95_hi"]) - (m + h)) > 1e-9 * m:
            print(f"FAIL: points.csv {pts} != mean {m} CI [{m - h}, {m + h}]")
            ok = False
        # more replications reuse the earlier runs
        write(6)
        p = sweep(spec, out, "--resume")
        if p.returncode != 0 or "4 run now, 8 reused" not in p.stdout:
            print("FAIL: extending to 6 replications:", p.stdout, p.stderr)
            ok = False
        # another spec's folder: refused, then replaced with --force
        write(2, "[30]")
        p = sweep(spec, out, "--resume")
        if p.returncode != 1 or "another spec" not in p.stderr:
            print("FAIL: another spec's folder was not refused:", p.returncode, p.stderr)
            ok = False
        p = sweep(spec, out, "--force")
        if p.returncode != 0 or len(list(csv.DictReader(open(os.path.join(out, "runs.csv"))))) != 2:
            print("FAIL: --force did not replace the results:", p.stderr)
            ok = False
        # a configuration file changed between the runs and the resume: refused (the old runs were
        # reused, and averaged with the new ones, before)
        cfg = os.path.join(tmp, "cfg")
        shutil.copytree(os.path.join(E2E, "configs"), cfg)
        open(spec, "w").write(f"schema_version: 1\nname: changed\nscenario: {cfg}/base.yaml\n"
                              "grid:\n  machine.cores: [1, 2]\nreplications: 1\nseed: 9\n")
        out2 = os.path.join(tmp, "o2")
        p = sweep(spec, out2)
        machine = os.path.join(cfg, "machine.yaml")
        text = open(machine).read()
        if p.returncode != 0 or "speed: 1.0" not in text:
            print("FAIL: the sweep of the copied configs:", p.returncode, p.stderr, text)
            return 1
        open(machine, "w").write(text.replace("speed: 1.0", "speed: 0.5"))
        p = sweep(spec, out2, "--resume")
        if p.returncode != 1 or "configuration files changed" not in p.stderr:
            print("FAIL: a resume after a configuration file changed was not refused:", p.returncode, p.stdout, p.stderr)
            ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
