#!/usr/bin/python3
"""A workload's uevents and modules as TSV files (uevents_tsv, modules_tsv) run byte-identical to
the same uevents and modules as YAML lists: tests/e2e/configs/tsv/two.yaml (uevents in TSV) and
two-m.yaml (both) against two.yaml (summary.json, modules.csv, timeline.csv, config.yaml), and a
generated workload (scripts/gen_workload.py with and without --uevents-tsv, and with both
--uevents-tsv and --modules-tsv, 40 modules, 400 uevents, 4 cores). repeat and per_cpu
columns: d0 twice per CPU on 2 cores and an unmatched d1 make 5 modprobes.

uevents_tsv.py KMODSIM ROOT
"""
import filecmp
import json
import os
import subprocess
import sys
import tempfile

KMODSIM, ROOT = sys.argv[1], sys.argv[2]
E2E = os.path.join(ROOT, "tests/e2e/configs")
FILES = ["summary.json", "modules.csv", "timeline.csv", "config.yaml"]


def run(out, *args):
    subprocess.run([KMODSIM, "run", *args, "--out", out, "-q"], check=True)


def same(a, b, what):
    diff = [f for f in FILES if not filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False)]
    if diff:
        sys.exit(f"FAIL {what}: {diff} differ between the TSV and the YAML lists")
    print(f"ok {what}: {', '.join(FILES)} byte-identical")


def main():
    base = os.path.join(E2E, "base.yaml")
    with tempfile.TemporaryDirectory() as t:
        run(os.path.join(t, "tsv"), base, "--set", f"workload={E2E}/tsv/two.yaml", "--set", "machine.cores=2")
        run(os.path.join(t, "yaml"), base, "--set", f"workload={E2E}/two.yaml", "--set", "machine.cores=2")
        same(os.path.join(t, "tsv"), os.path.join(t, "yaml"), "two.yaml")
        run(os.path.join(t, "tsvm"), base, "--set", f"workload={E2E}/tsv/two-m.yaml", "--set", "machine.cores=2")
        same(os.path.join(t, "tsvm"), os.path.join(t, "yaml"), "two-m.yaml (modules and uevents in TSV)")

        gen = os.path.join(ROOT, "scripts/gen_workload.py")
        args = ["--modules", "40", "--uevents", "400", "--seed", "5"]
        subprocess.run([sys.executable, gen, *args, "-o", os.path.join(t, "w.yaml")], check=True)
        subprocess.run([sys.executable, gen, *args, "--uevents-tsv", os.path.join(t, "w.tsv"), "-o",
                        os.path.join(t, "wt.yaml")], check=True)
        scen = os.path.join(ROOT, "configs/scenarios/desktop-2009.yaml")
        run(os.path.join(t, "gt"), scen, "--set", f"workload={t}/wt.yaml", "--set", "machine.cores=4")
        run(os.path.join(t, "gy"), scen, "--set", f"workload={t}/w.yaml", "--set", "machine.cores=4")
        same(os.path.join(t, "gt"), os.path.join(t, "gy"), "gen_workload.py 40/400")
        subprocess.run([sys.executable, gen, *args, "--uevents-tsv", os.path.join(t, "w2.tsv"), "--modules-tsv",
                        os.path.join(t, "m2.tsv"), "-o", os.path.join(t, "wm.yaml")], check=True)
        run(os.path.join(t, "gm"), scen, "--set", f"workload={t}/wm.yaml", "--set", "machine.cores=4", "--trace")
        run(os.path.join(t, "gy2"), scen, "--set", f"workload={t}/w.yaml", "--set", "machine.cores=4", "--trace")
        same(os.path.join(t, "gm"), os.path.join(t, "gy2"), "gen_workload.py 40/400, modules and uevents in TSV")

        out = os.path.join(t, "rep")
        run(out, base, "--set", f"workload={E2E}/tsv/two.yaml", "--set", f"workload.uevents_tsv={E2E}/tsv/repeat.tsv",
            "--set", "machine.cores=2")
        s = json.load(open(os.path.join(out, "summary.json")))
        if s["modprobe_runs"] != 5 or s["modules_loaded"] != 1:
            sys.exit(f"FAIL repeat/per_cpu: {s['modprobe_runs']} modprobes, {s['modules_loaded']} loaded; expected 5, 1")
        print("ok repeat 2 per CPU on 2 cores + 1 unmatched: 5 modprobes")
    print("PASS")


if __name__ == "__main__":
    main()
