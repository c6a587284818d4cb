#!/usr/bin/python3
"""Sweep specs as experiments use them.

1. Every spec in experiments/ (and the sensitivity spec experiments/lkml_2009.py generates)
   loads: `kmodsim sweep --dry-run` resolves each of its points, with the point count the spec
   implies.
2. `cases:` sets exactly its keys (and a metric only a later case reports, vmalloc.*, is a
   column): a tiny sweep of cases on the hand-computed e2e scenario gives,
   per case, the makespan of a plain `kmodsim run` with the same --set's and of the hand
   computation (tests/e2e/README.md, coarse_1core: the two modprobes run one after the other,
   each 1000 us start-up + 130 us locked = 2.26 ms; with start-up raised to 1.5 s,
   2 x 1,500,130 us = 3.00026 s).
3. A sweep run whose scenario draws its inputs from the seed (configs/scenarios/lkml-2009.yaml)
   gives the summary of a plain `kmodsim run` with that seed, metric for metric (the sweep
   builds each run from the point's YAML tree, prepared once, not by reading the files again).

sweep_cases.py KMODSIM ROOT
"""
import csv
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

KMODSIM, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(ROOT, "experiments"))
import lkml_2009  # noqa: E402
import yaml  # noqa: E402


def dry(spec):
    p = subprocess.run([KMODSIM, "sweep", spec, "--dry-run"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {spec}: exit {p.returncode}: {p.stderr.strip()}")
    m = re.search(r"(\d+) points x (\d+) replications = (\d+) runs", p.stdout)
    if not m:
        sys.exit(f"FAIL: {spec}: no summary line in {p.stdout[-300:]!r}")
    return int(m.group(1)), p.stdout


def expected_points(spec):
    s = yaml.safe_load(open(spec))
    n = 1
    for v in (s.get("grid") or {}).values():
        n *= len(v)
    n *= max(1, len(s.get("cases") or []))
    z = s.get("zip") or {}
    n *= len(next(iter(z.values()))) if z else 1
    for k in ("random", "lhs"):
        if k in s:
            n *= s[k]["samples"]
    return n


def main():
    specs = sorted(glob.glob(os.path.join(ROOT, "experiments", "*.yaml")))
    assert len(specs) >= 3, specs
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(tmp, "sensitivity.yaml")
        yaml.safe_dump(lkml_2009.sensitivity_spec(), open(gen, "w"), sort_keys=False)
        for spec in specs + [gen]:
            n, _ = dry(spec)
            if n != expected_points(spec):
                sys.exit(f"FAIL: {spec}: {n} points, the spec implies {expected_points(spec)}")
            print(f"ok {os.path.basename(spec)}: {n} points load")
        if os.listdir(tmp) != ["sensitivity.yaml"]:
            sys.exit(f"FAIL: --dry-run wrote {os.listdir(tmp)}")

        e2e = os.path.join(ROOT, "tests/e2e/configs")
        spec = os.path.join(tmp, "cases.yaml")
        open(spec, "w").write(f"""schema_version: 1
name: cases
scenario: {e2e}/base.yaml
grid:
  machine.cores: [1]
cases:
  - name: base
  - name: slow_start
    set: {{userspace.modprobe.startup_us: 1500000}}
  - name: vmalloc
    set: {{kernel: {e2e}/era-vmalloc.yaml}}
replications: 1
""")
        out = os.path.join(tmp, "out")
        p = subprocess.run([KMODSIM, "sweep", spec, "--out", out, "-j", "2", "--quiet-progress"], capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.exit(f"FAIL: sweep exit {p.returncode}: {p.stderr}")
        rows = {r["axis.case"]: r for r in csv.DictReader(open(os.path.join(out, "runs.csv")))}
        assert set(rows) == {"base", "slow_start", "vmalloc"}, rows.keys()
        # a metric only a later point reports is still a column (it was dropped when the
        # columns came from the first run alone): era-vmalloc's peak, 600 + 900 KB
        if rows["vmalloc"].get("vmalloc.peak_mb") != "1.46484375" or rows["base"]["vmalloc.peak_mb"] != "":
            sys.exit(f"FAIL: vmalloc.peak_mb column: {rows['vmalloc'].get('vmalloc.peak_mb')!r}")
        print("ok a metric only the last case reports is a column of runs.csv")
        for case, sets, hand in (("base", [], 0.00226), ("slow_start", ["userspace.modprobe.startup_us=1500000"], 3.00026)):
            cmd = [KMODSIM, "run", os.path.join(e2e, "base.yaml"), "--json", "--set", "machine.cores=1",
                   "--seed", rows[case]["seed"]]
            for s in sets:
                cmd += ["--set", s]
            q = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
            plain = json.loads(q.stdout)["makespan_s"]
            got = float(rows[case]["makespan_s"])
            if abs(got - plain) > 1e-9 or abs(got - hand) > 1e-9:
                sys.exit(f"FAIL: case {case}: sweep {got}, plain run {plain}, by hand {hand}")
            print(f"ok case {case}: {got} s = plain run = by hand")

        spec = os.path.join(tmp, "lkml.yaml")
        open(spec, "w").write(f"""schema_version: 1
name: lkml
scenario: {ROOT}/configs/scenarios/lkml-2009.yaml
grid:
  machine.cores: [2]
  outputs.timeline: [false]
replications: 2
seed: 3
""")
        out = os.path.join(tmp, "lkml")
        p = subprocess.run([KMODSIM, "sweep", spec, "--out", out, "-j", "2", "--quiet-progress"], capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.exit(f"FAIL: lkml sweep exit {p.returncode}: {p.stderr}")
        rows = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
        assert len(rows) == 2 and rows[0]["seed"] != rows[1]["seed"]
        for row in rows:
            q = subprocess.run([KMODSIM, "run", os.path.join(ROOT, "configs/scenarios/lkml-2009.yaml"), "--json",
                                "--seed", row["seed"], "--set", "machine.cores=2", "--set", "outputs.timeline=false"],
                               capture_output=True, text=True, cwd=tmp)
            plain = {}

            def flat(d, pre=""):
                for k, v in d.items():
                    if isinstance(v, dict):
                        flat(v, pre + k + ".")
                    else:
                        plain[pre + k] = v
            flat(json.loads(q.stdout))
            diff = [k for k, v in plain.items() if "wall" not in k and k in row and
                    (json.dumps(v) if isinstance(v, bool) else str(v)) != row[k] and
                    not (isinstance(v, float) and abs(v - float(row[k])) <= 1e-9 * max(1.0, abs(v)))]
            missing = [k for k in plain if k not in row]
            if diff or missing or len(plain) < 20:
                sys.exit(f"FAIL: seed {row['seed']}: sweep and plain run differ in {diff[:5]} (missing {missing[:5]})")
        print(f"ok lkml-2009 with drawn inputs: {len(plain)} metrics equal a plain run's, 2 seeds")
    print("PASS")


if __name__ == "__main__":
    main()
