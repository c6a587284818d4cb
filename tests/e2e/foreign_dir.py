#!/usr/bin/python3
"""`kmodsim run --out DIR` must refuse a non-empty folder it did not create, leaving it intact;
it may rewrite its own, and a run into its own that fails (here a deadlock) leaves no summary.json
(the mark of a complete run): the earlier run's stayed, and read as this run's result."""
import os
import subprocess
import sys
import tempfile

kmodsim, scenario = sys.argv[1:3]
with tempfile.TemporaryDirectory() as tmp:
    mine = os.path.join(tmp, "notes.txt")
    with open(mine, "w") as f:
        f.write("precious")
    p = subprocess.run([kmodsim, "run", scenario, "--out", tmp], capture_output=True, text=True)
    ok = p.returncode != 0 and "refusing" in p.stderr and open(mine).read() == "precious" \
        and not os.path.exists(os.path.join(tmp, "summary.json"))
    # a kmodsim run folder may be rewritten
    out = os.path.join(tmp, "run")
    for _ in range(2):
        ok = ok and subprocess.run([kmodsim, "run", scenario, "--out", out, "-q"]).returncode == 0
    deadlock = os.path.join(os.path.dirname(scenario), "deadlock.yaml")
    p = subprocess.run([kmodsim, "run", deadlock, "--out", out, "-q"], capture_output=True, text=True)
    ok = ok and p.returncode == 1 and not os.path.exists(os.path.join(out, "summary.json"))
print("ok" if ok else f"FAILED: {p.returncode} {p.stderr}")
sys.exit(0 if ok else 1)
