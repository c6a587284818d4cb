#!/usr/bin/python3
"""replay --compare: a figure the replay measured as 0 has no relative error when the simulated one
is not 0 (null in summary.json, n/a printed; it was 0, "+0.0%", for 3 simulated contentions
against none replayed); 0 only when both are 0; otherwise (sim - real) / real.

On one core under processor_sharing the simulator always has module_mutex contentions, and the
replay (CFS runs a thread for milliseconds) usually none; the replay is repeated until it has one
figure that is 0 against a simulated figure that is not.

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
    seen_na = False
    for attempt in range(12):
        out = os.path.join(tmp, f"r{attempt}")
        p = run(KMODSIM, "replay", BASE, "--cores", "1", "--set", "machine.scheduler.model=processor_sharing",
                "--compare", "--out", out)
        if p.returncode != 0:
            fail("replay --compare", p)
        cmp = json.load(open(os.path.join(out, "summary.json")))["replay"]["compare"]
        printed = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()[3:] if ln.startswith("  ")}
        for label, c in cmp.items():
            sv, rv, rel = c["simulated"], c["replayed"], c["relative_error"]
            if rv == 0 and sv != 0:
                want, shown = None, "n/a"
                seen_na = True
            elif rv == 0:
                want, shown = 0, "+0.0%"
            else:
                want = round((sv - rv) / rv * 1e6) / 1e6
                shown = f"{want * 100:+.1f}%"
            if rel != want or label not in printed or printed[label][-1] != shown:
                fail(f"{label}: simulated {sv}, replayed {rv}: relative_error {rel!r} (expected {want!r}), "
                     f"printed {printed.get(label)} (expected {shown})", p)
        if seen_na:
            print("ok:", [ln.strip() for ln in p.stdout.splitlines() if "n/a" in ln])
            break
    else:
        fail("12 replays never measured 0 for a figure the simulation did not: nothing checked")
print("PASS")
