// One simulated process (udevd or a modprobe) as the CPU and mutex models see it.
#pragma once

#include "recorder.hpp"

#include <simgrid/s4u/Semaphore.hpp>

#include <cstdint>

namespace kmodsim::sim {

struct Task {
  std::uint32_t id = 0;             ///< recorder task id
  simgrid::s4u::SemaphorePtr wake;  ///< private: woken by module_mutex or a dependency gone live
  simgrid::s4u::SemaphorePtr cpu_grant; ///< private to the run-queue CPU models: a core handed over
  int core = -1;                    ///< run-queue models: the core held, -1 if none
  bool on_cpu = false;              ///< holds a core (run-queue) / is runnable (fluid)
  bool holds_lock = false;          ///< owns module_mutex
  int preempt_off = 0;              ///< nesting depth of preempt_disable()
  double slice_left = 0;            ///< time_slice: microseconds of CPU left in this slice
  std::uint32_t module = 0;         ///< recorder module id (index + 1) being loaded, 0 = none
  std::uint32_t step = 0;           ///< recorder step id
  long load = -1;                   ///< index of the current LoadRecord, -1 = none
  std::string waiting_for;          ///< for deadlock reports
  bool finished = false;
};

} // namespace kmodsim::sim
