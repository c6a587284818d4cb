// The boot program (kmodsim/program.hpp): udevd, modprobe, and the init_module interpreter.
#include "kmodsim/program.hpp"

#include "kmodsim/estimate.hpp"
#include "kmodsim/rng.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kmodsim {

namespace {
enum Stream : std::uint64_t { kCostNoise = 1, kWaitNoise = 2, kShuffle = 3, kStepNoise = 4 };
}

/// The state of one load attempt (one init_module call).
struct BootProgram::LoadCtx {
  size_t m = 0;
  long ev = 0;
  double cost_factor = 1, wait_factor = 1;
  std::uint64_t draws = 0; ///< per_step cost noise: draws so far in this load
  bool linking = false;  ///< passed the duplicate check, not yet on the list
  bool claimed = false;  ///< owns /sys/module/<name>
  bool listed = false;   ///< this copy went on the list
  bool double_load = false;
  std::vector<std::pair<std::string, double>> held; ///< vmalloc takes not yet given back (step, KB)
  bool named = false;  ///< took the name at add_unformed
  bool flying = false; ///< passed the idempotent check
};

BootProgram::BootProgram(const Scenario& s, Platform& p, Recorder& rec, double max_sim_time_s, std::int64_t max_steps)
    : sc_(s), w_(s.workload), plat_(p), rec_(rec), max_sim_time_s_(max_sim_time_s), max_steps_(max_steps), ks_(w_),
      graph_(w_), live_waiters_(w_.modules.size()), finish_waiters_(w_.modules.size()) {
  for (size_t i = 0; i < w_.modules.size(); ++i)
    index_.emplace(w_.modules[i].name, i);
  load_order_.resize(w_.modules.size());
  for (size_t i = 0; i < w_.modules.size(); ++i)
    load_order_[i] = graph_.load_order(i);
  step_startup_ = rec_.step_id("modprobe_startup");
  step_check_ = rec_.step_id("already_loaded_check");
  step_read_ = rec_.step_id("read_ko");
  step_event_ = rec_.step_id("udev_event");
  step_spawn_ = rec_.step_id("udev_spawn");
}

double BootProgram::checked_us(double us, const char* what) {
  // Checked against the clock, not only the duration: every piece of time passes here, so a
  // run ends at the guard however it got there (one huge cost or very many small ones).
  const double end = plat_.now() + us * 1e-6;
  if (!std::isfinite(us) || us < 0 || end > max_sim_time_s_)
    throw ProgramError(fmt::format("{} would run until t = {:.6g} s, past the simulated-time guard of {:g} s "
                                   "(--max-sim-time): a runaway scenario (check its costs and sizes), or raise "
                                   "the guard",
                                   what, end, max_sim_time_s_));
  return us;
}

Proc& BootProgram::new_proc(const std::string& name, long ev) {
  Proc& t = plat_.new_proc(name, ev);
  t.id = rec_.add_task(name, ev, plat_.now());
  procs_.push_back(&t);
  demand_.push_back(0.0);
  return t;
}

std::uint32_t BootProgram::step_id(const Step& s) {
  auto it = step_ids_.find(&s);
  if (it != step_ids_.end())
    return it->second;
  return step_ids_[&s] = rec_.step_id(s.name);
}

void BootProgram::off_cpu(Proc& t, State st, double seconds) {
  if (seconds <= 0)
    return;
  seconds = checked_s(seconds, "an off-CPU wait");
  plat_.cpu_block(t);
  rec_.set_state(t.id, st, plat_.now(), -1, t.module, t.step);
  plat_.sleep_for(t, seconds);
  demand_[t.id] += seconds;
  if (t.holds_lock)
    cnt_.locked_off_cpu_s += seconds;
  plat_.cpu_wake(t);
}

void BootProgram::cpu(Proc& t, double us, Mode mode) {
  plat_.cpu_run(t, us, mode);
  cnt_.cpu_work_s += us / (sc_.machine.speed * 1e6);
  if (t.holds_lock) // every piece of work under the lock: the steps' and /proc/modules reads'
    cnt_.locked_work_s += us / (sc_.machine.speed * 1e6);
}

Features BootProgram::features(size_t m) const {
  return module_features(w_.modules[m], {sc_.machine.cores, ks_.symtab_entries(), ks_.loaded_modules()});
}

void BootProgram::finish(Proc& t) {
  t.finished = true;
  rec_.end_task(t.id, plat_.now());
}

