#!/usr/bin/python3
"""calibrate writes only calibrations that load: a fitted coefficient over the range of a
coefficient (10^7 us per unit) is an error naming it (exit 2, nothing written), a 95% interval
reaching past it is cut there with a warning, and an initcall over the range of an init time
(10^8 us) is an error naming its line (calibrate exited 0 and the scenario loader rejected what it
wrote).

calib_fix_loadable_output.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

import yaml

from cli_check import expect_error, fail, run, write

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")  # kernel coarse.yaml: dup_us + undef_symbols x sym_us

with tempfile.TemporaryDirectory() as tmp:
    wl = os.path.join(tmp, "wl.yaml")
    write(wl, "schema_version: 1\nname: wl5\nkernel_exports: 0\nmodules:\n" +
          "".join(f"  - {{name: m{i}, undef_symbols: {u}}}\n" for i, u in enumerate([2, 4, 8, 16, 5], 1)) +
          "uevents:\n  - {device: d0, module: m1}\n")
    scen = ["--scenario", BASE, "--set", f"workload={wl}"]
    out = os.path.join(tmp, "out.yaml")

    # loads of ~30 s: a constant of 2.9e7 us (seconds taken for microseconds)
    big = os.path.join(tmp, "big.csv")
    write(big, "module,total_us\nm1,3.0e7\nm2,3.1e7\nm3,3.3e7\n")
    p = run(KMODSIM, "calibrate", *scen, "--timings", big, "-o", out)
    expect_error(p, "big.csv: dup_us: fitted value 2.9e+07 is over the range of a coefficient (0 to 1e+07")
    if os.path.exists(out):
        fail("a refused calibration was written")

    # a value in range with an interval past it: the interval is cut at 1e7, and the file loads
    wide = os.path.join(tmp, "wide.csv")
    write(wide, "module,total_us\nm1,9.9e6\nm2,3e6\nm3,9.9e6\nm4,1.6e7\nm5,3e6\n")
    p = run(KMODSIM, "calibrate", *scen, "--timings", wide, "-o", out)
    if p.returncode != 0 or "dup_us: the 95% interval's upper bound 1.7778e+07 is cut to 1e+07" not in p.stderr:
        fail("calibrate with a wide interval", p)
    dup = yaml.safe_load(open(out))["coefficients"]["dup_us"]
    if dup["ci95"][1] != 1e7 or not dup["value"] < 1e7:
        fail(f"dup_us {dup}")
    p = run(KMODSIM, "validate", BASE, "--set", f"workload={wl}", "--set", f"calibration={out}")
    if p.returncode != 0:
        fail("the written calibration does not load", p)
    print("ok: interval cut:", dup)

    # an initcall of 150 s: over the range of module_init.modules.<name>.us
    dmesg = os.path.join(tmp, "boot.txt")
    write(dmesg, "initcall m2_init+0x0/0x10 [m2] returned 0 after 3000 usecs\n"
                 "initcall m1_init+0x0/0x10 [m1] returned 0 after 150000000 usecs\n")
    p = run(KMODSIM, "calibrate", *scen, "--dmesg", dmesg, "-o", os.path.join(tmp, "d.yaml"))
    expect_error(p, "boot.txt:2: m1: 150000000 usecs is over the range of a module's init time (1e+08 us)")
print("PASS")
