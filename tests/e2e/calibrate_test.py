#!/usr/bin/python3
"""kmodsim calibrate recovers known coefficients from synthetic timings.

calibrate_test.py KMODSIM REPO
The synthetic measurement is a serial boot (1 core, one modprobe at a time: every load is
uncontended, as a serial insmod trace would be) simulated with the shipped calibration, the
truth. Its timeline gives per-step durations and its modules.csv the link time of each load,
written as the documented timings CSV. Then `kmodsim calibrate` starts from a calibration whose
every value is wrong (x 2.7) and must:
  - without noise: recover every identifiable coefficient to 0.1% (the outputs round to 1 ns);
  - with per-load noise (cost_cv 0.1): cover the truth with its 95% intervals for at least 85%
    of the coefficients (the intervals are conditional on a linear model that the multiplicative
    noise only approximates).
"""
import collections
import csv
import os
import subprocess
import sys
import tempfile

import yaml

KMODSIM, REPO = sys.argv[1], sys.argv[2]
SCEN = os.path.join(REPO, "configs/scenarios/desktop-2009.yaml")
SETS = ["--set", "workload=" + os.path.join(REPO, "configs/workloads/debian-6.1-desktop-2009.yaml"),
        "--set", "machine.cores=1", "--set", "userspace.udev.children_max=1",
        "--set", "machine.scheduler.model=run_to_block"]
CALIB = os.path.join(REPO, "configs/calibrations/turion-2009-derived.yaml")
RUNNING = {"kernel", "kernel_locked", "user", "sleep"}


def sh(args):
    p = subprocess.run([KMODSIM] + args, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"FAILED: kmodsim {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p


def synthetic_timings(tmp, noise):
    out = os.path.join(tmp, f"run-{noise}")
    sh(["run", SCEN, *SETS, "--set", f"variability.cost_cv={noise}", "--out", out, "-q"])
    steps = collections.defaultdict(lambda: collections.defaultdict(float))
    names = []
    with open(os.path.join(out, "timeline.csv")) as f:
        for r in csv.DictReader(f):
            if r["module"] and r["state"] in RUNNING and r["step"] not in ("modprobe_startup", "already_loaded_check",
                                                                          "read_ko", "module_init", "mark_live",
                                                                          "module_free_init"):
                steps[(r["task"], r["module"])][r["step"]] += (float(r["end_s"]) - float(r["start_s"])) * 1e6
                if r["step"] not in names:
                    names.append(r["step"])
    wl = yaml.safe_load(open(os.path.join(REPO, "configs/workloads/debian-6.1-desktop-2009.yaml")))
    exports = {m["name"]: m.get("exports", 0) for m in wl["modules"]}
    symtab, loaded = wl["kernel_exports"], 0  # the state each load saw: a serial boot loads in row order
    path = os.path.join(tmp, f"timings-{noise}.csv")
    with open(os.path.join(out, "modules.csv")) as f, open(path, "w") as w:
        w.write("module,total_us,loaded_modules,symtab_entries," + ",".join("step:" + n for n in names) + "\n")
        for r in csv.DictReader(f):
            total = (float(r["load_end_s"]) - float(r["load_start_s"])) * 1e6
            s = steps[(r["task"], r["module"])]
            w.write(f"{r['module']},{total:.6f},{loaded},{symtab}," +
                    ",".join(f"{s[n]:.6f}" if n in s else "" for n in names) + "\n")
            if r["outcome"] == "loaded":
                loaded += 1
                symtab += exports[r["module"]]
    return path


def main():
    truth = {k: (v["value"] if isinstance(v, dict) else v)
             for k, v in yaml.safe_load(open(CALIB))["coefficients"].items()}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        wrong = yaml.safe_load(open(CALIB))
        for v in wrong["coefficients"].values():
            v["value"] = v["value"] * 2.7
            v.pop("ci95", None)
        base = os.path.join(tmp, "wrong.yaml")
        yaml.safe_dump(wrong, open(base, "w"))
        for noise in (0, 0.1):
            timings = synthetic_timings(tmp, noise)
            rep = os.path.join(tmp, f"report-{noise}")
            out = os.path.join(tmp, f"fitted-{noise}.yaml")
            sh(["calibrate", "--scenario", SCEN, *SETS, "--base", base, "--timings", timings, "-o", out,
                "--report", rep])
            fit = list(csv.DictReader(open(os.path.join(rep, "fit.csv"))))
            ident = [r for r in fit if r["identifiable"] == "yes"]
            if len(ident) < 10:
                print(f"FAIL noise {noise}: only {len(ident)} identifiable coefficients")
                ok = False
            covered = 0
            for r in ident:
                t, x, lo, hi = truth[r["coefficient"]], float(r["value"]), float(r["ci95_lo"]), float(r["ci95_hi"])
                if noise == 0 and abs(x - t) > 1e-3 * abs(t):
                    print(f"FAIL noise 0: {r['coefficient']} fitted {x}, truth {t}")
                    ok = False
                covered += lo <= t <= hi
            frac = covered / len(ident)
            print(f"noise {noise}: {len(ident)} of {len(fit)} coefficients identifiable, truth inside the 95% "
                  f"interval for {covered} ({frac:.0%})")
            if noise > 0 and frac < 0.85:
                print("FAIL: coverage below 85%")
                ok = False
            fitted = yaml.safe_load(open(out))["coefficients"]
            if any("fit: NNLS" not in fitted[r["coefficient"]]["source"] for r in ident):
                print("FAIL: a fitted coefficient does not say it was fitted")
                ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
