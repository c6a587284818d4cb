#!/usr/bin/python3
"""trace-import leaves empty what a real boot's dmesg (and lock_stat's per-class totals) cannot
tell: in modules.csv, each init's lock_wait_s, lock_hold_s, acquisitions and contentions (they
were written as 0 / 0.000000000), as requested_s and load_start_s already were. The columns the
dmesg gives keep their values, and the folder stays complete (summary.json).

trace_import_fix_empty_lock_columns.py KMODSIM E2E_DIR
"""
import csv
import json
import os
import sys
import tempfile

from cli_check import fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
DMESG = os.path.join(E2E, "configs", "calib_fix", "dmesg-timed.txt")
UNKNOWN = ["requested_s", "load_start_s", "lock_wait_s", "lock_hold_s", "acquisitions", "contentions"]
WANT = [("uhci_hcd", "loaded", "3.000001000", "3.673002000"), ("ehci_hcd", "loaded", "3.100000000", "3.287000000"),
        ("ata_piix", "failed_init", "3.200000000", "3.200830000")]

with tempfile.TemporaryDirectory() as tmp:
    sim = os.path.join(tmp, "sim")
    p = run(KMODSIM, "run", os.path.join(E2E, "configs", "base.yaml"), "--trace", "--out", sim, "-q")
    if p.returncode != 0:
        fail("run --trace", p)
    for name, extra in (("dmesg", []), ("dmesg+lock_stat", ["--lock-stat", os.path.join(sim, "lock_stat.txt")])):
        out = os.path.join(tmp, name)
        for _ in range(2):  # and again into its own folder
            p = run(KMODSIM, "trace-import", "--dmesg", DMESG, *extra, "-o", out)
            if p.returncode != 0:
                fail(f"trace-import ({name})", p)
        with open(os.path.join(out, "modules.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        got = [(r["module"], r["outcome"], r["load_end_s"], r["init_end_s"]) for r in rows]
        if got != WANT:
            fail(f"{name}: modules.csv rows {got}, expected {WANT}")
        for r in rows:
            filled = {c: r[c] for c in UNKNOWN if r[c] != ""}
            if filled:
                fail(f"{name}: modules.csv {r['module']}: unknown columns written as {filled}, expected empty")
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        if summary["inits"] != 3 or ("lock" in summary) != bool(extra):
            fail(f"{name}: summary.json {summary}")
        if sorted(n for n in os.listdir(out) if n.endswith(".tmp")):
            fail(f"{name}: temporary files left in {out}")
        print(f"ok {name}: 3 inits, lock columns empty")
print("PASS")
