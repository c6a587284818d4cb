// What one module load costs, outside any simulation: the features a step's cost reads, the
// repetitions of a step, and the uncontended time of a whole init_module. The simulator
// evaluates the same functions step by step (with the machine state of the moment);
// `kmodsim graph --scenario` uses the estimate to weigh the critical path.
#pragma once

#include "kmodsim/config.hpp"

#include <cstdint>

namespace kmodsim {

/// Machine state a cost may depend on.
struct LoadState {
  int cores = 1;
  std::int64_t symtab_entries = 0; ///< exported symbols a lookup scans (vmlinux + loaded modules)
  std::int64_t loaded_modules = 0; ///< modules on the module list
};

/// The features of `m` under `state`, as CostExpr::eval_us reads them.
Features module_features(const Module& m, const LoadState& state);

/// How many times `s` runs for `m` (its `repeat`), ignoring `only_if`.
std::int64_t step_repeats(const Step& s, const Module& m, int cores);

/// Uncontended time of `kernel`'s init_module for `m`, in seconds, on a machine `speed` times
/// the reference: every step's CPU cost x its repeats (groups included, only_if honoured),
/// its off-CPU waits, and the module's own init (CPU and wait). No lock waits, no disk read,
/// no modprobe start-up.
double estimated_load_s(const Kernel& kernel, const Module& m, const LoadState& state, double speed);

} // namespace kmodsim
