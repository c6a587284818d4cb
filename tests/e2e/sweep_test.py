#!/usr/bin/python3
"""The sweep runner on a 2 x 2 grid: runs.csv has one row per run with the axis values, and a
second invocation resumes (runs nothing again)."""
import csv
import os
import subprocess
import sys
import tempfile

kmodsim, root = sys.argv[1:3]
spec_text = """schema_version: 1
name: t
scenario: {root}/tests/e2e/configs/base.yaml
grid:
  kernel: [{root}/tests/e2e/configs/coarse.yaml, {root}/tests/e2e/configs/fine.yaml]
  machine.cores: [1, 2]
replications: 2
seed: 5
""".format(root=root)
with tempfile.TemporaryDirectory() as tmp:
    spec = os.path.join(tmp, "spec.yaml")
    with open(spec, "w") as f:
        f.write(spec_text)
    out = os.path.join(tmp, "out")
    cmd = ["/usr/bin/python3", os.path.join(root, "experiments/run_sweep.py"), spec, "--kmodsim", kmodsim, "--out", out]
    subprocess.run(cmd, check=True, capture_output=True)
    rows = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
    assert len(rows) == 8, len(rows)
    assert {r["axis.machine.cores"] for r in rows} == {"1", "2"}
    assert {r["kernel"] for r in rows} == {"tiny-coarse", "tiny-fine"}
    assert {r["seed"] for r in rows} == {"5", "6"}
    mtime = os.path.getmtime(os.path.join(out, "runs", "p0000-r000", "summary.json"))
    subprocess.run(cmd, check=True, capture_output=True)
    assert os.path.getmtime(os.path.join(out, "runs", "p0000-r000", "summary.json")) == mtime, "resume reran a run"
    bad = subprocess.run(["/usr/bin/python3", os.path.join(root, "experiments/run_sweep.py"), os.path.join(root, "README.md"),
                          "--out", out], capture_output=True, text=True)
    assert bad.returncode == 2 and "error:" in bad.stderr, bad.stderr
print("ok")
