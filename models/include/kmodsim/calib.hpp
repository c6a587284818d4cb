// Calibration from measurements (kmodsim calibrate): parsers of the formats boot engineers
// already have (initcall_debug dmesg, /proc/lock_stat, per-load timing CSVs) and the fits that
// turn them into coefficients with intervals (Eigen). Pure: no SimGrid, no I/O beyond strings.
// Every parse error is a CalibError "file:line: what".
#pragma once

#include "kmodsim/config.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kmodsim::calib {

/// Bad measurement input: "file:line: what" (exit 2 through the CLI).
class CalibError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// --- initcall_debug ------------------------------------------------------------------------------

struct Initcall {
  std::string function;  ///< e.g. uhci_hcd_init (the +0x../0x.. offset stripped)
  std::string module;    ///< from a " [module]" suffix; empty for built-in initcalls
  long long ret = 0;     ///< return value (0 = success)
  double usecs = 0;      ///< duration as printed
  double timestamp = -1; ///< printk time of the "initcall" line (s), -1 without printk.time
  int line = 0;          ///< 1-based line in the file
};

/// Reads `initcall_debug` output: the 2.6.2x form (`calling  fn+0x0/0x1c @ 1`, `initcall
/// fn+0x0/0x1c returned 0 after 1872 usecs`), the 2.6.2x "ran for" form (`initcall 0x... ran for
/// 12 msecs: fn+0x0/0x1c()`) and the modern form (`initcall fn [mod] returned 0 after N usecs`),
/// with or without printk timestamps and ` [module]` suffixes. Lines that are not initcall lines
/// are skipped; a line that starts like one (`calling`/`initcall`) and does not parse is an error.
std::vector<Initcall> parse_dmesg(const std::string& text, const std::string& file);

// --- /proc/lock_stat -----------------------------------------------------------------------------

struct LockStat {
  std::string name;
  double con_bounces = 0, contentions = 0, acq_bounces = 0, acquisitions = 0;
  double waittime_min_us = 0, waittime_max_us = 0, waittime_total_us = 0, waittime_avg_us = 0;
  double holdtime_min_us = 0, holdtime_max_us = 0, holdtime_total_us = 0, holdtime_avg_us = 0;
  int line = 0;
};

/// Reads /proc/lock_stat (version 0.3: no avg columns; 0.4: with waittime-avg and holdtime-avg)
/// and returns every lock class; a reader/writer lock's write and read lines are classes of their
/// own, named as printed (`uts_sem-W`, `uts_sem-R`); contention-point lines are skipped. Times
/// are in microseconds, as the file prints them.
std::vector<LockStat> parse_lock_stat(const std::string& text, const std::string& file);

// --- per-load timings ----------------------------------------------------------------------------

struct TimingRow {
  std::string module;
  double total_us = 0;
  std::map<std::string, double> steps_us; ///< optional per-step durations (columns named step:<name>)
  /// Optional machine state when the load ran (columns loaded_modules, symtab_entries); -1 =
  /// not given: the state of a first, uncontended load (no module loaded, vmlinux's exports).
  double loaded_modules = -1, symtab_entries = -1;
  int line = 0;
};

/// Reads the documented timings CSV (docs/calibration.md): a header with `module,total_us`,
/// optional `loaded_modules` and `symtab_entries` (the state at the load) and optional
/// `step:<name>` columns (microseconds), one row per init_module call.
std::vector<TimingRow> parse_timings_csv(const std::string& text, const std::string& file);

// --- the design of a timing fit -------------------------------------------------------------------

/// The linear system of a timing fit: one equation per load (its `total_us`: load_module, the
/// steps before the module's init function) and one per measured step, each in the unknown
/// calibration coefficients that the kernel's costs name (CPU costs divided by machine.speed,
/// off-CPU waits not), minus the part of literal costs. Features as an uncontended load sees them
/// (symtab_entries = the workload's kernel_exports, no module loaded before it).
struct Design {
  std::vector<std::string> coefs; ///< column names: calibration coefficients
  Eigen::MatrixXd A;
  Eigen::VectorXd b;              ///< measured minus literal part, microseconds
  std::vector<std::string> rows;  ///< "file:line module[ step]"
  std::vector<int> cluster;       ///< per row: the index of its timing row (one load)
};
Design timing_design(const Scenario& s, const std::vector<TimingRow>& rows, const std::string& file);

// --- microbenchmarks ----------------------------------------------------------------------------

struct BenchResult {
  std::size_t table_size = 0;
  std::vector<double> hit_ns_per_entry, miss_ns_per_entry, memcpy_ns_per_kib; ///< one per repetition
  double hit = 0, miss = 0, memcpy = 0; ///< medians
};
/// Times, on this machine, 2.6.29's find_symbol (a linear strcmp scan of `names`) for symbols
/// that are found (at a uniform position: ns per table entry) and that are not (the whole
/// table), and memcpy per KiB; `reps` repetitions.
BenchResult run_microbench(const std::vector<std::string>& names, int reps);
/// The vmlinux export names of a Module.symvers.
std::vector<std::string> symvers_vmlinux_names(const std::string& text, const std::string& file);
/// Kernel-like export names (common prefixes), when no Module.symvers is given.
std::vector<std::string> synthetic_export_names(std::size_t n);

// --- fits ----------------------------------------------------------------------------------------

/// Non-negative least squares min ||A x - b||, x >= 0 (Lawson-Hanson active set).
Eigen::VectorXd nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, int max_iter = 0);

struct FitResult {
  Eigen::VectorXd x;       ///< coefficients (>= 0)
  Eigen::VectorXd se;      ///< standard errors (NaN where not identifiable)
  Eigen::VectorXd lo, hi;  ///< 95% intervals (Student t, clipped at 0)
  Eigen::VectorXd residuals;
  double r2 = 0;
  double condition = 0;    ///< condition number of the design over the active columns
  std::vector<bool> identifiable;
  std::vector<std::string> warnings;
};

/// NNLS fit with standard errors from the active set's (A'A)^-1 sigma^2 and Student-t intervals.
/// `relative`: errors proportional to the measured time (timings: a long load varies more in
/// microseconds than a short one), fitted by weighted least squares with weights 1/prediction^2
/// from a first unweighted fit; residuals and R2 are reported on the unweighted scale.
/// `clusters` (one id per row): rows of a cluster share an error (one load's total and steps);
/// the covariance is then the cluster-robust sandwich and t has (clusters - 1) dof.
FitResult fit_nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, const std::vector<std::string>& names,
                   bool relative = false, const std::vector<int>* clusters = nullptr);

struct Lognormal {
  double mu = 0, sigma = 0; ///< of log(x)
  double mu_lo = 0, mu_hi = 0; ///< 95% interval of mu (Student t)
  std::size_t n = 0;
  double median() const;
  double mean() const;
};

/// Maximum-likelihood lognormal over the positive values (needs at least 2).
Lognormal fit_lognormal(const std::vector<double>& x);

/// Student t quantile t_{p, dof} (Boost.Math).
double student_t_quantile(double p, double dof);

} // namespace kmodsim::calib
