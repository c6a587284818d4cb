// One simulation of a scenario: builds the SimGrid platform, starts udevd, runs the engine,
// and returns what the recorder saw plus the summary figures. One Simulation per process
// (SimGrid's engine cannot be re-created with a fresh clock).
#pragma once

#include <kmodsim/recorder.hpp>
#include "runtime.hpp"

#include <kmodsim/config.hpp>
#include <kmodsim/kernel_state.hpp>
#include <kmodsim/limits.hpp>
#include <kmodsim/program.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kmodsim::sim {

/// A run that could not finish (deadlock, a modprobe that never exited, a model bug).
class SimulationError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct Results {
  Recorder rec{true};
  double makespan = 0;
  std::int64_t modules_loaded = 0, modprobe_runs = 0, load_attempts = 0, eexist = 0, failures = 0;
  std::int64_t already_loaded_skips = 0;
  RaceCounters races;
  std::int64_t lock_acquisitions = 0, lock_contentions = 0;
  double lock_wait_total = 0, lock_wait_max = 0, lock_hold_total = 0, lock_hold_max = 0;
  double locked_work_s = 0;       ///< CPU work done while holding module_mutex
  double holder_preempted_s = 0;  ///< a holder runnable but not running
  double cpu_busy_s = 0, cpu_work_s = 0;
  double program_cpu_work_s = 0;  ///< CPU work the program asked for (conservation: busy = this + spinning)
  double cpu_spin_s = 0;          ///< core-seconds spent spinning on module_mutex
  double locked_off_cpu_s = 0;    ///< a holder asleep or waiting for a dependency with module_mutex held
  double handoff_wakeup_s = 0;    ///< handoff: new owners' wake-up latency (the lock already theirs)
  double vmalloc_peak_kb = 0;     ///< peak module-area use
  std::int64_t enomem = 0;        ///< loads refused for want of module area
  std::int64_t vmap_purges = 0;   ///< vmalloc lazy purges (effect vmap_purge)
  double lock_contended_wait_min = 0, lock_hold_min = 0; ///< lock_stat.txt's waittime-min, holdtime-min
  /// lock_stat.txt's con-bounces and acq-bounces: a real lock_stat's (trace-import); 0 in a run,
  /// which does not model the lock's cache line moving between CPUs
  std::int64_t lock_con_bounces = 0, lock_acq_bounces = 0;
  /// (step name, contentions there), in the order of the first contention at each step
  std::vector<std::pair<std::string, std::int64_t>> lock_contention_points;
  /// The lock the lock_* figures describe (lock_stat.txt's class name), and whether they are
  /// known: a real boot imported from dmesg alone has none, and writes no lock_stat.txt.
  std::string lock_class = "module_mutex";
  bool lock_known = true;
  double lower_bound_s = 0;
  /// The kernel's locks besides module_mutex (kernel.locks), in file order.
  struct OtherLock {
    std::string name;
    bool spinlock = false;
    std::int64_t acquisitions = 0, contentions = 0;
    double wait_total = 0, wait_max = 0, hold_total = 0, hold_max = 0;
  };
  std::vector<OtherLock> other_locks;
  /// module_mutex holders waiting for another lock, off the CPU queue (spinning, asleep, waking)
  double locked_lock_wait_s = 0;
  /// the engine that simulated it ("actors", "fibers"; summary.json's engine), "" for a replay
  /// or an imported boot
  std::string engine;
};

struct SimOptions {
  std::vector<std::string> engine_args; ///< go to SimGrid (e.g. "--log=kmodsim.thres:debug")
  /// A run whose simulated clock passes this ends with a SimulationError (a runaway, not a boot).
  double max_sim_time_s = limits::kDefaultMaxSimTimeS;
  /// Step repetitions a run may execute (a pipeline of zero-cost steps repeated per symbol over
  /// huge counts passes no simulated time, so the time guard alone would not end it).
  std::int64_t max_steps = 1000000000;
  /// time_slice: one timed wait per slice, as before long runs (RunQueueCpu::long_run) were
  /// simulated in one wait; the property test checks both give the same runs.
  bool slice_by_slice = false;
  /// actors (SimGrid actors, the default) or fibers (runtime.hpp)
  EngineKind engine = EngineKind::actors;
};

/// The figures every platform derives alike from the program and its recorder (makespan, load
/// outcomes, races, the program's counters); returns the longest chain (a process's start plus
/// the uncontended time it needed) for the lower bound.
double tally(Results& r, const BootProgram& prog);

/// Runs the scenario. Throws SimulationError when it cannot finish (deadlock, runaway, model bug).
Results simulate(const Scenario& s, const SimOptions& opt = {});

} // namespace kmodsim::sim
