#!/usr/bin/python3
"""kmodsim sweep --shard I/N on three shards, merged by --collect, and the same spec through
GNU parallel (--executor parallel), equal one local sweep (rows and intervals; wall times
aside); a missing or a doubled shard is refused. A spec named by a relative path, whose scenario
is relative too, runs through the executor and resumes under another spelling of its path (the
shards get its absolute path: the spec's identity must not depend on the spelling).

sweep_shards.py KMODSIM REPO
"""
import csv
import os
import subprocess
import sys
import tempfile

KMODSIM, REPO = sys.argv[1], sys.argv[2]
SPEC = f"""schema_version: 1
name: shards
scenario: {REPO}/configs/scenarios/desktop-2009.yaml
grid:
  machine.cores: [1, 2]
  variability.cost_cv: [0.2]
  outputs.timeline: [false]
zip:
  workload.modules.snd.init.wait_ms: [5, 50]   # a key path into a list element, by name
  kernel.mutex.wakeup_us: [1, 10]
lhs:
  samples: 3
  axes:
    userspace.udev.children_max: {{lo: 1, hi: 64, integer: true}}
replications: 4
seed: 11
"""


def sweep(*args, cwd=None):
    return subprocess.run([KMODSIM, "sweep", *args], capture_output=True, text=True, cwd=cwd)


def rows(path):
    with open(path) as f:
        r = list(csv.DictReader(f))
    for x in r:
        x.pop("wall_s")
    return r


def main():
    ok = True
    with tempfile.TemporaryDirectory() as t:
        spec = os.path.join(t, "s.yaml")
        open(spec, "w").write(SPEC)
        assert sweep(spec, "--out", f"{t}/one", "-j", "2").returncode == 0
        for i in (1, 2, 3):
            p = sweep(spec, "--out", f"{t}/s{i}", "--shard", f"{i}/3", "-j", "2")
            if p.returncode != 0:
                print("FAIL: shard", i, p.stderr)
                return 1
        p = sweep(spec, "--out", f"{t}/merged", "--collect", f"{t}/s1", f"{t}/s2", f"{t}/s3")
        if p.returncode != 0:
            print("FAIL: collect", p.stderr)
            return 1
        if rows(f"{t}/one/runs.csv") != rows(f"{t}/merged/runs.csv") or len(rows(f"{t}/one/runs.csv")) != 48:
            print("FAIL: merged runs.csv differs from the local sweep")
            ok = False
        if open(f"{t}/one/points.csv").read() != open(f"{t}/merged/points.csv").read():
            print("FAIL: merged points.csv differs")
            ok = False
        p = sweep(spec, "--out", f"{t}/m2", "--collect", f"{t}/s1", f"{t}/s2")
        if p.returncode != 1 or "in none of the folders" not in p.stderr:
            print("FAIL: a missing shard was not refused:", p.stderr)
            ok = False
        p = sweep(spec, "--out", f"{t}/m3", "--collect", f"{t}/s1", f"{t}/s2", f"{t}/s3", f"{t}/s3")
        if p.returncode != 1 or "also in another" not in p.stderr:
            print("FAIL: a doubled shard was not refused:", p.stderr)
            ok = False
        # the same spec through GNU parallel (4 shards, 2 at a time), collected
        p = sweep(spec, "--out", f"{t}/par", "--executor", "parallel", "--shards", "4", "-j", "2")
        if p.returncode != 0:
            print("FAIL: --executor parallel:", p.stderr)
            ok = False
        elif rows(f"{t}/one/runs.csv") != rows(f"{t}/par/runs.csv") or \
                open(f"{t}/one/points.csv").read() != open(f"{t}/par/points.csv").read():
            print("FAIL: the parallel executor's tables differ from the local sweep")
            ok = False
        elif not os.path.exists(f"{t}/par/parallel.joblog"):
            print("FAIL: no joblog")
            ok = False
        # a relative spec path and a relative scenario (the shipped experiments' form)
        # and a relative file-valued axis (capacity.yaml's kernels: the shards, run by the spec's
        # absolute path, resolved it to another string, so collecting refused them as another spec)
        rel = os.path.relpath(os.path.join(REPO, "configs/scenarios/desktop-2009.yaml"), t)
        relk = os.path.relpath(os.path.join(REPO, "configs/kernels/linux-2.6.28.yaml"), t)
        open(os.path.join(t, "rel.yaml"), "w").write(
            f"schema_version: 1\nname: rel\nscenario: {rel}\ngrid:\n  machine.cores: [1, 2]\n"
            f"  kernel: [{relk}]\n  outputs.timeline: [false]\nreplications: 1\nseed: 3\n")
        p = sweep("rel.yaml", "--out", "relpar", "--executor", "parallel", "--shards", "2", cwd=t)
        if p.returncode != 0:
            print("FAIL: --executor parallel with a relative spec path:", p.stderr)
            ok = False
        p = sweep(os.path.join(t, "rel.yaml"), "--out", os.path.join(t, "relpar"), "--resume")
        if p.returncode != 0 or "2 reused" not in p.stdout + p.stderr:
            print("FAIL: --resume under the spec's absolute path:", p.stdout, p.stderr)
            ok = False
        runs = os.path.join(t, "relpar", "runs.csv")  # the axis column as the spec writes it
        if not os.path.exists(runs) or f",{relk}," not in open(runs).read():
            print("FAIL: no runs.csv, or its axis.kernel is not the spec's own", relk)
            ok = False
        for bad in ("4/3", "", "1/2/3", "1/2x"):  # '' ran the whole sweep, 1/2/3 ran shard 1/2
            p = sweep(spec, "--shard", bad, "--dry-run")
            if p.returncode != 2 or "expected I/N" not in p.stderr:
                print(f"FAIL: --shard {bad!r} was accepted:", p.returncode, p.stderr)
                ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
