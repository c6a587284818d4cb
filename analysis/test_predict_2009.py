#!/usr/bin/python3
"""Test of analysis/predict_2009.py on fabricated CSV files with hand-known speedups.

Run: /usr/bin/python3 analysis/test_predict_2009.py
Two replications per point: 2.6.28 takes 2.0 and 1.0 s, the race-closed patch 1.8 and 0.9 s
(10% faster in both), the patch as posted 1.0 and 0.5 s (50% faster, 3 failed loads each).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
B, P, C = "linux-2.6.28", "linux-2.6.29-rusty", "linux-2.6.29-rusty-raceclosed"
R = "linux-2.6.29-resolve-one-lock"
T = {B: (2.0, 1.0), P: (1.0, 0.5), C: (1.8, 0.9)}


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


class PredictTest(unittest.TestCase):
    def test_speedups_and_outputs(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "sweep"))
            sweep = [{"replication": r, "kernel": k, "axis.machine.cores": c, "makespan_s": T[k][r],
                      "failures": 3 if k == P else 0, "modules_loaded": 91 if k == P else 94, "status": "ok"}
                     for c in (1, 2, 4) for k in T for r in (0, 1)]
            # a failed run is left out, not counted as a zero
            sweep.append({"replication": 2, "kernel": B, "axis.machine.cores": 2, "makespan_s": "", "failures": "",
                          "modules_loaded": "", "status": "failed"})
            write(os.path.join(d, "sweep", "runs.csv"), sweep)
            ab = [{"axis.case": a, "kernel": k, "replication": r, "makespan_s": T[k][r], "modules_loaded": 94,
                   "failures": 0, "status": "ok"} for a in ("baseline", "run_to_block") for k in (B, C) for r in (0, 1)]
            # one lock around the resolve loop: 20% faster than 2.6.28 in the baseline case
            ab += [{"axis.case": a, "kernel": R, "replication": r, "makespan_s": T[B][r] * 0.8, "modules_loaded": 94,
                    "failures": 0, "status": "ok"} for a in ("baseline", "run_to_block") for r in (0, 1)]
            os.makedirs(os.path.join(d, "ablations"))
            write(os.path.join(d, "ablations", "runs.csv"), ab)
            se = [{"axis.case": i if i == "none" else f"{i}*{f}", "kernel": k, "replication": r,
                   "makespan_s": T[k][r] * (1.1 if (i == "x.y" and f == 1.5 and k == C) else 1.0), "modules_loaded": 94,
                   "status": "ok"}
                  for i, f in (("none", 1.0), ("x.y", 0.5), ("x.y", 1.5)) for k in (B, C) for r in (0, 1)]
            os.makedirs(os.path.join(d, "sensitivity"))
            write(os.path.join(d, "sensitivity", "runs.csv"), se)
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
