#!/usr/bin/python3
"""The SimPy-equivalent queue of issue 12, the reference for kmodsim's speed (scripts/bench_scale.py).

N loaders start at time 0; 8 cores are a FIFO resource handed out whole; one lock is a FIFO
resource of capacity 1. Each loader does T round trips of 100 us of CPU work, then 10 us of CPU
work inside the lock, and exits. It is the semantics of kmodsim's `run_to_block` CPU model and
its module_mutex with `handoff: true`, `wakeup_us: 0` (sim/cpu.cpp, sim/kmutex.cpp), which
scripts/bench/queue.yaml runs:
  - a loader needs a core to start (cpu_wake: a free core, else the back of the run queue) and
    keeps it until it blocks or exits (run_to_block: no slices, no preemption);
  - at the lock: if it is free, the loader takes it and keeps its core (the 10 us run on the
    core it has); if it is held, the loader joins the lock's FIFO queue and then leaves its core
    (sleeping on a mutex frees the CPU, which goes to the head of the run queue);
  - unlock hands ownership to the first waiter (handoff), which then asks for a core like a
    woken task (a free core, else the back of the run queue) and runs its 10 us on it;
  - the loader then goes on with its next 100 us on the core it holds.
Prints one JSON line: n, makespan_s, sim_s (wall time of env.run() alone), sim_cpu_s (its CPU
time), setup_s (creating the environment and the N processes), simpy_version.
Usage: simpy_queue.py N [--cores 8] [--trips 10] [--work-us 100] [--lock-us 10]
Needs Debian's python3-simpy3 (apt-get install -y python3-simpy3).
"""
import argparse
import json
import sys
import time

try:
    import simpy
except ImportError:  # pragma: no cover - reported by the caller
    sys.exit("error: SimPy is missing; as root: apt-get install -y python3-simpy3")


def loader(env, cores, lock, trips, work_s, lock_s):
    core = cores.request()  # a runnable task: a core, FIFO
    yield core
    for _ in range(trips):
        yield env.timeout(work_s)  # 100 us outside the lock, on our core
        if lock.count == 0:  # free: take it, keep the core
            mine = lock.request()
            yield mine
        else:  # held: queue on the lock, then leave the core while asleep
            mine = lock.request()
            cores.release(core)
            yield mine  # unlock handed us the lock
            core = cores.request()  # woken: a core, FIFO
            yield core
        yield env.timeout(lock_s)  # 10 us inside the lock
        lock.release(mine)
    cores.release(core)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int, help="loaders")
    ap.add_argument("--cores", type=int, default=8)
    ap.add_argument("--trips", type=int, default=10, help="round trips per loader")
    ap.add_argument("--work-us", type=float, default=100.0, help="CPU work outside the lock per round trip")
    ap.add_argument("--lock-us", type=float, default=10.0, help="CPU work inside the lock per round trip")
    a = ap.parse_args()
    t0 = time.perf_counter()
    env = simpy.Environment()
    cores = simpy.Resource(env, capacity=a.cores)
    lock = simpy.Resource(env, capacity=1)
    # seconds, as kmodsim's clock: 100 us of work at speed 1 is 100 / 1e6 s (sim/cpu.cpp)
    work_s, lock_s = a.work_us / 1e6, a.lock_us / 1e6
    for _ in range(a.n):
        env.process(loader(env, cores, lock, a.trips, work_s, lock_s))
    t1, c1 = time.perf_counter(), time.process_time()
    env.run()
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"n": a.n, "makespan_s": env.now, "sim_s": t2 - t1, "sim_cpu_s": c2 - c1, "setup_s": t1 - t0,
                      "simpy_version": simpy.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
