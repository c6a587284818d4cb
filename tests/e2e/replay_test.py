#!/usr/bin/python3
"""kmodsim replay on the hand-computed e2e scenario (tests/e2e/README.md, coarse_1core) and its
refusals.

1. One real core: both modules load, 2 x (check + load + free) = 6 module_mutex acquisitions
   (counts do not depend on the interleaving), the makespan is at least the 2.26 ms of work
   (minus the busy-loop calibration error) and far from a runaway; the outputs have the
   simulator's schemas plus replay.* fields; --compare adds the simulated figures.
2. More cores than this process may use, or more threads than RLIMIT_NPROC allows: exit 2, one
   line, nothing written.

replay_test.py KMODSIM E2E_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")


def fail(msg):
    sys.exit("FAIL: " + msg)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r")
        p = subprocess.run([KMODSIM, "replay", BASE, "--cores", "1", "--compare", "--json", "--out", out],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            fail(f"replay exit {p.returncode}: {p.stderr}")
        s = json.loads(p.stdout)
        if s["modules_loaded"] != 2 or s["lock"]["acquisitions"] != 6 or s["failures"] != 0:
            fail(f"counts: {s['modules_loaded']} loaded, {s['lock']['acquisitions']} acquisitions")
        if not 0.00226 * 0.95 <= s["makespan_s"] <= 0.1:
            fail(f"makespan {s['makespan_s']} s, expected 2.26 ms of work plus thread overheads")
        r = s["replay"]
        for k in ("cpus", "spin_rounds_per_us", "busy_loop_error_mean", "sleep_overshoot_mean_us",
                  "runqueue_wait_s", "program_lock_wait_s", "threads", "compare"):
            if k not in r:
                fail(f"replay.{k} missing")
        if r["cpus"] != [r["cpus"][0]] or r["threads"] != 3:
            fail(f"cpus {r['cpus']}, threads {r['threads']}")
        c = r["compare"]["makespan_s"]
        if abs(c["simulated"] - 0.00226) > 1e-9 or c["replayed"] != s["makespan_s"]:
            fail(f"compare: {c}")
        with open(os.path.join(out, "summary.json")) as f:
            if json.load(f)["makespan_s"] != s["makespan_s"]:
                fail("summary.json differs from --json")
        sim_out = os.path.join(tmp, "s")
        subprocess.run([KMODSIM, "run", BASE, "--set", "machine.cores=1", "--out", sim_out, "-q"], check=True)
        for name in ("modules.csv", "timeline.csv"):
            with open(os.path.join(out, name)) as a, open(os.path.join(sim_out, name)) as b:
                if a.readline() != b.readline():
                    fail(f"{name}: the replay's header is not the simulator's")
        with open(os.path.join(out, "modules.csv")) as f:
            rows = list(csv.DictReader(f))
        if sorted(r["outcome"] for r in rows) != ["loaded", "loaded"]:
            fail(f"modules.csv outcomes {[r['outcome'] for r in rows]}")
        print(f"ok replay: makespan {s['makespan_s'] * 1e3:.3f} ms (simulated 2.260), 6 acquisitions")

        bad = os.path.join(tmp, "bad")
        p = subprocess.run([KMODSIM, "replay", BASE, "--cores", "4096", "--out", bad], capture_output=True, text=True)
        if p.returncode != 2 or "replay refused" not in p.stderr or len(p.stderr.strip().splitlines()) != 1:
            fail(f"cores: exit {p.returncode}, {p.stderr!r}")
        if os.path.exists(os.path.join(bad, "summary.json")):
            fail("a refused replay wrote a summary")
        p = subprocess.run(["bash", "-c", f"ulimit -u 2 && exec {KMODSIM} replay {BASE} --cores 1 --out {bad}"],
                           capture_output=True, text=True)
        if p.returncode != 2 or "more threads than the replay starts" not in p.stderr:
            fail(f"threads: exit {p.returncode}, {p.stderr!r}")
        print("ok refusals: cores, threads")
    print("PASS")


if __name__ == "__main__":
    main()
