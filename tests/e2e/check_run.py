#!/usr/bin/python3
"""End-to-end check of one kmodsim invocation (the program's own output is the oracle).

check_run.py KMODSIM [--expect KEY=VALUE]... [--exit N] [--stderr TEXT]... [--identical] -- ARGS...
  --expect KEY=VALUE  a summary.json value (dotted key): numbers must match within 1e-9
  --exit N            expected exit status (default 0)
  --stderr TEXT       stderr must contain TEXT (repeatable); stderr must be one line
  --identical         run twice into two folders: every output file must be byte-identical
For `run`, the outputs go to a fresh temporary folder (an --out is added).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ASAN_UCONTEXT_NOTICE = "WARNING: ASan doesn't fully support makecontext/swapcontext"


def get(d, key):
    for part in key.split("."):
        d = d[part]
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kmodsim")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--stderr", action="append", default=[])
    ap.add_argument("--identical", action="store_true")
    ap.add_argument("--multiline", action="store_true", help="stderr may span lines (simulation errors)")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    args = argv[cut + 1:]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, "out1"), os.path.join(tmp, "out2")]
        runs = 2 if a.identical else 1
        for i in range(runs):
            cmd = [a.kmodsim] + args + (["--out", outs[i], "--quiet"] if args and args[0] == "run" else [])
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            # a sanitized build's fibers switch with swapcontext, about which ASan prints one notice
            # per process (sim/runtime_fibers.cpp); it is not kmodsim's output
            p.stderr = "".join(l for l in p.stderr.splitlines(True) if ASAN_UCONTEXT_NOTICE not in l)
            if p.returncode != a.exit:
                print(f"FAIL: exit {p.returncode}, expected {a.exit}\n$ {' '.join(cmd)}\n{p.stdout}{p.stderr}")
                return 1
            for text in a.stderr:
                if text not in p.stderr:
                    print(f"FAIL: stderr lacks {text!r}:\n{p.stderr}")
                    ok = False
            if a.exit != 0 and not a.multiline and p.stderr.strip().count("\n") > 0:
                print(f"FAIL: error message is not one line:\n{p.stderr}")
                ok = False
            if "Traceback" in p.stderr or "terminate called" in p.stderr or "Aborted" in p.stderr:
                print(f"FAIL: crash:\n{p.stderr}")
                ok = False
        if a.expect:
            with open(os.path.join(outs[0], "summary.json")) as f:
                summary = json.load(f)
            for e in a.expect:
                key, want = e.split("=", 1)
                got = get(summary, key)
                if isinstance(got, (int, float)) and not isinstance(got, bool):
                    if abs(float(got) - float(want)) > 1e-9:
                        print(f"FAIL: {key} = {got}, expected {want}")
                        ok = False
                elif str(got) != want:
                    print(f"FAIL: {key} = {got!r}, expected {want!r}")
                    ok = False
        if a.identical:
            names = sorted(os.listdir(outs[0]))
            if names != sorted(os.listdir(outs[1])):
                print(f"FAIL: different file sets {names} vs {sorted(os.listdir(outs[1]))}")
                ok = False
            for n in names:
                with open(os.path.join(outs[0], n), "rb") as f1, open(os.path.join(outs[1], n), "rb") as f2:
                    if f1.read() != f2.read():
                        print(f"FAIL: {n} differs between two runs with the same inputs and seed")
                        ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
