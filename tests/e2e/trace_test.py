#!/usr/bin/python3
"""kmodsim run --trace: trace.json, dmesg.txt and lock_stat.txt checked against the run itself.

For each of four runs (the default 2009 scenario on 2 cores under time_slice, and the 101-uevent
lkml-2009 scenario under run_to_block with the race-closed kernel, under processor_sharing,
and with a handoff + adaptive-spinning mutex):
  trace.json  every event has the fields its phase needs; on every track the spans nest or
              are disjoint; the span durations per state add up to timeline.csv's; the per-core
              tracks never show two tasks on one core at once (run-queue models); every flow
              start has its finish; the counters never go negative;
  dmesg.txt   through kmodsim's own dmesg parser (`kmodsim trace-import`): the same init
              durations as the run's modules.csv, to the microsecond;
  lock_stat   through kmodsim's lock_stat parser: the run's lock figures (acquisitions,
              contentions exactly; wait and hold totals and maxima to the printed 0.01 us).

trace_test.py KMODSIM ROOT
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

KMODSIM, ROOT = sys.argv[1], sys.argv[2]
ON_CPU = {"user", "kernel", "kernel_locked", "lock_spin"}


def fail(msg):
    sys.exit("FAIL: " + msg)


def check_trace(d, runqueue):
    with open(os.path.join(d, "trace.json")) as f:
        tr = json.load(f)
    evs = tr["traceEvents"]
    need = {"X": {"ph", "pid", "tid", "ts", "dur", "name", "cat"}, "M": {"ph", "pid", "tid", "name", "args"},
            "C": {"ph", "pid", "ts", "name", "args"}, "s": {"ph", "id", "pid", "tid", "ts", "name"},
            "f": {"ph", "id", "pid", "tid", "ts", "name", "bp"}}
    tracks = defaultdict(list)
    per_state = defaultdict(float)
    flows = defaultdict(set)
    for e in evs:
        if e["ph"] not in need:
            fail(f"unexpected phase {e['ph']}")
        missing = need[e["ph"]] - set(e)
        if missing:
            fail(f"event {e} lacks {missing}")
        if e["ph"] == "X":
            if e["dur"] < 0:
                fail(f"negative duration {e}")
            tracks[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
            if e["cat"] not in ("load", "cpu"):
                per_state[e["cat"]] += e["dur"] * 1e-6
        elif e["ph"] in "sf":
            flows[e["id"]].add(e["ph"])
        elif e["ph"] == "C" and min(e["args"].values()) < 0:
            fail(f"negative counter {e}")
    for (pid, tid), spans in tracks.items():
        spans.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for a, b, name in spans:
            while stack and stack[-1][1] <= a + 1e-6:
                stack.pop()
            if stack and b > stack[-1][1] + 1e-6:
                fail(f"track {pid}/{tid}: {name} [{a}, {b}] overlaps {stack[-1][2]} [{stack[-1][0]}, {stack[-1][1]}]")
            stack.append((a, b, name))
    cores = [k for k in tracks if k[0] == 1]
    if runqueue and not cores:
        fail("no per-core tracks under a run-queue CPU model")
    for k in cores:  # a core runs one task at a time: spans there are disjoint, not nested
        spans = sorted(tracks[k])
        for (a0, b0, n0), (a1, b1, n1) in zip(spans, spans[1:]):
            if a1 < b0 - 1e-6:
                fail(f"core {k[1] - 1}: {n0} and {n1} at once ({a1} < {b0})")
    if any(v != {"s", "f"} for v in flows.values()):
        fail("a flow arrow without its start or finish")
    timeline = defaultdict(float)
    with open(os.path.join(d, "timeline.csv")) as f:
        for r in csv.DictReader(f):
            timeline[r["state"]] += float(r["end_s"]) - float(r["start_s"])
    for st in set(timeline) | set(per_state):
        if abs(timeline[st] - per_state[st]) > 1e-6 * max(1.0, timeline[st]) + 1e-9 * len(evs):
            fail(f"state {st}: trace {per_state[st]:.9f} s, timeline {timeline[st]:.9f} s")
    return len(evs), len(flows), len(cores)


def main():
    scen = os.path.join(ROOT, "configs/scenarios")
    lkml = os.path.join(scen, "lkml-2009.yaml")
    closed = os.path.join(ROOT, "configs/kernels/linux-2.6.29-rusty-raceclosed.yaml")
    runs = [("default", os.path.join(scen, "desktop-2009.yaml"), [], True),
            ("lkml_run_to_block", lkml, [f"kernel={closed}", "machine.scheduler.model=run_to_block"], True),
            ("lkml_ps", lkml, ["machine.scheduler.model=processor_sharing"], False),
            ("lkml_handoff_spin", lkml, [f"kernel={closed}", "kernel.mutex.handoff=true",
                                         "kernel.mutex.adaptive_spin=true", "kernel.mutex.wakeup_us=5"], True)]
    with tempfile.TemporaryDirectory() as tmp:
        for name, sc, sets, runqueue in runs:
            d = os.path.join(tmp, name)
            cmd = [KMODSIM, "run", sc, "--trace", "--out", d, "-q", "--seed", "3"]
            for s in sets:
                cmd += ["--set", s]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                fail(f"{name}: {p.stderr}")
            n, nflows, ncores = check_trace(d, runqueue)
            # dmesg.txt and lock_stat.txt through kmodsim's parsers
            imp = os.path.join(tmp, name + "-import")
            p = subprocess.run([KMODSIM, "trace-import", "--dmesg", os.path.join(d, "dmesg.txt"), "--lock-stat",
                                os.path.join(d, "lock_stat.txt"), "-o", imp], capture_output=True, text=True)
            if p.returncode != 0:
                fail(f"{name}: trace-import: {p.stderr}")
            with open(os.path.join(d, "modules.csv")) as f:
                want = sorted((r["module"], round((float(r["init_end_s"]) - float(r["load_end_s"])) * 1e6))
                              for r in csv.DictReader(f) if r["init_end_s"])
            with open(os.path.join(imp, "modules.csv")) as f:
                got = sorted((r["module"], round((float(r["init_end_s"]) - float(r["load_end_s"])) * 1e6))
                             for r in csv.DictReader(f))
            if want != got:
                fail(f"{name}: init durations differ after the dmesg round trip: {set(want) ^ set(got)}")
            with open(os.path.join(d, "summary.json")) as f:
                lk = json.load(f)["lock"]
            with open(os.path.join(imp, "summary.json")) as f:
                back = json.load(f)["lock"]
            for k in ("acquisitions", "contentions"):
                if lk[k] != back[k]:
                    fail(f"{name}: lock_stat {k}: {back[k]} != {lk[k]}")
            for k in ("wait_total_s", "wait_max_s", "hold_total_s", "hold_max_s"):
                if abs(lk[k] - back[k]) > 0.5e-8 + 1e-12:  # printed to 0.01 us
                    fail(f"{name}: lock_stat {k}: {back[k]} != {lk[k]}")
            print(f"ok {name}: {n} trace events, {nflows} flow arrows, {ncores} core tracks; {len(want)} inits and "
                  f"the lock figures round-trip")
    print("PASS")


if __name__ == "__main__":
    main()
