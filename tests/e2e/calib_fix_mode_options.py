#!/usr/bin/python3
"""calibrate options that belong to one mode, given without it, are usage errors (exit 2, one line
naming both options), never silently ignored: --target-slowdown and --symvers without
--microbench, --set without --scenario. Nothing is written.

calib_fix_mode_options.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

from cli_check import expect_error, fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
DMESG = os.path.join(E2E, "calib", "dmesg-ok.txt")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "x.yaml")
    for extra, parts in ((["--target-slowdown", "abc"], ["--target-slowdown", "--microbench"]),
                         (["--target-slowdown", "4,2.5,6"], ["--target-slowdown", "--microbench"]),
                         (["--symvers", os.path.join(tmp, "nonexistent")], ["--symvers", "--microbench"]),
                         (["--set", "seed=3"], ["--set", "--scenario"])):
        p = run(KMODSIM, "calibrate", "--dmesg", DMESG, *extra, "-o", out)
        expect_error(p, *parts)
        if os.path.exists(out):
            fail(f"{' '.join(extra)}: refused, yet {out} was written", p)
print("PASS")
