#include "kmodsim/estimate.hpp"

#include <algorithm>
#include <cmath>

namespace kmodsim {

Features module_features(const Module& m, const LoadState& state) {
  Features f;
  f[Feature::constant] = 1;
  f[Feature::size_kb] = m.size_kb;
  f[Feature::core_kb] = m.size_kb - m.init_kb;
  f[Feature::init_kb] = m.init_kb;
  f[Feature::file_kb] = m.file_kb > 0 ? m.file_kb : m.size_kb;
  f[Feature::undef_symbols] = static_cast<double>(m.undef_symbols);
  f[Feature::dep_symbols] = static_cast<double>(m.dep_symbols);
  f[Feature::relocations] = static_cast<double>(m.relocations);
  f[Feature::exports] = static_cast<double>(m.exports);
  f[Feature::percpu_kb] = m.percpu_kb;
  f[Feature::symtab_entries] = static_cast<double>(state.symtab_entries);
  f[Feature::loaded_modules] = static_cast<double>(state.loaded_modules);
  f[Feature::cpus] = state.cores;
  f[Feature::log2_symtab_entries] = std::log2(std::max<double>(1.0, static_cast<double>(state.symtab_entries)));
  f[Feature::decompressed_kb] = m.decompressed_kb;
  f[Feature::image_kb] = m.decompressed_kb > 0 ? m.decompressed_kb : f[Feature::file_kb];
  return f;
}

// CFS's boot-time scaling of its granularity (machine.scheduler.slice_scaling).
double Machine::Scheduler::effective_slice_ms(int cores) const {
  int ilog2 = 0; // ilog2(n): the index of n's highest set bit
  const int cpus = slice_scaling == SliceScaling::log_capped ? std::min(cores, 8) : cores;
  for (unsigned n = static_cast<unsigned>(std::max(1, cpus)); n > 1; n >>= 1)
    ilog2++;
  switch (slice_scaling) {
  case SliceScaling::none:
    return slice_ms;
  case SliceScaling::log: // sched_init_granularity: the product, at most 200 ms
    return std::min(slice_ms * (1 + ilog2), 200.0);
  case SliceScaling::log_capped:
    return slice_ms * (1 + ilog2);
  }
  return slice_ms;
}

std::int64_t step_repeats(const Step& s, const Module& m, int cores) {
  switch (s.repeat) {
  case Repeat::once:
    return 1;
  case Repeat::per_undef_symbol:
    return m.undef_symbols;
  case Repeat::per_export:
    return m.exports;
  case Repeat::per_cpu:
    return cores;
  }
  return 1;
}

namespace {
/// Microseconds of CPU work and of off-CPU waits of `steps`, at the reference speed.
void add_steps(const std::vector<Step>& steps, const Module& m, const Features& f, int cores, double& cpu_us,
               double& wait_us) {
  for (const Step& s : steps) {
    if (s.has_only_if && f[s.only_if] <= 0)
      continue;
    const auto n = static_cast<double>(step_repeats(s, m, cores));
    double c = 0, w = 0;
    if (s.steps.empty()) {
      c = s.cost.eval_us(f);
      if (s.effect == Effect::init) {
        c += m.init.cpu_us;
        w += m.init.wait_ms * 1e3;
      }
      w += s.wait.eval_us(f);
    } else {
      add_steps(s.steps, m, f, cores, c, w);
    }
    cpu_us += n * c;
    wait_us += n * w;
  }
}
} // namespace

double estimated_load_s(const Kernel& kernel, const Module& m, const LoadState& state, double speed) {
  double cpu_us = 0, wait_us = 0;
  add_steps(kernel.init_module, m, module_features(m, state), state.cores, cpu_us, wait_us);
  return (cpu_us / speed + wait_us) * 1e-6;
}

} // namespace kmodsim
