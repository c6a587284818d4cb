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
  lock_stat_layout    lock_stat.txt is kernel/locking/lockdep_proc.c's layout character for
                      character (221-character rules, "%40s:" and 14-wide columns, dashes under
                      the name, "%40s %14lu %29s %pS" points, the first 4 in first-seen order,
                      then a blank line, dots and a blank line); trace-import reads it and the
                      layout kmodsim wrote before
  rw_lock_class       a reader/writer lock's `NAME-W:` / `NAME-R:` lines are classes of their
                      own (--lock-class uts_sem-W); naming `uts_sem` says which to name
  import_bounces      trace-import's lock_stat.txt keeps a real file's con-bounces and
                      acq-bounces; a run's are 0 (not modelled)
  dmesg_forms         trace-import reads CONFIG_PRINTK_CALLER lines ("[    1.0][    T1] calling")
                      and journalctl -k -o short-monotonic ("[    1.0] host kernel: calling")

trace_fixes.py KMODSIM ROOT CASE
"""
import csv
import json
import os
import sys
import tempfile

from cli_check import expect_error, fail, run, write

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


WIDTH = 40 + 1 + 12 * (14 + 1)
IP = "[<0000000000000000>]"
# lock_stat.txt as kmodsim wrote it before it followed the kernel's layout (still read)
OLD_LOCK_STAT = f"""lock_stat version 0.4
{'-' * 219}
{'class name':>40} {'con-bounces':>14} {'contentions':>14} {'waittime-min':>14}
{'-' * 219}

{'module_mutex:':>40} {0:14} {27:14} {1323.0:14.2f} {93213.15:14.2f} {1245205.17:14.2f} {46118.71:14.2f} \
{0:14} {55:14} {10.1:14.2f} {49946.4:14.2f} {202042.15:14.2f} {3673.49:14.2f}
{'-' * 13:>40}
{'module_mutex':>40} {16:14} {IP:>19} load_module+0x0/0x0

"""


def check_lock_stat(path, points):
    """The file against the kernel's format strings; `points`: the [(step, n)] it must list."""
    lines = open(path).read().split("\n")
    rule = "-" * WIDTH
    heads = ("con-bounces contentions waittime-min waittime-max waittime-total waittime-avg acq-bounces "
             "acquisitions holdtime-min holdtime-max holdtime-total holdtime-avg").split()
    header = f"{'class name':>40}" + "".join(f" {h:>14}" for h in heads)
    if lines[:5] != ["lock_stat version 0.4", rule, header, rule, ""]:
        fail(f"{path}: header {lines[:5]}")
    cls = lines[5]
    if len(cls) != WIDTH - 1 or cls[:40].strip() != "module_mutex" or cls[40] != ":" or \
            any(cls[41 + 15 * k + 14] != " " for k in range(11)):
        fail(f"{path}: class line not '%40s:' and 12 '%14' columns: {cls!r}")
    want = [" " * 28 + "-" * 12]
    want += [f"{'module_mutex':>40} {n:14} {IP:>29} {step}+0x0/0x0" for step, n in points]
    want += ["", "." * WIDTH, "", ""]
    if lines[6:] != want:
        fail(f"{path}: after the class line\n" + "\n".join(lines[6:]) + "\nnot\n" + "\n".join(want))


