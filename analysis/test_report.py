#!/usr/bin/python3
"""Self-contained tests for analysis/report.py, analysis/compare_boot.py and
analysis/plot_sweep.py.

Run:  /usr/bin/python3 analysis/test_report.py
Fabricates, in a temp dir, a run folder (the tiny one of test_analysis.py), a
real boot folder as `kmodsim trace-import` writes it, a comparison, a sweep and
a 2009 prediction folder, all with hand-known values. The scripts run as
subprocesses (independent ones at the same time, to keep the file fast); a few
checks call their functions in-process.
"""

import base64
import contextlib
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_analysis import PNG_MAGIC, run, run_all, summary, write_run  # noqa: E402

REPORT = os.path.join(HERE, "report.py")
BOOT = os.path.join(HERE, "compare_boot.py")
SWEEP = os.path.join(HERE, "plot_sweep.py")
MODULES_HEADER = ("module,task,uevent,outcome,requested_s,load_start_s,load_end_s,"
                  "init_end_s,lock_wait_s,lock_hold_s,acquisitions,contentions")
TIMELINE_HEADER = "task,uevent,module,step,state,start_s,end_s,cpu"

# Simulated inits (load_end_s -> init_end_s): a 0.1-0.3, b 0.2-0.25, snd_hda 0.5-0.6,
# d_x 0.4-0.8 (simulated only); c is EEXIST (no init).
SIM_MODULES = """\
a,modprobe-1,0,loaded,0,0.05,0.1,0.3,0,0.1,2,0
b,modprobe-2,1,loaded,0,0.1,0.2,0.25,0,0.1,2,0
c,modprobe-3,2,eexist,0,0.1,,,0,0.1,1,0
d_x,modprobe-4,3,loaded,0,0.3,0.4,0.8,0,0.1,2,0
snd_hda,modprobe-5,4,loaded,0,0.4,0.5,0.6,0,0.1,2,0
"""
# Real inits from a dmesg (seconds since kernel start): a 2.0-2.1 and again 3.0-3.5 (the
# first counts), b 2.05-2.35 (failed), snd-hda 2.5-2.52 (matched to snd_hda), e 2.6-2.6
# (real only, 0 us).
REAL_MODULES = """\
a,pid-10,,loaded,,,2.0,2.1,,,,
b,pid-11,,failed_init,,,2.05,2.35,,,,
snd-hda,pid-13,,loaded,,,2.5,2.52,,,,
e,pid-12,,loaded,,,2.6,2.6,,,,
a,pid-14,,loaded,,,3.0,3.5,,,,
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_boot(path, modules=REAL_MODULES):
    rows = [r.split(",") for r in modules.splitlines()]
    timeline = "".join(f"{r[1]},,{r[0]},module_init,kernel,{r[6]},{r[7]},-1\n" for r in rows)
    write(os.path.join(path, "modules.csv"), MODULES_HEADER + "\n" + modules)
    write(os.path.join(path, "timeline.csv"), TIMELINE_HEADER + "\n" + timeline)
    write(os.path.join(path, "summary.json"),
          json.dumps({"source": "dmesg", "file": "/var/log/real-dmesg.txt",
                      "inits": len(rows), "makespan_s": 3.5}))
    return path


def write_png(path):
    from kmodsim_io import plt
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path, dpi=50)
    plt.close(fig)


def write_sweep(path):
    """Kernels A, B x cores 1, 2, two replications each, plus one failed run."""
    times = {("A", 1): (2.0, 2.2), ("A", 2): (1.0, 1.2), ("B", 1): (1.0, 1.2), ("B", 2): (0.5, 0.7)}
    rows = []
    for point, ((k, c), ts) in enumerate(times.items()):
        for rep, t in enumerate(ts):
            rows.append({"run": f"p{point}-r{rep}", "point": point, "replication": rep,
                         "axis.kernel": f"/x/configs/kernels/{k}.yaml", "axis.machine.cores": c,
                         "status": "ok", "kernel": k, "cores": c, "scheduler": "time_slice",
                         "makespan_s": t, "modules_loaded": 10, "failures": 1 if k == "B" else 0,
                         "kmodsim_version": "9.9.9", "simgrid_version": "3.x"})
    rows.append(dict(rows[-1], run="p3-r2", replication=2, status="failed", makespan_s="",
                     modules_loaded="", failures=""))
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    points = ["point,axis.kernel,axis.machine.cores,metric,n,mean,sd,ci95_lo,ci95_hi"]
    for point, ((k, c), ts) in enumerate(times.items()):
        m = sum(ts) / 2
        points.append(f"{point},/x/configs/kernels/{k}.yaml,{c},makespan_s,2,{m},0.1414,"
                      f"{m - 1.2706},{m + 1.2706}")
        points.append(f"{point},/x/configs/kernels/{k}.yaml,{c},failures,2,0,0,nan,nan")
    write(os.path.join(path, "points.csv"), "\n".join(points) + "\n")
    write(os.path.join(path, "spec.yaml"), "name: tiny-sweep\ngrid: {cores: [1, 2]}\n")
    return path


def write_prediction(path):
    e = lambda m: {"mean": m, "ci95": [m - 5, m + 5], "mean_ci95": [m - 1, m + 1], "n": 30}  # noqa
    pred = {
        "observed_pct": 10.0, "observed_source": "LKML <2009>",
        "definition": "speedup_pct = (T_a - T_b) / T_a x 100",
        "per_cores": {"2": {
            "linux-2.6.28": {"makespan_s": e(1.5), "failed_loads_mean": 0.0, "modules_loaded_mean": 94.0},
            "linux-2.6.29-rusty": {"makespan_s": e(1.2), "failed_loads_mean": 7.5,
                                   "modules_loaded_mean": 88.0},
            "speedup_pct_as_posted": e(20.0), "speedup_pct_race_closed": e(-4.5)}},
        "speedup_pct": -4.5, "ci95": [-9.5, 0.5], "mean_ci95": [-5.5, -3.5],
        "speedup_pct_as_posted": e(20.0), "failed_loads_mean": {"linux-2.6.29-rusty": 7.5},
        "ablations": {"baseline": e(-4.5), "no_userspace": e(-20.0)},
        "sensitivity": {"reference_speedup_pct": -4.5,
                        "one_at_a_time": [{"input": "workload.scale", "x0.5": 9.0, "x1.5": -9.9}]},
    }
    write(os.path.join(path, "prediction.json"), json.dumps(pred))
    for name in ("prediction.png", "tornado.png"):
        write_png(os.path.join(path, name))
    return path


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kmodsim-report-test-")
        self.sim = write_run(os.path.join(self.tmp, "sim"), summary("2.6.28", 2.0, 1.0, 0.5, 4, 1),
                             modules=SIM_MODULES)
        self.real = write_boot(os.path.join(self.tmp, "real"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_clean_error(self, proc, status, *needles):
        self.assertEqual(proc.returncode, status, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertTrue(proc.stderr.startswith("error: "), proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        for needle in needles:
            self.assertIn(needle, proc.stderr)

    def assert_figure(self, png):
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC, png)
        with open(os.path.splitext(png)[0] + ".svg", encoding="utf-8") as f:
            self.assertIn("<svg", f.read())

    # ------------------------------------------------------------ compare_boot.py

    def test_compare_boot_hand_values(self):
        out = os.path.join(self.tmp, "cb")
        proc = run(BOOT, self.sim, self.real, "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = ["compare_boot.png", "compare_boot.svg", "compare_boot.csv", "compare_boot.txt"]
        self.assertEqual(proc.stdout.split()[-4:], [os.path.join(out, n) for n in names])
        self.assert_figure(os.path.join(out, "compare_boot.png"))
        with open(os.path.join(out, "compare_boot.csv"), newline="") as f:
            rows = {r["module"]: r for r in csv.DictReader(f)}
        # matched modules first, by real start; then the one-sided ones by start
        self.assertEqual(list(rows), ["a", "b", "snd_hda", "d_x", "e"])
        self.assertEqual([(rows[m]["in_sim"], rows[m]["in_real"]) for m in rows],
                         [("True", "True")] * 3 + [("True", "False"), ("False", "True")])
        num = lambda m, c: float(rows[m][c])  # noqa: E731
        # aligned at the first init: simulated -0.1 s, real -2.0 s
        for m, sim_start, real_start, sim_init, real_init in (("a", 0.0, 0.0, 0.2, 0.1),
                                                             ("b", 0.1, 0.05, 0.05, 0.3),
                                                             ("snd_hda", 0.4, 0.5, 0.1, 0.02)):
            self.assertAlmostEqual(num(m, "sim_start_s"), sim_start)
            self.assertAlmostEqual(num(m, "real_start_s"), real_start)
            self.assertAlmostEqual(num(m, "start_diff_s"), sim_start - real_start)
            self.assertAlmostEqual(num(m, "sim_init_s"), sim_init)
            self.assertAlmostEqual(num(m, "real_init_s"), real_init)
            self.assertAlmostEqual(num(m, "init_diff_s"), sim_init - real_init)
            self.assertAlmostEqual(num(m, "init_ratio"), sim_init / real_init)
        self.assertEqual(rows["a"]["real_inits"], "2")
        self.assertEqual(rows["b"]["real_outcome"], "failed_init")
        self.assertEqual(rows["snd_hda"]["real_module"], "snd-hda")
        self.assertEqual(rows["e"]["sim_start_s"], "")
        self.assertAlmostEqual(num("d_x", "sim_start_s"), 0.3)
        text = proc.stdout.split("\n\n")[0]
        # medians over every init: simulated (0.05, 0.1, 0.2, 0.4) -> 0.15 s; real
        # (0, 0.02, 0.1, 0.3, 0.5) -> 0.1 s; matched: start difference (0, 0.05, -0.1) -> 0,
        # duration difference (0.1, -0.25, 0.08) -> 0.08 s
        for needle in ["simulated (2.6.28, 2 cores): 4 module inits",
                       "real boot (real-dmesg.txt): 5 module inits",
                       "3 modules matched, 1 only simulated: d_x, 1 only real: e.",
                       "simulated 150 ms, real 100 ms (1.50x the real one)",
                       "simulated 0.1 s, real 2 s", "ends at 0.7 s simulated and 1.5 s real",
                       "starts a median 0 ms later", "lasts a median 80 ms longer"]:
            self.assertIn(needle, text)
        with open(os.path.join(out, "compare_boot.txt")) as f:
            self.assertEqual(f.read().strip(), text.strip())
        import compare_boot  # the importer names the dmesg under "dmesg" as well as "file"
        self.assertEqual(compare_boot.side_label({"source": "dmesg", "dmesg": "/x/boot.txt"}, "r", "real"),
                         "real boot (boot.txt)")

    def test_compare_boot_errors(self):
        import compare_boot
        import kmodsim_io as kio
        missing = os.path.join(self.tmp, "missing")
        os.makedirs(missing)
        backwards = write_boot(os.path.join(self.tmp, "backwards"),
                               REAL_MODULES.replace("2.5,2.52", "2.5,2.4"))
        procs = run_all((BOOT, self.sim, missing), (BOOT, self.sim, backwards))
        self.assert_clean_error(procs[0], 1, "missing/modules.csv", "not found")
        self.assert_clean_error(procs[1], 1, "modules.csv", "line 4", "init_end_s < load_end_s")
        # the other malformed inputs, in-process: the same DataError that run_main prints
        bad_value = write_boot(os.path.join(self.tmp, "bad_value"),
                               REAL_MODULES.replace("2.05,2.35", "2.05,soon"))
        no_inits = write_run(os.path.join(self.tmp, "no_inits"), summary("k", 1, 0, 0, 1, 0),
                             modules="c,modprobe-3,2,eexist,0,0.1,,,0,0.1,1,0\n")
        bad_json = write_boot(os.path.join(self.tmp, "bad_json"))
        write(os.path.join(bad_json, "summary.json"), "{oops")
        no_column = write_boot(os.path.join(self.tmp, "no_column"))
        write(os.path.join(no_column, "modules.csv"), "module,load_end_s\na,1\n")
        for sim, real, needles in (
                (self.sim, bad_value, ["bad_value/modules.csv", "line 3", "init_end_s", "soon"]),
                (no_inits, self.real, ["no_inits/modules.csv", "no module init"]),
                (self.sim, bad_json, ["bad_json/summary.json", "JSON"]),
                (self.sim, no_column, ["no_column/modules.csv", "init_end_s"]),
                (self.sim, os.path.join(self.tmp, "nope"), ["nope", "not a folder"])):
            with self.assertRaises(kio.DataError) as caught:
                compare_boot.compare(sim, real, os.path.join(self.tmp, "out"))
            message = f"{caught.exception.path}: {caught.exception.what}"
            for needle in needles:
                self.assertIn(needle, message)

    # ------------------------------------------------------------ plot_sweep.py

    def test_plot_sweep(self):
        import plot_sweep
        sweep = write_sweep(os.path.join(self.tmp, "sweep"))
        df = plot_sweep.read_runs(os.path.join(sweep, "runs.csv"))
        self.assertEqual(len(df), 8)  # the failed run is left out
        g = plot_sweep.mean_ci(df).set_index(["kernel", "cores"])
        self.assertAlmostEqual(g.loc[("A", 1), "makespan_s"], 2.1)
        # t(0.975, 1) = 12.7062; sd 0.141421 / sqrt(2) = 0.1
        self.assertAlmostEqual(g.loc[("A", 1), "half"], 1.27062, places=4)
        sp, base = plot_sweep.speedups(df)
        self.assertEqual(base, "A")
        row = sp.set_index("cores").loc[1]
        self.assertEqual(row["n"], 2)
        self.assertAlmostEqual(row["speedup"], 2.1 / 1.1)
        self.assertAlmostEqual(row["gain_pct"], 100 * 1.0 / 2.1)
        paths = plot_sweep.plot(df, sweep)
        self.assertEqual(paths, [os.path.join(sweep, "sweep.png"), os.path.join(sweep, "sweep.svg")])
        self.assert_figure(paths[0])

    def write_rows(self, path, rows):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        return path

    def test_plot_sweep_other_axes_are_points(self):
        # a capacity-like sweep: kernels A, B x cores 1, 2 x two cases, one replication. Each
        # case is a point of its own, not a replication: no interval, no mean of the two cases
        import plot_sweep
        from unittest import mock
        t = {("A", "x"): 2.0, ("A", "y"): 4.0, ("B", "x"): 1.0, ("B", "y"): 3.0}
        rows = []
        for (k, case), v in t.items():
            for c in (1, 2):
                rows.append({"run": f"p{len(rows)}-r0", "point": len(rows), "replication": 0,
                             "axis.kernel": f"/k/{k}.yaml", "axis.machine.cores": c, "axis.case": case,
                             "status": "ok", "kernel": k, "cores": c, "scheduler": "time_slice",
                             "makespan_s": v / c, "modules_loaded": 10, "failures": 0})
        runs_csv = self.write_rows(os.path.join(self.tmp, "cases", "runs.csv"), rows)
        df = plot_sweep.read_runs(runs_csv)
        self.assertEqual(plot_sweep.extra_axes(df), ["axis.case"])
        g = plot_sweep.mean_ci(df).set_index(["kernel", "cores", "axis.case"])
        self.assertEqual(len(g), 8)
        self.assertEqual(set(g["count"]), {1})
        self.assertTrue(g["half"].isna().all())  # one run per point: no band
        self.assertAlmostEqual(g.loc[("A", 1, "x"), "makespan_s"], 2.0)
        self.assertAlmostEqual(g.loc[("A", 1, "y"), "makespan_s"], 4.0)
        sp, base = plot_sweep.speedups(df)
        sp = sp.set_index(["cores", "axis.case"])
        self.assertAlmostEqual(sp.loc[(1, "x"), "gain_pct"], 50.0)
        self.assertAlmostEqual(sp.loc[(1, "y"), "gain_pct"], 25.0)
        with mock.patch.object(plot_sweep.plt, "close") as close:
            plot_sweep.plot(df, os.path.dirname(runs_csv))
        fig = close.call_args[0][0]
        labels = [x.get_text() for x in fig.axes[-1].get_legend().get_texts()]
        self.assertEqual(labels, ["A, case=x", "A, case=y", "B, case=x", "B, case=y"])
        self.assertIn("no band: 1 run per point, no interval", [x.get_text() for x in fig.texts])
        # with replications the band is labelled in the figure
        df2 = plot_sweep.read_runs(write_sweep(os.path.join(self.tmp, "sweep")) + "/runs.csv")
        with mock.patch.object(plot_sweep.plt, "close") as close:
            plot_sweep.plot(df2, os.path.join(self.tmp, "sweep"))
        self.assertIn("band: 95% CI of the mean over the replications of a point (Student-t, n=2)",
                      [x.get_text() for x in close.call_args[0][0].texts])
        # two points the axis.* columns cannot tell apart: refused, not pooled
        self.write_rows(runs_csv, [{k: v for k, v in r.items() if k != "axis.case"} for r in rows])
        proc = run(SWEEP, runs_csv)
        self.assert_clean_error(proc, 2, "cases/runs.csv", "2 different points", "axis.* columns")

    def test_plot_sweep_speedup_paired_and_failed_runs_named(self):
        # A takes 1.0, 1.2, 3.0 s, B 0.5, 0.7 s and fails its third replication: the speedup
        # compares replications 0 and 1 only (1.1 s against 0.6 s), not 1.733 s against 0.6 s
        rows = []
        for k, ts in (("A", (1.0, 1.2, 3.0)), ("B", (0.5, 0.7, None))):
            for r, v in enumerate(ts):
                rows.append({"run": f"p{k}-r{r}", "point": 0 if k == "A" else 1, "replication": r,
                             "axis.kernel": f"/k/{k}.yaml", "status": "ok" if v else "failed",
                             "kernel": k if v else "", "cores": 2 if v else "", "scheduler": "time_slice" if v else "",
                             "makespan_s": v or "", "modules_loaded": 10 if v else "", "failures": 0 if v else ""})
        runs_csv = self.write_rows(os.path.join(self.tmp, "paired", "runs.csv"), rows)
        proc = run(SWEEP, runs_csv)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr.strip(), f"warning: {runs_csv}: 1 failed runs left out")
        with open(os.path.join(self.tmp, "paired", "speedup.csv"), newline="") as f:
            sp = list(csv.DictReader(f))
        self.assertEqual(len(sp), 1)
        self.assertEqual(sp[0]["n"], "2")
        self.assertAlmostEqual(float(sp[0]["baseline_makespan_s"]), 1.1)
        self.assertAlmostEqual(float(sp[0]["makespan_s"]), 0.6)
        self.assertAlmostEqual(float(sp[0]["gain_pct"]), 100 * 0.5 / 1.1)
        self.assertIn("| time_slice | 2 | B | 2 | 0.6000 | 1.1000 | +45.5% |", proc.stdout)

    def test_plot_sweep_non_numeric_metric_stops(self):
        # a finished run whose makespan_s is text stops the script, naming the file's line (a
        # failed run's two-line error message before it counts as two lines); it was read as
        # NaN and the run silently left out of the means
        sweep = write_sweep(os.path.join(self.tmp, "sweep"))
        runs_csv = os.path.join(sweep, "runs.csv")
        with open(runs_csv, newline="") as f:
            rows = list(csv.DictReader(f))
        failed = dict(rows[-1], error="child killed\nby signal 9")
        rows = [failed] + [dict(r, error="") for r in rows[:-1]]

        def plot_with_makespan(value, *expected):  # p1-r0: line 1 header, 2-3 the failed run, 4-5 p0
            rows[3]["makespan_s"] = value
            with open(runs_csv, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            proc = run(SWEEP, runs_csv, "-o", os.path.join(self.tmp, "out"))
            self.assert_clean_error(proc, 2, "runs.csv", "line 6", "makespan_s", *expected)

        plot_with_makespan("abc", "'abc'")
        plot_with_makespan("", "empty")  # an empty makespan of a finished run stops it too

    # ------------------------------------------------------------ report.py

    def test_report_every_kind(self):
        # a run with the other engineer's extra outputs, an escaped kernel name and a
        # comparison with a real boot
        run_dir = write_run(os.path.join(self.tmp, "run"),
                            summary("k<script>alert(1)</script>", 2.0, 1.0, 0.5, 4, 1),
                            modules=SIM_MODULES)
        for name in ("trace.json", "dmesg.txt", "lock_stat.txt"):
            write(os.path.join(run_dir, name), "{}\n")
        write(os.path.join(run_dir, "config.yaml"), "name: tiny\nmachine: {cores: 2}  # <&>\n")
        comparison = os.path.join(self.tmp, "cmp")
        sweep = write_sweep(os.path.join(self.tmp, "sweep"))
        prediction = write_prediction(os.path.join(self.tmp, "lkml-2009"))
        out = os.path.join(self.tmp, "pages", "all.html")
        import compare_boot
        import compare_runs
        # in-process, what `compare_runs.py SIM RUN -o cmp` and `compare_boot.py RUN REAL` write
        # (without compare.png: the report draws it)
        os.makedirs(comparison)
        compare_runs.load_runs([self.sim, run_dir], "kernel").to_csv(
            os.path.join(comparison, "compare.csv"), index=False)
        compare_boot.compare(run_dir, self.real, run_dir)
        proc = run(REPORT, run_dir, self.real, comparison, sweep, prediction, "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), out)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        # self-contained: every image embedded, nothing from the network
        self.assertNotRegex(page, r'(src|href)="(https?:)?//')
        self.assertNotIn("<link", page)
        images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
        # run 3 + its compare_boot 1, boot 1, comparison 1, sweep 1, prediction 3
        self.assertEqual(len(images), 10)
        for data in images:
            self.assertEqual(base64.b64decode(data)[:8], PNG_MAGIC)
        # missing figures were drawn into the folders, PNG and SVG
        for png in ("run/gantt.png", "run/states.png", "run/lock.png", "real/gantt.png",
                    "cmp/compare.png", "sweep/sweep.png", "lkml-2009/ablations.png"):
            self.assert_figure(os.path.join(self.tmp, png))
        self.assertIn('href="../run/gantt.svg"', page)
        # one section per folder, by kind
        for kind, folder in (("run", run_dir), ("real boot", self.real), ("comparison", comparison),
                             ("sweep", sweep), ("2009 prediction", prediction)):
            self.assertIn(f'{folder} <span class="kind">({kind})</span>', page)
        # run: escaped text, versions, config, extra outputs, perfetto
        self.assertNotIn("<script>alert", page)
        self.assertIn("k&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertIn("config_sha256 <code>" + "0" * 64 + "</code>", page)
        self.assertIn("kmodsim_version <code>0.0.0</code>", page)
        self.assertIn("simgrid_version <code>3.x</code>", page)
        self.assertRegex(page, r"<details><summary>scenario: config.yaml[^<]*</summary><pre>name: tiny\n"
                               r"machine: \{cores: 2\}  # &lt;&amp;&gt;")
        for name in ("trace.json", "dmesg.txt", "lock_stat.txt"):
            self.assertIn(f'href="../run/{name}"', page)
        self.assertIn("https://ui.perfetto.dev", page)
        self.assertIn("<td>snd_hda</td><td>modprobe-5</td>", page)
        self.assertIn("Compared with a real boot", page)
        self.assertIn("3 modules matched", page)
        # real boot: its inits; sweep: points with CI, short axis names, versions, failed run
        self.assertIn("<td>failed_init</td>", page)
        self.assertIn('<td title="/x/configs/kernels/A.yaml">A</td>', page)
        self.assertIn("2.1 [0.8294, 3.3706]", page)
        self.assertIn("kmodsim_version <code>9.9.9</code>", page)
        self.assertIn("8 runs <code>ok</code>, 1 runs <code>failed</code>", page)
        # prediction: headline, tables, ablations, sensitivity, escaped source
        self.assertIn("speedup -4.50 [-9.50, +0.50] %", page)
        self.assertIn("LKML &lt;2009&gt;", page)
        self.assertIn("with 7.5 failed loads per boot", page)
        self.assertIn("<td>no_userspace</td>", page)
        self.assertIn("<td>workload.scale</td>", page)

    def test_report_collection_default_path_and_determinism(self):
        import report
        top = os.path.join(self.tmp, "results")
        shutil.copytree(self.sim, os.path.join(top, "b-run"))
        write_sweep(os.path.join(top, "a-sweep"))
        os.makedirs(os.path.join(top, "not-output"))
        pages = []
        for _ in range(2):
            argv = sys.argv
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                sys.argv = ["report.py", top]
                try:
                    report.main()
                finally:
                    sys.argv = argv
            self.assertEqual(printed.getvalue().strip(), os.path.join(top, "report.html"))
            with open(os.path.join(top, "report.html"), encoding="utf-8") as f:
                pages.append(f.read())
        self.assertEqual(pages[0], pages[1])  # no timestamps
        page = pages[0]
        self.assertIn(f'{top} <span class="kind">(collection)</span>', page)
        a = page.index(os.path.join(top, "a-sweep") + ' <span class="kind">(sweep)')
        b = page.index(os.path.join(top, "b-run") + ' <span class="kind">(run)')
        self.assertLess(a, b)
        self.assertNotIn("not-output", page)

    def test_report_errors(self):
        import kmodsim_io as kio
        import report
        bad_pred = os.path.join(self.tmp, "pred")
        write_prediction(bad_pred)
        write(os.path.join(bad_pred, "prediction.json"), json.dumps({"speedup_pct": 1}))
        procs = run_all((REPORT, os.path.join(self.tmp, "nope")), (REPORT, bad_pred),
                        (SWEEP, os.path.join(self.tmp, "nope.csv")))
        self.assert_clean_error(procs[0], 1, "nope", "no such folder")
        self.assert_clean_error(procs[1], 1, "pred/prediction.json", "unexpected content")
        self.assert_clean_error(procs[2], 2, "nope.csv")
        # the other malformed inputs, in-process
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        bad_summary = write_run(os.path.join(self.tmp, "bad"), {})
        write(os.path.join(bad_summary, "summary.json"), "[1, 2")
        bad_cmp = write(os.path.join(self.tmp, "cmp", "compare.csv"), "run_dir,run_label\nx,y\n")
        bad_points = write_sweep(os.path.join(self.tmp, "sweep"))
        write(os.path.join(bad_points, "points.csv"), "point,metric\n0,makespan_s\n")
        for folder, needles in ((empty, ["empty", "not a kmodsim output folder"]),
                                (bad_summary, ["bad/summary.json", "malformed JSON"]),
                                (os.path.dirname(bad_cmp), ["compare.csv", "missing column(s)",
                                                            "makespan_s"]),
                                (bad_points, ["points.csv", "missing column(s)", "ci95_lo"])):
            rep = report.Report(os.path.join(self.tmp, "r.html"), replot=False)
            with self.assertRaises(kio.DataError) as caught:
                report.add_folder(rep, folder)
            message = f"{caught.exception.path}: {caught.exception.what}"
            for needle in needles:
                self.assertIn(needle, message)
        self.assertFalse(os.path.exists(os.path.join(empty, "report.html")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
