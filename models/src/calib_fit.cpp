// Fits for kmodsim calibrate (kmodsim/calib.hpp): NNLS with intervals, lognormal MLE.
#include "kmodsim/calib.hpp"
#include "kmodsim/config.hpp"
#include "kmodsim/limits.hpp"
#include "kmodsim/rng.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace kmodsim::calib {

double student_t_quantile(double p, double dof) {
  if (!(dof > 0))
    return std::numeric_limits<double>::quiet_NaN();
  return boost::math::quantile(boost::math::students_t(dof), p);
}

// Lawson & Hanson (1974), "Solving Least Squares Problems", ch. 23: the active-set NNLS.
Eigen::VectorXd nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, int max_iter) {
  const Eigen::Index n = A.cols();
  if (max_iter <= 0)
    max_iter = static_cast<int>(3 * n + 30);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<size_t>(n), false);
  const double tol = 10 * std::numeric_limits<double>::epsilon() * A.norm() * static_cast<double>(std::max<Eigen::Index>(A.rows(), n));
  auto solve_passive = [&](Eigen::VectorXd& z) {
    std::vector<Eigen::Index> idx;
    for (Eigen::Index j = 0; j < n; ++j)
      if (passive[static_cast<size_t>(j)])
        idx.push_back(j);
    z = Eigen::VectorXd::Zero(n);
    if (idx.empty())
      return;
    Eigen::MatrixXd Ap(A.rows(), static_cast<Eigen::Index>(idx.size()));
    for (size_t k = 0; k < idx.size(); ++k)
      Ap.col(static_cast<Eigen::Index>(k)) = A.col(idx[k]);
    const Eigen::VectorXd zp = Ap.colPivHouseholderQr().solve(b);
    for (size_t k = 0; k < idx.size(); ++k)
      z(idx[k]) = zp(static_cast<Eigen::Index>(k));
  };
  for (int outer = 0; outer < max_iter; ++outer) {
    const Eigen::VectorXd w = A.transpose() * (b - A * x);
    Eigen::Index best = -1;
    double wmax = tol;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<size_t>(j)] && w(j) > wmax) {
        wmax = w(j);
        best = j;
      }
    if (best < 0)
      break; // Kuhn-Tucker conditions hold
    passive[static_cast<size_t>(best)] = true;
    Eigen::VectorXd z;
    for (int inner = 0; inner < max_iter; ++inner) {
      solve_passive(z);
      bool feasible = true;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)] && z(j) <= 0)
          feasible = false;
      if (feasible)
        break;
      double alpha = std::numeric_limits<double>::infinity();
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)] && z(j) <= 0)
          alpha = std::min(alpha, x(j) / (x(j) - z(j)));
      x += alpha * (z - x);
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)] && std::fabs(x(j)) <= tol) {
          passive[static_cast<size_t>(j)] = false;
          x(j) = 0;
        }
    }
    solve_passive(z);
    x = z.cwiseMax(0.0);
  }
  return x;
}