std::string BootProgram::unfinished() const {
  std::string stuck;
  int n = 0;
  for (const Proc* t : procs_)
    if (!t->finished) {
      if (n++ < 10) {
        stuck += "\n  " + rec_.tasks[t->id].name;
        if (t->module)
          stuck += " (loading " + w_.modules[t->module - 1].name + ", step " + rec_.step_names[t->step] + ")";
        stuck += " waits on " + t->waits_on();
      }
    }
  if (n == 0)
    return "";
  return std::to_string(n) + " process(es) unfinished (deadlock?):" + stuck;
}

// --- udevd ---------------------------------------------------------------------------------------

void BootProgram::udevd() {
  Proc& t = new_proc("udevd", -1);
  plat_.cpu_wake(t);
  std::vector<size_t> order(w_.uevents.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (sc_.variability.shuffle_uevents)
    order = permutation(order.size(), sc_.seed, kShuffle);
  const auto& u = sc_.userspace.udev;
  for (size_t ev : order) {
    t.step = step_event_;
    cpu(t, checked_us(u.event_us, "udev_event"), Mode::user);
    demand_[t.id] += u.event_us / (sc_.machine.speed * 1e6);
    if (plat_.slot_would_block()) { // children_max reached: wait for a child to exit
      plat_.cpu_block(t);
      rec_.set_state(t.id, State::slot_wait, plat_.now(), -1, 0, 0);
      plat_.slot_acquire();
      plat_.cpu_wake(t);
    } else {
      plat_.slot_acquire();
    }
    t.step = step_spawn_;
    cpu(t, checked_us(u.spawn_us, "udev_spawn"), Mode::user);
    demand_[t.id] += u.spawn_us / (sc_.machine.speed * 1e6);
    Proc& child = new_proc("modprobe-" + std::to_string(ev), static_cast<long>(ev));
    plat_.spawn(child, [this, ev, &child] { modprobe(child, ev); });
    cnt_.modprobe_runs++;
  }
  plat_.cpu_block(t);
  finish(t);
}

// --- modprobe ------------------------------------------------------------------------------------

void BootProgram::modprobe(Proc& t, size_t ev) {
  plat_.cpu_wake(t);
  // exec, libc start-up, then modules.dep / aliases: parsed as text (its size grows with the
  // index) or looked up in kmod's binary indexes
  const auto& mp = sc_.userspace.modprobe;
  t.step = step_startup_;
  const double startup =
      mp.startup_us + (mp.index == ModprobeIndex::binary
                           ? mp.index_lookup_us
                           : mp.index_us_per_module * static_cast<double>(w_.index_modules > 0
                                                                              ? static_cast<size_t>(w_.index_modules)
                                                                              : w_.modules.size()));
  cpu(t, checked_us(startup, "modprobe_startup"), Mode::user);
  demand_[t.id] += startup / (sc_.machine.speed * 1e6);

  const std::string& target = w_.uevents[ev].module;
  if (!target.empty()) {
    for (size_t m : load_order_[index_.at(target)]) { // dependencies first, as modules.dep lists them
      t.module = static_cast<std::uint32_t>(m + 1);
      const double requested = plat_.now();
      if (already_loaded(t, m)) {
        cnt_.already_loaded_skips++;
        continue;
      }
      read_ko(t, m);
      rec_.loads.push_back({static_cast<std::uint32_t>(m), t.id});
      t.load = static_cast<long>(rec_.loads.size() - 1);
      rec_.loads.back().requested = requested;
      Outcome o = init_module(t, m, static_cast<long>(ev));
      rec_.loads[static_cast<size_t>(t.load)].outcome = o;
      t.load = -1;
      if (o != Outcome::loaded && o != Outcome::eexist && o != Outcome::double_load)
        break; // modprobe gives up on the first failed dependency
    }
  }
  t.module = 0;
  t.step = 0;
  plat_.cpu_block(t);
  finish(t);
  plat_.slot_release();
}

/// modprobe's "is it in the kernel yet?": reads /proc/modules, whose reader takes module_mutex,
/// or (module-init-tools 3.6+) /sys/module/<name>/initstate without it, polling while "coming".
bool BootProgram::already_loaded(Proc& t, size_t m) {
  const auto& mp = sc_.userspace.modprobe;
  t.step = step_check_;
  if (mp.loaded_check == LoadedCheck::kmod) { // module_is_inkernel(): coming or live, one read
    const double us = checked_us(mp.check_us, "already_loaded_check");
    cpu(t, us, Mode::kernel);
    demand_[t.id] += us / (sc_.machine.speed * 1e6);
    return ks_.state(m) == ModState::live || ks_.sysfs_exists(m);
  }
  if (mp.loaded_check == LoadedCheck::sysfs) {
    while (true) {
      const double us = checked_us(mp.check_us, "already_loaded_check");
      cpu(t, us, Mode::kernel);
      demand_[t.id] += us / (sc_.machine.speed * 1e6);
      if (ks_.state(m) == ModState::live)
        return true;
      if (!ks_.sysfs_exists(m))
        return false; // no /sys/module/<name>: load it
      off_cpu(t, State::sleep, mp.poll_ms * 1e-3); // "coming": usleep and read initstate again
    }
  }
  plat_.lock(t, 0);
  const double us = checked_us(mp.check_us + mp.check_us_per_loaded * static_cast<double>(ks_.loaded_modules()),
                               "already_loaded_check");
  cpu(t, us, Mode::kernel);
  demand_[t.id] += us / (sc_.machine.speed * 1e6);
  const bool listed = ks_.on_list(m);
  plat_.unlock(t, 0);
  plat_.preempt_point(t);
  return listed;
}

void BootProgram::read_ko(Proc& t, size_t m) {
  const auto& d = sc_.machine.disk;
  const Module& mod = w_.modules[m];
  const double kb = mod.file_kb > 0 ? mod.file_kb : mod.size_kb;
  t.step = step_read_;
  if (d.latency_ms <= 0 && (d.read_mbps <= 0 || kb <= 0))
    return;
  plat_.cpu_block(t);
  rec_.set_state(t.id, State::io, plat_.now(), -1, t.module, t.step);
  if (d.latency_ms > 0) {
    plat_.sleep_for(t, checked_s(d.latency_ms * 1e-3, "read_ko latency"));
    demand_[t.id] += d.latency_ms * 1e-3;
  }
  if (d.read_mbps > 0 && kb > 0) {
    const auto bytes = static_cast<std::uint64_t>(std::ceil(kb * 1024.0)); // a file is whole bytes
    checked_s(static_cast<double>(bytes) / (d.read_mbps * 1e6), "read_ko");
    plat_.disk_read(t, bytes);
    demand_[t.id] += static_cast<double>(bytes) / (d.read_mbps * 1e6);
  }
  plat_.cpu_wake(t);
}

Outcome BootProgram::init_module(Proc& t, size_t m, long ev) {
  LoadCtx c;
  c.m = m;
  c.ev = ev;
  if (sc_.variability.cost_noise == CostNoise::per_load)
    c.cost_factor = sc_.variability.cost_distribution == CostDistribution::exponential
                        ? exponential_factor(sc_.seed, kCostNoise, static_cast<std::uint64_t>(ev), m)
                        : lognormal_factor(sc_.variability.cost_cv, sc_.seed, kCostNoise, static_cast<std::uint64_t>(ev), m);
  c.wait_factor = lognormal_factor(sc_.variability.init_wait_cv, sc_.seed, kWaitNoise, static_cast<std::uint64_t>(ev), m);
  rec_.loads[static_cast<size_t>(t.load)].load_start = plat_.now();
  if (plat_.debug_enabled())
    plat_.debug(rec_.tasks[t.id].name + ": init_module(" + w_.modules[m].name + ")");
  Outcome o = exec_steps(t, sc_.kernel.init_module, c);
  if (o != Outcome::loaded && o != Outcome::eexist && !c.listed && !c.double_load)
    ks_.abandon(m, c.linking, c.claimed);
  if (o != Outcome::loaded && o != Outcome::double_load) // a failed load gives back all it took
    while (!c.held.empty())
      vm_release(c, c.held.back().first);
  if (c.named || c.flying) { // the load ended: loaders waiting for it look again
    if (c.named)
      ks_.release_name(m);
    if (c.flying)
      ks_.end_flight(m);
    wake_all(finish_waiters_[m]);
  }
  if (o == Outcome::loaded && c.double_load)
    o = Outcome::double_load;
  return o;
}

Outcome BootProgram::exec_steps(Proc& t, const std::vector<Step>& steps, LoadCtx& c) {
  for (const Step& s : steps) {
    if (s.has_only_if && features(c.m)[s.only_if] <= 0)
      continue;
    if (s.effect == Effect::vmap_purge && !purge_due()) // checked before its lock, as the kernel does
      continue;
    const std::int64_t n = step_repeats(s, w_.modules[c.m], sc_.machine.cores);
    for (std::int64_t i = 0; i < n; ++i) {
      if (++steps_run_ > max_steps_)
        throw ProgramError(fmt::format("more than {} step repetitions: a runaway scenario (check the symbol, "
                                       "export and module counts)", max_steps_));
      t.step = step_id(s);
      // a spinlock's holder runs with preemption off (spin_lock); waiters spin before that
      const bool spinlock = s.lock_id > 0 && sc_.kernel.locks[s.lock_id - 1].spinlock;
      if (s.takes_lock())
        plat_.lock(t, s.lock_id);
      if (s.lock == LockKind::preempt_off || spinlock)
        t.preempt_off++;
      Outcome o = s.steps.empty() ? exec_leaf(t, s, i, c) : exec_steps(t, s.steps, c);
      if (s.lock == LockKind::preempt_off || spinlock)
        t.preempt_off--;
      if (s.takes_lock())
        plat_.unlock(t, s.lock_id);
      if (o != Outcome::loaded)
        return o;
      plat_.preempt_point(t); // cond_resched / might_sleep at the end of each repetition
    }
  }
  return Outcome::loaded;
}

Outcome BootProgram::exec_leaf(Proc& t, const Step& s, std::int64_t rep, LoadCtx& c) {
  const double speed = sc_.machine.speed * 1e6;
  const Features f = features(c.m);
  if (s.effect == Effect::init)
    rec_.loads[static_cast<size_t>(t.load)].load_end = plat_.now();
  if (sc_.variability.cost_noise == CostNoise::per_step) { // a new draw for every repetition
    const auto key = (static_cast<std::uint64_t>(c.m) << 32) | c.draws++;
    c.cost_factor = sc_.variability.cost_distribution == CostDistribution::exponential
                        ? exponential_factor(sc_.seed, kStepNoise, static_cast<std::uint64_t>(c.ev), key)
                        : lognormal_factor(sc_.variability.cost_cv, sc_.seed, kStepNoise,
                                           static_cast<std::uint64_t>(c.ev), key);
  }
  const double us = checked_us(s.cost.eval_us(f) * c.cost_factor, s.name.c_str());
  cpu(t, us, Mode::kernel);
  if (!s.vmalloc_take.empty()) { // the module area: room, or ENOMEM
    const double kb = std::max(0.0, s.vmalloc_take.eval_us(f));
    if (cnt_.vmalloc_kb + kb > sc_.machine.module_area_mb * 1024.0) {
      cnt_.enomem++;
      return Outcome::failed_enomem;
    }
    cnt_.vmalloc_kb += kb;
    cnt_.vmalloc_peak_kb = std::max(cnt_.vmalloc_peak_kb, cnt_.vmalloc_kb);
    c.held.emplace_back(s.name, kb);
    rec_.vmalloc.emplace_back(plat_.now(), cnt_.vmalloc_kb);
  } else if (!s.vmalloc_release.empty()) {
    vm_release(c, s.vmalloc_release);
  }
  demand_[t.id] += us / speed;

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
      if (!wait_until_live(t, static_cast<size_t>(ks_.symbol_owner(c.m, rep)), s.wait_unlocked))
        return Outcome::failed_dep_timeout;
    } else if (r == ResolveResult::unknown_symbol) {
      if (plat_.debug_enabled())
        plat_.debug(w_.modules[c.m].name + ": Unknown symbol (owner " +
                    w_.modules[static_cast<size_t>(ks_.symbol_owner(c.m, rep))].name + " not on the module list)");
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
    cpu(t, checked_us(in.cpu_us * c.cost_factor, "module_init"), Mode::kernel);
    demand_[t.id] += in.cpu_us * c.cost_factor / speed;
    off_cpu(t, State::sleep, in.wait_ms * 1e-3 * c.wait_factor);
    rec_.loads[static_cast<size_t>(t.load)].init_end = plat_.now();
    break;
  }
  case Effect::live:
    if (c.listed) {
      ks_.mark_live(c.m);
      wake_all(live_waiters_[c.m]);
      wake_all(finish_waiters_[c.m]);
    }
    break;
  case Effect::add_unformed: // 3.8 add_unformed_module: wait while another loader has the name
    while (true) {
      if (ks_.state(c.m) == ModState::live)
        return Outcome::eexist;
      if (ks_.unformed(c.m) == 0 && ks_.state(c.m) == ModState::absent)
        break;
      wait_finished(t, c.m, "load of " + w_.modules[c.m].name + " by another loader (add_unformed_module)");
    }
    ks_.take_name(c.m);
    c.named = true;
    break;
  case Effect::vmap_purge: // claimed in purge_due(); the step's cost (and lock) is the purge
    break;
  case Effect::idempotent: // 6.4 idempotent finit_module: the first call's result, no work of our own
    if (ks_.in_flight(c.m) > 0) {
      while (ks_.in_flight(c.m) > 0)
        wait_finished(t, c.m, "load of " + w_.modules[c.m].name + " by another loader (idempotent finit_module)");
      return Outcome::eexist;
    }
    ks_.begin_flight(c.m);
    c.flying = true;
    break;
  }
  if (!s.wait.empty())
    off_cpu(t, State::sleep, checked_us(s.wait.eval_us(f) * c.wait_factor, s.name.c_str()) * 1e-6);
  return Outcome::loaded;
}

