#!/usr/bin/python3
"""Kernel eras on two duplicate requests (tests/e2e/configs/era-*.yaml, workload dup.yaml, 2
cores, base.yaml's costs: start-up 1000 us, alloc 100 us, 2 symbols x 10 us, free 10 us).

By hand: both modprobes start up to 1.00 ms and both find `a` absent (their /proc/modules
checks run before any list_add), so both call init_module.
- seed patch: both pass find_module; both allocate (1.00-1.10); the first claims
  /sys/module/a, the second fails there (failed_already_loaded); makespan 1.13 ms.
- 3.8: both allocate; the first takes the name at add_unformed_module (1.10) and resolves
  (1.10-1.12); the second gets the lock at 1.11, finds the name taken and waits, lock released,
  until a goes live at 1.12: EEXIST; makespan 1.13 ms (the first's free).
- 6.4: the second call waits at its first step from 1.00 until the first's load ends at 1.13
  and returns its result (EEXIST, success) without allocating.

eras_test.py KMODSIM E2E_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

KMODSIM, E2E = sys.argv[1], sys.argv[2]
C = os.path.join(E2E, "configs")
WANT = {
    "seed": {"allocs": 2, "outcomes": ["failed_already_loaded", "loaded"], "waits": []},
    "3.8": {"allocs": 2, "outcomes": ["eexist", "loaded"], "waits": [("add_unformed_module", 0.00111, 0.00112)]},
    "6.4": {"allocs": 1, "outcomes": ["eexist", "loaded"], "waits": [("idempotent_check", 0.001, 0.00113)]},
}


def main():
    with tempfile.TemporaryDirectory() as t:
        for era, want in WANT.items():
            out = os.path.join(t, era)
            p = subprocess.run([KMODSIM, "run", os.path.join(C, "base.yaml"), "--set",
                                f"kernel={os.path.join(C, f'era-{era}.yaml')}", "--set",
                                f"workload={os.path.join(C, 'dup.yaml')}", "--set", "machine.cores=2", "--out", out,
                                "-q"], capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"FAIL {era}: {p.stderr}")
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            with open(os.path.join(out, "timeline.csv")) as f:
                rows = list(csv.DictReader(f))
            with open(os.path.join(out, "modules.csv")) as f:
                outcomes = sorted(r["outcome"] for r in csv.DictReader(f))
            allocs = len({r["task"] for r in rows if r["step"] == "alloc"})
            waits = [(r["step"], round(float(r["start_s"]), 9), round(float(r["end_s"]), 9)) for r in rows
                     if r["state"] == "dep_wait"]
            got = {"allocs": allocs, "outcomes": outcomes, "waits": waits}
            if got != want or abs(s["makespan_s"] - 0.00113) > 1e-12:
                sys.exit(f"FAIL {era}: {got}, makespan {s['makespan_s']}; expected {want}, 0.00113")
            print(f"ok {era}: {allocs} allocation(s), outcomes {outcomes}, waits {waits}")
    print("PASS")


if __name__ == "__main__":
    main()
