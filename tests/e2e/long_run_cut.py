#!/usr/bin/python3
"""time_slice: a preemptible run through several slices is simulated as one timed wait while
nobody queues for a core, and a task that queues meanwhile cuts it at its next slice end
(sim/cpu.cpp, RunQueueCpu::long_run and arm). Hand-derived, one core, 0.5 ms slices, modprobe
start-up 2 ms, children_max 2, the coarse kernel (load_module 120 us under module_mutex, free_init
10 us), three modules whose first (a) waits 1 ms in its init (tests/e2e/configs/three-init-wait.yaml):

  0-4 ms      modprobe-0 and -1 share the core slice by slice (the run queue is never empty, so
              no long run): -0's start-up ends at 3.5 ms, -1's at 4 ms.
  4.00-4.12   modprobe-0 (a): load_module; then a's init waits 1 ms off the CPU (to 5.12).
  4.12-4.25   modprobe-1 (b): load_module, free_init; exits: udevd starts modprobe-2.
  4.25        modprobe-2 (c) alone on the core: its 2 ms start-up is one long run, its slice
              ends at 4.75, 5.25, 5.75 ms.
  5.12        modprobe-0 wakes and queues for the core: modprobe-2 is cut at its next slice end,
  5.25        where it yields: modprobe-0 runs free_init (10 us) and exits at 5.26;
  5.26-6.26   modprobe-2's last 1 ms of start-up, 6.26-6.39 its load_module and free_init.
  makespan 6.39 ms.

Without the cut modprobe-2 would run its start-up to 6.25 ms and modprobe-0 would wait for its
core until modprobe-2 exits. The rows below are timeline.csv's; the slice-by-slice engine (before
long runs) gave this very timeline byte for byte.

long_run_cut.py KMODSIM ROOT
"""
import csv
import json
import os
import sys
import tempfile

from cli_check import fail, run

KMODSIM, ROOT = sys.argv[1], sys.argv[2]
E2E = os.path.join(ROOT, "tests/e2e/configs")
WANT = {
    "modprobe-0": [("module_init", "sleep", 4.12, 5.12), ("module_init", "runnable", 5.12, 5.25),
                   ("module_free_init", "kernel_locked", 5.25, 5.26)],
    "modprobe-2": [("modprobe_startup", "user", 4.25, 5.25), ("modprobe_startup", "runnable", 5.25, 5.26),
                   ("modprobe_startup", "user", 5.26, 6.26), ("find_module", "kernel_locked", 6.26, 6.36),
                   ("resolve_symbol", "kernel_locked", 6.36, 6.38), ("module_free_init", "kernel_locked", 6.38, 6.39)],
}


def main():
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, "o")
        p = run(KMODSIM, "run", os.path.join(E2E, "base.yaml"), "--set", f"workload={E2E}/three-init-wait.yaml",
                "--set", "machine.scheduler.model=time_slice", "--set", "machine.scheduler.slice_ms=0.5",
                "--set", "userspace.modprobe.startup_us=2000", "--set", "userspace.udev.children_max=2",
                "--out", out, "-q")
        if p.returncode != 0:
            fail("the run failed", p)
        s = json.load(open(os.path.join(out, "summary.json")))
        if abs(s["makespan_s"] - 0.00639) > 1e-9:
            fail(f"makespan {s['makespan_s']} s, expected 0.00639 s")
        rows = {}
        for r in csv.DictReader(open(os.path.join(out, "timeline.csv"))):
            rows.setdefault(r["task"], []).append(
                (r["step"], r["state"], float(r["start_s"]) * 1e3, float(r["end_s"]) * 1e3))
        for task, want in WANT.items():
            got = [g for g in rows.get(task, []) if g[2] >= want[0][2] - 1e-9]  # from the first derived row on
            ok = len(got) == len(want) and all(
                g[:2] == w[:2] and abs(g[2] - w[2]) < 1e-6 and abs(g[3] - w[3]) < 1e-6 for g, w in zip(got, want))
            if not ok:
                fail(f"{task}: timeline rows\n  got  {got}\n  want {want}")
            print(f"ok {task}: {len(want)} rows as derived")
    print("PASS")


if __name__ == "__main__":
    main()