void BootProgram::vm_release(LoadCtx& c, const std::string& step) {
  for (auto it = c.held.begin(); it != c.held.end(); ++it)
    if (it->first == step) {
      cnt_.vmalloc_kb = std::max(0.0, cnt_.vmalloc_kb - it->second);
      cnt_.vmap_lazy_kb += it->second;
      c.held.erase(it);
      rec_.vmalloc.emplace_back(plat_.now(), cnt_.vmalloc_kb);
      return;
    }
}

bool BootProgram::purge_due() {
  // lazy_max_pages() = fls(num_online_cpus()) * 32 MiB of pages (mm/vmalloc.c); fls(n) is the
  // bit length of n. The area freed lazily is counted free at once here (the kernel keeps it
  // mapped until the purge, and purges before it fails an allocation): a documented approximation.
  int fls = 0;
  for (unsigned n = static_cast<unsigned>(std::max(1, sc_.machine.cores)); n; n >>= 1)
    fls++;
  if (cnt_.vmap_lazy_kb <= sc_.kernel.vmap_lazy_max_mb * 1024.0 * fls)
    return false;
  cnt_.vmap_lazy_kb = 0;
  cnt_.vmap_purges++;
  return true;
}

void BootProgram::wake_all(std::vector<Proc*>& waiters) {
  // Emptied before the first post: a post may run the woken process at once (SimGrid runs it
  // before its waker), and it may queue itself again on the same list.
  std::vector<Proc*> woken;
  woken.swap(waiters);
  for (Proc* w : woken)
    plat_.post(*w);
}

