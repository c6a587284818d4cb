#!/usr/bin/python3
"""replay's trace.json draws module_mutex's hand-overs as the simulator's does: one flow arrow
(an 's' and an 'f' event with the same id) per contended acquisition, from the unlock that let the
waiter in to its acquisition (it drew none: the replayed lock recorded no hand-over).

The default scenario on 2 real cores: 22 modprobes contend for the lock in every replay (the
count varies with the OS's scheduling; the arrows must match it, whatever it is).

replay_trace_handovers.py KMODSIM SOURCE_DIR
"""
import json
import os
import sys
import tempfile

from cli_check import fail, run

KMODSIM, SRC = sys.argv[1], sys.argv[2]
SCENARIO = os.path.join(SRC, "configs", "scenarios", "desktop-2009.yaml")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "r")
    p = run(KMODSIM, "replay", SCENARIO, "--cores", "2", "--set", "outputs.trace=true", "--out", out, "-q")
    if p.returncode != 0:
        fail("replay", p)
    contentions = json.load(open(os.path.join(out, "summary.json")))["lock"]["contentions"]
    trace = json.load(open(os.path.join(out, "trace.json")))
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    starts = {e["id"]: e for e in events if e.get("ph") == "s"}
    ends = {e["id"]: e for e in events if e.get("ph") == "f"}
    if contentions == 0:
        fail("the replay had no contention: nothing to check (the scenario should always contend)")
    if len(starts) != contentions or set(starts) != set(ends):
        fail(f"{contentions} contended acquisitions but {len(starts)} arrow starts and {len(ends)} ends")
    late = [i for i in starts if starts[i]["ts"] > ends[i]["ts"]]
    if late:
        fail(f"arrows that end before they start: {late[:5]}")
    print(f"ok: {contentions} contentions, {len(starts)} hand-over arrows")
print("PASS")
