#!/usr/bin/python3
"""replay --compare: a figure the replay measured as 0 has no relative error when the simulated one
is not 0 (null in summary.json, n/a printed; it was 0, "+0.0%", for 3 simulated contentions
against none replayed); 0 only when both are 0; otherwise (sim - real) / real.

Which figures the replay measures as 0 depends on how the OS schedules its threads (on one core
under processor_sharing the simulator always has module_mutex contentions, the replay usually
none), so this checks one replay's rows, summary.json and the printed table alike, against that
rule whichever case each falls in; the rule itself, the n/a case included, is unit-tested
(unit.Analytic.RelativeErrorOfASimulatedFigure), deterministically.

replay_fix_compare_zero.py KMODSIM E2E_DIR
"""
import json
import os
import sys
import tempfile

from cli_check import fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "r")
    p = run(KMODSIM, "replay", BASE, "--cores", "1", "--set", "machine.scheduler.model=processor_sharing",
            "--compare", "--out", out)
    if p.returncode != 0:
        fail("replay --compare", p)
    cmp = json.load(open(os.path.join(out, "summary.json")))["replay"]["compare"]
    if not cmp:
        fail("replay --compare compared no figure", p)
    printed = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()[3:] if ln.startswith("  ")}
    for label, c in cmp.items():
        sv, rv, rel = c["simulated"], c["replayed"], c["relative_error"]
        if rv == 0 and sv != 0:
            want, shown = None, "n/a"
        elif rv == 0:
            want, shown = 0, "+0.0%"
        else:
            want = round((sv - rv) / rv * 1e6) / 1e6
            shown = f"{want * 100:+.1f}%"
        if rel != want or label not in printed or printed[label][-1] != shown:
            fail(f"{label}: simulated {sv}, replayed {rv}: relative_error {rel!r} (expected {want!r}), "
                 f"printed {printed.get(label)} (expected {shown})", p)
    print("ok:", len(cmp), "figures compared,", sum(c["relative_error"] is None for c in cmp.values()), "n/a")
print("PASS")
