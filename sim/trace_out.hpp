// Outputs in the formats boot engineers' tools read (kmodsim run --trace, outputs.trace):
//   trace.json    Chrome trace-event JSON (Perfetto, chrome://tracing): a process track per
//                 udevd/modprobe with its load spans and, nested in them, a span per state
//                 interval (name "state: step"); a track per core under the run-queue CPU
//                 models; counters (busy cores, runnable tasks, module_mutex waiters, and
//                 the waiters of each named kernel lock); flow
//                 arrows from a module_mutex release to the waiter it woke.
//   dmesg.txt     initcall_debug with printk timestamps: a `calling` / `initcall ... returned
//                 R after N usecs` pair per module init (scripts/bootgraph.pl and kmodsim's own
//                 dmesg parser read it).
//   lock_stat.txt /proc/lock_stat version 0.4 for module_mutex (Documentation/locking/
//                 lockstat.rst), with its contention points by step.
// Pure string builders over the recorder; the writers put them in files atomically.
#pragma once

#include "simulation.hpp"

#include <string>
#include <vector>

namespace kmodsim::sim {

/// What trace.json needs to know of the machine beyond the recorder.
struct TraceMachine {
  /// cores under a fluid CPU model (processor_sharing), where every task with work counts as on
  /// a CPU; 0 under the run-queue models (and for imported boots), whose on-CPU states are cores
  int fluid_cores = 0;
  /// the kernel's named locks (kernel.locks), Interval::lock 1, 2, ...: a waiters counter each
  std::vector<std::string> locks;
};

/// `modules`: module names by recorder module index; `title`: the trace's name (otherData).
std::string chrome_trace_json(const Recorder& rec, const std::vector<std::string>& modules, const std::string& title,
                              const TraceMachine& machine = {});
std::string initcall_dmesg(const Recorder& rec, const std::vector<std::string>& modules);
std::string lock_stat_text(const Results& r);

} // namespace kmodsim::sim
