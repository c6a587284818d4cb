"""machine.scheduler.slice_scaling: the time_slice model runs with the scaled slice.

The default scenario on 2 cores (every run time_slice): slice_ms 4 with `log` scaling is
4 x (1 + ilog2(2)) = 8 ms, so it must simulate exactly as slice_ms 8 with no scaling; 2 ms with
`log_capped` on 4 cores is 2 x (1 + 2) = 6 ms, as 6 ms unscaled. A third run, 4 ms unscaled,
must differ from the first (else the comparison could not tell a scaling that is ignored).
Usage: slice_scaling.py KMODSIM SOURCE_DIR
"""
import json
import os
import sys

from cli_check import fail, run

SAME = ("makespan_s", "modules_loaded", "load_attempts", "failures", "races", "lock", "cpu")


def summary(kmodsim, scenario, tmp, name, *sets):
    args = ["run", scenario, "--json", "--out", os.path.join(tmp, name)]
    for s in sets:
        args += ["--set", s]
    p = run(kmodsim, *args)
    if p.returncode != 0:
        fail(f"run {name}", p)
    d = json.loads(p.stdout)
    return {k: d[k] for k in SAME}


def main():
    kmodsim, src = sys.argv[1], sys.argv[2]
    scenario = os.path.join(src, "configs", "scenarios", "desktop-2009.yaml")
    tmp = os.path.abspath("slice_scaling.out")
    base = ["machine.scheduler.model=time_slice"]
    pairs = [
        (["machine.cores=2", "machine.scheduler.slice_ms=4", "machine.scheduler.slice_scaling=log"],
         ["machine.cores=2", "machine.scheduler.slice_ms=8", "machine.scheduler.slice_scaling=none"]),
        (["machine.cores=4", "machine.scheduler.slice_ms=2", "machine.scheduler.slice_scaling=log_capped"],
         ["machine.cores=4", "machine.scheduler.slice_ms=6", "machine.scheduler.slice_scaling=none"]),
    ]
    for i, (scaled, plain) in enumerate(pairs):
        a = summary(kmodsim, scenario, tmp, f"scaled{i}", *base, *scaled)
        b = summary(kmodsim, scenario, tmp, f"plain{i}", *base, *plain)
        if a != b:
            fail(f"{scaled} should simulate as {plain}:\n  {a}\n  {b}")
        print("ok:", " ".join(scaled), "== slice", plain[1].split("=")[1], "ms, makespan", a["makespan_s"])
    unscaled = summary(kmodsim, scenario, tmp, "unscaled", *base, "machine.cores=2", "machine.scheduler.slice_ms=4",
                       "machine.scheduler.slice_scaling=none")
    if unscaled == summary(kmodsim, scenario, tmp, "scaled0", *base, *pairs[0][0]):
        fail("a 4 ms and an 8 ms slice gave the same run: the scenario cannot tell the scaling apart")
    print("ok: 4 ms unscaled differs, makespan", unscaled["makespan_s"])


if __name__ == "__main__":
    main()
