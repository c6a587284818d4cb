// The SimGrid layer: platform, the udevd and modprobe actors, and the interpreter of the
// kernel's init_module pipeline. The modprobe actor reads like the code path it models.
#include "simulation.hpp"

#include "cpu.hpp"
#include "kmutex.hpp"
#include "task.hpp"

#include <kmodsim/analytic.hpp>
#include <kmodsim/estimate.hpp>
#include <kmodsim/depgraph.hpp>
#include <kmodsim/rng.hpp>

#include <fmt/format.h>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) // clang's spelling of __SANITIZE_ADDRESS__
#define KMODSIM_HAS_ASAN 1
#endif
#endif
#ifndef KMODSIM_HAS_ASAN
#define KMODSIM_HAS_ASAN 0
#endif

XBT_LOG_NEW_CATEGORY(kmodsim, "kmodsim: boot-time module loading");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(actors, kmodsim, "udevd and modprobe actors");

namespace s4u = simgrid::s4u;

namespace kmodsim::sim {
namespace {

enum Stream : std::uint64_t { kCostNoise = 1, kWaitNoise = 2, kShuffle = 3 };

/// The state of one load attempt (one init_module call).
struct LoadCtx {
  size_t m = 0;
  double cost_factor = 1, wait_factor = 1;
  bool linking = false;  ///< passed the duplicate check, not yet on the list
  bool claimed = false;  ///< owns /sys/module/<name>
  bool listed = false;   ///< this copy went on the list
  bool double_load = false;
};

class Sim {
public:
  Sim(const Scenario& s, Results& r, const SimOptions& opt)
      : sc_(s), opt_(opt), w_(s.workload), res_(r), ks_(w_), graph_(w_), live_waiters_(w_.modules.size()) {}

  void run();

private:
  // actors
  void udevd();
  void modprobe(size_t ev, size_t task);
  // modprobe's pieces
  bool already_loaded(Task& t, size_t m);
  void read_ko(Task& t, size_t m);
  Outcome init_module(Task& t, size_t m, long ev);
  Outcome exec_steps(Task& t, const std::vector<Step>& steps, LoadCtx& c);
  Outcome exec_leaf(Task& t, const Step& s, std::int64_t rep, LoadCtx& c);
  bool wait_until_live(Task& t, size_t owner);
  // helpers
  Task& new_task(const std::string& name, long ev);
  void off_cpu(Task& t, State st, double seconds);
  Features features(size_t m) const;
  std::int64_t repeats(const Step& s, size_t m) const;
  void finish(Task& t);
  std::uint32_t step_id(const Step& s);
  void check_finished();
  /// Runs an actor's body; an exception (a model bug, a runaway duration) ends the whole run
  /// cleanly instead of aborting the process (SimGrid aborts on an exception leaving an actor).
  template <class F> void guarded(F&& body);
  std::string error_; ///< the first error raised inside an actor
  std::int64_t steps_run_ = 0;

  /// A duration about to reach SimGrid (microseconds of reference CPU, or seconds off CPU):
  /// finite and shorter than the run's time guard, else the run ends (a runaway input).
  double checked_us(double us, const char* what) const;
  double checked_s(double s, const char* what) const { return checked_us(s * 1e6, what) * 1e-6; }

