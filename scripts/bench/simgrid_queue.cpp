// The SimPy-equivalent queue of issue 12 (scripts/bench/simpy_queue.py) written directly on
// SimGrid's s4u API, with kmodsim's engine settings (raw contexts, 64 KiB stacks, no guard page,
// glibc tuned as in Sim::run so that stacks come from fresh mmaps) and nothing else. Two designs:
//
//   actor per loader (default): one actor per loader, a timed wait per CPU run, a semaphore per
//     waiting loader. kmodsim's design (ARCHITECTURE.md: modprobe is an actor), so its simulation
//     time is the floor under kmodsim and under any simulator built that way.
//   --pool: loaders are plain data; one actor per core runs whichever loader holds that core, and
//     goes straight on with the next queued loader when its own blocks on the lock, without a
//     context switch. The floor of the other design, with SimGrid still advancing time: what
//     giving up "one actor per process" would buy at most (no model code, no recorder).
//   --coroutines: loaders are C++20 coroutines (a frame of a few hundred bytes, no stack); every
//     timed wait is a SimGrid kernel timer whose callback, in the engine's context, queues the
//     coroutine; one actor resumes the queued coroutines, and waits on a semaphore while none
//     is queued (one hand-over per instant with work, not per wait). The floor of a third design:
//     modprobe and udevd written as coroutines (co_await at each blocking call), SimGrid keeping
//     the clock, the timers and the one actor.
//
// scripts/bench_scale.py runs both beside SimPy and kmodsim and checks that all give the same
// makespan. A benchmark, not a test.
//
// Semantics (those of simpy_queue.py and of kmodsim's run_to_block CPU model with a handoff
// module_mutex): N loaders start at 0 and queue for one of 8 cores (FIFO); each does T round
// trips of 100 us of work, then 10 us inside one lock; a loader that finds the lock held joins
// its FIFO queue and leaves its core; unlock hands the lock to the first waiter, which then
// queues for a core again.
//
// Usage: simgrid_queue N [--pool | --coroutines] [--cores 8] [--trips 10] [--work-us 100] [--lock-us 10]
// Prints one JSON line: n, design, makespan_s, sim_s (wall time of the engine's run).
#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <exception>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <utility>
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


// --pool: loaders as data, one actor per core.
struct Loader {
  long trips_left = 0;
  bool holds_lock = false; // handed the lock by unlock while waiting for it
};

struct Pool {
  std::deque<Loader*> runq;  // loaders waiting for a core
  std::deque<Loader*> lockq; // loaders waiting for the lock
  bool locked = false;
  struct Core {
    s4u::SemaphorePtr go;
    Loader* next = nullptr;
  };
  std::vector<Core> cores;
  std::deque<Core*> idle;
  long left = 0; // loaders not yet done
  double makespan = 0;

  void ready(Loader* l) { // l may run: an idle core takes it, or it queues
    if (idle.empty()) {
      runq.push_back(l);
      return;
    }
    Core* c = idle.front();
    idle.pop_front();
    c->next = l;
    c->go->release();
  }
  Loader* next_for(Core& me) { // the next loader this core runs, nullptr when all are done
    if (!runq.empty()) {
      Loader* l = runq.front();
      runq.pop_front();
      return l;
    }
    if (left == 0)
      return nullptr;
    idle.push_back(&me);
    me.go->acquire();
    Loader* l = me.next;
    me.next = nullptr;
    return l;
  }
  void run_core(Core& me, double work_s, double lock_s) {
    me.go = s4u::Semaphore::create(0);
    while (Loader* l = next_for(me)) {
      for (;;) { // l holds this core until it blocks on the lock or is done
        if (!l->holds_lock) {
          if (l->trips_left == 0) {
            makespan = std::max(makespan, s4u::Engine::get_clock());
            if (--left == 0)
              for (Core* c : std::exchange(idle, {}))
                c->go->release(); // their next stays nullptr: they end
            break;
          }
          s4u::this_actor::sleep_for(work_s);
          if (locked) {
            lockq.push_back(l);
            break; // the core goes on with the next loader
          }
          locked = true;
        }
        l->holds_lock = false;
        s4u::this_actor::sleep_for(lock_s);
        --l->trips_left;
        if (lockq.empty()) {
          locked = false;
        } else {
          Loader* w = lockq.front();
          lockq.pop_front();
          w->holds_lock = true;
          ready(w);
        }
      }
    }
  }
};


// --coroutines: loaders as coroutines resumed by one actor, timed waits as kernel timers.
struct Coro {
  std::deque<std::coroutine_handle<>> ready; // resumed in this order by the actor
  s4u::SemaphorePtr go;                      // the actor waits on it while nothing is ready
  bool idle = false;
  long left = 0; // loaders not yet done
  double makespan = 0;
  int free_cores = 0;
  std::deque<std::coroutine_handle<>> runq; // loaders waiting for a core
  bool locked = false;
  std::deque<std::coroutine_handle<>> lockq; // loaders waiting for the lock

