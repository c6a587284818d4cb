#!/usr/bin/python3
"""trace-import --lock-class names the class read from --lock-stat: without --lock-stat it is a
usage error (exit 2, one line naming both options), not silently ignored; with it, an unknown
class is an error naming the file.

trace_import_fix_lock_class.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

from cli_check import expect_error, fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
DMESG = os.path.join(E2E, "configs", "calib_fix", "dmesg-timed.txt")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "imp")
    p = run(KMODSIM, "trace-import", "--dmesg", DMESG, "--lock-class", "nosuch", "-o", out)
    expect_error(p, "--lock-class", "--lock-stat")
    if os.path.exists(out):
        fail(f"refused, yet {out} was made", p)
    # with --lock-stat the class is looked up (and module_mutex is the default)
    sim = os.path.join(tmp, "sim")
    p = run(KMODSIM, "run", os.path.join(E2E, "configs", "base.yaml"), "--trace", "--out", sim, "-q")
    if p.returncode != 0:
        fail("run --trace", p)
    lock_stat = os.path.join(sim, "lock_stat.txt")
    p = run(KMODSIM, "trace-import", "--dmesg", DMESG, "--lock-stat", lock_stat, "--lock-class", "nosuch",
            "-o", out)
    expect_error(p, "lock_stat.txt", "no lock class 'nosuch'")
    for extra in ([], ["--lock-class", "module_mutex"]):
        p = run(KMODSIM, "trace-import", "--dmesg", DMESG, "--lock-stat", lock_stat, *extra, "-o", out)
        if p.returncode != 0 or "module_mutex lock figures" not in p.stdout:
            fail(f"trace-import --lock-stat {' '.join(extra)}", p)
    # another class: lock_stat.txt names it (it said module_mutex whatever the class read)
    other = os.path.join(tmp, "other_lock_stat.txt")
    with open(lock_stat) as f, open(other, "w") as g:
        g.write(f.read().replace("module_mutex", "other_mutex"))
    p = run(KMODSIM, "trace-import", "--dmesg", DMESG, "--lock-stat", other, "--lock-class", "other_mutex", "-o", out)
    text = open(os.path.join(out, "lock_stat.txt")).read() if p.returncode == 0 else ""
    if "other_mutex:" not in text or "module_mutex" in text:
        fail("trace-import --lock-class other_mutex: lock_stat.txt does not name the class read", p)
    # dmesg alone says nothing of the lock: no lock_stat.txt (it showed an idle module_mutex)
    p = run(KMODSIM, "trace-import", "--dmesg", DMESG, "-o", out)
    if p.returncode != 0 or os.path.exists(os.path.join(out, "lock_stat.txt")):
        fail("trace-import --dmesg alone wrote a lock_stat.txt", p)
print("PASS")
