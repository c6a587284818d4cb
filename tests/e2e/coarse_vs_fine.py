#!/usr/bin/python3
"""The shipped default scenario under the big lock and under the seed patch: the fine kernel
takes module_mutex more often, holds it for less time in total, and is not slower."""
import json
import subprocess
import sys
import tempfile

kmodsim, scenario, coarse, fine = sys.argv[1:5]
res = {}
with tempfile.TemporaryDirectory() as tmp:
    for name, kernel in (("coarse", coarse), ("fine", fine)):
        p = subprocess.run([kmodsim, "run", scenario, "--set", f"kernel={kernel}", "--out", f"{tmp}/{name}", "--json"],
                           capture_output=True, text=True, check=True)
        res[name] = json.loads(p.stdout)
c, f = res["coarse"], res["fine"]
print(f"coarse: makespan {c['makespan_s']} s, {c['lock']['acquisitions']} acquisitions, hold {c['lock']['hold_total_s']} s")
print(f"fine:   makespan {f['makespan_s']} s, {f['lock']['acquisitions']} acquisitions, hold {f['lock']['hold_total_s']} s")
ok = True
if not f["lock"]["acquisitions"] > c["lock"]["acquisitions"]:
    print("FAIL: the fine kernel should take the lock more often"); ok = False
if not f["lock"]["hold_total_s"] < c["lock"]["hold_total_s"]:
    print("FAIL: the fine kernel should hold the lock for less time in total"); ok = False
if not f["makespan_s"] <= c["makespan_s"]:
    print("FAIL: the fine kernel should not be slower"); ok = False
sys.exit(0 if ok else 1)
