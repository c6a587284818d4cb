#!/usr/bin/python3
"""Regression checks of trace.json, dmesg.txt, lock_stat.txt and trace-import, one case a test:

  fluid_busy_cores    under processor_sharing the `busy cores` counter never exceeds the cores;
                      the tasks beyond them count as runnable (busy + runnable = on-CPU + runnable
                      tasks at every instant)
  lock_waiters        `module_mutex waiters` counts module_mutex's waiters only: era-locks on 2
                      cores (no module_mutex contention) spins on area_lock, which its own
                      counter `area_lock waiters` shows
  import_init_ret     trace-import's dmesg.txt prints a failed init's return value (-19), so that
                      importing it again keeps failed_init
  dmesg_names         module names with '-', '.', '+' come out in dmesg.txt with '_' (as the
                      kernel's KBUILD_MODNAME), and kmodsim trace-import reads the file back

trace_fixes.py KMODSIM ROOT CASE
"""
import csv
import json
import os
import sys
import tempfile

from cli_check import fail, run, write

KMODSIM, ROOT, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
E2E = os.path.join(ROOT, "tests", "e2e", "configs")
DESKTOP = os.path.join(ROOT, "configs", "scenarios", "desktop-2009.yaml")


def kmodsim_run(out, *args):
    p = run(KMODSIM, "run", *args, "--trace", "--out", out, "-q")
    if p.returncode != 0:
        fail("run " + " ".join(args), p)
    return out


def counters(folder):
    """{counter name: [(ts, value), ...]} from trace.json."""
    with open(os.path.join(folder, "trace.json")) as f:
        evs = json.load(f)["traceEvents"]
    out = {}
    for e in evs:
        if e["ph"] == "C":
            out.setdefault(e["name"], []).append((e["ts"], list(e["args"].values())[0]))
    return out


def level_at(series, t):
    v = 0
    for ts, x in series:
        if ts > t:
            break
        v = x
    return v


def fluid_busy_cores(tmp):
    d = kmodsim_run(os.path.join(tmp, "ps"), DESKTOP, "--set", "machine.scheduler.model=processor_sharing")
    with open(os.path.join(d, "summary.json")) as f:
        cores = json.load(f)["cores"]
    c = counters(d)
    busy, runnable = c["busy cores"], c["runnable tasks"]
    top = max(v for _, v in busy)
    if top != cores:
        fail(f"busy cores reaches {top} on {cores} cores")
    # nobody is lost: at every counter change, busy + runnable = the tasks whose spans want a CPU
    with open(os.path.join(d, "trace.json")) as f:
        evs = json.load(f)["traceEvents"]
    wanting = []
    for e in evs:
        if e["ph"] == "X" and e["cat"] in ("user", "kernel", "kernel_locked", "lock_spin", "runnable",
                                           "runnable_locked") and e["dur"] > 0:
            wanting += [(e["ts"], 1), (e["ts"] + e["dur"], -1)]
    for t in sorted({ts for ts, _ in busy + runnable})[::7]:
        want = sum(dv for ts, dv in wanting if ts <= t + 1e-6)  # spans ending at t have left
        got = level_at(busy, t) + level_at(runnable, t)
        if abs(got - want) > 0:
            fail(f"at {t} us busy + runnable = {got}, tasks wanting a CPU = {want}")
    print(f"ok: busy cores peaks at {top} of {cores}")


def lock_waiters(tmp):
    d = kmodsim_run(os.path.join(tmp, "locks"), os.path.join(E2E, "base.yaml"), "--set",
                    f"kernel={os.path.join(E2E, 'era-locks.yaml')}", "--set", "machine.cores=2")
    with open(os.path.join(d, "summary.json")) as f:
        sm = json.load(f)
    if sm["lock"]["contentions"] != 0 or sm["locks"]["area_lock"]["contentions"] != 1:
        fail(f"the case changed: contentions {sm['lock']['contentions']}, area_lock {sm['locks']['area_lock']}")
    c = counters(d)
    mm = max(v for _, v in c["module_mutex waiters"])
    if mm != 0:
        fail(f"module_mutex waiters reaches {mm} with no module_mutex contention")
    area = c.get("area_lock waiters", [])
    if area != [(0.0, 0), (1000.0, 1), (1100.0, 0)]:
        fail(f"area_lock waiters {area}, not 1 from 1.0 to 1.1 ms")
    print("ok: the area_lock spinner counts under area_lock, not module_mutex")


def import_dmesg(src, out, *extra):
    p = run(KMODSIM, "trace-import", "--dmesg", src, *extra, "-o", out)
    if p.returncode != 0:
        fail(f"trace-import --dmesg {src}", p)
    return out


def outcomes(folder):
    with open(os.path.join(folder, "modules.csv")) as f:
        return [(r["module"], r["outcome"]) for r in csv.DictReader(f)]


def import_init_ret(tmp):
    real = os.path.join(tmp, "real.txt")
    write(real, "[    1.000000] calling  foo_init+0x0/0x1000 [foo] @ 200\n"
                "[    1.000500] initcall foo_init+0x0/0x1000 [foo] returned -19 after 500 usecs\n"
                "[    1.100000] calling  bar_init+0x0/0x1000 [bar] @ 201\n"
                "[    1.300000] initcall bar_init+0x0/0x1000 [bar] returned 0 after 200000 usecs\n")
    once = import_dmesg(real, os.path.join(tmp, "once"))
    want = [("foo", "failed_init"), ("bar", "loaded")]
    if outcomes(once) != want:
        fail(f"first import: {outcomes(once)}")
    text = open(os.path.join(once, "dmesg.txt")).read()
    if "[foo] returned -19 after 500 usecs" not in text or "[bar] returned 0 after 200000 usecs" not in text:
        fail(f"dmesg.txt does not keep the return values:\n{text}")
    twice = import_dmesg(os.path.join(once, "dmesg.txt"), os.path.join(tmp, "twice"))
    if outcomes(twice) != want:
        fail(f"second import: {outcomes(twice)}")
    print("ok: a failed init stays failed through trace-import's dmesg.txt")


def dmesg_names(tmp):
    d = kmodsim_run(os.path.join(tmp, "punct"), os.path.join(E2E, "base.yaml"), "--set",
                    f"workload={os.path.join(E2E, 'punct-names.yaml')}")
    text = open(os.path.join(d, "dmesg.txt")).read()
    for m in ("snd_hda_intel", "e1000e_x", "a_b"):
        if f"calling  {m}_init+0x0/0x1000 [{m}] @ " not in text or f"initcall {m}_init+0x0/0x1000 [{m}] returned" \
                not in text:
            fail(f"dmesg.txt lacks {m}'s lines:\n{text}")
    back = import_dmesg(os.path.join(d, "dmesg.txt"), os.path.join(tmp, "back"))
    if sorted(outcomes(back)) != [("a_b", "loaded"), ("e1000e_x", "loaded"), ("snd_hda_intel", "loaded")]:
        fail(f"imported back: {outcomes(back)}")
    print("ok: dmesg.txt names modules as the kernel does and imports back")


CASES = {f.__name__: f for f in (fluid_busy_cores, lock_waiters, import_init_ret, dmesg_names)}

if CASE not in CASES:
    fail(f"unknown case {CASE}; cases: {', '.join(CASES)}")
with tempfile.TemporaryDirectory() as tmp:
    CASES[CASE](tmp)
print("PASS")