FitResult fit_nnls(const Eigen::MatrixXd& A0, const Eigen::VectorXd& b0, const std::vector<std::string>& names,
                   bool relative, const std::vector<int>* clusters) {
  Eigen::MatrixXd A = A0;
  Eigen::VectorXd b = b0;
  if (relative) {
    const Eigen::VectorXd pred = A0 * nnls(A0, b0);
    const double floor = std::max(1e-12, 1e-3 * b0.cwiseAbs().maxCoeff());
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      const double w = 1.0 / std::max(std::fabs(pred(i)), floor);
      A.row(i) *= w;
      b(i) *= w;
    }
  }
  FitResult f;
  const Eigen::Index m = A.rows(), n = A.cols();
  f.x = nnls(A, b);
  f.residuals = b - A * f.x;
  const double ss_res = f.residuals.squaredNorm();
  const double mean = b.size() ? b.mean() : 0.0;
  const double ss_tot = (b.array() - mean).matrix().squaredNorm();
  f.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  f.se = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::quiet_NaN());
  f.lo = f.x;
  f.hi = f.x;
  f.identifiable.assign(static_cast<size_t>(n), false);
  // Standard errors from the columns that are free (x > 0): sigma^2 (Ap'Ap)^-1; a column at the
  // bound 0 has a one-sided interval [0, t * se of its own regression].
  std::vector<Eigen::Index> act;
  for (Eigen::Index j = 0; j < n; ++j)
    if (f.x(j) > 0)
      act.push_back(j);
  // Report residuals and R2 on the measured scale (also when returning without intervals).
  auto unweight = [&] {
    if (!relative)
      return;
    f.residuals = b0 - A0 * f.x;
    const double m0 = b0.size() ? b0.mean() : 0.0;
    const double tot = (b0.array() - m0).matrix().squaredNorm();
    f.r2 = tot > 0 ? 1.0 - f.residuals.squaredNorm() / tot : 1.0;
  };
  const double dof = static_cast<double>(m) - static_cast<double>(act.size());
  if (dof <= 0) {
    f.warnings.push_back("as many free coefficients as measurements: no intervals (add measurements)");
    unweight();
    return f;
  }
  // Rows of one cluster (one load: its total and its steps) are not independent measurements:
  // the cluster-robust covariance needs more clusters than free coefficients (its meat has rank
  // at most clusters - 1 after the fit), and t then has clusters - 1 degrees of freedom.
  const bool clustered = clusters && !clusters->empty();
  double groups = 0;
  if (clustered) {
    std::vector<int> ids(clusters->begin(), clusters->end());
    std::sort(ids.begin(), ids.end());
    groups = static_cast<double>(std::unique(ids.begin(), ids.end()) - ids.begin());
    if (groups <= static_cast<double>(act.size()) || groups < 2) {
      f.warnings.push_back(std::to_string(static_cast<long long>(groups)) + " load(s) for " +
                           std::to_string(act.size()) + " free coefficient(s): no intervals, every coefficient kept "
                           "(measure more loads than coefficients)");
      unweight();
      return f;
    }
  }
  const double sigma2 = ss_res / dof;
  const double t = student_t_quantile(0.975, clustered ? groups - 1 : dof);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd_all(A);
  const auto& sv_all = svd_all.singularValues();
  f.condition = sv_all.size() && sv_all(sv_all.size() - 1) > 0 ? sv_all(0) / sv_all(sv_all.size() - 1)
                                                               : std::numeric_limits<double>::infinity();
  if (!act.empty()) {
    Eigen::MatrixXd Ap(m, static_cast<Eigen::Index>(act.size()));
    for (size_t k = 0; k < act.size(); ++k)
      Ap.col(static_cast<Eigen::Index>(k)) = A.col(act[k]);
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(Ap, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const auto& sv = svd.singularValues();
    const double cond = sv(sv.size() - 1) > 0 ? sv(0) / sv(sv.size() - 1) : std::numeric_limits<double>::infinity();
    if (cond > 1e8) {
      f.warnings.push_back("ill-conditioned fit (condition number " + std::to_string(cond) +
                           "): the features of the measured modules do not separate the coefficients");
    } else {
      const Eigen::MatrixXd inv = svd.matrixV() * sv.cwiseInverse().cwiseAbs2().asDiagonal() * svd.matrixV().transpose();
      Eigen::MatrixXd cov = sigma2 * inv;
      if (clustered) {
        // Cluster-robust (sandwich) covariance: rows of one cluster (one load: its total and its
        // steps) share its conditions, so they are not independent measurements.
        std::map<int, Eigen::VectorXd> score;
        for (Eigen::Index i = 0; i < m; ++i) {
          auto& sc = score[(*clusters)[static_cast<size_t>(i)]];
          if (sc.size() == 0)
            sc = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(act.size()));
          sc += Ap.row(i).transpose() * f.residuals(i);
        }
        const double g = static_cast<double>(score.size());
        Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(act.size()), static_cast<Eigen::Index>(act.size()));
        for (const auto& kv : score)
          meat += kv.second * kv.second.transpose();
        const double c = g / (g - 1) * (static_cast<double>(m) - 1) / dof;
        cov = c * inv * meat * inv;
      }
      for (size_t k = 0; k < act.size(); ++k) {
        const Eigen::Index j = act[k];
        f.se(j) = std::sqrt(cov(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k)));
        f.lo(j) = std::max(0.0, f.x(j) - t * f.se(j));
        f.hi(j) = f.x(j) + t * f.se(j);
        f.identifiable[static_cast<size_t>(j)] = true;
      }
    }
  }
  unweight();
  for (Eigen::Index j = 0; j < n; ++j) {
    if (f.x(j) > 0)
      continue;
    const double cn = A.col(j).squaredNorm();
    if (cn <= 0) {
      f.warnings.push_back("coefficient '" + names[static_cast<size_t>(j)] +
                           "' is not identifiable: its feature is 0 for every measured module");
      continue;
    }
    f.se(j) = std::sqrt(sigma2 / cn);
    f.hi(j) = t * f.se(j); // one-sided: at the bound
    f.identifiable[static_cast<size_t>(j)] = true;
  }
  return f;
}

