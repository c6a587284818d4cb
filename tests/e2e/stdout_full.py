#!/usr/bin/python3
"""Commands whose results go to standard output fail (exit 1, one line) when it cannot be written
(/dev/full: every write fails with ENOSPC); they exited 0 with the output lost.

stdout_full.py KMODSIM E2E_DIR
"""
import os
import subprocess
import sys
import tempfile

from cli_check import fail

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")

with tempfile.TemporaryDirectory() as t:
    for args in (["config", BASE], ["run", BASE, "--json", "--out", os.path.join(t, "r")],
                 ["graph", os.path.join(E2E, "configs", "two.yaml"), "--dot"], ["analytic", BASE, "--json"],
                 ["sweep", os.path.join(E2E, "configs", "sweep", "cores.yaml"), "--dry-run"]):
        with open("/dev/full", "w") as full:
            p = subprocess.run([KMODSIM, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
        if p.returncode != 1 or p.stderr.strip() != "error: standard output: write failed: No space left on device":
            fail(f"kmodsim {' '.join(args)} > /dev/full: exit {p.returncode}, stderr {p.stderr!r}")
print("ok")
