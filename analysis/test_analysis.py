#!/usr/bin/python3
"""Self-contained tests for analysis/plot_run.py and analysis/compare_runs.py.

Run:  /usr/bin/python3 analysis/test_analysis.py
Fabricates tiny run folders (hand-known values) in a temp dir and runs both
scripts as subprocesses with the same interpreter; the Gantt's lane order,
lane names and CPU strip are checked in-process on the same folders.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PLOT = os.path.join(HERE, "plot_run.py")
COMPARE = os.path.join(HERE, "compare_runs.py")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ["gantt", "lock", "states"]

TIMELINE_HEADER = "task,uevent,module,step,state,start_s,end_s,cpu"
MODULES_HEADER = ("module,task,uevent,outcome,requested_s,load_start_s,load_end_s,"
                  "init_end_s,lock_wait_s,lock_hold_s,acquisitions,contentions")
# Two modprobe tasks (plus udev): modprobe-1 loads "a" holding the lock
# 0.4-1.0 s; modprobe-2 waits for the lock 0.5-1.0 s, is preempted holding it,
# then finds "b" already loaded (eexist).
TIMELINE_ROWS = """\
udev,,,,user,0,0.2,0
udev,,,,slot_wait,0.2,2.0,-1
modprobe-1,0,a,,user,0.2,0.4,0
modprobe-1,0,a,load,kernel_locked,0.4,1.0,0
modprobe-1,0,a,init,sleep,1.0,2.0,-1
modprobe-2,1,b,,user,0.2,0.5,1
modprobe-2,1,b,,lock_wait,0.5,1.0,-1
modprobe-2,1,b,load,runnable_locked,1.0,1.2,-1
modprobe-2,1,b,load,kernel_locked,1.2,1.6,1
"""
MODULES_ROWS = """\
a,modprobe-1,0,loaded,0.2,0.4,1.0,2.0,0,0.6,2,0
b,modprobe-2,1,eexist,0.2,0.5,1.6,,0.5,0.6,2,1
"""


def summary(kernel, makespan, hold, wait, acq, cont, cores=2):
    return {
        "scenario": "tiny", "kernel": kernel, "machine": "m", "workload": "w",
        "cores": cores, "scheduler": "fluid", "seed": 1, "makespan_s": makespan,
        "modules_loaded": 1, "modprobe_runs": 2, "uevents": 2, "load_attempts": 2,
        "eexist": 1, "failures": 0,
        "races": {"duplicate_check_passed": 0, "unknown_symbol": 0},
        "lock": {"acquisitions": acq, "contentions": cont, "wait_total_s": wait,
                 "wait_max_s": wait, "hold_total_s": hold, "hold_max_s": 0.6,
                 "utilization": 0.5},
        "cpu": {"utilization": 0.6, "busy_s": 2.4},
        "bounds": {"lower_s": 1.5},
        "config_sha256": "0" * 64, "kmodsim_version": "0.0.0",
        "simgrid_version": "3.x",
        "future": {"nested": {"key": 7}},  # unknown extra keys must be tolerated
    }


def write_run(path, summary_obj, timeline=None, modules=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump(summary_obj, f)
    with open(os.path.join(path, "timeline.csv"), "w") as f:
        f.write(TIMELINE_HEADER + "\n" + (TIMELINE_ROWS if timeline is None else timeline))
    with open(os.path.join(path, "modules.csv"), "w") as f:
        f.write(MODULES_HEADER + "\n" + (MODULES_ROWS if modules is None else modules))
    return path


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], capture_output=True,
                          text=True, timeout=300)


def run_all(*calls):
    """Run several (script, *args) at once (the runs are independent); return
    their CompletedProcess objects in order. Keeps the whole file fast."""
    procs = [subprocess.Popen([sys.executable, *call], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for call in calls]
    done = []
    for proc, call in zip(procs, calls):
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(call, proc.returncode, out, err))
    return done


class AnalysisTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kmodsim-analysis-test-")
        self.big = write_run(os.path.join(self.tmp, "big"),
                             summary("2.6.28", 2.0, 1.0, 0.5, 4, 1))
        self.fine = write_run(os.path.join(self.tmp, "fine"),
                              summary("fine-grained", 0.5, 0.25, 0.125, 8, 3))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_png(self, path):
        self.assertTrue(os.path.isfile(path), path)
        self.assertGreater(os.path.getsize(path), 1000, path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC, path)

    def assert_svg(self, path):
        self.assertTrue(os.path.isfile(path), path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("<?xml"), path)
        self.assertIn("<svg", text)
        self.assertTrue(text.rstrip().endswith("</svg>"), path)
        self.assertNotIn("<dc:date>", text)  # no timestamp: deterministic

    def assert_clean_error(self, proc, *needles):
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertTrue(proc.stderr.startswith("error: "), proc.stderr)
        for needle in needles:
            self.assertIn(needle, proc.stderr)

    def test_plot_run_writes_pngs_and_svgs(self):
        proc = run(PLOT, self.big)  # default OUT_DIR is RUN_DIR
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = [f"{n}.{ext}" for n in FIGURES for ext in ("png", "svg")]
        self.assertEqual(proc.stdout.split(), [os.path.join(self.big, n) for n in names])
        for name in FIGURES:
            self.assert_png(os.path.join(self.big, name + ".png"))
            self.assert_svg(os.path.join(self.big, name + ".svg"))

    def test_plot_run_out_dir_and_deterministic(self):
        out1, out2 = os.path.join(self.tmp, "o1"), os.path.join(self.tmp, "o2", "x")
        for proc in run_all((PLOT, self.big, "-o", out1), (PLOT, self.big, "-o", out2)):
            self.assertEqual(proc.returncode, 0, proc.stderr)
        for name in [f"{n}.{ext}" for n in FIGURES for ext in ("png", "svg")]:
            with open(os.path.join(out1, name), "rb") as a, \
                    open(os.path.join(out2, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), f"{name} differs between runs")
        self.assertFalse(os.path.exists(os.path.join(self.big, "gantt.png")))

    def test_plot_run_many_tasks(self):
        # 300 modprobe tasks and load attempts: sampled Gantt, lock histogram.
        tl = ["udev,,,,user,0,0.5,0"]
        mods = []
        for i in range(300):
            t, s = f"modprobe-{i}", 0.001 * i
            tl += [f"{t},{i},m{i},,user,{s},{s + 0.1},-1",
                   f"{t},{i},m{i},,lock_wait,{s + 0.1},{s + 0.2},-1",
                   f"{t},{i},m{i},load,kernel_locked,{s + 0.2},{s + 0.25},-1"]
            mods.append(f"m{i},{t},{i},loaded,{s},{s + 0.1},{s + 0.25},,0.1,0.05,1,1")
        run_dir = write_run(os.path.join(self.tmp, "many"),
                            summary("2.6.28", 0.6, 15.0, 30.0, 300, 300),
                            "\n".join(tl) + "\n", "\n".join(mods) + "\n")
        proc = run(PLOT, run_dir)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for name in FIGURES:
            self.assert_png(os.path.join(run_dir, name + ".png"))
            self.assert_svg(os.path.join(run_dir, name + ".svg"))

    def test_gantt_lanes_and_cpu_strip(self):
        # In-process: lane order, lane names and the busy-core counts of the CPU strip.
        sys.path.insert(0, HERE)
        sys.dont_write_bytecode = True
        import kmodsim_io as kio
        import plot_run
        timeline, modules = kio.read_timeline(self.big), kio.read_modules(self.big)
        tasks = plot_run.task_order(timeline)
        self.assertEqual(tasks, ["udev", "modprobe-1", "modprobe-2"])
        labels, busy = plot_run.lane_labels(timeline, modules, tasks, with_task=True)
        self.assertEqual(labels, ["udev", "modprobe-1: a", "modprobe-2: b (eexist)"])
        self.assertEqual(busy, [True, True, False])
        # on-CPU intervals: udev user 0-0.2; modprobe-1 user 0.2-0.4, kernel_locked 0.4-1.0;
        # modprobe-2 user 0.2-0.5, kernel_locked 1.2-1.6
        times, counts = plot_run.cpu_busy(timeline)
        total = sum(counts.values())
        at = {float(t): int(n) for t, n in zip(times, total)}
        self.assertEqual(at, {0.0: 1, 0.2: 2, 0.4: 2, 0.5: 1, 1.0: 0, 1.2: 1, 1.6: 0})
        self.assertEqual(list(counts), ["user", "kernel_locked"])
        self.assertEqual(list(plot_run.cpu_column(timeline)), [0, -1, 0, 0, -1, 1, -1, -1, 1])
        # More than NAMED_LANES tasks: lanes named by module, later starters below,
        # dependencies counted, a task with no module and an already loaded one.
        rows = ["udev,,,,user,0,0.1,0"]
        mods = []
        for i in range(70):
            t, s = f"modprobe-{i}", 0.5 - 0.001 * i  # created in order, started in reverse
            rows.append(f"{t},{i},dep{i},load,kernel,{s},{s + 0.01},0")
            rows.append(f"{t},{i},m{i},load,kernel,{s + 0.01},{s + 0.02},0")
            mods += [f"dep{i},{t},{i},loaded,{s},{s},{s},,0,0,1,0",
                     f"m{i},{t},{i},{'eexist' if i == 5 else 'loaded'},{s},{s},{s},,0,0,1,0"]
        rows += ["modprobe-70,70,,,user,0.6,0.7,0", "modprobe-71,71,m1,,user,0.6,0.7,0"]
        many = write_run(os.path.join(self.tmp, "named"), summary("k", 1, 0, 0, 1, 0),
                         "\n".join(rows) + "\n", "\n".join(mods) + "\n")
        timeline, modules = kio.read_timeline(many), kio.read_modules(many)
        tasks = plot_run.task_order(timeline)
        self.assertEqual(tasks[:3], ["udev", "modprobe-69", "modprobe-68"])
        self.assertEqual(tasks[-2:], ["modprobe-70", "modprobe-71"])
        labels, busy = plot_run.lane_labels(timeline, modules, tasks, with_task=False)
        self.assertEqual(labels[1], "m69 +1")
        self.assertEqual(labels[tasks.index("modprobe-5")], "m5 +1 (eexist)")
        self.assertEqual(labels[-2:], ["modprobe-70: no module", "m1 (already loaded)"])
        self.assertEqual(busy[-2:], [False, False])

    def test_compare_csv_and_table(self):
        out = os.path.join(self.tmp, "cmp")
        proc = run(COMPARE, self.big, self.fine, "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_png(os.path.join(out, "compare.png"))
        self.assert_svg(os.path.join(out, "compare.svg"))
        self.assertEqual(proc.stdout.split()[-3:], [os.path.join(out, n) for n in
                                                     ("compare.csv", "compare.png", "compare.svg")])
        with open(os.path.join(out, "compare.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["run_dir"] for r in rows], [self.big, self.fine])
        self.assertEqual([r["kernel"] for r in rows], ["2.6.28", "fine-grained"])
        self.assertEqual([r["run_label"] for r in rows],
                         ["2.6.28 (2 cores)", "fine-grained (2 cores)"])
        self.assertEqual([float(r["makespan_s"]) for r in rows], [2.0, 0.5])
        self.assertEqual([float(r["lock.hold_total_s"]) for r in rows], [1.0, 0.25])
        self.assertEqual([float(r["lock.wait_total_s"]) for r in rows], [0.5, 0.125])
        self.assertEqual([int(r["lock.acquisitions"]) for r in rows], [4, 8])
        self.assertEqual([float(r["speedup_vs_first"]) for r in rows], [1.0, 4.0])
        self.assertEqual(rows[0]["future.nested.key"], "7")
        self.assertEqual(rows[0]["races.unknown_symbol"], "0")
        # Markdown table: header, separator, one line per run.
        table = [ln for ln in proc.stdout.splitlines() if ln.startswith("|")]
        self.assertEqual(len(table), 4, proc.stdout)
        cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in table]
        self.assertEqual(cells[0][:3], ["run", "makespan_s", "speedup"])
        self.assertEqual(cells[2], ["2.6.28 (2 cores)", "2", "1.00", "4", "1", "1", "0.5"])
        self.assertEqual(cells[3], ["fine-grained (2 cores)", "0.5", "4.00", "8", "3",
                                    "0.25", "0.125"])

    def test_compare_label_key(self):
        out = os.path.join(self.tmp, "cmp")
        proc = run(COMPARE, self.fine, self.big, "-o", out, "--label-key", "lock.contentions")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("| 3 (2 cores) | 0.5 | 1.00 |", proc.stdout)
        self.assertIn("| 1 (2 cores) | 2 | 0.25 |", proc.stdout)

    def test_missing_file(self):
        os.remove(os.path.join(self.big, "timeline.csv"))
        os.remove(os.path.join(self.fine, "summary.json"))
        plot, compare = run_all((PLOT, self.big), (COMPARE, self.big, self.fine, "-o", self.tmp))
        self.assert_clean_error(plot, "timeline.csv", "not found")
        self.assert_clean_error(compare, os.path.join(self.fine, "summary.json"), "not found")

    def test_missing_column(self):
        with open(os.path.join(self.big, "modules.csv"), "w") as f:
            f.write(MODULES_HEADER.replace(",lock_hold_s", "") + "\n")
        # timeline.csv without its "state" column (header and rows consistent).
        rows = [",".join(r.split(",")[:4] + r.split(",")[5:])
                for r in TIMELINE_ROWS.splitlines()]
        with open(os.path.join(self.fine, "timeline.csv"), "w") as f:
            f.write(TIMELINE_HEADER.replace(",state", "") + "\n" + "\n".join(rows) + "\n")
        big, fine = run_all((PLOT, self.big), (PLOT, self.fine))
        self.assert_clean_error(big, "modules.csv", "lock_hold_s")
        self.assert_clean_error(fine, "timeline.csv", "state")

    def test_ragged_csv(self):
        with open(os.path.join(self.big, "timeline.csv"), "a") as f:
            f.write("modprobe-3,2,c,,user,0.1,1.0,0,extra\n")
        self.assert_clean_error(run(PLOT, self.big), "timeline.csv", "line 11")

    def test_malformed_values(self):
        with open(os.path.join(self.big, "timeline.csv"), "a") as f:
            f.write("modprobe-3,2,c,,user,abc,1.0,0\n")
        with open(os.path.join(self.fine, "summary.json"), "w") as f:
            f.write("{not json")
        third = write_run(os.path.join(self.tmp, "third"), {"kernel": "k", "cores": 1})
        plot, bad_json, no_key = run_all((PLOT, self.big), (COMPARE, self.fine, "-o", self.tmp),
                                         (COMPARE, third, "-o", self.tmp))
        self.assert_clean_error(plot, "timeline.csv", "start_s")
        self.assert_clean_error(bad_json, "summary.json", "JSON")
        self.assert_clean_error(no_key, "summary.json", "makespan_s")


if __name__ == "__main__":
    unittest.main(verbosity=2)
