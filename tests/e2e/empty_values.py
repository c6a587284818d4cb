#!/usr/bin/python3
"""Empty values are usage errors (exit 2, one line), never the default taken silently: `--seed ''`
(the file's seed), `--out ''` (results/<name>/), `--set key=` (YAML null: the key's default),
a sweep's `--out ''`.

empty_values.py KMODSIM E2E_DIR
"""
import os
import subprocess
import sys
import tempfile

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")


def main():
    ok = True
    with tempfile.TemporaryDirectory() as t:
        cases = [(["run", BASE, "--seed", "", "--out", os.path.join(t, "a")], "--seed: '' is not a seed"),
                 (["run", BASE, "--out", ""], "--out: an empty path"),
                 (["run", BASE, "--set", "machine.scheduler.model=", "--out", os.path.join(t, "b")],
                  "--set machine.scheduler.model=: no value (leave the key out for its default)"),
                 (["run", BASE, "--set", "seed=  ", "--out", os.path.join(t, "c")], "--set seed=  : no value"),
                 (["sweep", os.path.join(E2E, "configs", "sweep", "cores.yaml"), "--out", ""], "--out: an empty path")]
        for args, want in cases:
            p = subprocess.run([KMODSIM, *args], capture_output=True, text=True, cwd=t, timeout=60)
            if p.returncode != 2 or want not in p.stderr or p.stderr.count("\n") != 1:
                print(f"FAIL: kmodsim {args}: exit {p.returncode}, stderr {p.stderr!r}")
                ok = False
        if os.path.exists(os.path.join(t, "results")):
            print("FAIL: something was written to results/")
            ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
