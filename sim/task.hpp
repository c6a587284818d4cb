// One simulated process (udevd or a modprobe) as the CPU and mutex models see it.
#pragma once

#include <kmodsim/program.hpp>
#include <kmodsim/recorder.hpp>

#include "runtime.hpp"

#include <cstdint>

namespace kmodsim::sim {

struct Task : Proc {
  explicit Task(Runtime& rt) : rt_(&rt) {}
  /// private: woken by module_mutex or a dependency gone live
  Sem& wake() { return made(wake_); }
  /// private to the run-queue CPU models: a core handed over
  Sem& cpu_grant() { return made(cpu_grant_); }
  int core = -1;                    ///< run-queue models: the core held, -1 if none
  bool on_cpu = false;              ///< holds a core (run-queue) / is runnable (fluid)
  double slice_left = 0;            ///< time_slice: microseconds of CPU left in this slice
  /// time_slice, a preemptible run through several slices while nobody waits for a core
  /// (RunQueueCpu::long_run): one wait, cut short by a token on cpu_grant (unused while the
  /// task runs) at the first slice end at which the run queue is not empty
  struct LongRun {
    double start = 0;      ///< s
    double first_us = 0;   ///< work to the first slice end
    double us = 0;         ///< all the work of this wait
    double cut_us = 0;     ///< armed: the work to the slice end the timer is set at
    long runner = -1;      ///< index in RunQueueCpu::runners_, -1 when not in a long run
    TimerHandle* timer = nullptr;  ///< armed and not yet fired
    bool fired = false;    ///< the timer fired: its token is on cpu_grant
  } run;

private:
  // Made when first used: a semaphore costs about 1 KiB, and most processes never wait on one
  // (the 200k benchmark: 400,000 semaphores made up front before, issue 12).
  Sem& made(std::unique_ptr<Sem>& s) {
    if (!s)
      s = rt_->make_sem();
    return *s;
  }
  Runtime* rt_;
  std::unique_ptr<Sem> wake_, cpu_grant_;
};

} // namespace kmodsim::sim
