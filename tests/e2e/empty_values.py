#!/usr/bin/python3
"""Empty values are usage errors (exit 2, one line), never the default taken silently: `--seed ''`
(the file's seed), `--out ''` (results/<name>/), `--set key=` (YAML null: the key's default),
a sweep's `--out ''`.

empty_values.py KMODSIM E2E_DIR
"""
import os
import sys
import tempfile

from cli_check import expect_error, fail, run

KMODSIM, E2E = sys.argv[1], sys.argv[2]
BASE = os.path.join(E2E, "configs", "base.yaml")

with tempfile.TemporaryDirectory() as t:
    for args, want in [(["run", BASE, "--seed", "", "--out", os.path.join(t, "a")], "--seed: '' is not a seed"),
                       (["run", BASE, "--out", ""], "--out: an empty path"),
                       (["run", BASE, "--set", "machine.scheduler.model=", "--out", os.path.join(t, "b")],
                        "--set machine.scheduler.model=: no value (leave the key out for its default)"),
                       (["run", BASE, "--set", "seed=  ", "--out", os.path.join(t, "c")], "--set seed=  : no value"),
                       (["sweep", os.path.join(E2E, "configs", "sweep", "cores.yaml"), "--out", ""],
                        "--out: an empty path")]:
        expect_error(run(KMODSIM, *args, cwd=t), want)
    if os.path.exists(os.path.join(t, "results")):
        fail("something was written to results/")
print("ok")
