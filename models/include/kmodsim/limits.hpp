// The plausible ranges of the numbers a config may hold, per unit, checked once at load time
// (README "Ranges"). They are wide on purpose: a value outside them is a typo or a
// wrong unit (1e15, 1e-300), never a machine or a module someone could measure. Keeping every
// input inside them keeps every duration the engine computes finite and every run short
// enough to end; the run-time guards (kmodsim run --max-sim-time) catch the rest.
#pragma once

#include <cstdint>

namespace kmodsim::limits {

struct Range {
  double lo, hi;
  const char* unit;
};

/// A calibration coefficient or a literal cost: microseconds per unit of its feature. 10 s per
/// unit is beyond any kernel path (a whole 2009 boot took 3 s).
inline constexpr Range kCostUs{0.0, 1e7, "us per unit of its feature"};
/// A module's own init function: CPU (us) and hardware wait (ms), up to 100 s each.
inline constexpr Range kInitCpuUs{0.0, 1e8, "us"};
inline constexpr Range kInitWaitMs{0.0, 1e5, "ms"};
/// A fraction (module_init.cpu_fraction) and the sigma of a lognormal (of ln us).
inline constexpr Range kFraction{0.0, 1.0, "(a fraction)"};
inline constexpr Range kLogSigma{0.0, 5.0, "(sigma of ln us)"};
/// modprobe's poll of /sys/module/<name>/initstate.
inline constexpr Range kPollMs{0.01, 10000.0, "ms"};
/// Module sizes (SHF_ALLOC, init, file, percpu): up to 4 GiB, 100x the largest real module.
inline constexpr Range kSizeKb{0.0, 4194304.0, "KiB"};
/// Relative CPU speed against the calibration's reference machine.
inline constexpr Range kSpeed{1e-3, 1e3, "x the reference machine"};
/// Disk bandwidth (0 = no disk model) and per-file latency.
inline constexpr Range kReadMbps{1e-3, 1e6, "MB/s"};
inline constexpr Range kLatencyMs{0.0, 1e4, "ms"};
/// The round-robin slice of the time_slice CPU model (Linux: 0.75-100 ms).
inline constexpr Range kSliceMs{1e-3, 1e3, "ms"};
/// use_module's wait for a dependency's init (0 = forever).
inline constexpr Range kTimeoutS{0.0, 86400.0, "s"};

inline constexpr long long kMaxCores = 65536;
inline constexpr long long kMaxModules = 1000000;
inline constexpr long long kMaxUevents = 10000000;
inline constexpr long long kMaxDepsPerModule = 10000;
/// A module's undefined symbols, exports, dependency symbols; its relocations.
inline constexpr long long kMaxSymbols = 10000000;
inline constexpr long long kMaxRelocations = 1000000000;
/// A config file larger than this is not a config (a YAML bomb, a wrong path).
inline constexpr std::uint64_t kMaxConfigFileBytes = 256ull << 20;

/// kmodsim run --max-sim-time default: a boot that has not ended after an hour of simulated time
/// is a runaway (a 2009 boot took 3 s; a 4096-core what-if a few minutes).
inline constexpr double kDefaultMaxSimTimeS = 3600.0;

} // namespace kmodsim::limits