double Lognormal::median() const { return std::exp(mu); }
double Lognormal::mean() const { return std::exp(mu + 0.5 * sigma * sigma); }

Lognormal fit_lognormal(const std::vector<double>& x) {
  std::vector<double> l;
  for (double v : x)
    if (v > 0 && std::isfinite(v))
      l.push_back(std::log(v));
  Lognormal g;
  g.n = l.size();
  if (l.size() < 2)
    throw CalibError("a lognormal fit needs at least 2 positive values, got " + std::to_string(l.size()));
  const double n = static_cast<double>(l.size());
  g.mu = std::accumulate(l.begin(), l.end(), 0.0) / n;
  double ss = 0;
  for (double v : l)
    ss += (v - g.mu) * (v - g.mu);
  const double s = std::sqrt(ss / (n - 1)); // unbiased for the interval
  g.sigma = std::sqrt(ss / n);             // maximum likelihood
  const double t = student_t_quantile(0.975, n - 1);
  g.mu_lo = g.mu - t * s / std::sqrt(n);
  g.mu_hi = g.mu + t * s / std::sqrt(n);
  return g;
}

} // namespace kmodsim::calib

namespace kmodsim {

double sample_coefficient(const Coefficient& c, std::uint64_t seed, const std::string& name) {
  if (!c.has_ci())
    return c.value;
  std::uint64_t h = 1469598103934665603ull; // FNV-1a of the name: one stream per coefficient
  for (unsigned char ch : name)
    h = (h ^ ch) * 1099511628211ull;
  const double u1 = uniform01(seed, 0xc0ef, h, 0);
  if (c.ci_lo <= 0)
    return u1 * c.ci_hi;
  const double u2 = uniform01(seed, 0xc0ef, h, 1);
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  const double mu = 0.5 * (std::log(c.ci_lo) + std::log(c.ci_hi));
  const double sigma = (std::log(c.ci_hi) - std::log(c.ci_lo)) / (2 * 1.959963984540054);
  return std::min(std::exp(mu + sigma * z), limits::kCostUs.hi);
}

} // namespace kmodsim

namespace kmodsim {

void apply_module_init(Scenario& s) {
  const ModuleInitCalib& mi = s.calibration.module_init;
  if (mi.empty())
    return;
  const double cpu = std::clamp(mi.cpu_fraction.value, 0.0, 1.0);
  for (Module& m : s.workload.modules) {
    if (m.init.cpu_us > 0 || m.init.wait_ms > 0)
      continue; // the workload's own figure wins
    double us = 0;
    auto it = mi.modules.find(m.name);
    if (it != mi.modules.end()) {
      us = it->second.us;
    } else if (mi.has_default) {
      std::uint64_t h = 1469598103934665603ull;
      for (unsigned char ch : m.name)
        h = (h ^ ch) * 1099511628211ull;
      const double u1 = uniform01(s.seed, 0x1417, h, 0), u2 = uniform01(s.seed, 0x1417, h, 1);
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
      us = std::min(mi.median_us * std::exp(mi.sigma * z), limits::kInitCpuUs.hi);
    } else {
      continue;
    }
    m.init.cpu_us = us * cpu;
    m.init.wait_ms = us * (1.0 - cpu) * 1e-3;
  }
}

} // namespace kmodsim
