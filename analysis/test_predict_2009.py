#!/usr/bin/python3
"""Test of analysis/predict_2009.py on fabricated CSV files with hand-known speedups.

Run: /usr/bin/python3 analysis/test_predict_2009.py
Two replications per point: 2.6.28 takes 2.0 and 1.0 s, the race-closed patch 1.8 and 0.9 s
(10% faster in both), the patch as posted 1.0 and 0.5 s (50% faster, 3 failed loads each).
"""
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "predict_2009.py")
B, P, C = "linux-2.6.28", "linux-2.6.29-rusty", "linux-2.6.29-rusty-raceclosed"
R = "linux-2.6.29-resolve-one-lock"
T = {B: (2.0, 1.0), P: (1.0, 0.5), C: (1.8, 0.9)}


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def fabricate(d, reps=(0, 1), cores=(1, 2, 4), drop=()):
    """The three sweeps of experiments/lkml_2009.py with hand-known makespans; `drop`: (sweep,
    column) pairs left out of the files."""
    def out(sweep, rows):
        os.makedirs(os.path.join(d, sweep), exist_ok=True)
        write(os.path.join(d, sweep, "runs.csv"), [{k: v for k, v in r.items() if (sweep, k) not in drop} for r in rows])
    sweep = [{"replication": r, "kernel": k, "axis.machine.cores": c, "makespan_s": T[k][r],
              "failures": 3 if k == P else 0, "modules_loaded": 91 if k == P else 94, "status": "ok"}
             for c in cores for k in T for r in reps]
    # a failed run is left out, not counted as a zero
    sweep.append({"replication": 2, "kernel": B, "axis.machine.cores": 2, "makespan_s": "", "failures": "",
                  "modules_loaded": "", "status": "failed"})
    out("sweep", sweep)
    ab = [{"axis.case": a, "kernel": k, "replication": r, "makespan_s": T[k][r], "modules_loaded": 94,
           "failures": 0, "status": "ok"} for a in ("baseline", "run_to_block") for k in (B, C) for r in reps]
    # one lock around the resolve loop: 20% faster than 2.6.28 in the baseline case
    ab += [{"axis.case": a, "kernel": R, "replication": r, "makespan_s": T[B][r] * 0.8, "modules_loaded": 94,
            "failures": 0, "status": "ok"} for a in ("baseline", "run_to_block") for r in reps]
    out("ablations", ab)
    se = [{"axis.case": i if i == "none" else f"{i}*{f}", "kernel": k, "replication": r,
           "makespan_s": T[k][r] * (1.1 if (i == "x.y" and f == 1.5 and k == C) else 1.0), "modules_loaded": 94,
           "status": "ok"}
          for i, f in (("none", 1.0), ("x.y", 0.5), ("x.y", 1.5)) for k in (B, C) for r in reps]
    out("sensitivity", se)
    return d


def predict(*args, script=SCRIPT):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


def strict_json(path):
    def no_nan(c):
        raise ValueError(f"{path}: {c} is not strict JSON")
    with open(path) as f:
        return json.load(f, parse_constant=no_nan)


