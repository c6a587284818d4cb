#!/usr/bin/python3
"""The analysis scripts on real kmodsim outputs (the unit tests use fabricated folders): a tiny
run with --trace, a tiny sweep, a real-boot folder from that run's dmesg.txt (trace-import), and
each script on them: plot_run.py, compare_runs.py, plot_sweep.py, plot_capacity.py (on a small
capacity sweep), compare_boot.py, report.py.
Every script must exit 0 and write its figures (PNG and SVG); report.py's page must embed its
figures and load nothing from the network. A malformed input must give one line, no traceback.

analysis_e2e.py KMODSIM ROOT
"""
import os
import re
import subprocess
import sys
import tempfile

KMODSIM, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PY = "/usr/bin/python3"
A = os.path.join(ROOT, "analysis")
E2E = os.path.join(ROOT, "tests", "e2e", "configs")


def run(cmd, expect=0):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != expect:
        sys.exit(f"FAIL: exit {p.returncode} (expected {expect}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p


def main():
    with tempfile.TemporaryDirectory() as t:
        r1, r2 = os.path.join(t, "coarse"), os.path.join(t, "fine")
        run([KMODSIM, "run", os.path.join(E2E, "base.yaml"), "--set", "machine.cores=2", "--set",
             "workload=" + os.path.join(E2E, "chain.yaml"), "--trace", "--out", r1, "-q"])
        run([KMODSIM, "run", os.path.join(E2E, "base.yaml"), "--set", "machine.cores=2", "--set",
             "workload=" + os.path.join(E2E, "chain.yaml"), "--set", "kernel=" + os.path.join(E2E, "fine.yaml"),
             "--trace", "--out", r2, "-q"])
        spec = os.path.join(t, "s.yaml")
        with open(spec, "w") as f:
            f.write(f"schema_version: 1\nname: tiny\nscenario: {E2E}/base.yaml\ngrid:\n"
                    f"  kernel: [{E2E}/coarse.yaml, {E2E}/fine.yaml]\n  machine.cores: [1, 2]\nreplications: 2\n")
        sw = os.path.join(t, "sweep")
        run([KMODSIM, "sweep", spec, "--out", sw, "-j", "2", "--quiet-progress"])
        # a small capacity sweep (the what-if scenario: a kernel without vmalloc steps and one with)
        cap_spec = os.path.join(t, "cap.yaml")
        with open(cap_spec, "w") as f:
            f.write(f"schema_version: 1\nname: cap\nscenario: {ROOT}/configs/scenarios/capacity.yaml\ngrid:\n"
                    f"  kernel: [{ROOT}/configs/kernels/linux-2.6.28.yaml, {ROOT}/configs/kernels/linux-6.4.yaml]\n"
                    f"  machine.cores: [1, 4]\ncases:\n  - name: once\n  - name: per_cpu\n"
                    f"    set: {{workload.uevents.26.per_cpu: true}}\nreplications: 1\n")
        cap = os.path.join(t, "cap")
        run([KMODSIM, "sweep", cap_spec, "--out", cap, "-j", "2", "--quiet-progress"])
        real = os.path.join(t, "real")
        run([KMODSIM, "trace-import", "--dmesg", os.path.join(r1, "dmesg.txt"), "--lock-stat",
             os.path.join(r1, "lock_stat.txt"), "-o", real])

        run([PY, os.path.join(A, "plot_run.py"), r1])
        run([PY, os.path.join(A, "compare_runs.py"), r1, r2, "-o", os.path.join(t, "cmp")])
        run([PY, os.path.join(A, "plot_sweep.py"), os.path.join(sw, "runs.csv"), "-o", sw])
        run([PY, os.path.join(A, "compare_boot.py"), r1, real, "-o", os.path.join(t, "boot")])
        p = subprocess.run([PY, os.path.join(A, "plot_capacity.py"), os.path.join(cap, "runs.csv"), "--at", "4"],
                           capture_output=True, text=True)
        rows = [ln for ln in p.stdout.splitlines() if ln.startswith("| ") and "| 4 |" in ln]
        if p.returncode != 0 or len(rows) != 4 or not all(("- |" in r) == ("2.6.28" in r) for r in rows):
            sys.exit(f"FAIL: plot_capacity: exit {p.returncode}, rows {rows}, {p.stderr}")
        for d, names in ((r1, ["gantt", "lock", "states"]), (os.path.join(t, "cmp"), ["compare"]), (sw, ["sweep"]), (cap, ["capacity"])):
            for n in names:
                for ext in ("png", "svg"):
                    if not os.path.getsize(os.path.join(d, f"{n}.{ext}")):
                        sys.exit(f"FAIL: {d}/{n}.{ext} is empty")
        boot_figs = [f for f in os.listdir(os.path.join(t, "boot")) if f.endswith((".png", ".svg"))]
        if not any(f.endswith(".png") for f in boot_figs) or not any(f.endswith(".svg") for f in boot_figs):
            sys.exit(f"FAIL: compare_boot wrote {boot_figs}")
        page = os.path.join(t, "report.html")
        run([PY, os.path.join(A, "report.py"), r1, sw, real, os.path.join(t, "cmp"), "-o", page])
        with open(page) as f:
            text = f.read()
        if text.count("<img") < 4 or re.search(r'(src|href)="https?:', text):
            sys.exit("FAIL: the report embeds too few figures or loads something from the network")
        # malformed inputs: one line, no traceback
        bad = os.path.join(t, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "timeline.csv"), "w") as f:
            f.write("not,a,timeline\n1,2,3\n")
        for script, args in (("plot_run.py", [bad]), ("compare_boot.py", [bad, real]), ("report.py", [bad]),
                             ("plot_sweep.py", [os.path.join(bad, "timeline.csv")]),
                             ("plot_capacity.py", [os.path.join(bad, "timeline.csv")])):
            p = subprocess.run([PY, os.path.join(A, script)] + args, capture_output=True, text=True)
            if p.returncode == 0 or "Traceback" in p.stderr or len(p.stderr.strip().splitlines()) != 1:
                sys.exit(f"FAIL: {script} on a malformed folder: exit {p.returncode}, {p.stderr!r}")
        print("PASS: plot_run, compare_runs, plot_sweep, plot_capacity, compare_boot, report on real outputs; "
              "bad input: one line")


if __name__ == "__main__":
    main()