/// Sleeps until a load of `m` ends or `m` goes live, with module_mutex released if held (as
/// add_unformed_module and the 6.4 idempotent wait do); holds it again on return.
void BootProgram::wait_finished(Proc& t, size_t m, const std::string& what) {
  const bool relock = t.holds_lock;
  if (relock)
    plat_.unlock(t, 0);
  finish_waiters_[m].push_back(&t);
  t.waiting_for = what;
  plat_.cpu_block(t);
  rec_.set_state(t.id, State::dep_wait, plat_.now(), -1, t.module, t.step);
  plat_.wait(t, 0);
  t.waiting_for.clear();
  plat_.cpu_wake(t);
  if (relock)
    plat_.lock(t, 0);
}

/// use_module: the owner of a symbol is still in its init function; wait for it (holding
/// whatever the step holds, as 2.6.28-2.6.34 did, or with module_mutex released when the step
/// says wait_unlocked, as 2.6.35+), up to use_module_timeout_s.
bool BootProgram::wait_until_live(Proc& t, size_t owner, bool unlocked) {
  const bool relock = unlocked && t.holds_lock;
  if (relock)
    plat_.unlock(t, 0);
  const bool ok = wait_until_live(t, owner);
  if (relock)
    plat_.lock(t, 0);
  return ok;
}

bool BootProgram::wait_until_live(Proc& t, size_t owner) {
  live_waiters_[owner].push_back(&t);
  t.waiting_for = "init of module " + w_.modules[owner].name;
  plat_.cpu_block(t);
  const double since = plat_.now();
  rec_.set_state(t.id, State::dep_wait, since, -1, t.module, t.step);
  bool ok = plat_.wait(t, sc_.kernel.use_module_timeout_s); // timeout 0: wait forever
  if (t.holds_lock)
    cnt_.locked_off_cpu_s += plat_.now() - since;
  if (!ok) {
    auto& v = live_waiters_[owner];
    auto it = std::find(v.begin(), v.end(), &t);
    if (it != v.end())
      v.erase(it);
    else
      plat_.wait(t, 0); // woken at the same instant as the timeout: consume the token
  }
  t.waiting_for.clear();
  plat_.cpu_wake(t);
  if (!ok && plat_.debug_enabled())
    plat_.debug(rec_.tasks[t.id].name + ": gave up waiting for init of module " + w_.modules[owner].name);
  return ok && ks_.state(owner) == ModState::live;
}

} // namespace kmodsim