class PredictTest(unittest.TestCase):
    def test_speedups_and_outputs(self):
        with tempfile.TemporaryDirectory() as d:
            fabricate(d)
            p = subprocess.run([sys.executable, os.path.join(HERE, "predict_2009.py"), d], capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            pred = json.load(open(os.path.join(d, "prediction.json")))
            self.assertAlmostEqual(pred["speedup_pct"], 10.0)
            self.assertEqual(pred["ci95"], [10.0, 10.0])
            self.assertAlmostEqual(pred["speedup_pct_as_posted"]["mean"], 50.0)
            self.assertEqual(pred["failed_loads_mean"][P], 3.0)
            self.assertAlmostEqual(pred["baseline_makespan_s"], 1.5)
            self.assertAlmostEqual(pred["ablations"]["run_to_block"]["mean"], 10.0)
            self.assertAlmostEqual(pred["ablations"]["resolve_one_lock"]["mean"], 20.0)
            # x at 1.5 makes the patch 10% slower: speedup (T - 1.1 x 0.9 T) / T = 1%: -9 points
            top = pred["sensitivity"]["one_at_a_time"][0]
            self.assertEqual(top["input"], "x.y")
            self.assertAlmostEqual(top["x1.5"], -9.0, places=6)
            self.assertAlmostEqual(top["x0.5"], 0.0, places=6)
            for png in ("prediction.png", "tornado.png"):
                self.assertTrue(os.path.getsize(os.path.join(d, png)) > 1000)
                with open(os.path.join(d, png[:-4] + ".svg")) as f:  # the SVG beside each PNG
                    svg = f.read()
                self.assertIn("<svg", svg)
                self.assertNotIn("<dc:date>", svg)

    def assert_one_line(self, p, status, *needles):
        self.assertEqual(p.returncode, status, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        lines = [ln for ln in p.stderr.strip().splitlines() if not ln.startswith("warning: ")]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("error: "), p.stderr)
        for n in needles:
            self.assertIn(n, lines[0])

    def test_incomplete_inputs_are_one_line(self):
        # legal but incomplete inputs: no 2-core point, a sweep without axis.case or
        # axis.machine.cores, no argument at all. Each was a traceback (KeyError, IndexError)
        with tempfile.TemporaryDirectory() as t:
            p = predict()
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertNotIn("Traceback", p.stderr)
            self.assertIn("usage: predict_2009.py", p.stderr)
            no2 = fabricate(os.path.join(t, "no2"), cores=(1, 4))
            self.assert_one_line(predict(no2), 1, "no2/sweep/runs.csv", "no finished 2-core run of linux-2.6.28")
            nocase = fabricate(os.path.join(t, "nocase"), drop={("ablations", "axis.case")})
            self.assert_one_line(predict(nocase), 1, "nocase/ablations/runs.csv: missing column axis.case")
            nosens = fabricate(os.path.join(t, "nosens"), drop={("sensitivity", "axis.case")})
            self.assert_one_line(predict(nosens), 1, "nosens/sensitivity/runs.csv: missing column axis.case")
            nocores = fabricate(os.path.join(t, "nocores"), drop={("sweep", "axis.machine.cores")})
            self.assert_one_line(predict(nocores), 1, "nocores/sweep/runs.csv: missing column axis.machine.cores")
            # report.py names the input predict_2009.py could not use, not prediction.json
            p = predict(no2, script=os.path.join(HERE, "report.py"))
            self.assert_one_line(p, 1, "no2/sweep/runs.csv", "2-core")
            self.assertNotIn("prediction.json", p.stderr)

    def test_one_replication_has_no_interval(self):
        with tempfile.TemporaryDirectory() as d:
            fabricate(d, reps=(0,))
            p = predict(d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("nan", p.stdout)
            self.assertIn("speedup +10.0% (negative: slower), n=1: no interval", p.stdout)
            pred = strict_json(os.path.join(d, "prediction.json"))  # no NaN: strict JSON
            self.assertAlmostEqual(pred["speedup_pct"], 10.0)
            self.assertIsNone(pred["ci95"])
            self.assertIsNone(pred["mean_ci95"])
            self.assertEqual(pred["per_cores"]["2"]["speedup_pct_race_closed"]["n"], 1)
            self.assertIsNone(pred["ablations"]["baseline"]["mean_ci95"])
            # the report shows it without an interval
            p = predict(d, "-o", os.path.join(d, "r.html"), script=os.path.join(HERE, "report.py"))
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(d, "r.html")) as f:
                self.assertIn("n=1: no interval", f.read())
        with tempfile.TemporaryDirectory() as d:
            fabricate(d)  # two replications: the percentile interval says its n
            p = predict(d)
            self.assertIn("95% of runs in [+10.0, +10.0]% (n=2; mean in [+10.0, +10.0])", p.stdout)

    def test_tornado_bars_side_by_side(self):
        # the x1.5 bar was drawn over the x0.5 bar at the same y, hiding it
        sys.path.insert(0, HERE)
        import predict_2009
        from unittest import mock
        with tempfile.TemporaryDirectory() as d:
            fabricate(d)
            with mock.patch.object(sys, "argv", ["predict_2009.py", d]), \
                    contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                predict_2009.main()
            fig = predict_2009.plt.figure(predict_2009.plt.get_fignums()[-1])
            ax = fig.axes[0]
            bars = [(b.get_y(), b.get_height(), b.get_facecolor()) for b in ax.patches]
            self.assertEqual(len(bars), 2)
            (y0, h0, c0), (y1, h1, c1) = sorted(bars)
            self.assertLessEqual(y0 + h0, y1 + 1e-9)  # no overlap
            self.assertNotEqual(c0, c1)
            self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()], ["x0.5", "x1.5"])
            predict_2009.plt.close("all")

    def test_missing_or_malformed_input_is_one_line(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, os.path.join(HERE, "predict_2009.py"), d], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("sweep/runs.csv", p.stderr)
            os.makedirs(os.path.join(d, "sweep"))
            write(os.path.join(d, "sweep", "runs.csv"), [{"a": 1}])
            p = subprocess.run([sys.executable, os.path.join(HERE, "predict_2009.py"), d], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("not a kmodsim sweep's runs.csv", p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


if __name__ == "__main__":
    unittest.main()
