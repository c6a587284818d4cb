#!/usr/bin/python3
"""calibrate without --scenario (nor --base, nor --name) writes a calibration whose name and
reference are not empty strings (they were `name: ""`, `reference: ""`): the name is the output's
file name, the reference says whose measurements these are; the file loads back in a scenario.

calib_fix_default_name.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

import yaml

from cli_check import fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")
DMESG = os.path.join(E2E, "calib", "dmesg-ok.txt")
KERNEL = os.path.join(E2E, "configs", "calib_fix", "literal-kernel.yaml")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "my-laptop.yaml")
    p = run(KMODSIM, "calibrate", "--dmesg", DMESG, "-o", out)
    if p.returncode != 0:
        fail("calibrate --dmesg", p)
    cal = yaml.safe_load(open(out))
    if cal.get("name") != "my-laptop":
        fail(f"name: {cal.get('name')!r}, expected 'my-laptop' (the output's file name)")
    ref = cal.get("reference")
    if not isinstance(ref, str) or not ref.strip() or "dmesg-ok.txt" not in ref:
        fail(f"reference: {ref!r}, expected a text naming the measurements")
    p = run(KMODSIM, "validate", BASE, "--set", f"kernel={KERNEL}", "--set", f"calibration={out}")
    if p.returncode != 0:
        fail("the written calibration does not load back", p)
    # --name and a base's own name still win
    p = run(KMODSIM, "calibrate", "--dmesg", DMESG, "--name", "given", "-o", out, "--force")
    if p.returncode != 0 or yaml.safe_load(open(out))["name"] != "given":
        fail("--name", p)
    p = run(KMODSIM, "calibrate", "--base", os.path.join(E2E, "configs", "calib.yaml"), "--dmesg", DMESG,
            "-o", out, "--force")
    c = yaml.safe_load(open(out))
    if p.returncode != 0 or (c["name"], c["reference"]) != ("test-calib", "tests"):
        fail(f"--base: {c.get('name')!r}, {c.get('reference')!r}", p)
    print(f"ok: name {cal['name']!r}, reference {ref!r}")
print("PASS")
