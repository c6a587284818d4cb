#!/usr/bin/python3
"""kmodsim sweep --engine: each run is simulated by the engine asked for (runs.csv's `engine`
column, from summary.json, only for fibers); a fibers sweep of the hand-computed scenarios gives the
hand-computed makespans; a folder of one engine's runs refuses --resume with the other (exit 2,
one line), and the same engine resumes it; processor_sharing runs on fibers (the hand-computed
lhp_processor_sharing figures); a sweep none of whose runs succeeded exits 1 (locally and
through GNU parallel's shards), its tables written.

sweep_engine.py KMODSIM E2E_DIR
"""
import csv
import os
import subprocess
import sys
import tempfile

KMODSIM, E2E = sys.argv[1], os.path.abspath(sys.argv[2])


def sweep(spec, out, *extra):
    return subprocess.run([KMODSIM, "sweep", spec, "--out", out, "-j", "2", "--quiet-progress", *extra],
                          capture_output=True, text=True)


def main():
    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "s.yaml")
        # fine_2cores and duplicate_coarse_2cores of tests/e2e/README.md: 1.15 ms and 1.13 ms
        with open(spec, "w") as f:
            f.write(f"""schema_version: 1
name: engines
scenario: {E2E}/configs/base.yaml
cases:
  - name: fine
    set: {{kernel: {E2E}/configs/fine.yaml, machine.cores: 2}}
  - name: dup
    set: {{workload: {E2E}/configs/dup.yaml, machine.cores: 2}}
replications: 2
seed: 1
""")
        out = os.path.join(tmp, "o")
        p = sweep(spec, out, "--engine", "fibers")
        if p.returncode != 0:
            print("FAIL: fibers sweep exited", p.returncode, p.stderr)
            return 1
        rows = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
        if len(rows) != 4:
            fails.append(f"{len(rows)} rows, expected 4")
        for r in rows:
            if r.get("engine") != "fibers":
                fails.append(f"run {r['run']}: engine {r.get('engine')!r}, expected fibers")
            want = {"fine": 0.00115, "dup": 0.00113}[r["axis.case"]]
            if r["status"] != "ok" or abs(float(r["makespan_s"]) - want) > 1e-9:
                fails.append(f"run {r['run']} ({r['axis.case']}): {r['status']} makespan {r['makespan_s']}, "
                             f"expected {want}")
        # more replications, resumed with the other engine: refused, nothing run
        text = open(spec).read().replace("replications: 2", "replications: 3")
        open(spec, "w").write(text)
        p = sweep(spec, out, "--resume")
        if p.returncode != 2 or "simulated with --engine fibers" not in p.stderr or p.stderr.strip().count("\n"):
            fails.append(f"resume with actors: exit {p.returncode}, expected 2 and one line: {p.stderr!r}")
        if len(list(csv.DictReader(open(os.path.join(out, "runs.csv"))))) != 4:
            fails.append("the refused resume changed runs.csv")
        p = sweep(spec, out, "--resume", "--engine", "fibers")
        rows = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
        if p.returncode != 0 or len(rows) != 6 or any(r["engine"] != "fibers" for r in rows):
            fails.append(f"resume with fibers: exit {p.returncode}, {len(rows)} rows: {p.stderr}")
        # actors by default: the same makespans
        out2 = os.path.join(tmp, "o2")
        p = sweep(spec, out2)
        rows2 = list(csv.DictReader(open(os.path.join(out2, "runs.csv")))) if p.returncode == 0 else []
        if [r["makespan_s"] for r in rows2] != [r["makespan_s"] for r in rows] or any(
                r.get("engine", "") != "" for r in rows2):  # no engine column: the default
            fails.append(f"actors sweep: exit {p.returncode}, rows {[(r['makespan_s'], r['engine']) for r in rows2]}")
        # processor_sharing on fibers (FluidCpu): the hand-computed lhp_processor_sharing figures
        spec3 = os.path.join(tmp, "ps.yaml")
        with open(spec3, "w") as f:
            f.write(f"""schema_version: 1
name: engines-ps
scenario: {E2E}/configs/lhp.yaml
grid:
  machine.scheduler.model: [processor_sharing]
replications: 1
seed: 1
""")
        out3 = os.path.join(tmp, "o3")
        p = sweep(spec3, out3, "--engine", "fibers")
        rows3 = list(csv.DictReader(open(os.path.join(out3, "runs.csv")))) if p.returncode == 0 else []
        if len(rows3) != 1 or rows3[0]["status"] != "ok" or abs(float(rows3[0]["makespan_s"]) - 0.005) > 1e-9 or \
                abs(float(rows3[0]["lock.holder_preempted_s"]) - 0.001) > 1e-9:
            fails.append(f"processor_sharing on fibers: exit {p.returncode} {p.stderr.strip()} {rows3}")
        # every run failed (deadlock.yaml deadlocks without a use_module timeout): exit 1, one line
        # naming the first failure; the tables are written all the same (a sweep of only failures
        # exited 0 before); through GNU parallel's shards too
        spec4 = os.path.join(tmp, "dead.yaml")
        with open(spec4, "w") as f:
            f.write(f"""schema_version: 1
name: engines-deadlock
scenario: {E2E}/configs/deadlock.yaml
grid:
  kernel.use_module_timeout_s: [0]
replications: 3
seed: 1
""")
        for extra in ([], ["--executor", "parallel", "--shards", "2"]):
            out4 = os.path.join(tmp, "o4" + "".join(extra))
            p = sweep(spec4, out4, "--engine", "fibers", *extra)
            # a sanitized build's fibers print one ASan notice per process (docs/engines.md)
            err = "".join(l for l in p.stderr.splitlines(True) if "ASan doesn't fully support" not in l).strip()
            if p.returncode != 1 or "every run of this sweep failed (3 runs; the first, p0000-r000: " not in err or \
                    "deadlock" not in err or err.count("\n"):
                fails.append(f"all runs failed {extra}: exit {p.returncode}, expected 1 and one line: {err!r}")
            elif len(list(csv.DictReader(open(os.path.join(out4, "runs.csv"))))) != 3:
                fails.append(f"all runs failed {extra}: runs.csv does not list the 3 failed runs")
    for f in fails:
        print("FAIL:", f)
    print("ok" if not fails else f"{len(fails)} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