def first_contentions(folder):
    """[(step, n)]: module_mutex's contended steps in first-seen order, from timeline.csv and
    the lock_wait intervals' starts (each wait a contention: no spinning, one wait per lock)."""
    order, n = [], {}
    with open(os.path.join(folder, "timeline.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["state"] == "lock_wait"]
    last = {}
    for r in sorted(rows, key=lambda r: float(r["start_s"])):
        if last.get(r["task"]) == r["end_s"]:
            continue
        if r["step"] not in n:
            order.append(r["step"])
        n[r["step"]] = n.get(r["step"], 0) + 1
    return [(s, n[s]) for s in order]


def lock_stat_layout(tmp):
    d = kmodsim_run(os.path.join(tmp, "desk"), DESKTOP)
    text = open(os.path.join(d, "lock_stat.txt")).read()
    points = [(l.split()[-1].split("+")[0], int(l.split()[1])) for l in text.splitlines() if "[<" in l]
    check_lock_stat(os.path.join(d, "lock_stat.txt"), points)
    # six contended steps: the first four seen, in that order
    d = kmodsim_run(os.path.join(tmp, "six"), os.path.join(E2E, "base.yaml"), "--set",
                    f"kernel={os.path.join(E2E, 'six-points-kernel.yaml')}", "--set",
                    f"workload={os.path.join(E2E, 'punct-names.yaml')}", "--set", "machine.cores=2")
    seen = first_contentions(d)
    if len(seen) <= 4:
        fail(f"the case changed: only {seen} contended")
    check_lock_stat(os.path.join(d, "lock_stat.txt"), seen[:4])
    # both layouts read back
    old = os.path.join(tmp, "old_lock_stat.txt")
    write(old, OLD_LOCK_STAT)
    for f, acq in ((old, 55), (os.path.join(d, "lock_stat.txt"), None)):
        out = os.path.join(tmp, "imp")
        p = run(KMODSIM, "trace-import", "--lock-stat", f, "-o", out)
        if p.returncode != 0:
            fail(f"trace-import --lock-stat {f}", p)
        with open(os.path.join(out, "summary.json")) as g:
            got = json.load(g)["lock"]["acquisitions"]
        if acq is not None and got != acq:
            fail(f"{f}: {got} acquisitions read, not {acq}")
    print(f"ok: lock_stat.txt in the kernel's layout; points {seen[:4]} of {len(seen)}")


def real_lock_stat(path):
    """A /proc/lock_stat as a kernel writes it: module_mutex with its points, a reader/writer uts_sem."""
    row = "{:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}"
    write(path, "\n".join([
        "lock_stat version 0.4", "-" * WIDTH, f"{'class name':>40}", "-" * WIDTH, "",
        f"{'module_mutex':>40}:" + row.format(3, 5, "1.50", "100.25", "300.50", "60.10", 10, 50, "0.50", "2000.00",
                                              "5000.00", "100.00"),
        " " * 28 + "-" * 12,
        f"{'module_mutex':>40} {5:14} {'[<00000000deadbeef>]':>29} load_module+0x1a2/0x1b00",
        " " * 28 + "-" * 12,
        f"{'module_mutex':>40} {5:14} {'[<00000000deadbeef>]':>29} load_module+0x1a2/0x1b00",
        "", "." * WIDTH, "",
        f"{'uts_sem':>38}-W:" + row.format(7, 1, "2.00", "2.00", "2.00", "2.00", 9, 4, "1.00", "3.00", "8.00", "2.00"),
        f"{'uts_sem':>38}-R:" + row.format(0, 0, "0.00", "0.00", "0.00", "0.00", 0, 7, "1.00", "3.00", "8.00", "1.14"),
        "", "." * WIDTH, "", ""]))
    return path


def rw_lock_class(tmp):
    ls = real_lock_stat(os.path.join(tmp, "real_lock_stat.txt"))
    out = os.path.join(tmp, "imp")
    p = run(KMODSIM, "trace-import", "--lock-stat", ls, "--lock-class", "uts_sem", "-o", out)
    expect_error(p, "real_lock_stat.txt", "uts_sem has reader/writer classes uts_sem-W, uts_sem-R: name one")
    for cls, acq in (("uts_sem-W", 4), ("uts_sem-R", 7), ("module_mutex", 50)):
        p = run(KMODSIM, "trace-import", "--lock-stat", ls, "--lock-class", cls, "-o", out)
        if p.returncode != 0:
            fail(f"--lock-class {cls}", p)
        with open(os.path.join(out, "summary.json")) as f:
            lk = json.load(f)["lock"]
        if lk["class"] != cls or lk["acquisitions"] != acq:
            fail(f"--lock-class {cls}: {lk}")
        cls_line = open(os.path.join(out, "lock_stat.txt")).read().splitlines()[5]
        if cls_line[:41] != f"{cls:>40}:":
            fail(f"--lock-class {cls}: lock_stat.txt's class line {cls_line!r}")
    print("ok: uts_sem-W and uts_sem-R are classes; uts_sem names them")


def bounces(folder):
    """(con-bounces, acq-bounces) of lock_stat.txt's class line."""
    f = open(os.path.join(folder, "lock_stat.txt")).read().splitlines()[5][41:].split()
    return int(f[0]), int(f[6])


def import_bounces(tmp):
    ls = real_lock_stat(os.path.join(tmp, "real_lock_stat.txt"))
    for cls, want in (("module_mutex", (3, 10)), ("uts_sem-W", (7, 9))):
        out = os.path.join(tmp, "imp-" + cls)
        p = run(KMODSIM, "trace-import", "--lock-stat", ls, "--lock-class", cls, "-o", out)
        if p.returncode != 0:
            fail(f"--lock-class {cls}", p)
        if bounces(out) != want:
            fail(f"{cls}: bounces {bounces(out)} written back, read {want}")
    d = kmodsim_run(os.path.join(tmp, "desk"), DESKTOP)
    if bounces(d) != (0, 0):
        fail(f"a run's bounces {bounces(d)}")
    print("ok: imported bounces kept, a run's 0")


def dmesg_forms(tmp):
    lines = ["calling  foo_init+0x0/0x1000 [foo] @ 200",
             "initcall foo_init+0x0/0x1000 [foo] returned 0 after 500 usecs"]
    for name, prefix in (("caller", "[{}][    T1] "), ("short_monotonic", "[{}] myhost kernel: ")):
        src = os.path.join(tmp, name + ".txt")
        write(src, "".join(prefix.format(t) + l + "\n" for t, l in zip(("    1.000000", "    1.000500"), lines)))
        out = import_dmesg(src, os.path.join(tmp, name))
        with open(os.path.join(out, "modules.csv")) as f:
            rows = [(r["module"], r["load_end_s"], r["init_end_s"]) for r in csv.DictReader(f)]
        if len(rows) != 1 or rows[0][0] != "foo" or abs(float(rows[0][1]) - 1.0) > 1e-9 or \
                abs(float(rows[0][2]) - 1.0005) > 1e-9:
            fail(f"{name}: {rows}")
    print("ok: the caller field and journalctl's short-monotonic form are read, with their times")


CASES = {f.__name__: f for f in (fluid_busy_cores, lock_waiters, import_init_ret, dmesg_names, lock_stat_layout,
                                 rw_lock_class, import_bounces, dmesg_forms)}

if CASE not in CASES:
    fail(f"unknown case {CASE}; cases: {', '.join(CASES)}")
with tempfile.TemporaryDirectory() as tmp:
    CASES[CASE](tmp)
print("PASS")
