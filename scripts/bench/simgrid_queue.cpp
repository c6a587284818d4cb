// The SimPy-equivalent queue of issue 12 (scripts/bench/simpy_queue.py) written directly on
// SimGrid's s4u API, with kmodsim's engine settings (raw contexts, 64 KiB stacks, no guard page,
// stacks from fresh mmaps) and nothing else: one actor per loader, a timed wait per CPU run, a
// semaphore per waiting loader. Its simulation time is the floor under any simulator that gives
// each process its own SimGrid actor, kmodsim included; scripts/bench_scale.py runs it beside
// SimPy and kmodsim and checks that all three give the same makespan. A benchmark, not a test.
//
// Semantics (those of simpy_queue.py and of kmodsim's run_to_block CPU model with a handoff
// module_mutex): N loaders start at 0 and queue for one of 8 cores (FIFO); each does T round
// trips of 100 us of work, then 10 us inside one lock; a loader that finds the lock held joins
// its FIFO queue and leaves its core; unlock hands the lock to the first waiter, which then
// queues for a core again.
//
// Usage: simgrid_queue N [--cores 8] [--trips 10] [--work-us 100] [--lock-us 10]
// Prints one JSON line: n, makespan_s, sim_s (wall time of the engine's run).
#include <simgrid/s4u.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

namespace s4u = simgrid::s4u;

namespace {

struct Queue {
  int free_cores = 0;
  std::deque<s4u::Semaphore*> runq; // loaders waiting for a core
  bool locked = false;
  std::deque<s4u::Semaphore*> lockq; // loaders waiting for the lock

  void get_core(s4u::Semaphore* me) {
    if (free_cores > 0 && runq.empty()) {
      --free_cores;
      return;
    }
    runq.push_back(me);
    me->acquire(); // put_core hands us its core
  }
  void put_core() {
    if (runq.empty()) {
      ++free_cores;
      return;
    }
    s4u::Semaphore* next = runq.front();
    runq.pop_front();
    next->release();
  }
  void lock(s4u::Semaphore* me) {
    if (!locked) {
      locked = true;
      return;
    }
    lockq.push_back(me);
    put_core();
    me->acquire(); // unlock hands us the lock
    get_core(me);
  }
  void unlock() {
    if (lockq.empty()) {
      locked = false;
      return;
    }
    s4u::Semaphore* next = lockq.front();
    lockq.pop_front();
    next->release();
  }
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: simgrid_queue N [--cores 8] [--trips 10] [--work-us 100] [--lock-us 10]\n");
    return 2;
  }
  const long n = std::atol(argv[1]);
  long cores = 8, trips = 10;
  double work_us = 100, lock_us = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--cores")
      cores = std::atol(argv[i + 1]);
    else if (k == "--trips")
      trips = std::atol(argv[i + 1]);
    else if (k == "--work-us")
      work_us = std::atof(argv[i + 1]);
    else if (k == "--lock-us")
      lock_us = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "simgrid_queue: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (n < 1 || cores < 1 || trips < 0) {
    std::fprintf(stderr, "simgrid_queue: need N >= 1, --cores >= 1, --trips >= 0\n");
    return 2;
  }
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  std::vector<std::string> args = {"simgrid_queue", "--cfg=contexts/factory:raw", "--cfg=contexts/stack-size:64",
                                   "--cfg=contexts/guard-size:0", "--log=xbt_cfg.thres:warning"};
  std::vector<char*> av;
  for (auto& a : args)
    av.push_back(a.data());
  int ac = static_cast<int>(av.size());
  s4u::Engine e(&ac, av.data());
  auto* zone = s4u::create_full_zone("z");
  auto* host = zone->create_host("h", 1e6)->set_core_count(static_cast<int>(cores));
  host->seal();
  zone->seal();
  Queue q;
  q.free_cores = static_cast<int>(cores);
  double makespan = 0;
  for (long i = 0; i < n; ++i)
    s4u::Actor::create("loader", host, [&q, &makespan, trips, work_us, lock_us] {
      auto me = s4u::Semaphore::create(0);
      q.get_core(me.get());
      for (long t = 0; t < trips; ++t) {
        s4u::this_actor::sleep_for(work_us * 1e-6);
        q.lock(me.get());
        s4u::this_actor::sleep_for(lock_us * 1e-6);
        q.unlock();
      }
      q.put_core();
      makespan = std::max(makespan, s4u::Engine::get_clock());
    });
  const auto t0 = std::chrono::steady_clock::now();
  e.run();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"n\": %ld, \"makespan_s\": %.17g, \"sim_s\": %.6f}\n", n, makespan, s);
  return 0;
}
