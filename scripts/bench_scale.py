#!/usr/bin/python3
"""kmodsim engine speed at scale, and against SimPy on the same queue (issue 12; prints figures, not a test).

Two sections, then a compact table; every figure also goes to --json FILE if given. Every
kmodsim measurement is made for each engine of --engines (default actors,fibers: `kmodsim run
--engine`, docs/engines.md), interleaved within each repetition.

1. Scale. Three sizes, cores / modules / uevents:
     10k   64 /  2,000 /  10,000
     100k  1,024 /  6,000 / 100,000
     200k  2,048 / 12,000 / 200,000
   set up as issue 12 measured them: the default scenario (configs/scenarios/desktop-2009.yaml:
   the 2009 laptop's disk and calibration, time_slice CPU model) with the seed patch kernel
   (configs/kernels/linux-2.6.29-rusty.yaml), machine.cores = C, udev children_max = C,
   outputs.timeline: false, and a workload from `scripts/gen_workload.py --modules M --uevents U
   --seed 1`. Runs get --max-sim-time 1e6, only a guard: the 200k boot lasts past the default
   3600 simulated seconds (its module_mutex is busy most of the time with modprobes' reads of
   /proc/modules, whose cost grows with the modules loaded). The workloads and scenario files
   are written to a temporary folder (--keep DIR keeps them there instead; nothing goes into
   the source tree), each scenario naming the shipped machine, kernel and calibration files by
   absolute path (`kmodsim config` of it is that of desktop-2009.yaml with those --set's).
   For each size, `kmodsim run SCENARIO -q` (whole process: wall time and the child's peak RSS
   from os.wait4) and `kmodsim validate SCENARIO` (loading and checking the inputs only),
   interleaved, --repeat times (default 1 here), min and median; the simulated makespan and the
   modules loaded against the modules the uevents request (their dependencies included: a
   faster run that loads fewer is visible; the seed patch kernel's race fails some loads at
   mod_sysfs_init, `failed` counts them), and us of wall time per uevent. Then the growth
   exponent between consecutive sizes, log(t_b / t_a) / log(U_b / U_a) on the median wall
   times: 100k -> 200k is log(t200k / t100k) / log 2, the figure issue 12 asks to bring to <= 1.2.

2. SimPy-equivalent queue: N loaders, 8 cores handed out whole (FIFO), one FIFO lock; each
   loader does 10 round trips of 100 us of CPU work outside the lock and 10 us inside it.
     SimPy:   scripts/bench/simpy_queue.py N (Debian's python3-simpy3); its docstring gives the
              semantics, those of kmodsim's run_to_block CPU model and its module_mutex with
              handoff (sim/cpu.cpp, sim/kmutex.cpp): a loader keeps its core while it works in
              the lock, leaves it while it sleeps on the lock, and asks for one again (FIFO)
              once unlock hands it the lock.
     kmodsim: scripts/bench/queue.yaml (kernel queue-kernel.yaml: a group step repeated per
              undefined symbol, 100 us unlocked then 10 us under module_mutex, which hands
              over to its first waiter with no wake-up latency, as a simpy.Resource; machine
              queue-machine.yaml: 8 cores, run_to_block, no disk; every userspace cost 0, the
              already-loaded check by sysfs, which takes no lock) with a workload of N modules of
              10 undefined symbols, no dependencies, one uevent each, children_max = N.
   Both must give the same makespan: the relative difference is printed, and above 1e-6 the
   line says MISMATCH (it is ~1e-13 today: same schedule, seconds summed in another order).
   At N = 1,000 and 10,000 (--queue-n), interleaved per repetition (SimPy, then kmodsim run,
   validate and sweep), --repeat times (default 3 here), min and median:
     SimPy sim       wall time around env.run() alone (measured inside the SimPy process)
     SimPy process   the whole `python3 simpy_queue.py N` process (interpreter start, import)
     kmodsim process the whole `kmodsim run -q` process
     kmodsim simulate  the simulation phase as `kmodsim run --timings` prints it (building the
                     platform and the program, the engine's run, the tally): what SimPy's
                     env.run() is to SimPy, and the figure issue 12's "simulation alone" target
                     is judged on
     kmodsim sim     the whole run minus the whole `kmodsim validate` of the same scenario
                     (same loading and checking, no simulation): simulate + summary (its
                     analytic figures replay the boot sequentially) + the resolved config as
                     YAML and its sha256 + writing the run folder (modules.csv, summary.json,
                     config.yaml; timeline off) + the difference in process exit; judged
                     against the same target too, and printed beside it
     bare SimGrid    scripts/bench/simgrid_queue.cpp (build/simgrid_queue, built with kmodsim): the
                     same queue written directly on SimGrid's s4u API with kmodsim's engine
                     settings and nothing else, in three designs (the time of the engine's run):
                     actor per loader: --engine actors' design (modprobe is an actor); the floor under
                       any simulator that gives each process its own SimGrid actor, so SimPy /
                       this is the most that design allows;
                     pool (--pool): loaders as plain data, one actor per core that goes straight
                       on with the next queued loader; the floor of giving that design up while
                       SimGrid still advances time
                     coroutines (--coroutines): loaders as C++20 coroutines resumed by one actor,
                       each timed wait a SimGrid kernel timer; the floor of that design, near
                       --engine fibers' (stackful fibers instead of coroutines, the same timers)
                     (their makespans must agree too)
     kmodsim sweep child  a cross-check of "sim": the wall_s that `kmodsim sweep` records for
                     a one-run sweep of the same scenario (a forked child of the process that
                     loaded the inputs: simulate + summary, fork and exit; no run folder)
   and the peak RSS of each process; ratios SimPy / kmodsim of the times (> 1: kmodsim is
   faster) and kmodsim / SimPy of memory.

Targets (issue 12's acceptance, on a 2-core machine) are shown beside the figures: 100k under
5 s, 200k under 12 s, growth exponent 100k -> 200k <= 1.2, peak memory under 1 GB (1024 MB:
MB here are 2^20 bytes, ru_maxrss / 1024); SimPy-equivalent queue: simulation alone >= 5x
SimPy's at N = 1,000 and 10,000, whole process >= 3x at N = 10,000.

Usage: bench_scale.py [KMODSIM] [--quick] [--sizes 10k,100k,200k | C/M/U,...] [--repeat N]
                      [--queue-n 1000,10000] [--no-scale] [--no-queue] [--json FILE] [--keep DIR]
                      [--uevents-tsv | --tsv] [--engines actors,fibers]
  KMODSIM     the binary (default build/kmodsim)
  --tsv       the scale and queue workloads keep their modules and uevents in TSV files (workload
              keys modules_tsv and uevents_tsv, the fast path for big workloads; the same runs)
  --uevents-tsv  the scale workloads keep their uevents in a TSV file (workload key uevents_tsv,
              the fast path for big workloads; the same runs, byte for byte)
  --quick     skip the 200k size (and so the 100k -> 200k exponent)
  --sizes     sizes to run: names 10k, 100k, 200k, or CORES/MODULES/UEVENTS triples
  --repeat N  runs of each measurement (default: 1 for the scale sizes, 3 for the queue)
  --queue-n   loader counts of the queue section
  --no-scale, --no-queue   skip a section
  --engines   the kmodsim engines to measure (actors, fibers or both; default both)
  --json FILE every figure (each run's times, min, median, RSS, makespans, ratios) as JSON
  --keep DIR  write the generated inputs there (an empty or new folder) and keep them
  --timeout S a run that takes longer fails the benchmark (default 900 s)
`make bench` runs it twice after scripts/bench.sh and scripts/bench_sweep.py: with --tsv (both
sections), then with YAML workloads (--no-queue); about five minutes on 2 cores. The queue section needs SimPy: as root,
apt-get install -y python3-simpy3. The times are wall times: run it on an idle machine (the
1-minute load average is printed at the start and the end).
"""
import argparse
import csv
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
BENCH = os.path.join(ROOT, "scripts", "bench")
PRESETS = {"10k": (64, 2000, 10000), "100k": (1024, 6000, 100000), "200k": (2048, 12000, 200000)}
MB = 1024.0  # ru_maxrss is in KiB
# Only a guard: the 200k boot lasts 4,356 simulated seconds, past the default of 3600 (module_mutex
# is held ~22 ms per modprobe on average, mostly reading /proc/modules, whose cost grows with the
# modules loaded).
MAX_SIM_TIME = "1e6"


