#!/usr/bin/python3
"""`kmodsim calibrate --report DIR` follows the folder rules of `run --out`: it refuses, before any
work and with exit 1 and one line naming the folder, a non-empty folder that is not its own (a
user's files, a run folder) or a path that is not a folder, and leaves it untouched; a folder it
made before (marker .kmodsim-report) is reused, with stale files of an earlier report removed.

calib_fix_report_dir.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

from cli_check import fail, run, write

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")
DMESG = os.path.join(E2E, "calib", "dmesg-ok.txt")


def expect_refused(p, folder, out):
    """Exit 1, one 'error:' line naming the folder and --report; -o not written."""
    lines = p.stderr.strip().splitlines()
    if p.returncode != 1 or len(lines) != 1 or not lines[0].startswith("error: "):
        fail(f"--report {folder}: expected exit 1 and one 'error:' line", p)
    if folder not in lines[0] or "--report" not in lines[0]:
        fail(f"--report {folder}: the message does not name the folder and --report", p)
    if os.path.exists(out):
        fail(f"--report {folder}: refused, yet -o {out} was written (the refusal comes before the work)", p)
    print("ok:", lines[0])


def calibrate(tmp, report, *extra, out="cal.yaml"):
    timings = os.path.join(tmp, "t.csv")
    write(timings, "module,total_us\na,300\nb,310\n")
    return run(KMODSIM, "calibrate", "--scenario", BASE, "--timings", timings, *extra,
               "-o", os.path.join(tmp, out), "--force", "--report", report)


with tempfile.TemporaryDirectory() as tmp:
    # a user's folder: refused, their file untouched, no marker added
    mine = os.path.join(tmp, "mine")
    write(os.path.join(mine, "fit.csv"), "mine\n")
    p = calibrate(tmp, mine, out="never1.yaml")
    expect_refused(p, mine, os.path.join(tmp, "never1.yaml"))
    if open(os.path.join(mine, "fit.csv")).read() != "mine\n" or sorted(os.listdir(mine)) != ["fit.csv"]:
        fail(f"{mine}: the user's folder was changed: {sorted(os.listdir(mine))}")

    # a kmodsim run folder is not a report folder
    runf = os.path.join(tmp, "run")
    p = run(KMODSIM, "run", BASE, "--out", runf, "-q")
    if p.returncode != 0:
        fail("run", p)
    before = sorted(os.listdir(runf))
    expect_refused(calibrate(tmp, runf, out="never2.yaml"), runf, os.path.join(tmp, "never2.yaml"))
    if sorted(os.listdir(runf)) != before:
        fail(f"{runf}: the run folder was changed")

    # a file where the folder should be
    afile = os.path.join(tmp, "afile")
    write(afile, "x")
    expect_refused(calibrate(tmp, afile, out="never3.yaml"), afile, os.path.join(tmp, "never3.yaml"))

    # a new folder: made, marked; reused by the next calibrate; a --dmesg-only report then
    # removes the earlier fit.csv and residuals.csv (they describe another calibration)
    rep = os.path.join(tmp, "rep", "sub")
    for i in range(2):
        p = calibrate(tmp, rep)
        if p.returncode != 0:
            fail(f"a report folder kmodsim made (pass {i})", p)
    have = sorted(os.listdir(rep))
    if have != [".kmodsim-report", "fit.csv", "report.json", "residuals.csv"]:
        fail(f"{rep}: unexpected files {have}")
    p = run(KMODSIM, "calibrate", "--dmesg", DMESG, "-o", os.path.join(tmp, "d.yaml"), "--report", rep)
    if p.returncode != 0:
        fail("a --dmesg report into a report folder", p)
    have = sorted(os.listdir(rep))
    if have != [".kmodsim-report", "initcalls.csv", "report.json"]:
        fail(f"{rep}: after a --dmesg report, expected no stale fit.csv/residuals.csv: {have}")

    # a folder holding only calibrate's own temporary files (a calibrate killed mid-write)
    killed = os.path.join(tmp, "killed")
    write(os.path.join(killed, "fit.csv.tmp"), "half")
    p = calibrate(tmp, killed)
    if p.returncode != 0 or not os.path.isfile(os.path.join(killed, ".kmodsim-report")):
        fail("a folder with only calibrate's temporary files", p)
print("PASS")