  const Scenario& sc_;
  const SimOptions& opt_;
  const Workload& w_;
  Results& res_;
  Recorder& rec() { return res_.rec; }
  KernelState ks_;
  DepGraph graph_;
  std::vector<std::vector<size_t>> load_order_; // per module, what modprobe loads
  std::vector<std::vector<Task*>> live_waiters_;
  std::unordered_map<std::string, size_t> index_;
  std::unordered_map<const Step*, std::uint32_t> step_ids_;
  std::deque<Task> tasks_; // stable addresses; tasks_[i].id == i
  s4u::Host* host_ = nullptr;
  s4u::Disk* disk_ = nullptr;
  std::unique_ptr<CpuModel> cpu_;
  std::unique_ptr<KMutex> mutex_;
  s4u::SemaphorePtr slots_;
  std::vector<double> demand_; // per task: uncontended time it needs (for the lower bound)
  std::uint32_t step_startup_ = 0, step_check_ = 0, step_read_ = 0, step_event_ = 0, step_spawn_ = 0;
};

template <class F> void Sim::guarded(F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    if (error_.empty())
      error_ = e.what();
    s4u::Actor::kill_all(); // every other actor; this one returns
  }
}

double Sim::checked_us(double us, const char* what) const {
  // Checked against the clock, not only the duration: every piece of simulated time passes here,
  // so a run ends at the guard however it got there (one huge cost or very many small ones).
  const double end = s4u::Engine::get_clock() + us * 1e-6;
  if (!std::isfinite(us) || us < 0 || end > opt_.max_sim_time_s)
    throw SimulationError(fmt::format("{} would run until t = {:.6g} s, past the simulated-time guard of {:g} s "
                                      "(--max-sim-time): a runaway scenario (check its costs and sizes), or raise "
                                      "the guard",
                                      what, end, opt_.max_sim_time_s));
  return us;
}

Task& Sim::new_task(const std::string& name, long ev) {
  tasks_.emplace_back();
  Task& t = tasks_.back();
  t.id = rec().add_task(name, ev, s4u::Engine::get_clock());
  t.wake = s4u::Semaphore::create(0);
  t.cpu_grant = s4u::Semaphore::create(0);
  demand_.push_back(0.0);
  return t;
}

std::uint32_t Sim::step_id(const Step& s) {
  auto it = step_ids_.find(&s);
  if (it != step_ids_.end())
    return it->second;
  return step_ids_[&s] = rec().step_id(s.name);
}

void Sim::off_cpu(Task& t, State st, double seconds) {
  if (seconds <= 0)
    return;
  seconds = checked_s(seconds, "an off-CPU wait");
  cpu_->block(t);
  rec().set_state(t.id, st, s4u::Engine::get_clock(), -1, t.module, t.step);
  s4u::this_actor::sleep_for(seconds);
  demand_[t.id] += seconds;
  cpu_->wake(t);
}

Features Sim::features(size_t m) const {
  return module_features(w_.modules[m], {sc_.machine.cores, ks_.symtab_entries(), ks_.loaded_modules()});
}

std::int64_t Sim::repeats(const Step& s, size_t m) const { return step_repeats(s, w_.modules[m], sc_.machine.cores); }

// --- udevd ---------------------------------------------------------------------------------------

void Sim::udevd() {
  Task& t = new_task("udevd", -1);
  cpu_->wake(t);
  std::vector<size_t> order(w_.uevents.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (sc_.variability.shuffle_uevents)
    order = permutation(order.size(), sc_.seed, kShuffle);
  const auto& u = sc_.userspace.udev;
  for (size_t ev : order) {
    t.step = step_event_;
    cpu_->run(t, checked_us(u.event_us, "udev_event"), Mode::user);
    demand_[t.id] += u.event_us / (sc_.machine.speed * 1e6);
    if (slots_->would_block()) { // children_max reached: wait for a child to exit
      cpu_->block(t);
      rec().set_state(t.id, State::slot_wait, s4u::Engine::get_clock(), -1, 0, 0);
      slots_->acquire();
      cpu_->wake(t);
    } else {
      slots_->acquire();
    }
    t.step = step_spawn_;
    cpu_->run(t, checked_us(u.spawn_us, "udev_spawn"), Mode::user);
    demand_[t.id] += u.spawn_us / (sc_.machine.speed * 1e6);
    Task& child = new_task("modprobe-" + std::to_string(ev), static_cast<long>(ev));
    const size_t id = child.id;
    s4u::Actor::create(rec().tasks[id].name, host_, [this, ev, id] { guarded([&] { modprobe(ev, id); }); });
    res_.modprobe_runs++;
  }
  cpu_->block(t);
  finish(t);
}

void Sim::finish(Task& t) {
  t.finished = true;
  rec().end_task(t.id, s4u::Engine::get_clock());
}

// --- modprobe ------------------------------------------------------------------------------------

void Sim::modprobe(size_t ev, size_t task) {
  Task& t = tasks_[task];
  cpu_->wake(t);
  // exec, libc start-up, parse modules.dep / aliases (its size grows with the index)
  const auto& mp = sc_.userspace.modprobe;
  t.step = step_startup_;
  const double startup = mp.startup_us + mp.index_us_per_module * static_cast<double>(
      w_.index_modules > 0 ? static_cast<size_t>(w_.index_modules) : w_.modules.size());
  cpu_->run(t, checked_us(startup, "modprobe_startup"), Mode::user);
  demand_[t.id] += startup / (sc_.machine.speed * 1e6);

  const std::string& target = w_.uevents[ev].module;
  if (!target.empty()) {
    for (size_t m : load_order_[index_.at(target)]) { // dependencies first, as modules.dep lists them
      t.module = static_cast<std::uint32_t>(m + 1);
      const double requested = s4u::Engine::get_clock();
      if (already_loaded(t, m)) {
        res_.already_loaded_skips++;
        continue;
      }
      read_ko(t, m);
      rec().loads.push_back({static_cast<std::uint32_t>(m), t.id});
      t.load = static_cast<long>(rec().loads.size() - 1);
      rec().loads.back().requested = requested;
      Outcome o = init_module(t, m, static_cast<long>(ev));
      rec().loads[static_cast<size_t>(t.load)].outcome = o;
      t.load = -1;
      if (o != Outcome::loaded && o != Outcome::eexist && o != Outcome::double_load)
        break; // modprobe gives up on the first failed dependency
    }
  }
  t.module = 0;
  t.step = 0;
  cpu_->block(t);
  finish(t);
  slots_->release();
}

/// modprobe's "is it in the kernel yet?": reads /proc/modules, whose reader takes module_mutex,
/// or (module-init-tools 3.6+) /sys/module/<name>/initstate without it, polling while "coming".
bool Sim::already_loaded(Task& t, size_t m) {
  const auto& mp = sc_.userspace.modprobe;
  t.step = step_check_;
  if (mp.loaded_check == LoadedCheck::sysfs) {
    while (true) {
      const double us = checked_us(mp.check_us, "already_loaded_check");
      cpu_->run(t, us, Mode::kernel);
      demand_[t.id] += us / (sc_.machine.speed * 1e6);
      if (ks_.state(m) == ModState::live)
        return true;
      if (!ks_.sysfs_exists(m))
        return false; // no /sys/module/<name>: load it
      off_cpu(t, State::sleep, mp.poll_ms * 1e-3); // "coming": usleep and read initstate again
    }
  }
  mutex_->lock(t);
  const double us = checked_us(mp.check_us + mp.check_us_per_loaded * static_cast<double>(ks_.loaded_modules()),
                               "already_loaded_check");
  cpu_->run(t, us, Mode::kernel);
  demand_[t.id] += us / (sc_.machine.speed * 1e6);
  const bool listed = ks_.on_list(m);
  mutex_->unlock(t);
  cpu_->preempt_point(t);
  return listed;
}

void Sim::read_ko(Task& t, size_t m) {
  const auto& d = sc_.machine.disk;
  const Module& mod = w_.modules[m];
  const double kb = mod.file_kb > 0 ? mod.file_kb : mod.size_kb;
  t.step = step_read_;
  if (d.latency_ms <= 0 && (d.read_mbps <= 0 || kb <= 0))
    return;
  cpu_->block(t);
  rec().set_state(t.id, State::io, s4u::Engine::get_clock(), -1, t.module, t.step);
  if (d.latency_ms > 0) {
    s4u::this_actor::sleep_for(checked_s(d.latency_ms * 1e-3, "read_ko latency"));
    demand_[t.id] += d.latency_ms * 1e-3;
  }
  if (d.read_mbps > 0 && kb > 0) {
    const auto bytes = static_cast<sg_size_t>(std::ceil(kb * 1024.0)); // a file is whole bytes
    checked_s(static_cast<double>(bytes) / (d.read_mbps * 1e6), "read_ko");
    disk_->read(bytes);
    demand_[t.id] += static_cast<double>(bytes) / (d.read_mbps * 1e6);
  }
  cpu_->wake(t);
}

Outcome Sim::init_module(Task& t, size_t m, long ev) {
  LoadCtx c;
  c.m = m;
  c.cost_factor = lognormal_factor(sc_.variability.cost_cv, sc_.seed, kCostNoise, static_cast<std::uint64_t>(ev), m);
  c.wait_factor = lognormal_factor(sc_.variability.init_wait_cv, sc_.seed, kWaitNoise, static_cast<std::uint64_t>(ev), m);
  rec().loads[static_cast<size_t>(t.load)].load_start = s4u::Engine::get_clock();
  XBT_DEBUG("%s: init_module(%s)", rec().tasks[t.id].name.c_str(), w_.modules[m].name.c_str());
  Outcome o = exec_steps(t, sc_.kernel.init_module, c);
  if (o != Outcome::loaded && o != Outcome::eexist && !c.listed && !c.double_load)
    ks_.abandon(m, c.linking, c.claimed);
  if (o == Outcome::loaded && c.double_load)
    o = Outcome::double_load;
  return o;
}

Outcome Sim::exec_steps(Task& t, const std::vector<Step>& steps, LoadCtx& c) {
  for (const Step& s : steps) {
    if (s.has_only_if && features(c.m)[s.only_if] <= 0)
      continue;
    const std::int64_t n = repeats(s, c.m);
    for (std::int64_t i = 0; i < n; ++i) {
      if (++steps_run_ > opt_.max_steps)
        throw SimulationError(fmt::format("more than {} step repetitions: a runaway scenario (check the symbol, "
                                          "export and module counts)", opt_.max_steps));
      t.step = step_id(s);
      if (s.lock == LockKind::module_mutex)
        mutex_->lock(t);
      else if (s.lock == LockKind::preempt_off)
        t.preempt_off++;
      Outcome o = s.steps.empty() ? exec_leaf(t, s, i, c) : exec_steps(t, s.steps, c);
      if (s.lock == LockKind::module_mutex)
        mutex_->unlock(t);
      else if (s.lock == LockKind::preempt_off)
        t.preempt_off--;
      if (o != Outcome::loaded)
        return o;
      cpu_->preempt_point(t); // cond_resched / might_sleep at the end of each repetition
    }
  }
  return Outcome::loaded;
}

Outcome Sim::exec_leaf(Task& t, const Step& s, std::int64_t rep, LoadCtx& c) {
  const double speed = sc_.machine.speed * 1e6;
  const Features f = features(c.m);
  if (s.effect == Effect::init)
    rec().loads[static_cast<size_t>(t.load)].load_end = s4u::Engine::get_clock();
  const double us = checked_us(s.cost.eval_us(f) * c.cost_factor, s.name.c_str());
  cpu_->run(t, us, Mode::kernel);
  demand_[t.id] += us / speed;
  if (t.holds_lock)
    res_.locked_work_s += us / speed;

  switch (s.effect) {
  case Effect::none:
    break;
  case Effect::duplicate_check:
    if (ks_.duplicate_check(c.m))
      return Outcome::eexist; // a racing duplicate: modprobe treats EEXIST as success
    c.linking = true;
    break;
  case Effect::sysfs_claim:
    if (!ks_.sysfs_claim(c.m))
      return Outcome::failed_already_loaded;
    c.claimed = true;
    break;
  case Effect::resolve_symbol: {
    ResolveResult r = ks_.resolve(c.m, rep);
    if (r == ResolveResult::wait_owner) {
      if (!wait_until_live(t, static_cast<size_t>(ks_.symbol_owner(c.m, rep))))
        return Outcome::failed_dep_timeout;
    } else if (r == ResolveResult::unknown_symbol) {
      XBT_DEBUG("%s: Unknown symbol (owner %s not on the module list)", w_.modules[c.m].name.c_str(),
               w_.modules[static_cast<size_t>(ks_.symbol_owner(c.m, rep))].name.c_str());
      return Outcome::failed_unknown_symbol;
    }
    break;
  }
  case Effect::verify_exports:
    if (ks_.verify_exports(c.m))
      return Outcome::failed_duplicate_exports;
    break;
  case Effect::list_add:
    c.double_load = !ks_.list_add(c.m);
    c.linking = false;
    c.listed = !c.double_load;
    break;
  case Effect::init: {
    const ModuleInit& in = w_.modules[c.m].init;
    cpu_->run(t, checked_us(in.cpu_us * c.cost_factor, "module_init"), Mode::kernel);
    demand_[t.id] += in.cpu_us * c.cost_factor / speed;
    off_cpu(t, State::sleep, in.wait_ms * 1e-3 * c.wait_factor);
    rec().loads[static_cast<size_t>(t.load)].init_end = s4u::Engine::get_clock();
    break;
  }
  case Effect::live:
    if (c.listed) {
      ks_.mark_live(c.m);
      for (Task* w : live_waiters_[c.m])
        w->wake->release();
      live_waiters_[c.m].clear();
    }
    break;
  }
  if (!s.wait.empty())
    off_cpu(t, State::sleep, checked_us(s.wait.eval_us(f) * c.wait_factor, s.name.c_str()) * 1e-6);
  return Outcome::loaded;
}

/// use_module: the owner of a symbol is still in its init function; wait for it (holding
/// whatever the step holds, as 2.6.28-2.6.32 did), up to use_module_timeout_s.
bool Sim::wait_until_live(Task& t, size_t owner) {
  live_waiters_[owner].push_back(&t);
  t.waiting_for = "init of module " + w_.modules[owner].name;
  cpu_->block(t);
  rec().set_state(t.id, State::dep_wait, s4u::Engine::get_clock(), -1, t.module, t.step);
  bool ok = true;
  if (sc_.kernel.use_module_timeout_s > 0)
    ok = !t.wake->acquire_timeout(sc_.kernel.use_module_timeout_s);
  else
    t.wake->acquire(); // 0: wait forever
  if (!ok) {
    auto& v = live_waiters_[owner];
    auto it = std::find(v.begin(), v.end(), &t);
    if (it != v.end())
      v.erase(it);
    else
      t.wake->acquire(); // woken at the same instant as the timeout: consume the token
  }
  t.waiting_for.clear();
  cpu_->wake(t);
  if (!ok)
    XBT_DEBUG("%s: gave up waiting for init of module %s", rec().tasks[t.id].name.c_str(), w_.modules[owner].name.c_str());
  return ok && ks_.state(owner) == ModState::live;
}

void Sim::check_finished() {
  std::string stuck;
  int n = 0;
  for (const Task& t : tasks_)
    if (!t.finished) {
      if (n++ < 10) {
        stuck += "\n  " + rec().tasks[t.id].name;
        if (t.module)
          stuck += " (loading " + w_.modules[t.module - 1].name + ", step " + rec().step_names[t.step] + ")";
        stuck += " waits on " + (t.waiting_for.empty() ? std::string("a CPU or an event") : t.waiting_for);
      }
    }
  if (n)
    throw SimulationError("simulation ended with " + std::to_string(n) + " process(es) unfinished (deadlock?):" + stuck);
}

void Sim::run() {
  const auto& engine_args = opt_.engine_args;
  std::vector<std::string> args = {"kmodsim", "--cfg=contexts/factory:raw", "--cfg=contexts/stack-size:128",
                                   "--cfg=contexts/guard-size:0", // no mprotect per actor: ~25% faster at 10^4 actors;
                                                                  // stacks stay shallow (group nesting <= 8, validated)
                                   "--log=xbt_cfg.thres:warning",
                                   // SimGrid's own deadlock dump goes nowhere: check_finished() reports it
                                   "--log=ker_engine.additivity:no", "--log=ker_engine.app:file:/dev/null",
                                   "--log=root.fmt:%m%n"};
#if defined(__SANITIZE_ADDRESS__) || KMODSIM_HAS_ASAN
  // raw context switches confuse ASan; threads ignore the stack settings (and would say so on
  // stderr, breaking the one-line error contract)
  args = {"kmodsim", "--cfg=contexts/factory:thread", "--log=xbt_cfg.thres:warning", "--log=ker_engine.additivity:no",
          "--log=ker_engine.app:file:/dev/null", "--log=root.fmt:%m%n"};
#endif
  args.insert(args.end(), engine_args.begin(), engine_args.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  s4u::Engine e(&argc, argv.data());
  bool deadlock = false;
  s4u::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });

  auto* zone = s4u::create_full_zone("boot");
  host_ = zone->create_host("cpu", sc_.machine.speed * 1e6)->set_core_count(sc_.machine.cores);
  if (sc_.machine.disk.read_mbps > 0)
    disk_ = host_->create_disk("disk", sc_.machine.disk.read_mbps * 1e6, sc_.machine.disk.read_mbps * 1e6)->seal();
  host_->seal();
  zone->seal();

  for (size_t i = 0; i < w_.modules.size(); ++i)
    index_.emplace(w_.modules[i].name, i);
  load_order_.resize(w_.modules.size());
  for (size_t i = 0; i < w_.modules.size(); ++i)
    load_order_[i] = graph_.load_order(i);
  step_startup_ = rec().step_id("modprobe_startup");
  step_check_ = rec().step_id("already_loaded_check");
  step_read_ = rec().step_id("read_ko");
  step_event_ = rec().step_id("udev_event");
  step_spawn_ = rec().step_id("udev_spawn");

  cpu_ = CpuModel::create(sc_.machine, sc_.kernel.preemption == Preemption::full, host_, rec(), opt_.max_sim_time_s);
  mutex_ = std::make_unique<KMutex>(*cpu_, rec(), sc_.kernel.mutex);
  slots_ = s4u::Semaphore::create(static_cast<unsigned>(sc_.userspace.udev.children_max));
  s4u::Actor::create("udevd", host_, [this] { guarded([this] { udevd(); }); });
  e.run();
  if (!error_.empty())
    throw SimulationError(error_);
  if (deadlock)
    XBT_DEBUG("SimGrid reported a deadlock");
  check_finished();

  // summary figures
  for (const TaskInfo& ti : rec().tasks)
    res_.makespan = std::max(res_.makespan, ti.end);
  for (const LoadRecord& l : rec().loads) {
    res_.load_attempts++;
    switch (l.outcome) {
    case Outcome::loaded:
      res_.modules_loaded++;
      break;
    case Outcome::eexist:
      res_.eexist++;
      break;
    case Outcome::double_load:
      break;
    default:
      res_.failures++;
    }
  }
  res_.races = ks_.races();
  const LockStats& ls = mutex_->stats();
  res_.lock_acquisitions = ls.acquisitions;
  res_.lock_contentions = ls.contentions;
  res_.lock_wait_total = ls.wait_total;
  res_.lock_wait_max = ls.wait_max;
  res_.lock_hold_total = ls.hold_total;
  res_.lock_hold_max = ls.hold_max;
  res_.cpu_busy_s = cpu_->busy_s();
  res_.holder_preempted_s = cpu_->holder_preempted_s();
  double chain = 0; // no task can end before its start plus what it needs uncontended
  for (size_t i = 0; i < tasks_.size(); ++i)
    chain = std::max(chain, rec().tasks[i].start + demand_[i]);
  res_.cpu_work_s = cpu_->busy_s();
  res_.lower_bound_s = makespan_lower_bound(res_.locked_work_s, res_.cpu_work_s, sc_.machine.cores, chain);
  if (!std::isfinite(res_.makespan))
    throw SimulationError("model bug: the makespan is not finite");
  if (res_.makespan > opt_.max_sim_time_s) // a wait no cost check saw (use_module's timeout)
    throw SimulationError(fmt::format("the run ended at t = {:.6g} s, past the simulated-time guard of {:g} s "
                                      "(--max-sim-time)", res_.makespan, opt_.max_sim_time_s));
  // SimGrid ends an activity within its timing precision (precision/timing, 1e-9 s) of the exact
  // instant, and shares a resource (the disk) with its max-min precision (maxmin/precision,
  // 1e-5 relative): two overlapping reads of 12 KiB ended 11 ns early (fuzz_config_sim). Slack of
  // 1e-5 relative keeps the check far tighter than any model bug it is there to catch.
  if (res_.makespan + 1e-9 + 1e-5 * res_.lower_bound_s < res_.lower_bound_s)
    throw SimulationError(fmt::format("model bug: makespan {:.17g} s is below the analytic lower bound {:.17g} s "
                                      "(lock work {:.17g} s, CPU work {:.17g} s, longest chain {:.17g} s)",
                                      res_.makespan, res_.lower_bound_s, res_.locked_work_s, res_.cpu_work_s, chain));
}

} // namespace

Results simulate(const Scenario& s, const SimOptions& opt) {
  if (!(opt.max_sim_time_s > 0) || !std::isfinite(opt.max_sim_time_s))
    throw SimulationError("the simulated-time guard must be a positive number of seconds");
  Results r;
  r.rec = Recorder(s.outputs.timeline);
  Sim sim(s, r, opt);
  sim.run();
  return r;
}

} // namespace kmodsim::sim
