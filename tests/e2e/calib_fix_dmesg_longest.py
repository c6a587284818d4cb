#!/usr/bin/python3
"""calibrate --dmesg: a measured module's init time is its longest successful initcall, with that
initcall's line as the source, and it replaces the base's entry even when it is shorter (the base
kept 673000 us while the source quoted a 40200 us measurement; two initcalls of 500 and 100 usecs
gave 500 with the source of the 100 line).

calib_fix_dmesg_longest.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

import yaml

from cli_check import fail, run, write

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")  # workload two.yaml: modules a, b

with tempfile.TemporaryDirectory() as tmp:
    base_cal = os.path.join(tmp, "base-cal.yaml")
    write(base_cal, """schema_version: 1
name: with-init
reference: tests
coefficients:
  dup_us: {value: 100, unit: us, source: "test value"}
  sym_us: {value: 10, unit: us, source: "test value"}
  free_us: {value: 10, unit: us, source: "test value"}
module_init:
  cpu_fraction: {value: 0.5, source: "test value"}
  modules:
    a: {us: 673000, source: "base: a measured elsewhere"}
""")
    dmesg = os.path.join(tmp, "boot.txt")
    write(dmesg, "initcall a_init+0x0/0x10 [a] returned 0 after 40200 usecs\n"
                 "initcall b_init+0x0/0x10 [b] returned 0 after 500 usecs\n"
                 "initcall b_more+0x0/0x10 [b] returned 0 after 100 usecs\n"
                 "initcall b_late+0x0/0x10 [b] returned 0 after 500 usecs\n")
    out = os.path.join(tmp, "out.yaml")
    p = run(KMODSIM, "calibrate", "--scenario", BASE, "--base", base_cal, "--dmesg", dmesg, "-o", out)
    if p.returncode != 0:
        fail("calibrate", p)
    mods = yaml.safe_load(open(out))["module_init"]["modules"]
    want = {"a": (40200, "boot.txt:1 (a_init returned 0 after 40200 usecs)"),
            "b": (500, "boot.txt:2 (b_init returned 0 after 500 usecs)")}  # the first of the longest
    for name, (us, source) in want.items():
        if mods.get(name) != {"us": us, "source": source}:
            fail(f"module_init.modules.{name}: expected us {us} from '{source}', got {mods.get(name)}", p)
        print("ok:", name, mods[name])
print("PASS")
