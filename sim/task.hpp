// One simulated process (udevd or a modprobe) as the CPU and mutex models see it.
#pragma once

#include <kmodsim/program.hpp>
#include <kmodsim/recorder.hpp>

#include <simgrid/s4u/Semaphore.hpp>

#include <cstdint>

namespace kmodsim::sim {

struct Task : Proc {
  simgrid::s4u::SemaphorePtr wake;  ///< private: woken by module_mutex or a dependency gone live
  simgrid::s4u::SemaphorePtr cpu_grant; ///< private to the run-queue CPU models: a core handed over
  int core = -1;                    ///< run-queue models: the core held, -1 if none
  bool on_cpu = false;              ///< holds a core (run-queue) / is runnable (fluid)
  double slice_left = 0;            ///< time_slice: microseconds of CPU left in this slice
};

} // namespace kmodsim::sim
