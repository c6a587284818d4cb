#!/usr/bin/python3
"""A coefficient calibrate cannot identify keeps its base value: the terminal and fit.csv show that
kept value with no interval (they showed the unused NNLS estimate with a zero-width interval,
`sym_us 150 95% [150, 150] (not identifiable: kept)`, while the calibration kept 10).

calib_fix_kept_coefficients.py KMODSIM E2E_DIR
"""
import csv
import os
import re
import sys
import tempfile

import yaml

from cli_check import fail, run, write

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")
KEPT = {"dup_us": 100.0, "sym_us": 10.0}  # tests/e2e/configs/calib.yaml

with tempfile.TemporaryDirectory() as tmp:
    timings = os.path.join(tmp, "t1.csv")  # one load, two coefficients: nothing identifiable
    write(timings, "module,total_us\na,300\n")
    out, rep = os.path.join(tmp, "o1.yaml"), os.path.join(tmp, "rep")
    p = run(KMODSIM, "calibrate", "--scenario", BASE, "--timings", timings, "-o", out, "--report", rep)
    if p.returncode != 0:
        fail("calibrate", p)
    written = yaml.safe_load(open(out))["coefficients"]
    with open(os.path.join(rep, "fit.csv"), newline="") as f:
        fit = {r["coefficient"]: r for r in csv.DictReader(f)}
    if sorted(fit) != sorted(KEPT):
        fail(f"fit.csv coefficients {sorted(fit)}")
    for name, base in KEPT.items():
        r = fit[name]
        if written[name]["value"] != base or written[name]["source"] != "test value":
            fail(f"{name}: the calibration should keep {base} and its source: {written[name]}")
        if r["identifiable"] != "no" or float(r["value"]) != base or (r["se"], r["ci95_lo"], r["ci95_hi"]) != ("", "", ""):
            fail(f"fit.csv {name}: expected the kept value {base} and no se/interval: {r}")
        line = [ln for ln in p.stdout.splitlines() if ln.split()[:1] == [name]]
        if len(line) != 1 or "kept" not in line[0] or "95%" in line[0] or "[" in line[0] \
                or re.split(r"\s+", line[0].strip())[1] != f"{base:g}":
            fail(f"printed line for {name}: expected the kept value {base:g}, 'kept', no interval: {line}", p)
        print("ok:", line[0].strip())
    # an identifiable coefficient still shows its fit and interval
    timings2 = os.path.join(tmp, "t2.csv")
    write(timings2, "module,total_us\na,300\nb,310\n")
    p = run(KMODSIM, "calibrate", "--scenario", BASE, "--timings", timings2, "-o", out, "--force", "--report", rep)
    fit = {r["coefficient"]: r for r in csv.DictReader(open(os.path.join(rep, "fit.csv"), newline=""))}
    if p.returncode != 0 or fit["sym_us"]["identifiable"] != "yes" or not fit["sym_us"]["ci95_hi"] \
            or not re.search(r"sym_us +152\.5  95% \[", p.stdout):
        fail("an identifiable fit lost its interval", p)
print("PASS")
