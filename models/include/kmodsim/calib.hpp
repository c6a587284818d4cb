// Calibration from measurements (kmodsim calibrate): parsers of the formats boot engineers
// already have (initcall_debug dmesg, /proc/lock_stat, per-load timing CSVs) and the fits that
// turn them into coefficients with intervals (Eigen). Pure: no SimGrid, no I/O beyond strings.
// Every parse error is a CalibError "file:line: what".
#pragma once

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
/// and returns every lock class; the `-W`/`-R` read/write split lines and contention-point
/// lines are skipped. Times are in microseconds, as the file prints them.
std::vector<LockStat> parse_lock_stat(const std::string& text, const std::string& file);

// --- per-load timings ----------------------------------------------------------------------------

struct TimingRow {
  std::string module;
  double total_us = 0;
  std::map<std::string, double> steps_us; ///< optional per-step durations (columns named step:<name>)
  int line = 0;
};

/// Reads the documented timings CSV (docs/calibration.md): a header with `module,total_us` and
/// optional `step:<name>` columns (microseconds), one row per init_module call.
std::vector<TimingRow> parse_timings_csv(const std::string& text, const std::string& file);

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
FitResult fit_nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, const std::vector<std::string>& names);

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
