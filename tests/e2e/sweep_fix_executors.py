#!/usr/bin/python3
"""kmodsim sweep: the executors, journals and errors an audit broke (each case failed before).

- `--executor parallel --dry-run` ran every shard and then said "nothing run"; it runs nothing.
- `--executor parallel` overwrote a folder the local executor refuses: one that is not a sweep
  folder, or another spec's results without --force.
- A spec path with a space broke GNU parallel's command line (parallel hands it to a shell);
  `--executor slurm` refuses such a path up front (an #SBATCH line cannot carry it).
- A journal whose last line was torn (a kill mid-write) had the next run glued onto the
  fragment: --resume then lost that run too, and collecting the shard failed.
- A run's error cut at 400 bytes inside a UTF-8 character made the journal line unwritable:
  the sweep stopped, at every --resume.
Usage: sweep_fix_executors.py KMODSIM SOURCE_DIR
"""
import csv
import os
import subprocess
import sys
import tempfile

KMODSIM, REPO = sys.argv[1], sys.argv[2]


def spec(seed, reps=2):
    return (f"schema_version: 1\nname: fix\nscenario: {REPO}/configs/scenarios/desktop-2009.yaml\n"
            f"grid:\n  machine.cores: [1, 2]\n  outputs.timeline: [false]\nreplications: {reps}\nseed: {seed}\n")


def sweep(*args, cwd=None):
    return subprocess.run([KMODSIM, "sweep", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def main():
    bad = []

    def check(cond, what, p=None):
        if not cond:
            bad.append(what + (f"\n  exit {p.returncode}\n  stdout {p.stdout[-400:]!r}\n  stderr {p.stderr[-400:]!r}"
                               if p is not None else ""))

    with tempfile.TemporaryDirectory() as t:
        s1 = os.path.join(t, "s1.yaml")
        open(s1, "w").write(spec(3))
        s2 = os.path.join(t, "s2.yaml")
        open(s2, "w").write(spec(4))
        # --dry-run with an executor launches nothing
        p = sweep(s1, "--executor", "parallel", "--shards", "2", "--out", os.path.join(t, "dry"), "--dry-run")
        check(p.returncode == 0 and "nothing run" in p.stdout + p.stderr and not os.path.exists(os.path.join(t, "dry")),
              "parallel --dry-run ran or wrote something", p)
        # the local executor's folder checks
        os.makedirs(os.path.join(t, "np"))
        open(os.path.join(t, "np", "runs.csv"), "w").write("precious\n")
        p = sweep(s1, "--executor", "parallel", "--shards", "2", "--out", os.path.join(t, "np"))
        check(p.returncode == 1 and "not a sweep folder" in p.stderr
              and open(os.path.join(t, "np", "runs.csv")).read() == "precious\n",
              "parallel wrote into a folder that is not a sweep folder", p)
        p = sweep(s1, "--out", os.path.join(t, "other"))
        check(p.returncode == 0, "local sweep", p)
        p = sweep(s2, "--executor", "parallel", "--shards", "2", "--out", os.path.join(t, "other"))
        check(p.returncode == 1 and "another spec" in p.stderr, "parallel discarded another spec's runs", p)
        p = sweep(s2, "--executor", "parallel", "--shards", "2", "--out", os.path.join(t, "other"), "--force")
        check(p.returncode == 0, "parallel --force over another spec", p)
        # a path with a space
        os.makedirs(os.path.join(t, "sp ace"))
        sp = os.path.join(t, "sp ace", "s.yaml")
        open(sp, "w").write(spec(3))
        p = sweep(sp, "--executor", "parallel", "--shards", "2", "--out", os.path.join(t, "sp ace", "out"))
        check(p.returncode == 0 and os.path.exists(os.path.join(t, "sp ace", "out", "runs.csv")),
              "parallel with a space in the paths", p)
        p = sweep(sp, "--executor", "slurm", "--shards", "2", "--out", os.path.join(t, "sp ace", "sl"))
        check(p.returncode == 2 and "#SBATCH" in p.stderr, "slurm took a path its script cannot carry", p)
        # a torn journal line: cut inside the 3rd line (the 2nd run), then resume and collect
        for i in (1, 2):
            p = sweep(s1, "--shard", f"{i}/2", "--out", os.path.join(t, f"sh{i}"))
            check(p.returncode == 0, f"shard {i}", p)
        j = os.path.join(t, "sh1", "sweep.journal")
        lines = open(j).read().split("\n")
        open(j, "w").write("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])
        p = sweep(s1, "--shard", "1/2", "--out", os.path.join(t, "sh1"), "--resume")
        check(p.returncode == 0 and "1 run now" in p.stdout + p.stderr, "resume after a torn line", p)
        p = sweep(s1, "--shard", "1/2", "--out", os.path.join(t, "sh1"), "--resume")
        check(p.returncode == 0 and "0 run now" in p.stdout + p.stderr, "a second resume ran again", p)
        p = sweep(s1, "--collect", os.path.join(t, "sh1"), os.path.join(t, "sh2"), "--out", os.path.join(t, "col"))
        check(p.returncode == 0, "collecting a shard resumed after a torn line", p)
        # an error longer than 400 bytes with multibyte characters around the cut: two folders
        # whose names differ by one ASCII byte, so that one of them puts byte 400 inside a character
        p3 = os.path.join(t, "s3.yaml")
        open(p3, "w").write(spec(3, reps=3))
        for pad in ("", "a"):
            deep = os.path.join(t, pad + "é" * 100, "é" * 100, "x")
            p = sweep(s1, "--out", deep)
            check(p.returncode == 0, "sweep into a folder with multibyte characters", p)
            open(os.path.join(deep, "runs"), "w").close()  # --keep-runs cannot make its runs/ folder
            p = sweep(p3, "--out", deep, "--resume", "--keep-runs")
            check(p.returncode == 0 and "json" not in p.stderr, "a long multibyte error stopped the sweep", p)
            if p.returncode == 0:
                with open(os.path.join(deep, "runs.csv"), newline="") as f:
                    errs = [r["error"] for r in csv.DictReader(f) if r.get("error")]
                check(errs and all(len(e.encode()) <= 400 for e in errs), f"errors recorded: {errs[:1]}")
    for b in bad:
        print("FAIL:", b)
    print("ok" if not bad else "FAILED")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
