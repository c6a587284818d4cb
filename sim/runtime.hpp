// The runtime under the processes and the CPU, lock and disk models: a clock, timed waits,
// counting semaphores, timers, and starting a process. The models are written once against it;
// two engines implement it (kmodsim run --engine):
//  - actors (the default): every process is a SimGrid actor; a timed wait is
//    this_actor::sleep_for, a semaphore an s4u::Semaphore, a timer a SimGrid kernel timer.
//  - fibers: every process is a Boost.Context fiber (a stack of its own, switched in a few
//    nanoseconds, no simcall); the runtime keeps their timed wake-ups in its own queue, ordered
//    by (date, arrival), and SimGrid's engine keeps the clock: one SimGrid kernel timer at the
//    next date, whose callback runs every fiber due then. Same models, same program; the order
//    of things at one instant can differ from the actors' (SimGrid runs actors in rounds), so a
//    run with ties can differ too (docs/engines.md). processor_sharing, which shares the CPUs
//    among SimGrid Execs under actors, is FluidCpu's exact sharing under fibers (sim/cpu.hpp).
// Both run the processes one at a time, switching only inside these calls, so the models'
// shared state needs no locking.
#pragma once

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace kmodsim::sim {

enum class EngineKind { actors, fibers };
/// "actors" / "fibers"
const char* engine_name(EngineKind k);
/// engine_name's inverse; the command line accepts only those two names
EngineKind engine_from_name(const std::string& name);

/// A counting semaphore; waiters are served first come, first served.
class Sem {
public:
  virtual ~Sem() = default;
  virtual void acquire() = 0;
  /// true on timeout (as s4u::Semaphore::acquire_timeout), false when a token came
  virtual bool acquire_timeout(double seconds) = 0;
  virtual void release() = 0;
};

struct TimerHandle; ///< opaque: what timer_set returns and timer_remove takes

class Runtime {
public:
  virtual ~Runtime() = default;
  /// Seconds since the start (SimGrid's clock, in both engines).
  static double now() { return simgrid::s4u::Engine::get_clock(); }
  /// The calling process waits `seconds` (>= 0).
  virtual void sleep_for(double seconds) = 0;
  virtual std::unique_ptr<Sem> make_sem() = 0;
  /// Calls `cb` at `date` (>= now) outside every process; it may release semaphores.
  virtual TimerHandle* timer_set(double date, std::function<void()> cb) = 0;
  /// Cancels a timer that has not fired.
  virtual void timer_remove(TimerHandle* t) = 0;
  /// Starts a process running `body` at the current instant, once the caller blocks.
  /// `daemon`: the run may end while it still waits (the disk server).
  virtual void spawn(const std::string& name, std::function<void()> body, bool daemon = false) = 0;
  /// Processes still to be spawned (the actors engine keeps that many idle actors for them).
  virtual void expect(std::size_t /*to_come*/) {}
  /// After an error: ends every process; run() returns.
  virtual void stop_all() = 0;
  /// Runs until no process can go on.
  virtual void run(simgrid::s4u::Engine& e) = 0;
  /// After run(): unwinds what is left (processes still waiting) while what they use exists.
  virtual void finish() {}

  static std::unique_ptr<Runtime> create(EngineKind k, simgrid::s4u::Host* host);
};

} // namespace kmodsim::sim
