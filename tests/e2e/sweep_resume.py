#!/usr/bin/python3
"""kmodsim sweep killed (SIGKILL) at random moments and resumed equals an uninterrupted sweep,
row for row (wall times aside): no lost, duplicate or torn rows.

sweep_resume.py KMODSIM REPO [KILLS]
"""
import csv
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

KMODSIM, REPO = sys.argv[1], sys.argv[2]
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
SPEC = f"""schema_version: 1
name: resume-test
scenario: {REPO}/configs/scenarios/desktop-2009.yaml
grid:
  kernel: [{REPO}/configs/kernels/linux-2.6.28.yaml, {REPO}/configs/kernels/linux-2.6.29-rusty.yaml]
  machine.cores: [1, 2, 4]
  variability.cost_cv: [0.2]
  outputs.timeline: [false]
replications: 40
seed: 3
"""


def rows(path):
    with open(path) as f:
        r = list(csv.DictReader(f))
    for row in r:
        row.pop("wall_s")
    return r


def main():
    random.seed(1)
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "spec.yaml")
        open(spec, "w").write(SPEC)
        ref = os.path.join(tmp, "ref")
        p = subprocess.run([KMODSIM, "sweep", spec, "--out", ref, "-j", "2"], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"FAILED: reference sweep: {p.stderr}")
        out = os.path.join(tmp, "killed")
        kills, attempts = 0, 0
        while True:
            args = [KMODSIM, "sweep", spec, "--out", out, "-j", "2"] + (["--resume"] if attempts else [])
            attempts += 1
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if kills < KILLS:
                time.sleep(random.uniform(0.01, 0.25))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    continue
            err = proc.communicate(timeout=300)[1]
            if proc.returncode != 0:
                sys.exit(f"FAILED: resume exited {proc.returncode}: {err}")
            if kills >= KILLS or attempts > 200:
                break
        a, b = rows(os.path.join(ref, "runs.csv")), rows(os.path.join(out, "runs.csv"))
        ok = a == b and len(a) == 240
        with open(os.path.join(ref, "points.csv")) as f1, open(os.path.join(out, "points.csv")) as f2:
            ok = ok and f1.read() == f2.read()
        print(f"{kills} kills, {attempts} invocations, {len(b)} rows: {'identical' if ok else 'DIFFERENT'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
