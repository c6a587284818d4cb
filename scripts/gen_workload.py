#!/usr/bin/python3
"""Generates a synthetic workload for capacity and speed studies (not a real module set).

Module features are drawn (seeded, deterministic) from ranges typical of x86-64 modules; each
module depends on 0-3 modules generated before it (so the graph is a DAG); uevents request
modules uniformly with a given share of duplicates and of alias misses.
Usage: gen_workload.py --modules N --uevents M [--seed S] [--no-match 0.3] [--uevents-tsv FILE]
                       [--modules-tsv FILE] -o FILE
  --uevents-tsv FILE  write the uevents to FILE as TSV (the workload's uevents_tsv, the fast path
                      for big workloads) instead of a YAML list; the same uevents either way
  --modules-tsv FILE  the same for the modules (the workload's modules_tsv)
"""
import argparse
import os
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modules", type=int, required=True)
    ap.add_argument("--uevents", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-match", type=float, default=0.3, help="share of uevents whose alias matches no module")
    ap.add_argument("--init-wait-ms", type=float, default=5.0, help="mean hardware wait of an init function")
    ap.add_argument("--uevents-tsv", help="write the uevents to this TSV file (workload key uevents_tsv)")
    ap.add_argument("--modules-tsv", help="write the modules to this TSV file (workload key modules_tsv)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    if a.modules < 1 or a.uevents < 0 or not 0 <= a.no_match <= 1:
        print("error: need --modules >= 1, --uevents >= 0, 0 <= --no-match <= 1", file=sys.stderr)
        return 2
    rnd = random.Random(a.seed)
    out = [
        "# Synthetic workload from scripts/gen_workload.py (assumption-level features, for scale studies)",
        "schema_version: 1",
        f"name: synthetic-{a.modules}m-{a.uevents}u-s{a.seed}",
        f"provenance: \"scripts/gen_workload.py --modules {a.modules} --uevents {a.uevents} --seed {a.seed}\"",
        "kernel_exports: 12000",
    ]
    mods = []  # the same draws whichever way they are written
    exports = []
    for i in range(a.modules):
        ndeps = min(i, rnd.choice([0, 0, 1, 1, 2, 3]))
        deps = sorted(set(rnd.sample(range(i), ndeps))) if ndeps else []
        deps = [d for d in deps if exports[d] > 0]
        undef = rnd.randint(20, 300)
        dep_syms = min(undef, 5 * len(deps))
        size = round(rnd.uniform(5, 300), 1)
        exp = rnd.choice([0, 0, 0, 2, 10, 40])
        exports.append(exp)
        cpu_us = rnd.randint(50, 1000)
        wait_ms = round(rnd.expovariate(1 / a.init_wait_ms), 3) if a.init_wait_ms > 0 else 0
        mods.append((f"m{i:05d}", size, round(size * 0.05, 1), round(size * 1.5, 1), undef, dep_syms, undef * 30, exp,
                     [f"m{d:05d}" for d in deps], cpu_us, wait_ms))
    if a.modules_tsv:
        rel = os.path.relpath(os.path.abspath(a.modules_tsv), os.path.dirname(os.path.abspath(a.output)))
        out.append(f"modules_tsv: \"{rel}\"")
        with open(a.modules_tsv, "w") as f:
            f.write("name\tsize_kb\tinit_kb\tfile_kb\tundef_symbols\tdep_symbols\trelocations\texports\tdeps\t"
                    "init_cpu_us\tinit_wait_ms\n")
            for m in mods:
                f.write("\t".join(str(x) for x in m[:8]) + f"\t{','.join(m[8])}\t{m[9]}\t{m[10]}\n")
    else:
        out.append("modules:")
        for n, size, init, fkb, undef, dep_syms, rel_, exp, deps, cpu_us, wait_ms in mods:
            out.append(f"  - {{name: {n}, size_kb: {size}, init_kb: {init}, file_kb: {fkb}, "
                       f"undef_symbols: {undef}, dep_symbols: {dep_syms}, relocations: {rel_}, exports: {exp}, "
                       f"deps: [{', '.join(deps)}], init: {{cpu_us: {cpu_us}, wait_ms: {wait_ms}}}}}")
    events = []  # (device, module or None), the same draws whichever way they are written
    for j in range(a.uevents):
        events.append((f"dev{j}", None if rnd.random() < a.no_match else f"m{rnd.randrange(a.modules):05d}"))
    if a.uevents_tsv:
        rel = os.path.relpath(os.path.abspath(a.uevents_tsv), os.path.dirname(os.path.abspath(a.output)))
        out.append(f"uevents_tsv: \"{rel}\"")
        with open(a.uevents_tsv, "w") as f:
            f.write("device\tmodule\n" + "".join(f"{d}\t{m or ''}\n" for d, m in events))
    else:
        out.append("uevents:")
        for d, m in events:
            out.append(f"  - {{device: \"{d}\", module: {m or 'null'}}}")
    with open(a.output, "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
