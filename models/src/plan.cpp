// The work plan of a boot (the program on a sequential platform) and its analytic figures.
#include "kmodsim/plan.hpp"

#include "kmodsim/program.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace kmodsim {

namespace {

/// Every process runs to completion when spawned; the clock adds up the work; nothing waits.
class SequentialPlatform : public Platform {
public:
  SequentialPlatform(const Scenario& s, WorkPlan& p) : sc_(s), plan_(p) {}

  double now() override { return clock_; }
  Proc& new_proc(const std::string& /*name*/, long uevent) override {
    procs_.emplace_back();
    spawned_at_.push_back(uevent >= 0 ? udevd_s_ : 0.0);
    return procs_.back();
  }
  void spawn(Proc& /*p*/, std::function<void()> body) override { body(); }
  void cpu_wake(Proc& /*p*/) override {}
  void cpu_block(Proc& /*p*/) override {}
  void cpu_run(Proc& p, double us, Mode mode) override {
    const double s = us / (sc_.machine.speed * 1e6);
    clock_ += s;
    if (mode == Mode::user) {
      plan_.user_s += s;
      if (p.id == 0) { // udevd is the first process
        plan_.udevd_s += s;
        udevd_s_ += s;
      }
    } else if (p.holds_lock) {
      plan_.locked_s += s;
    } else {
      plan_.kernel_s += s;
    }
  }
  void preempt_point(Proc& /*p*/) override {}
  void lock(Proc& p, std::size_t id) override { // the plan is module_mutex's; other locks cost only their work
    if (id != 0)
      return;
    plan_.acquisitions++;
    p.holds_lock = true;
  }
  void unlock(Proc& p, std::size_t id) override {
    if (id == 0)
      p.holds_lock = false;
  }
  void sleep_for(Proc& /*p*/, double seconds) override {
    clock_ += seconds;
    plan_.off_cpu_s += seconds;
  }
  void disk_read(Proc& /*p*/, std::uint64_t bytes) override {
    const double s = static_cast<double>(bytes) / (sc_.machine.disk.read_mbps * 1e6);
    clock_ += s;
    plan_.disk_s += s;
  }
  bool wait(Proc& /*p*/, double /*timeout_s*/) override { return false; } // nothing is ever in flight
  void post(Proc& /*p*/) override {}
  bool slot_would_block() override { return false; }
  void slot_acquire() override {}
  void slot_release() override {}

  /// udevd's own time up to each process's spawn (0 for udevd).
  const std::vector<double>& spawned_at() const { return spawned_at_; }

private:
  const Scenario& sc_;
  WorkPlan& plan_;
  double clock_ = 0, udevd_s_ = 0;
  std::deque<Proc> procs_;
  std::vector<double> spawned_at_;
};

} // namespace

WorkPlan plan_boot(const Scenario& s) {
  WorkPlan plan;
  Recorder rec(false);
  SequentialPlatform plat(s, plan);
  BootProgram prog(s, plat, rec, std::numeric_limits<double>::max(), std::numeric_limits<std::int64_t>::max());
  prog.udevd();
  plan.modprobes = prog.counters().modprobe_runs;
  plan.loads = static_cast<std::int64_t>(rec.loads.size());
  plan.sequential_s = plat.now();
  for (size_t i = 1; i < prog.demand().size(); ++i)
    plan.chain_s = std::max(plan.chain_s, plat.spawned_at()[i] + prog.demand()[i]);
  if (!prog.demand().empty())
    plan.chain_s = std::max(plan.chain_s, prog.demand()[0]);
  return plan;
}

Analytic analyze(const Scenario& s, const WorkPlan& p) {
  Analytic a;
  const int cores = std::max(1, s.machine.cores);
  a.lock_bound_s = p.locked_s;
  a.cpu_bound_s = p.cpu_s() / cores;
  a.chain_s = p.chain_s;
  a.lower_s = std::max({a.lock_bound_s, a.cpu_bound_s, a.chain_s});
  a.population = static_cast<std::size_t>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(p.modprobes, s.userspace.udev.children_max)));
  if (p.acquisitions <= 0)
    return a;
  const double n_acq = static_cast<double>(p.acquisitions);
  a.d_lock_s = p.locked_s / n_acq;
  a.d_cpu_s = std::max(0.0, p.cpu_s() - p.locked_s) / n_acq; // clamped: rounding must not make it negative
  a.z_s = (p.off_cpu_s + p.disk_s) / n_acq;
  a.product_form = a.population <= static_cast<std::size_t>(cores);
  if (a.d_lock_s + a.d_cpu_s + a.z_s <= 0)
    return a;
  const std::vector<Station> net = {{"lock", StationKind::queue, a.d_lock_s, 1},
                                    {"cpu", StationKind::multi, a.d_cpu_s, cores},
                                    {"off_cpu", StationKind::delay, a.z_s, 1}};
  const auto all = mva_all(net, a.population);
  const MvaResult& r = all.back();
  a.throughput = r.throughput;
  a.lock_utilization = r.stations[0].utilization;
  a.response_s = r.response_s;
  a.makespan_s = a.throughput > 0 ? n_acq / a.throughput : 0;
  const std::vector<Station> held = {{"lock", StationKind::queue, a.d_lock_s, 1},
                                     {"cpu", StationKind::multi, a.d_cpu_s + a.d_lock_s, cores},
                                     {"off_cpu", StationKind::delay, a.z_s, 1}};
  a.throughput_cpu_held = mva(held, a.population).throughput;
  a.makespan_cpu_held_s = a.throughput_cpu_held > 0 ? n_acq / a.throughput_cpu_held : 0;
  if (a.d_lock_s > 0)
    a.finite = finite_source(a.population, a.d_lock_s, a.d_cpu_s + a.z_s);
  // Amdahl with critical sections: fractions of the CPU work; a critical section contends with
  // the probability that an arriving loader finds the lock held (arrival theorem: the lock's
  // utilisation with one loader fewer)
  a.p_ctn = a.population > 1 ? all[a.population - 2].stations[0].utilization : 0.0;
  const double cpu = p.cpu_s();
  if (cpu > 0)
    a.amdahl_makespan_s = cpu * amdahl_cs_time(p.udevd_s / cpu, std::max(0.0, cpu - p.udevd_s - p.locked_s) / cpu,
                                               p.locked_s / cpu, std::min(1.0, std::max(0.0, a.p_ctn)), cores);
  return a;
}

} // namespace kmodsim