  void unpark(std::coroutine_handle<> h) { // from a timer (engine context) or from a coroutine
    ready.push_back(h);
    if (idle) {
      idle = false;
      go->release();
    }
  }
  struct Sleep {
    Coro& c;
    double s;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      Coro* cp = &c;
      simgrid::kernel::timer::Timer::set(s4u::Engine::get_clock() + s, [cp, h] { cp->unpark(h); });
    }
    void await_resume() const noexcept {}
  };
  struct GetCore {
    Coro& c;
    bool await_ready() noexcept {
      if (c.free_cores > 0 && c.runq.empty()) {
        --c.free_cores;
        return true;
      }
      return false;
    }
    void await_suspend(std::coroutine_handle<> h) { c.runq.push_back(h); } // put_core hands us its core
    void await_resume() const noexcept {}
  };
  void put_core() {
    if (runq.empty()) {
      ++free_cores;
      return;
    }
    std::coroutine_handle<> h = runq.front();
    runq.pop_front();
    unpark(h);
  }
  struct Lock { // taken when free; else queued, leaving the core
    Coro& c;
    bool await_ready() noexcept {
      if (!c.locked) {
        c.locked = true;
        return true;
      }
      return false;
    }
    void await_suspend(std::coroutine_handle<> h) {
      c.lockq.push_back(h);
      c.put_core();
    }
    void await_resume() const noexcept {}
  };
  void unlock() {
    if (lockq.empty()) {
      locked = false;
      return;
    }
    std::coroutine_handle<> h = lockq.front(); // unlock hands it the lock
    lockq.pop_front();
    unpark(h);
  }
  struct Task { // a started coroutine that frees its own frame when it ends
    struct promise_type {
      Task get_return_object() noexcept { return {}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_never final_suspend() noexcept { return {}; }
      void return_void() noexcept {}
      void unhandled_exception() noexcept { std::terminate(); }
    };
  };
  Task loader(long trips, double work_s, double lock_s) {
    co_await GetCore{*this};
    for (long t = 0; t < trips; ++t) {
      co_await Sleep{*this, work_s};
      if (locked) {
        co_await Lock{*this}; // unlock made us the owner
        co_await GetCore{*this};
      } else {
        locked = true;
      }
      co_await Sleep{*this, lock_s};
      unlock();
    }
    put_core();
    makespan = std::max(makespan, s4u::Engine::get_clock());
    --left;
  }
  void run(long n, long trips, double work_s, double lock_s) { // the one actor
    go = s4u::Semaphore::create(0);
    left = n;
    for (long i = 0; i < n; ++i)
      loader(trips, work_s, lock_s); // runs to its first wait
    while (left > 0) {
      while (!ready.empty()) {
        std::coroutine_handle<> h = ready.front();
        ready.pop_front();
        h.resume();
      }
      if (left == 0)
        break;
      idle = true;
      go->acquire(); // a timer queued a coroutine
    }
  }
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: simgrid_queue N [--pool | --coroutines] [--cores 8] [--trips 10] [--work-us 100] [--lock-us 10]\n");
    return 2;
  }
  const long n = std::atol(argv[1]);
  long cores = 8, trips = 10;
  double work_us = 100, lock_us = 10;
  bool pool = false, coroutines = false;
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--pool" || k == "--coroutines") {
      (k == "--pool" ? pool : coroutines) = true;
      --i;
      continue;
    }
    if (i + 1 == argc) {
      std::fprintf(stderr, "simgrid_queue: %s needs a value\n", k.c_str());
      return 2;
    }
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
  if (pool && coroutines) {
    std::fprintf(stderr, "simgrid_queue: --pool and --coroutines are two designs: give one\n");
    return 2;
  }
  if (n < 1 || cores < 1 || trips < 0) {
    std::fprintf(stderr, "simgrid_queue: need N >= 1, --cores >= 1, --trips >= 0\n");
    return 2;
  }
  mallopt(M_MMAP_THRESHOLD, 64 * 1024); // kmodsim's three settings (sim/simulation.cpp, Sim::run)
  mallopt(M_TOP_PAD, 32 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024);
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
  Pool p;
  Coro co;
  std::vector<Loader> loaders; // --pool: the loaders the cores run
  double makespan = 0;
  if (coroutines) {
    co.free_cores = static_cast<int>(cores);
    s4u::Actor::create("loaders", host, [&co, n, trips, work_us, lock_us] { co.run(n, trips, work_us * 1e-6, lock_us * 1e-6); });
  } else if (pool) {
    p.cores.resize(static_cast<size_t>(cores));
    p.left = n;
    loaders.assign(static_cast<size_t>(n), Loader{trips, false});
    for (auto& l : loaders)
      p.runq.push_back(&l);
    for (auto& c : p.cores)
      s4u::Actor::create("core", host, [&p, &c, work_us, lock_us] { p.run_core(c, work_us * 1e-6, lock_us * 1e-6); });
  } else {
    q.free_cores = static_cast<int>(cores);
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
  }
  const auto t0 = std::chrono::steady_clock::now();
  e.run();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (pool)
    makespan = p.makespan;
  if (coroutines)
    makespan = co.makespan;
  std::printf("{\"n\": %ld, \"design\": \"%s\", \"makespan_s\": %.17g, \"sim_s\": %.6f}\n", n,
              coroutines ? "coroutines" : pool ? "pool" : "actor per loader", makespan, s);
  return 0;
}