# --- measuring one process -------------------------------------------------------------------------

class Failed(Exception):
    pass


def measure(cmd, tmp, timeout, capture=False):
    """Runs cmd; returns (wall s, peak RSS MB, CPU s, stdout text) of that one child (os.wait4)."""
    out_path = os.path.join(tmp, ".stdout")
    err_path = os.path.join(tmp, ".stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out if capture else subprocess.DEVNULL, stderr=err)
        timer = threading.Timer(timeout, p.kill)  # a blocking wait4, no polling jitter
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    if wall >= timeout:
        raise Failed(f"{' '.join(cmd)}: killed after {timeout:g} s (--timeout)")
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if p.returncode != 0:
        tail = open(err_path, errors="replace").read()[-2000:]
        raise Failed(f"{' '.join(cmd)}: exit {p.returncode}\n{tail}")
    text = open(out_path, errors="replace").read() if capture else ""
    return wall, ru.ru_maxrss / MB, ru.ru_utime + ru.ru_stime, text


def stats(xs):
    return {"min": min(xs), "median": statistics.median(xs), "all": xs}


def read_summary(run_dir):
    with open(os.path.join(run_dir, "summary.json")) as f:
        return json.load(f)


# --- 1. scale --------------------------------------------------------------------------------------

def parse_sizes(text):
    sizes = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        if part in PRESETS:
            sizes.append(PRESETS[part])
            continue
        m = re.fullmatch(r"(\d+)/(\d+)/(\d+)", part.replace("_", ""))
        if not m:
            sys.exit(f"error: --sizes: {part!r} is neither one of {', '.join(PRESETS)} nor CORES/MODULES/UEVENTS")
        sizes.append(tuple(int(g) for g in m.groups()))
    return sizes


def size_name(c, m, u):
    for k, v in PRESETS.items():
        if v == (c, m, u):
            return k
    return f"{c}/{m}/{u}"


def requested_modules(workload, uevents_tsv=None, modules_tsv=None):
    """Modules the uevents ask for, their dependencies included (gen_workload.py's line format;
    the uevents from `uevents_tsv` and the modules from `modules_tsv` when given)."""
    deps, wanted = {}, set()
    if uevents_tsv:
        with open(uevents_tsv) as f:
            next(f)  # header: device, module
            wanted = {line.rstrip("\n").split("\t")[1] for line in f} - {""}
    if modules_tsv:
        with open(modules_tsv) as f:
            cols = next(f).rstrip("\n").split("\t")
            n, d = cols.index("name"), cols.index("deps")
            for line in f:
                row = line.rstrip("\n").split("\t")
                deps[row[n]] = [x for x in row[d].split(",") if x]
    mod_re = re.compile(r"\s*- \{name: (\S+?), .*deps: \[([^\]]*)\]")
    ev_re = re.compile(r"\s*- \{device: .*module: (\S+?)\}")
    with open(workload) as f:
        for line in f:
            m = mod_re.match(line)
            if m:
                deps[m.group(1)] = [d.strip() for d in m.group(2).split(",") if d.strip()]
                continue
            m = ev_re.match(line)
            if m and m.group(1) != "null":
                wanted.add(m.group(1))
    todo = list(wanted)
    while todo:
        for d in deps.get(todo.pop(), []):
            if d not in wanted:
                wanted.add(d)
                todo.append(d)
    return len(wanted)


def scale_scenario(tmp, c, m, u, tsv=False, mtsv=False):
    """Writes the workload (its uevents as TSV with `tsv`, its modules too with `mtsv`) and a
    scenario for one size; returns (scenario path, workload path, uevents TSV or None, modules
    TSV or None)."""
    tag = "-tsv2" if mtsv else "-tsv" if tsv else ""
    wl = os.path.join(tmp, f"workload-{m}m-{u}u-s1{tag}.yaml")
    ev = os.path.join(tmp, f"uevents-{m}m-{u}u-s1.tsv") if tsv else None
    mv = os.path.join(tmp, f"modules-{m}m-s1.tsv") if mtsv else None
    subprocess.run([PY, os.path.join(ROOT, "scripts", "gen_workload.py"), "--modules", str(m), "--uevents", str(u),
                    "--seed", "1", "-o", wl] + (["--uevents-tsv", ev] if tsv else []) +
                   (["--modules-tsv", mv] if mtsv else []), check=True)
    base_path = os.path.join(ROOT, "configs", "scenarios", "desktop-2009.yaml")
    with open(base_path) as f:
        base = yaml.safe_load(f)
    here = os.path.dirname(base_path)
    absolute = lambda p: os.path.normpath(os.path.join(here, p))  # noqa: E731
    sc = dict(base)
    sc["name"] = f"bench-scale-{c}c-{m}m-{u}u"
    sc["machine"] = {"file": absolute(base["machine"]), "cores": c}
    sc["kernel"] = os.path.join(ROOT, "configs", "kernels", "linux-2.6.29-rusty.yaml")  # the seed patch
    sc["workload"] = wl
    sc["calibration"] = absolute(base["calibration"])
    sc["userspace"] = json.loads(json.dumps(base["userspace"]))
    sc["userspace"]["udev"]["children_max"] = c
    sc["outputs"] = dict(base.get("outputs") or {}, timeline=False)
    path = os.path.join(tmp, f"scenario-{c}c-{m}m-{u}u{tag}.yaml")
    with open(path, "w") as f:
        f.write(f"# written by scripts/bench_scale.py: {base_path} with the seed patch kernel, {c} cores,\n"
                f"# children_max {c}, timeline off, gen_workload.py --modules {m} --uevents {u} --seed 1\n")
        yaml.safe_dump(sc, f, sort_keys=False)
    return path, wl, ev, mv


def run_scale(a, tmp):
    rows = []
    for c, m, u in a.sizes:
        name = size_name(c, m, u)
        scen, wl, ev, mv = scale_scenario(tmp, c, m, u, a.uevents_tsv or a.tsv, a.tsv)
        want = requested_modules(wl, ev, mv)
        print(f"  {name}: {c} cores, {m} modules, {u} uevents ...", end="", flush=True)
        per = {e: {"runs": [], "rss": [], "cpu": [], "summary": None} for e in a.engines}
        loads, load_rss = [], []
        for i in range(a.repeat_scale):
            for eng in a.engines:  # interleaved: each repetition runs every engine
                d = per[eng]
                out = os.path.join(tmp, f"run-{name.replace('/', '-')}-{eng}-{i}")
                w, r, cp, _ = measure([a.kmodsim, "run", scen, "--out", out, "-q", "--max-sim-time", MAX_SIM_TIME,
                                       "--engine", eng], tmp, a.timeout)
                d["runs"].append(w)
                d["rss"].append(r)
                d["cpu"].append(cp)
                s = read_summary(out)
                if d["summary"] is not None and (s["makespan_s"], s["modules_loaded"]) != (
                        d["summary"]["makespan_s"], d["summary"]["modules_loaded"]):
                    raise Failed(f"{name}: two runs of one scenario differ (makespan, modules loaded)")
                d["summary"] = s
                shutil.rmtree(out, ignore_errors=True)
                print(f" {eng} {w:.2f} s", end="", flush=True)
            w, r, _, _ = measure([a.kmodsim, "validate", scen], tmp, a.timeout)
            loads.append(w)
            load_rss.append(r)
        print()
        for eng in a.engines:
            d = per[eng]
            summary = d["summary"]
            rows.append({
                "name": name, "engine": eng, "cores": c, "modules": m, "uevents": u,
                "wall_s": stats(d["runs"]), "load_only_s": stats(loads), "cpu_s": stats(d["cpu"]),
                "peak_rss_mb": max(d["rss"]), "load_only_rss_mb": max(load_rss),
                "makespan_s": summary["makespan_s"], "modules_loaded": summary["modules_loaded"],
                "modules_requested": want, "load_attempts": summary["load_attempts"],
                "failures": summary["failures"], "modprobe_runs": summary["modprobe_runs"],
                "us_per_uevent": statistics.median(d["runs"]) / u * 1e6,
                "target_s": {"100k": 5.0, "200k": 12.0}.get(name),
            })
    growth = []
    for eng in a.engines:
        mine = [r for r in rows if r["engine"] == eng]
        for x, y in zip(mine, mine[1:]):
            if y["uevents"] > x["uevents"]:
                e = math.log(y["wall_s"]["median"] / x["wall_s"]["median"]) / math.log(y["uevents"] / x["uevents"])
                growth.append({"engine": eng, "from": x["name"], "to": y["name"], "exponent": e,
                               "target": 1.2 if (x["name"], y["name"]) == ("100k", "200k") else None})
    return rows, growth


def print_scale(rows, growth):
    print(f"\n{'size':>6} {'engine':>7} {'cores':>6} {'modules':>8} {'uevents':>8} {'wall min':>9} {'median':>9} {'CPU':>8} {'load only':>9} "
          f"{'peak MB':>8} {'us/uevent':>9} {'makespan':>12} {'loaded/requested':>17} {'failed':>7}  target")
    for r in rows:
        tgt = []
        if r["target_s"]:
            tgt.append(f"< {r['target_s']:g} s " + ("ok" if r["wall_s"]["median"] < r["target_s"] else "MISSED"))
        tgt.append("< 1024 MB " + ("ok" if r["peak_rss_mb"] < 1024 else "MISSED"))
        lr = f"{r['modules_loaded']}/{r['modules_requested']}"
        print(f"{r['name']:>6} {r['engine']:>7} {r['cores']:6d} {r['modules']:8d} {r['uevents']:8d} {r['wall_s']['min']:8.2f}s "
              f"{r['wall_s']['median']:8.2f}s {r['cpu_s']['median']:7.2f}s {r['load_only_s']['median']:8.2f}s "
              f"{r['peak_rss_mb']:8.0f} "
              f"{r['us_per_uevent']:9.1f} {r['makespan_s']:11.3f}s {lr:>17} {r['failures']:7d}  {', '.join(tgt)}")
    for g in growth:
        tgt = "" if g["target"] is None else f"  target <= {g['target']:g} " + ("ok" if g["exponent"] <= g["target"]
                                                                                else "MISSED")
        print(f"growth exponent, {g['engine']}, {g['from']} -> {g['to']}: {g['exponent']:.2f}  (log(t_b/t_a) / log(U_b/U_a), "
              f"median wall){tgt}")
    print("(wall: whole `kmodsim run` process; CPU: its user + system time; load only: `kmodsim validate` of the "
          "same scenario;\n makespan: simulated seconds; loaded/requested: modules loaded / modules the uevents ask "
          "for, dependencies included;\n failed: summary.json failures, here the seed patch's mod_sysfs_init race)")


# --- 2. the SimPy-equivalent queue -----------------------------------------------------------------

def queue_workload(tmp, n, trips, tsv=False):
    path = os.path.join(tmp, f"queue-workload-{n}{'-tsv' if tsv else ''}.yaml")
    lines = ["# written by scripts/bench_scale.py: the SimPy-equivalent queue's loaders", "schema_version: 1",
             f"name: bench-queue-{n}", "kernel_exports: 0"]
    if tsv:  # modules_tsv and uevents_tsv: the same workload
        with open(os.path.join(tmp, f"queue-modules-{n}.tsv"), "w") as f:
            f.write("name\tundef_symbols\n" + "".join(f"q{i}\t{trips}\n" for i in range(n)))
        with open(os.path.join(tmp, f"queue-uevents-{n}.tsv"), "w") as f:
            f.write("device\tmodule\n" + "".join(f"d{i}\tq{i}\n" for i in range(n)))
        lines += [f"modules_tsv: queue-modules-{n}.tsv", f"uevents_tsv: queue-uevents-{n}.tsv"]
    else:
        lines += ["modules:"] + [f"  - {{name: q{i}, undef_symbols: {trips}}}" for i in range(n)]
        lines += ["uevents:"] + [f"  - {{device: d{i}, module: q{i}}}" for i in range(n)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_queue(a, tmp):
    scen = os.path.join(BENCH, "queue.yaml")
    rows = []
    for n in a.queue_n:
        wl = queue_workload(tmp, n, 10, a.tsv)
        sets = ["--set", f"workload={wl}", "--set", f"userspace.udev.children_max={n}"]
        spec = os.path.join(tmp, f"queue-sweep-{n}.yaml")
        with open(spec, "w") as f:
            f.write(f"schema_version: 1\nname: bench-queue-{n}\nscenario: {scen}\n"
                    f"grid:\n  workload: [{wl}]\n  userspace.udev.children_max: [{n}]\nreplications: 1\nseed: 1\n")
        print(f"  N = {n}:", end="", flush=True)
        sp = {k: [] for k in ("sim", "sim_cpu", "proc", "proc_cpu", "rss")}
        load = {k: [] for k in ("wall", "cpu", "rss")}
        kms = {e: {k: [] for k in ("proc", "proc_cpu", "rss", "sim", "sim_cpu", "child", "timed")} for e in a.engines}
        mk_s, mk_k, loaded = None, {}, {}
        for i in range(a.repeat_queue):
            # A: SimPy
            w, r, c, text = measure([PY, os.path.join(BENCH, "simpy_queue.py"), str(n)], tmp, a.timeout, capture=True)
            res = json.loads(text.strip().splitlines()[-1])
            sp["proc"].append(w)
            sp["proc_cpu"].append(c)
            sp["rss"].append(r)
            sp["sim"].append(res["sim_s"])
            sp["sim_cpu"].append(res["sim_cpu_s"])
            mk_s, simpy_version = res["makespan_s"], res.get("simpy_version", "?")
            # B: kmodsim's load-only twin (the same for every engine)
            w, r, c, _ = measure([a.kmodsim, "validate", scen, *sets], tmp, a.timeout)
            load["wall"].append(w)
            load["cpu"].append(c)
            load["rss"].append(r)
            # C: kmodsim, each engine: the run and the one-run sweep
            for eng in a.engines:
                km = kms[eng]
                out = os.path.join(tmp, f"queue-run-{n}-{eng}-{i}")
                w, r, c, _ = measure([a.kmodsim, "run", scen, *sets, "--out", out, "-q", "--timings", "--engine", eng],
                                     tmp, a.timeout)
                m = re.search(r"simulate ([0-9.]+) s", open(os.path.join(tmp, ".stderr")).read())
                km["timed"].append(float(m.group(1)) if m else float("nan"))
                km["proc"].append(w)
                km["proc_cpu"].append(c)
                km["rss"].append(r)
                km["sim"].append(w - load["wall"][-1])
                km["sim_cpu"].append(c - load["cpu"][-1])
                s = read_summary(out)
                mk_k[eng], loaded[eng] = s["makespan_s"], s["modules_loaded"]
                shutil.rmtree(out, ignore_errors=True)
                sw = os.path.join(tmp, f"queue-sweep-{n}-{eng}-{i}")
                measure([a.kmodsim, "sweep", spec, "--out", sw, "-j", "1", "--quiet-progress", "--engine", eng], tmp,
                        a.timeout)
                with open(os.path.join(sw, "runs.csv")) as f:
                    row = next(csv.DictReader(f))
                if row["status"] != "ok":
                    raise Failed(f"queue N={n}: the sweep's run failed ({eng}): {row}")
                km["child"].append(float(row["wall_s"]))
                shutil.rmtree(sw, ignore_errors=True)
            print(f" [simpy {sp['proc'][-1]:.2f} s, " + ", ".join(f"{e} {kms[e]['proc'][-1]:.2f} s" for e in a.engines)
                  + "]", end="", flush=True)
        print()
        med = lambda d: d["median"]  # noqa: E731
        row = {
            "n": n, "cores": 8, "round_trips": 10, "work_us": 100, "lock_us": 10, "simpy_version": simpy_version,
            "makespan_s": {"simpy": mk_s, **{e: mk_k[e] for e in a.engines},
                           "rel_diff": max(abs(mk_k[e] - mk_s) / mk_s for e in a.engines)},
            "modules_loaded": loaded,
            "simpy": {"sim_s": stats(sp["sim"]), "sim_cpu_s": stats(sp["sim_cpu"]), "process_s": stats(sp["proc"]),
                      "process_cpu_s": stats(sp["proc_cpu"]), "peak_rss_mb": max(sp["rss"])},
            "load_only": {"wall_s": stats(load["wall"]), "cpu_s": stats(load["cpu"]), "peak_rss_mb": max(load["rss"])},
            "engines": {},
        }
        sy = row["simpy"]
        for eng in a.engines:
            km = kms[eng]
            ks = {"process_s": stats(km["proc"]), "process_cpu_s": stats(km["proc_cpu"]),
                  "sim_s": stats(km["sim"]), "sim_cpu_s": stats(km["sim_cpu"]), "simulate_s": stats(km["timed"]),
                  "sweep_child_s": stats(km["child"]), "peak_rss_mb": max(km["rss"]),
                  "sim_s_method": "kmodsim run - kmodsim validate (whole processes, same scenario)"}
            ks["ratio_simpy_over_kmodsim"] = {
                "sim": med(sy["sim_s"]) / med(ks["sim_s"]),
                "sim_vs_simulate": med(sy["sim_s"]) / med(ks["simulate_s"]),
                "sim_cpu": med(sy["sim_cpu_s"]) / med(ks["sim_cpu_s"]),
                "sim_vs_sweep_child": med(sy["sim_s"]) / med(ks["sweep_child_s"]),
                "process": med(sy["process_s"]) / med(ks["process_s"]),
                "process_cpu": med(sy["process_cpu_s"]) / med(ks["process_cpu_s"]),
            }
            ks["ratio_rss_kmodsim_over_simpy"] = ks["peak_rss_mb"] / sy["peak_rss_mb"]
            row["engines"][eng] = ks
        row["simgrid_floor"] = simgrid_floor(a, tmp, n, row)
        rows.append(row)
    return rows


def simgrid_floor(a, tmp, n, row):
    """The same queue on bare SimGrid (build/simgrid_queue, next to kmodsim), in its three designs:
    one actor per loader (kmodsim's), --pool (loaders as data, one actor per core) and --coroutines
    (loaders as coroutines, timed waits as kernel timers). None when that program is absent. Each
    is the least a simulator built that way spends."""
    exe = os.path.join(os.path.dirname(a.kmodsim), "simgrid_queue")
    if not os.access(exe, os.X_OK):
        return None
    out = {}
    for key, extra in (("actor", []), ("pool", ["--pool"]), ("coroutines", ["--coroutines"])):
        times, mk = [], None
        for _ in range(a.repeat_queue):
            p = subprocess.run([exe, str(n), *extra], capture_output=True, text=True, timeout=a.timeout, check=True)
            res = json.loads(p.stdout)
            times.append(res["sim_s"])
            mk = res["makespan_s"]
        st = stats(times)
        out[key] = {"sim_s": st, "makespan_s": mk,
                    "rel_diff": abs(mk - row["makespan_s"]["simpy"]) / row["makespan_s"]["simpy"],
                    "simpy_over_floor": row["simpy"]["sim_s"]["median"] / st["median"],
                    "kmodsim_simulate_over_floor": {e: k["simulate_s"]["median"] / st["median"]
                                                    for e, k in row["engines"].items()}}
    return out


def print_queue(rows):
    for r in rows:
        n, s, lo = r["n"], r["simpy"], r["load_only"]
        mk = r["makespan_s"]
        ok = "agree" if mk["rel_diff"] <= 1e-6 else "MISMATCH (> 1e-6)"
        print(f"\nN = {n} loaders, 8 cores, 10 x (100 us + 10 us locked); SimPy {r['simpy_version']}")
        print(f"  makespan   SimPy {mk['simpy']:.9f} s   " + "   ".join(f"kmodsim {e} {mk[e]:.9f} s" for e in r["engines"])
              + f"   largest relative difference {mk['rel_diff']:.1e}: {ok}; kmodsim loaded "
              + ", ".join(f"{v} ({e})" for e, v in r["modules_loaded"].items()) + f" of {n}")
        print(f"  {'':44} {'wall min':>9} {'median':>8} {'CPU median':>11}")
        lines = [("SimPy sim (around env.run())", s["sim_s"], s["sim_cpu_s"]),
                 ("SimPy process", s["process_s"], s["process_cpu_s"]),
                 ("kmodsim load only (validate)", lo["wall_s"], lo["cpu_s"])]
        for e, k in r["engines"].items():
            lines += [(f"kmodsim {e}: process (run -q)", k["process_s"], k["process_cpu_s"]),
                      (f"kmodsim {e}: sim = run - validate *", k["sim_s"], k["sim_cpu_s"]),
                      (f"kmodsim {e}: simulate (run --timings)", k["simulate_s"], None),
                      (f"kmodsim {e}: sweep child (cross-check)", k["sweep_child_s"], None)]
        for label, st, cpu in lines:
            c = f"{cpu['median']:10.3f}s" if cpu else f"{'':>11}"
            print(f"  {label:44} {st['min']:8.3f}s {st['median']:7.3f}s {c}")
        print(f"  peak RSS   SimPy {s['peak_rss_mb']:.0f} MB   " + "   ".join(
            f"kmodsim {e} {k['peak_rss_mb']:.0f} MB ({k['ratio_rss_kmodsim_over_simpy']:.1f}x)"
            for e, k in r["engines"].items()) + f"   validate {lo['peak_rss_mb']:.0f} MB")
        for e, k in r["engines"].items():
            q = k["ratio_simpy_over_kmodsim"]
            verdict = lambda x, t: f"target >= {t}x " + ("ok" if x >= t else "MISSED")  # noqa: E731
            t_proc = f"  {verdict(q['process'], 3)}" if n == 10000 else ""
            print(f"  SimPy / kmodsim {e}, wall medians: simulation alone (simulate) {q['sim_vs_simulate']:.2f}x  "
                  f"{verdict(q['sim_vs_simulate'], 5)}; sim = run - validate {q['sim']:.2f}x  {verdict(q['sim'], 5)}; "
                  f"process {q['process']:.2f}x{t_proc}")
            print(f"  SimPy / kmodsim {e}, CPU medians:  sim {q['sim_cpu']:.2f}x; process {q['process_cpu']:.2f}x; "
                  f"(wall) SimPy sim / sweep child {q['sim_vs_sweep_child']:.2f}x")
        f = r.get("simgrid_floor")
        if f:
            for key, label, what in (("actor", "actor per loader", "one SimGrid actor per process (--engine actors)"),
                                     ("pool", "pool, --pool", "loaders as data, one actor per core"),
                                     ("coroutines", "coroutines, --coroutines",
                                      "loaders as coroutines, timed waits as kernel timers (as --engine fibers)")):
                g = f[key]
                print(f"  bare SimGrid, {label} (build/simgrid_queue): {g['sim_s']['median']:.3f} s (makespan "
                      f"{'agrees' if g['rel_diff'] <= 1e-6 else 'MISMATCH'}): the floor under {what}\n"
                      f"    SimPy sim / it {g['simpy_over_floor']:.2f}x (the most that design allows); kmodsim "
                      + ", ".join(f"{e} simulate / it {v:.2f}" for e, v in g["kmodsim_simulate_over_floor"].items()))
    if rows:
        print("  * `kmodsim sim` is the whole run minus the whole `kmodsim validate`\n    (same loading and checks), so "
              "it includes the summary and the run folder's files; the sweep child\n    (`kmodsim sweep` wall_s of a "
              "forked child that skips the loading) measures about the same thing another way;\n    `kmodsim "
              "simulate` is the simulation phase alone, as `kmodsim run --timings` reports it.\n    CPU: user + system time (os.wait4; inside SimPy "
              "time.process_time()), less sensitive to other load than wall time.")


# --- the compact table ---------------------------------------------------------------------------------

def print_table(scale, growth, queue):
    print("\n== summary (medians; ratios > 1: kmodsim faster) ==")
    for r in scale:
        size = f"{r['cores']}/{r['modules']}/{r['uevents']}"
        print(f"scale {r['name'] if r['name'] != size else '':>5} {size} {r['engine']}: {r['wall_s']['median']:.2f} s, "
              f"{r['peak_rss_mb']:.0f} MB, loaded {r['modules_loaded']}/{r['modules_requested']}, "
              f"makespan {r['makespan_s']:.3f} s")
    for g in growth:
        print(f"growth exponent {g['engine']} {g['from']} -> {g['to']}: {g['exponent']:.2f}")
    for r in queue:
        for e, k in r["engines"].items():
            q = k["ratio_simpy_over_kmodsim"]
            print(f"queue N={r['n']} {e}: SimPy/kmodsim simulate {q['sim_vs_simulate']:.2f}x, sim (run - validate) "
                  f"{q['sim']:.2f}x (CPU {q['sim_cpu']:.2f}x), process "
                  f"{q['process']:.2f}x (CPU {q['process_cpu']:.2f}x); RSS "
                  f"{k['peak_rss_mb']:.0f} MB vs {r['simpy']['peak_rss_mb']:.0f} MB; makespans differ by at most "
                  f"{r['makespan_s']['rel_diff']:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kmodsim", nargs="?", default=os.path.join(ROOT, "build", "kmodsim"))
    ap.add_argument("--quick", action="store_true", help="skip the 200k size")
    ap.add_argument("--sizes", default="10k,100k,200k", help="10k,100k,200k or CORES/MODULES/UEVENTS,...")
    ap.add_argument("--repeat", type=int, help="runs of each measurement (default 1 for sizes, 3 for the queue)")
    ap.add_argument("--queue-n", default="1000,10000", help="loader counts of the SimPy-equivalent queue")
    ap.add_argument("--engines", default="actors,fibers", help="kmodsim engines to measure (--engine), interleaved")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--no-queue", action="store_true")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--keep", help="write inputs and scratch files here (must be empty or absent) and keep them")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds one process may take")
    ap.add_argument("--uevents-tsv", action="store_true",
                    help="scale workloads with their uevents in a TSV file (uevents_tsv), not a YAML list")
    ap.add_argument("--tsv", action="store_true",
                    help="scale and queue workloads with their modules and uevents in TSV files (modules_tsv, "
                         "uevents_tsv)")
    a = ap.parse_args()
    if a.repeat is not None and a.repeat < 1:
        sys.exit("error: --repeat must be >= 1")
    a.kmodsim = os.path.abspath(a.kmodsim)
    if not os.access(a.kmodsim, os.X_OK):
        sys.exit(f"error: {a.kmodsim} is not an executable (build it: make build)")
    a.sizes = [] if a.no_scale else [s for s in parse_sizes(a.sizes) if not (a.quick and s == PRESETS["200k"])]
    try:
        a.queue_n = [] if a.no_queue else [int(x) for x in a.queue_n.split(",") if x.strip()]
    except ValueError:
        sys.exit("error: --queue-n takes loader counts, e.g. 1000,10000")
    if any(n < 1 for n in a.queue_n):
        sys.exit("error: --queue-n: counts must be >= 1")
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    if not a.engines or any(e not in ("actors", "fibers") for e in a.engines):
        sys.exit("error: --engines takes actors, fibers or both (actors,fibers)")
    a.repeat_scale = a.repeat or 1
    a.repeat_queue = a.repeat or 3
    if a.queue_n and subprocess.run([PY, "-c", "import simpy"], stderr=subprocess.DEVNULL).returncode != 0:
        sys.exit("error: the queue section needs SimPy: as root, apt-get install -y python3-simpy3 "
                 "(or give --no-queue)")
    version = subprocess.run([a.kmodsim, "--version"], capture_output=True, text=True).stdout.strip()
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        if os.listdir(a.keep):
            sys.exit(f"error: --keep {a.keep}: not empty")
        tmp, cleanup = os.path.abspath(a.keep), None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="kmodsim-bench-scale-")
        tmp = cleanup.name
    load_start = os.getloadavg()[0]
    print(f"kmodsim engine speed (issue 12): {version}, {platform.node()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {load_start:.2f}"
          + (" (busy: other work skews the times)" if load_start > 0.5 else ""))
    try:
        scale, growth, queue = [], [], []
        if a.sizes:
            print(f"scale: seed patch kernel, timeline off, children_max = cores, gen_workload.py --seed 1; "
                  f"{a.repeat_scale} run(s) each")
            scale, growth = run_scale(a, tmp)
            print_scale(scale, growth)
        if a.queue_n:
            print(f"\nSimPy-equivalent queue: interleaved SimPy / kmodsim, {a.repeat_queue} run(s) each")
            queue = run_queue(a, tmp)
            print_queue(queue)
        load_end = os.getloadavg()[0]
        print_table(scale, growth, queue)
        print(f"load average at the start {load_start:.2f}, at the end {load_end:.2f} (1-minute; this benchmark "
              f"itself adds ~1)")
    except Failed as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 1
    finally:
        if cleanup:
            cleanup.cleanup()
    if a.json:
        doc = {"kmodsim_version": version, "host": platform.node(), "cpus": os.cpu_count(),
               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "repeat_scale": a.repeat_scale,
               "repeat_queue": a.repeat_queue, "loadavg_start": load_start, "loadavg_end": load_end,
               "scale": scale, "growth": growth, "queue": queue}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"figures written to {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
