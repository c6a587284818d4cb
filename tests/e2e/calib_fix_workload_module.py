#!/usr/bin/python3
"""calibrate --dmesg --report: initcalls.csv's workload_module names a module of the scenario's
workload, or is empty (a `[module]` suffix naming a module the workload lacks was listed as if it
were one: psmouse and ata_piix against desktop-2009). Without a scenario every module counts.

calib_fix_workload_module.py KMODSIM E2E_DIR
"""
import csv
import os
import sys
import tempfile

from cli_check import fail, run, write

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")  # workload two.yaml: modules a, b

with tempfile.TemporaryDirectory() as tmp:
    dmesg = os.path.join(tmp, "boot.txt")
    write(dmesg, "initcall a_init+0x0/0x10 [a] returned 0 after 400 usecs\n"
                 "initcall zz_init+0x0/0x10 [zz] returned 0 after 300 usecs\n"
                 "initcall b_init+0x0/0x10 returned 0 after 200 usecs\n"
                 "initcall c_init+0x0/0x10 returned 0 after 100 usecs\n")
    for args, want in (([ "--scenario", BASE], ["a", "", "b", ""]),
                       ([], ["a", "zz", "", ""])):
        rep, out = os.path.join(tmp, "rep"), os.path.join(tmp, "out.yaml")
        p = run(KMODSIM, "calibrate", *args, "--dmesg", dmesg, "-o", out, "--force", "--report", rep)
        if p.returncode != 0:
            fail("calibrate", p)
        with open(os.path.join(rep, "initcalls.csv"), newline="") as f:
            got = [r["workload_module"] for r in csv.DictReader(f)]
        if got != want:
            fail(f"calibrate {' '.join(args)}: workload_module {got}, expected {want}", p)
        print("ok:", args[:1], got)
print("PASS")
