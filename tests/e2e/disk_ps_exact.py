#!/usr/bin/python3
"""The disk shares its bandwidth equally among the reads in flight (processor sharing), with
exact completion times (sim/disk.cpp). On real scenarios with many overlapping reads
(desktop-2009, lkml-2009 at 2 and 8 cores), every read_ko interval of timeline.csv must end
where an exact processor-sharing computation, from the same read start times and file sizes,
says it does (to 1e-8 s: the start times it reads are printed to 1e-9 s). SimGrid's I/O model, used before, ended some reads microseconds
late (desktop-2009: libata at 0.229740165 s instead of 0.229734 s).

disk_ps_exact.py KMODSIM ROOT
"""
import csv
import math
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

import yaml

KMODSIM, ROOT = sys.argv[1], sys.argv[2]
CASES = [("desktop-2009", []), ("lkml-2009", []), ("lkml-2009", ["--set", "machine.cores=8"])]


def exact_ends(reads, rate):
    """reads: (start, name, bytes); returns name -> end (Fractions), processor sharing."""
    reads = sorted(reads)
    t, active, i, done = reads[0][0], {}, 0, {}
    while i < len(reads) or active:
        nxt = reads[i][0] if i < len(reads) else None
        fin = t + min(active.values()) * len(active) / rate if active else None
        if nxt is not None and (fin is None or nxt <= fin):
            for k in active:
                active[k] -= (nxt - t) * rate / len(active)
            t = nxt
            active[reads[i][1]] = Fraction(reads[i][2])
            i += 1
        else:
            n = len(active)
            for k in list(active):
                active[k] -= (fin - t) * rate / n
            t = fin
            for k in [k for k, v in active.items() if v <= 0]:
                done[k] = t
                del active[k]
    return done


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for n, (scen, sets) in enumerate(CASES):
            out = os.path.join(tmp, str(n))
            subprocess.run([KMODSIM, "run", os.path.join(ROOT, "configs/scenarios", scen + ".yaml"), "--out", out,
                            "-q"] + sets, check=True)
            cfg = yaml.safe_load(open(os.path.join(out, "config.yaml")))
            disk = cfg["machine"]["disk"]
            rate, lat = Fraction(disk["read_mbps"]) * 10**6, Fraction(disk["latency_ms"]) / 1000
            kb = {m["name"]: (m["file_kb"] if m["file_kb"] > 0 else m["size_kb"]) for m in cfg["workload"]["modules"]}
            reads, ends = [], {}
            for r in csv.DictReader(open(os.path.join(out, "timeline.csv"))):
                if r["state"] == "io":
                    key = (r["task"], r["module"])
                    reads.append((Fraction(r["start_s"]) + lat, key, math.ceil(kb[r["module"]] * 1024)))
                    ends[key] = Fraction(r["end_s"])
            want = exact_ends(reads, rate)
            worst = max(abs(float(want[k] - ends[k])) for k in ends)
            if worst > 1e-8:  # the timeline prints 1e-9 s: start times are rounded
                k = max(ends, key=lambda k: abs(want[k] - ends[k]))
                sys.exit(f"FAIL {scen} {sets}: read {k} ends at {float(ends[k]):.9f} s, exact processor sharing says "
                         f"{float(want[k]):.9f} s")
            print(f"ok {scen} {' '.join(sets)}: {len(ends)} reads end where exact processor sharing says "
                  f"(worst {worst:.1e} s)")
    print("PASS")


if __name__ == "__main__":
    main()
