// The work plan of a boot and the analytic figures derived from it (kmodsim analytic, and
// summary.json's analytic.* next to every run).
//
// The plan is the boot program (program.hpp) run once on a sequential platform: every process
// runs to completion as soon as it is spawned, nothing ever waits for a CPU or a lock, and the
// clock only adds up the work. So the plan comes from the same code as the simulation and the
// replay, and it measures what the boot asks of the machine without contention: CPU work (user,
// kernel, under module_mutex), off-CPU time, module_mutex acquisitions, per-process demand.
// The analytic figures map it onto the queueing models of analytic.hpp (docs/analytic.md).
#pragma once

#include "kmodsim/analytic.hpp"
#include "kmodsim/config.hpp"

#include <cstdint>

namespace kmodsim {

struct WorkPlan {
  std::int64_t modprobes = 0;      ///< modprobe runs (one per uevent)
  std::int64_t acquisitions = 0;   ///< module_mutex acquisitions
  std::int64_t loads = 0;          ///< init_module calls
  double user_s = 0;               ///< userspace CPU (udevd, modprobe start-up)
  double udevd_s = 0;              ///< of it, udevd's (one sequential process)
  double kernel_s = 0;             ///< kernel CPU without module_mutex
  double locked_s = 0;             ///< kernel CPU holding module_mutex
  double off_cpu_s = 0;            ///< sleeps and hardware waits
  double disk_s = 0;               ///< reading .ko files at the disk's full rate
  double sequential_s = 0;         ///< the whole boot one process at a time
  double chain_s = 0;              ///< max over modprobes: udevd's time to spawn it + its own demand
  double cpu_s() const { return user_s + kernel_s + locked_s; }
};

/// Runs the boot program sequentially (see above). Throws ProgramError on a runaway scenario.
WorkPlan plan_boot(const Scenario& s);

/// The analytic figures of a plan on the scenario's machine.
struct Analytic {
  // bounds: makespan >= each of these
  double lock_bound_s = 0;  ///< all module_mutex work, one holder at a time
  double cpu_bound_s = 0;   ///< all CPU work over C cores
  double chain_s = 0;       ///< the longest process (plan estimate)
  double lower_s = 0;       ///< the largest of the three
  // closed queueing network (exact MVA): a cycle is one module_mutex acquisition
  std::size_t population = 0; ///< N: modprobes at once, min(modprobes, children_max)
  double d_lock_s = 0, d_cpu_s = 0, z_s = 0; ///< per cycle: lock, CPU (C servers), off-CPU delay
  double throughput = 0;        ///< X, acquisitions per second
  double lock_utilization = 0;  ///< X D_lock
  double response_s = 0;        ///< per cycle: CPU + lock residence
  double makespan_s = 0;        ///< acquisitions / X
  bool product_form = false;    ///< N <= C: the lock holder never waits for a CPU (MVA exact)
  /// The same network with the locked work also at the CPU station (the holder occupies a core):
  /// an approximation for N > C, neither exact nor a bound (it counts the locked work at both
  /// stations); within 1% of the simulation in tests/e2e/mva_exact.py's N > C control.
  double throughput_cpu_held = 0, makespan_cpu_held_s = 0;
  // machine repairman (DOMAIN.md section 5): N loaders, think Z = CPU + off-CPU per cycle
  FiniteSource finite;
  // Amdahl with critical sections (Eyerman & Eeckhout 2010)
  double p_ctn = 0;             ///< contention probability (arrival theorem: U_lock at N - 1)
  double amdahl_makespan_s = 0; ///< T(C) x the CPU work
};

Analytic analyze(const Scenario& s, const WorkPlan& p);

} // namespace kmodsim
