// kmodsim replay: the same boot program (models/ BootProgram) on real OS threads and real cores,
// to check the simulator against real execution. One thread per process (udevd and every
// modprobe); CPU work as busy loops calibrated at start-up; module_mutex as a real sleeping
// mutex (glibc's futex-based pthread mutex for the 2.6-era stealing discipline, a FIFO ticket
// lock for handoff); off-CPU waits as real sleeps; the disk as a processor-sharing rate limiter;
// the process pinned to C cores under the normal scheduler (CFS/EEVDF).
//
// The program's code runs under one program lock (as SimGrid runs one actor at a time); every
// blocking call releases it, so the kernel's data (KernelState) and the recorder need no other
// locking and the races between loaders are the program's, not the replay's.
#pragma once

#include "simulation.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <vector>

namespace kmodsim::sim {

/// A scenario the replay cannot run faithfully on this machine (exit 2).
class ReplayRefused : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct ReplayOptions {
  double max_time_s = limits::kDefaultMaxSimTimeS; ///< wall-clock guard
  std::int64_t max_steps = 1000000000;
  std::size_t max_threads = 4096; ///< refused above this many processes (uevents + udevd)
};

/// What the replay measured about itself (summary.json's replay.* fields).
struct ReplayInfo {
  std::vector<int> cpus;          ///< the cores the process was pinned to
  int cpus_online = 0;
  double iters_per_us = 0;        ///< busy-loop calibration at the reference speed
  double busy_error_mean = 0;     ///< sampled busy loops: thread CPU time / requested - 1
  std::int64_t busy_samples = 0;
  double sleep_overshoot_mean_us = 0, sleep_overshoot_max_us = 0; ///< real sleep - requested
  std::int64_t sleeps = 0;
  double program_lock_wait_s = 0; ///< time threads waited for the program lock
  /// of it, while holding module_mutex: an artefact of the replay that lengthens the lock holds
  double program_lock_wait_holding_s = 0;
  double runqueue_wait_s = 0;     ///< /proc/self/task/*/schedstat: time runnable, not running
  std::int64_t threads = 0;
  nlohmann::ordered_json to_json() const;
};

/// Replays the scenario on C = s.machine.cores real cores. Throws ReplayRefused (cannot be
/// replayed faithfully here), SimulationError (deadlock, time guard, a program error).
Results replay(const Scenario& s, const ReplayOptions& opt, ReplayInfo& info);

} // namespace kmodsim::sim
