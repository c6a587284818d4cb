#!/usr/bin/python3
"""calibrate --microbench: without --scenario or --base there is no coefficient to write the
results into: a usage error (exit 2, nothing written; it warned four times and wrote an empty
calibration with exit 0). The memcpy coefficient's source says what was timed, not the export
table of the scans (it said 'memcpy of a 4 MiB image (per KiB) over 6000 synthetic kernel-like
export names').

calib_fix_microbench.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

import yaml

from cli_check import expect_error, fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(E2E)))
TURION = os.path.join(ROOT, "configs", "calibrations", "turion-2009-derived.yaml")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "mb.yaml")
    p = run(KMODSIM, "calibrate", "--microbench", "-o", out)
    expect_error(p, "--microbench needs --scenario or --base to write its coefficients into")
    if os.path.exists(out):
        fail("a refused calibration was written")
    p = run(KMODSIM, "calibrate", "--base", TURION, "--microbench", "-o", out)
    if p.returncode != 0:
        fail("calibrate --base --microbench", p)
    co = yaml.safe_load(open(out))["coefficients"]
    copy, hit = co["copy_us_per_kb"]["source"], co["lookup_hit_us_per_entry"]["source"]
    if not copy.startswith("microbench: memcpy of a 4 MiB image (per KiB), median of 7 runs") or "export" in copy:
        fail(f"copy_us_per_kb source: {copy}")
    if "symbol found (per table entry) over 6000 synthetic kernel-like export names" not in hit:
        fail(f"lookup_hit_us_per_entry source: {hit}")
    print("ok:", copy)
print("PASS")
