// The linear system of a timing fit (kmodsim/calib.hpp: Design).
#include "kmodsim/calib.hpp"
#include "kmodsim/estimate.hpp"

#include <functional>
#include <map>

namespace kmodsim::calib {
namespace {

struct Row {
  std::map<std::string, double> per_coef; ///< coefficient -> multiplier (us per unit of the coefficient)
  double fixed_us = 0;                    ///< literal costs
};

bool contains_init(const Step& s) {
  if (s.effect == Effect::init)
    return true;
  for (const auto& c : s.steps)
    if (contains_init(c))
      return true;
  return false;
}

void add_expr(const CostExpr& e, const Features& f, double mult, Row& row) {
  for (const auto& t : e.terms) {
    if (t.coef_name.empty())
      row.fixed_us += mult * t.coef * f[t.feature];
    else
      row.per_coef[t.coef_name] += mult * f[t.feature];
  }
}

/// Adds `s` (n repetitions, each of its sub-steps) to `row`.
void add_step(const Step& s, const Module& m, const Features& f, int cores, double speed, double n, Row& row) {
  if (s.has_only_if && f[s.only_if] <= 0)
    return;
  const double reps = n * static_cast<double>(step_repeats(s, m, cores));
  if (reps <= 0)
    return;
  if (!s.steps.empty()) {
    for (const auto& c : s.steps)
      add_step(c, m, f, cores, speed, reps, row);
    return;
  }
  add_expr(s.cost, f, reps / speed, row);
  add_expr(s.wait, f, reps, row);
}

/// The step named `name` and the groups it is nested in, outermost first (`path` ends with the
/// step); false when no step has that name.
bool find_step(const std::vector<Step>& steps, const std::string& name, std::vector<const Step*>& path) {
  for (const auto& s : steps) {
    path.push_back(&s);
    if (s.name == name || find_step(s.steps, name, path))
      return true;
    path.pop_back();
  }
  return false;
}

/// How many times a step nested in `groups` runs per load: the product of the groups'
/// repetitions, 0 when a group's only_if does not hold.
double group_repeats(const std::vector<const Step*>& groups, const Module& m, const Features& f, int cores) {
  double n = 1.0;
  for (const Step* g : groups) {
    if (g->has_only_if && f[g->only_if] <= 0)
      return 0.0;
    n *= static_cast<double>(step_repeats(*g, m, cores));
  }
  return n;
}

} // namespace

Design timing_design(const Scenario& s, const std::vector<TimingRow>& rows, const std::string& file) {
  std::map<std::string, const Module*> by_name;
  for (const auto& m : s.workload.modules)
    by_name[m.name] = &m;
  const LoadState state{s.machine.cores, s.workload.kernel_exports, 0};
  std::vector<Row> eq;
  std::vector<double> measured;
  Design d;
  for (const auto& r : rows) {
    auto it = by_name.find(r.module);
    if (it == by_name.end())
      throw CalibError(file + ":" + std::to_string(r.line) + ": module '" + r.module + "' is not in workload '" +
                       s.workload.name + "'");
    const Module& m = *it->second;
    LoadState at = state;
    if (r.loaded_modules >= 0)
      at.loaded_modules = static_cast<std::int64_t>(r.loaded_modules);
    if (r.symtab_entries >= 0)
      at.symtab_entries = static_cast<std::int64_t>(r.symtab_entries);
    const Features f = module_features(m, at);
    Row total;
    for (const auto& st : s.kernel.init_module) {
      if (contains_init(st))
        break; // load_module ends where the module's init function starts
      add_step(st, m, f, s.machine.cores, s.machine.speed, 1.0, total);
    }
    eq.push_back(total);
    measured.push_back(r.total_us);
    d.rows.push_back(file + ":" + std::to_string(r.line) + " " + r.module);
    d.cluster.push_back(r.line);
    for (const auto& [name, us] : r.steps_us) {
      std::vector<const Step*> path;
      if (!find_step(s.kernel.init_module, name, path))
        throw CalibError(file + ":" + std::to_string(r.line) + ": kernel '" + s.kernel.name + "' has no step '" + name + "'");
      // a step inside a repeated (or conditional) group runs as often as its groups do
      const Step& st = *path.back();
      path.pop_back();
      Row row;
      add_step(st, m, f, s.machine.cores, s.machine.speed, group_repeats(path, m, f, s.machine.cores), row);
      eq.push_back(row);
      measured.push_back(us);
      d.rows.push_back(file + ":" + std::to_string(r.line) + " " + r.module + " " + name);
      d.cluster.push_back(r.line);
    }
  }
  std::map<std::string, Eigen::Index> col;
  for (const auto& row : eq)
    for (const auto& kv : row.per_coef)
      col.emplace(kv.first, 0);
  for (auto& [name, j] : col) {
    j = static_cast<Eigen::Index>(d.coefs.size());
    d.coefs.push_back(name);
  }
  d.A = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(eq.size()), static_cast<Eigen::Index>(d.coefs.size()));
  d.b = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(eq.size()));
  for (size_t i = 0; i < eq.size(); ++i) {
    const auto ii = static_cast<Eigen::Index>(i);
    for (const auto& [name, v] : eq[i].per_coef)
      d.A(ii, col[name]) = v;
    d.b(ii) = measured[i] - eq[i].fixed_us;
  }
  return d;
}

} // namespace kmodsim::calib
