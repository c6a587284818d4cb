#!/usr/bin/python3
"""replay: module_mutex's wait figures count contended acquisitions only, as the simulator's do
(lock.wait_total_s and wait_max_s, and modules.csv's lock_wait_s, added the few microseconds
of every uncontended acquisition: 0 contentions with wait_total_s > 0). A load that was never
contended waited 0; the loads' sum is at most the total (modprobe's /proc/modules check waits for
the lock outside any load, as in the simulator, so a busy machine can add to the total alone).

replay_fix_uncontended_wait.py KMODSIM E2E_DIR
"""
import csv
import json
import os
import sys
import tempfile

from cli_check import fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")

with tempfile.TemporaryDirectory() as tmp:
    for cores in (1, 2):
        out = os.path.join(tmp, f"r{cores}")
        p = run(KMODSIM, "replay", BASE, "--cores", str(cores), "--out", out, "-q")
        if p.returncode != 0:
            fail("replay", p)
        lock = json.load(open(os.path.join(out, "summary.json")))["lock"]
        rows = list(csv.DictReader(open(os.path.join(out, "modules.csv"), newline="")))
        for r in rows:
            if int(r["contentions"]) == 0 and float(r["lock_wait_s"]) != 0:
                fail(f"{cores} core(s): module {r['module']} was never contended but waited {r['lock_wait_s']} s")
        if lock["contentions"] == 0 and (lock["wait_total_s"] != 0 or lock["wait_max_s"] != 0):
            fail(f"{cores} core(s): no contention but lock {lock}")
        total = sum(float(r["lock_wait_s"]) for r in rows)
        if total > lock["wait_total_s"] + 1e-8 * len(rows) + 1e-9:
            fail(f"{cores} core(s): modules.csv lock_wait_s sum {total} above wait_total_s {lock['wait_total_s']}")
        print(f"ok: {cores} core(s): {lock['contentions']} contention(s), wait_total_s {lock['wait_total_s']}")
print("PASS")
