// The sections of a scenario (calibration, machine, kernel, userspace; the workload is in
// config_workload.cpp), read from the merged document into typed structs. Every number is
// checked against its plausible range (kmodsim/limits.hpp, README "Ranges").
#include "config_doc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

namespace kmodsim::detail {

namespace fs = std::filesystem;

// --- calibration -----------------------------------------------------------------------------

ModuleInitCalib read_module_init(const Reader& r, bool sampled) {
  r.allow_keys({"cpu_fraction", "default", "modules"});
  ModuleInitCalib mi;
  r.required("cpu_fraction");
  mi.cpu_fraction = read_uncertain(r, "cpu_fraction", limits::kFraction, sampled);
  if (mi.cpu_fraction.unit.empty())
    mi.cpu_fraction.unit = "fraction";
  if (r.has("default")) {
    Reader d = r.child("default");
    d.allow_keys({"distribution", "median_us", "sigma", "source"});
    if (d.get_string("distribution", "lognormal") != "lognormal")
      d.child("distribution").fail("only 'lognormal' is supported");
    mi.has_default = true;
    mi.median_us = d.required("median_us").as_double();
    d.child("median_us").check_range(mi.median_us, limits::kInitCpuUs);
    mi.sigma = d.required("sigma").as_double();
    d.child("sigma").check_range(mi.sigma, limits::kLogSigma);
    mi.default_source = d.required("source").as_string();
  }
  if (r.has("modules")) {
    Reader ms = r.child("modules");
    for (const std::string& name : ms.keys()) {
      Reader m = ms.child(name);
      m.allow_keys({"us", "source"});
      ModuleInitCalib::Measured me;
      me.us = m.required("us").as_double();
      m.child("us").check_range(me.us, limits::kInitCpuUs);
      me.source = m.get_string("source", "");
      mi.modules[name] = me;
    }
  }
  return mi;
}

Calibration read_calibration(const Reader& r, bool sampled) {
  r.allow_keys({"schema_version", "name", "reference", "coefficients", "module_init"});
  check_schema(r);
  Calibration c;
  c.name = r.get_string("name", "");
  c.reference = r.get_string("reference", "");
  if (r.has("coefficients")) {
    Reader cs = r.child("coefficients");
    cs.expect_map();
    for (const std::string& key : cs.keys()) {
      Reader e = cs.child(key);
      const Coefficient co = read_uncertain(cs, key, limits::kCostUs, sampled, 0.0, false);
      c.coefficients[key] = co;
    }
  }
  if (r.has("module_init"))
    c.module_init = read_module_init(r.child("module_init"), sampled);
  return c;
}

/// A scalar cost: a literal number (>= 0) or the name of a calibration coefficient.
double read_cost_scalar(const Reader& r, const Calibration& cal, std::string* name) {
  if (!r.node().IsScalar())
    r.fail("expected a number or a calibration coefficient name");
  const std::string s = r.node().Scalar();
  double v;
  try {
    v = r.node().as<double>();
  } catch (const YAML::BadConversion&) {
    auto it = cal.coefficients.find(s);
    if (it == cal.coefficients.end()) {
      std::vector<std::string> names;
      for (const auto& kv : cal.coefficients)
        names.push_back(kv.first);
      std::string msg = "'" + s + "' is neither a number nor a coefficient of calibration '" + cal.name + "'";
      std::string dym = did_you_mean(s, names);
      if (!dym.empty())
        msg += " (did you mean '" + dym + "'?)";
      r.fail(msg);
    }
    if (name)
      *name = s;
    return it->second.value;
  }
  if (!std::isfinite(v))
    r.fail("expected a finite number");
  if (v < 0)
    r.fail("cost must be >= 0, got " + Reader::fmt_num(v));
  r.check_range(v, limits::kCostUs);
  return v;
}

double get_cost_scalar(const Reader& r, const std::string& key, const Calibration& cal, double def) {
  return r.has(key) ? read_cost_scalar(r.child(key), cal, nullptr) : def;
}

CostExpr read_cost(const Reader& r, const Calibration& cal) {
  CostExpr e;
  if (r.node().IsScalar()) { // shorthand: a constant
    CostTerm t;
    t.coef = read_cost_scalar(r, cal, &t.coef_name);
    e.terms.push_back(t);
    return e;
  }
  r.allow_keys(feature_names());
  for (const std::string& key : r.keys()) {
    CostTerm t;
    t.feature = feature_from_string(key);
    t.coef = read_cost_scalar(r.child(key), cal, &t.coef_name);
    e.terms.push_back(t);
  }
  return e;
}

// --- machine ---------------------------------------------------------------------------------

Machine read_machine(const Reader& r) {
  r.allow_keys({"schema_version", "name", "description", "cores", "ram_mb", "module_area_mb", "speed", "disk",
                "scheduler"});
  check_schema(r);
  Machine m;
  m.name = r.get_string("name", "machine");
  m.description = r.get_string("description", "");
  r.required("cores");
  m.cores = static_cast<int>(r.get_int("cores", 0, 1, limits::kMaxCores));
  m.speed = r.get_ranged("speed", 1.0, limits::kSpeed);
  m.ram_mb = r.get_double("ram_mb", 0.0, 0.0, 1e12);
  m.module_area_mb = r.get_double("module_area_mb", 1024.0, 0.0, 1e9);
  if (r.has("disk")) {
    Reader d = r.child("disk");
    d.allow_keys({"read_mbps", "latency_ms"});
    m.disk.read_mbps = d.get_ranged("read_mbps", 0.0, limits::kReadMbps, true);
    m.disk.latency_ms = d.get_ranged("latency_ms", 0.0, limits::kLatencyMs);
  }
  if (r.has("scheduler")) {
    Reader s = r.child("scheduler");
    s.allow_keys({"model", "slice_ms", "slice_scaling"});
    m.scheduler.model = s.get_enum("model", SchedulerModel::time_slice,
                                   {SchedulerModel::processor_sharing, SchedulerModel::time_slice,
                                    SchedulerModel::run_to_block});
    m.scheduler.slice_ms = s.get_ranged("slice_ms", 4.0, limits::kSliceMs);
    m.scheduler.slice_scaling = s.get_enum("slice_scaling", SliceScaling::none,
                                           {SliceScaling::none, SliceScaling::log, SliceScaling::log_capped});
  }
  return m;
}

// --- kernel ----------------------------------------------------------------------------------

constexpr int kMaxGroupDepth = 8; // the simulator interprets groups recursively on small actor stacks

/// The locks held around a step (the enclosing groups'), for the nesting rules.
struct Held {
  std::vector<std::size_t> ids; ///< lock ids (0 module_mutex)
  bool spinning = false;        ///< inside a spinlock: atomic context, nothing may sleep
};

/// A step's `lock:`: none, module_mutex, preempt_off, or a name under the kernel's `locks:`.
void read_step_lock(const Reader& r, const Kernel& k, Step& s) {
  if (!r.has("lock"))
    return;
  Reader l = r.child("lock");
  const std::string name = l.as_string();
  if (name == "none" || name == "module_mutex" || name == "preempt_off") {
    s.lock = name == "none" ? LockKind::none : name == "module_mutex" ? LockKind::module_mutex : LockKind::preempt_off;
    return;
  }
  std::vector<std::string> known = {"none", "module_mutex", "preempt_off"};
  for (std::size_t i = 0; i < k.locks.size(); ++i) {
    if (k.locks[i].name == name) {
      s.lock = LockKind::named;
      s.lock_id = i + 1;
      return;
    }
    known.push_back(k.locks[i].name);
  }
  std::string dym = did_you_mean(name, known);
  l.fail("unknown lock '" + name + "' (" + (dym.empty() ? "" : "did you mean '" + dym + "'? ") +
         "a lock other than module_mutex and preempt_off is declared under the kernel's locks:)");
}

/// `names`: the step names read so far in this pipeline, at every depth: a step is addressed by
/// its name (--set kernel.init_module.NAME...., vmalloc release, the outputs' step column).
Step read_step(const Reader& r, const Calibration& cal, const Kernel& k, const Held& enclosing,
               std::set<std::string>& names, int depth = 0) {
  if (depth >= kMaxGroupDepth)
    r.fail("groups nest deeper than " + std::to_string(kMaxGroupDepth) + " levels");
  r.allow_keys({"name", "lock", "repeat", "effect", "cost", "wait", "steps", "only_if", "wait_unlocked", "vmalloc"});
  Step s;
  s.name = r.required("name").as_string();
  if (s.name.empty() || s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                            std::string::npos)
    r.child("name").fail("step names use letters, digits, '_', '.' and '-' only");
  if (!names.insert(s.name).second)
    r.child("name").fail("a step named '" + s.name + "' comes earlier in this pipeline: step names are unique");
  if (r.has("only_if")) {
    Reader o = r.child("only_if");
    try {
      s.only_if = feature_from_string(o.as_string());
      s.has_only_if = true;
    } catch (const std::invalid_argument&) {
      std::string dym = did_you_mean(o.as_string(), feature_names());
      o.fail("unknown feature '" + o.as_string() + "'" + (dym.empty() ? "" : " (did you mean '" + dym + "'?)"));
    }
  }
  s.loc = {r.doc().origin(r.path()), r.node().Mark().line + 1, r.node().Mark().column + 1};
  read_step_lock(r, k, s);
  s.repeat = r.get_enum("repeat", Repeat::once, {Repeat::once, Repeat::per_undef_symbol, Repeat::per_export, Repeat::per_cpu});
  s.effect = r.get_enum("effect", Effect::none,
                        {Effect::none, Effect::duplicate_check, Effect::sysfs_claim, Effect::resolve_symbol, Effect::verify_exports,
                         Effect::list_add, Effect::init, Effect::live, Effect::add_unformed, Effect::idempotent,
                         Effect::vmap_purge});
  s.wait_unlocked = r.get_bool("wait_unlocked", false);
  if (r.has("vmalloc")) {
    Reader v = r.child("vmalloc");
    v.allow_keys({"take", "release"});
    if (v.has("take") == v.has("release"))
      v.fail("give either take (KB, an expression of the module's features) or release (the step that took it)");
    if (v.has("take"))
      s.vmalloc_take = read_cost(v.child("take"), cal);
    else
      s.vmalloc_release = v.child("release").as_string();
  }
  if (s.wait_unlocked && s.effect != Effect::resolve_symbol)
    r.child("wait_unlocked").fail("wait_unlocked applies to a resolve_symbol step only");
  if ((s.effect == Effect::add_unformed || s.effect == Effect::idempotent || s.effect == Effect::vmap_purge) &&
      s.repeat != Repeat::once)
    r.fail(std::string("effect ") + to_string(s.effect) + " runs once");
  Held inner = enclosing;
  if (s.takes_lock()) {
    const std::size_t id = s.lock_id;
    if (std::find(enclosing.ids.begin(), enclosing.ids.end(), id) != enclosing.ids.end())
      r.child("lock").fail(k.lock_name(id) + " is already held by an enclosing group (it is not recursive)");
    const bool spin = id > 0 && k.locks[id - 1].spinlock;
    if (enclosing.spinning && !spin)
      r.child("lock").fail(k.lock_name(id) + " may sleep, and an enclosing group holds a spinlock (atomic context)");
    inner.ids.push_back(id);
    inner.spinning = enclosing.spinning || spin;
  }
  if (inner.spinning && (r.has("wait") || (r.has("effect") && r.child("effect").as_string() != "none" &&
                                            r.child("effect").as_string() != "vmap_purge")))
    r.fail("a step under a spinlock (atomic context) can neither wait nor have an effect that may sleep");
  if (r.has("cost"))
    s.cost = read_cost(r.child("cost"), cal);
  if (r.has("wait"))
    s.wait = read_cost(r.child("wait"), cal);
  if (r.has("steps")) {
    Reader ss = r.child("steps");
    ss.expect_seq(1000);
    if (r.has("cost") || r.has("wait") || r.has("effect"))
      r.fail("a group (with 'steps') takes no cost, wait or effect of its own");
    for (size_t i = 0; i < ss.size(); ++i)
      s.steps.push_back(read_step(ss.at(i), cal, k, inner, names, depth + 1));
    if (s.steps.empty())
      ss.fail("a group needs at least one step");
  }
  if (s.effect == Effect::resolve_symbol && s.repeat != Repeat::per_undef_symbol)
    r.fail("effect resolve_symbol needs repeat: per_undef_symbol");
  if (s.effect == Effect::verify_exports && s.repeat != Repeat::once && s.repeat != Repeat::per_export)
    r.fail("effect verify_exports needs repeat: once or per_export");
  if (s.effect == Effect::init && s.repeat != Repeat::once)
    r.fail("effect init runs once");
  return s;
}

/// The effects in pipeline order (depth first), each with its step's name.
void effect_order(const std::vector<Step>& steps, std::vector<std::pair<Effect, std::string>>& out) {
  for (const auto& s : steps) {
    out.emplace_back(s.effect, s.name);
    effect_order(s.steps, out);
  }
}

/// Every vmalloc.release names an earlier step that takes (in pipeline order).
void check_vmalloc(const std::vector<Step>& steps, std::vector<std::string>& takers) {
  for (const auto& s : steps) {
    if (!s.vmalloc_release.empty() &&
        std::find(takers.begin(), takers.end(), s.vmalloc_release) == takers.end())
      throw ConfigError(fmt::format("{}:{}:{}: step '{}': vmalloc.release names '{}', which is no earlier step with "
                                    "vmalloc.take", s.loc.file, s.loc.line, s.loc.column, s.name, s.vmalloc_release));
    if (!s.vmalloc_take.empty())
      takers.push_back(s.name);
    check_vmalloc(s.steps, takers);
  }
}

/// `locks: {NAME: {kind: spinlock}, NAME: {kind: mutex, wakeup_us: .., adaptive_spin: .., handoff: ..}}`
std::vector<Kernel::Lock> read_locks(const Reader& r, const Calibration& cal) {
  std::vector<Kernel::Lock> locks;
  r.expect_map();
  for (const std::string& name : r.keys()) {
    Reader l = r.child(name);
    if (name == "none" || name == "module_mutex" || name == "preempt_off")
      l.fail("'" + name + "' is built in; name the kernel's other locks");
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                            std::string::npos)
      l.fail("lock names use letters, digits and '_' only");
    l.allow_keys({"kind", "wakeup_us", "adaptive_spin", "handoff"});
    Kernel::Lock lk;
    lk.name = name;
    const std::string kind = l.required("kind").as_string();
    if (kind == "spinlock") {
      if (l.has("wakeup_us") || l.has("adaptive_spin") || l.has("handoff"))
        l.fail("a spinlock's waiters spin in FIFO order: it takes no wakeup_us, adaptive_spin or handoff");
      lk.spinlock = true;
      lk.params.adaptive_spin = true;
      lk.params.handoff = true;
    } else if (kind == "mutex") {
      lk.params.wakeup_us = get_cost_scalar(l, "wakeup_us", cal, 0.0);
      lk.params.adaptive_spin = l.get_bool("adaptive_spin", false);
      lk.params.handoff = l.get_bool("handoff", false);
    } else {
      l.child("kind").fail("unknown lock kind '" + kind + "' (spinlock or mutex)");
    }
    locks.push_back(lk);
  }
  if (locks.size() > 64)
    r.fail("at most 64 locks besides module_mutex");
  return locks;
}

Kernel read_kernel(const Reader& r, const Calibration& cal) {
  r.allow_keys({"schema_version", "name", "description", "preemption", "mutex", "locks", "vmap_lazy_max_mb",
                "use_module_timeout_s", "init_module"});
  check_schema(r);
  Kernel k;
  k.name = r.get_string("name", "kernel");
  k.description = r.get_string("description", "");
  k.preemption = r.get_enum("preemption", Preemption::voluntary, {Preemption::voluntary, Preemption::full});
  if (r.has("mutex")) {
    Reader m = r.child("mutex");
    m.allow_keys({"wakeup_us", "adaptive_spin", "handoff"});
    k.mutex.wakeup_us = get_cost_scalar(m, "wakeup_us", cal, 0.0);
    k.mutex.adaptive_spin = m.get_bool("adaptive_spin", false);
    k.mutex.handoff = m.get_bool("handoff", false);
  }
  if (r.has("locks"))
    k.locks = read_locks(r.child("locks"), cal);
  k.use_module_timeout_s = r.get_ranged("use_module_timeout_s", 30.0, limits::kTimeoutS);
  k.vmap_lazy_max_mb = r.get_double("vmap_lazy_max_mb", 0.0, 0.0, 1e9);
  Reader steps = r.required("init_module");
  steps.expect_seq(1000);
  std::set<std::string> names;
  for (size_t i = 0; i < steps.size(); ++i)
    k.init_module.push_back(read_step(steps.at(i), cal, k, Held{}, names));
  std::vector<std::pair<Effect, std::string>> order; // every step's effect, in pipeline order
  effect_order(k.init_module, order);
  std::map<Effect, int> n;
  for (const auto& e : order)
    n[e.first]++;
  for (Effect e : {Effect::duplicate_check, Effect::sysfs_claim, Effect::list_add, Effect::init, Effect::live,
                   Effect::verify_exports, Effect::add_unformed, Effect::idempotent})
    if (n[e] > 1)
      steps.fail(std::string("effect ") + to_string(e) + " appears " + std::to_string(n[e]) + " times (at most once)");
  for (Effect e : {Effect::list_add, Effect::init, Effect::live})
    if (n[e] != 1)
      steps.fail(std::string("the pipeline needs exactly one step with effect ") + to_string(e));
  // every era links the module into the list, then runs its init, then marks it live: in another
  // order a loader would run an init of a module not yet listed, or mark one live before its init
  const Effect seq[] = {Effect::list_add, Effect::init, Effect::live};
  std::vector<std::pair<Effect, std::string>> got;
  for (const auto& e : order)
    if (std::find(std::begin(seq), std::end(seq), e.first) != std::end(seq))
      got.push_back(e);
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i].first != seq[i])
      steps.fail("step '" + got[i].second + "' (effect " + to_string(got[i].first) + ") comes before the step with "
                 "effect " + to_string(seq[i]) + ": the pipeline runs list_add, then init, then live");
  std::vector<std::string> takers;
  check_vmalloc(k.init_module, takers);
  if (n[Effect::vmap_purge] > 0 && !(k.vmap_lazy_max_mb > 0))
    steps.fail("a step with effect vmap_purge needs the kernel's vmap_lazy_max_mb (lazy_max_pages per fls(CPUs), MiB)");
  return k;
}

// --- coefficients with their uncertainty ----------------------------------------------------------

/// A number that may carry its uncertainty: `key: 7` or `key: {value: 7, ci95: [5, 9], source: ...}`.
Coefficient read_uncertain(const Reader& r, const std::string& key, const limits::Range& range, bool sampled,
                           double def, bool need_source) {
  Coefficient c;
  c.value = def;
  if (!r.has(key))
    return c;
  Reader e = r.child(key);
  if (e.node().IsScalar()) {
    c.value = e.as_double();
    e.check_range(c.value, range);
    return c;
  }
  e.allow_keys({"value", "unit", "source", "ci95"});
  c.value = e.required("value").as_double();
  e.child("value").check_range(c.value, range);
  c.unit = e.get_string("unit", "");
  c.source = need_source ? e.required("source").as_string() : e.get_string("source", "");
  if (e.has("ci95")) {
    Reader ci = e.child("ci95");
    ci.expect_seq();
    if (ci.size() != 2)
      ci.fail("expected [lo, hi]");
    c.ci_lo = ci.at(0).as_double();
    c.ci_hi = ci.at(1).as_double();
    ci.at(0).check_range(c.ci_lo, range);
    ci.at(1).check_range(c.ci_hi, range);
    if (c.ci_lo > c.ci_hi || (!sampled && !(c.ci_lo <= c.value && c.value <= c.ci_hi)))
      ci.fail("the interval [" + Reader::fmt_num(c.ci_lo) + ", " + Reader::fmt_num(c.ci_hi) +
              "] does not contain the value " + Reader::fmt_num(c.value));
  }
  return c;
}

// --- userspace, variability ------------------------------------------------------------------

/// udevd's limit on workers of an era (DOMAIN.md section 3), resolved against the machine.
int udev_children_max(const Reader& c, const Machine& m) {
  const std::string f = c.as_string();
  if (!f.empty() && (f[0] == '-' || f[0] == '+' || (f[0] >= '0' && f[0] <= '9'))) {
    const long long n = c.as_int(); // a number: not an integer is an error there
    if (n < 1 || n > 10000000)
      c.fail("must be 1 to 10^7, got " + std::to_string(n));
    return static_cast<int>(n);
  }
  static const std::vector<std::string> names = {"udev-2009", "udev-worker", "systemd-2015", "systemd"};
  if (std::find(names.begin(), names.end(), f) == names.end())
    c.fail_unknown(f, names);
  auto need_ram = [&] {
    if (m.ram_mb <= 0)
      c.fail("the '" + f + "' formula needs the machine's memory: set machine.ram_mb");
    return m.ram_mb;
  };
  if (f == "udev-2009") // udevd 2007-2009 (udev/udevd.c, main): max_childs = 128 + MemTotal MiB / 4
    return static_cast<int>(128 + std::floor(need_ram()) / 4);
  if (f == "udev-worker") // worker-based udevd: 128 + RAM_MB / 8
    return static_cast<int>(128 + need_ram() / 8);
  if (f == "systemd-2015") // systemd-udevd ~2015: 8 + 2 x CPUs
    return 8 + 2 * m.cores;
  // systemd-udevd today (src/udev/udev-manager.c): MIN3(2 x CPUs + 16, MAX(RAM / 128 MiB, 10),
  // WORKER_NUM_MAX = 2048)
  const double mem_limit = std::max(std::floor(need_ram() / 128), 10.0);
  return static_cast<int>(std::min({2.0 * m.cores + 16, mem_limit, 2048.0}));
}

Userspace read_userspace(const Reader& r, const Calibration& cal, const Machine& machine) {
  r.allow_keys({"udev", "modprobe"});
  Userspace u;
  if (r.has("udev")) {
    Reader d = r.child("udev");
    d.allow_keys({"children_max", "event_us", "spawn_us"});
    if (d.has("children_max")) {
      const int n = udev_children_max(d.child("children_max"), machine);
      if (n < 1 || n > 10000000)
        d.child("children_max").fail("must be 1 to 10^7, got " + std::to_string(n));
      u.udev.children_max = n;
    }
    u.udev.event_us = get_cost_scalar(d, "event_us", cal, 0.0);
    u.udev.spawn_us = get_cost_scalar(d, "spawn_us", cal, 0.0);
  }
  if (r.has("modprobe")) {
    Reader m = r.child("modprobe");
    m.allow_keys({"startup_us", "index_us_per_module", "check_us", "check_us_per_loaded", "loaded_check", "poll_ms",
                  "index", "index_lookup_us"});
    u.modprobe.index = m.get_enum("index", ModprobeIndex::text, {ModprobeIndex::text, ModprobeIndex::binary});
    u.modprobe.index_lookup_us = get_cost_scalar(m, "index_lookup_us", cal, 0.0);
    u.modprobe.loaded_check =
        m.get_enum("loaded_check", LoadedCheck::proc_modules, {LoadedCheck::proc_modules, LoadedCheck::sysfs, LoadedCheck::kmod});
    u.modprobe.poll_ms = m.get_ranged("poll_ms", 100.0, limits::kPollMs);
    u.modprobe.startup_us = get_cost_scalar(m, "startup_us", cal, 0.0);
    u.modprobe.index_us_per_module = get_cost_scalar(m, "index_us_per_module", cal, 0.0);
    u.modprobe.check_us = get_cost_scalar(m, "check_us", cal, 0.0);
    u.modprobe.check_us_per_loaded = get_cost_scalar(m, "check_us_per_loaded", cal, 0.0);
  }
  return u;
}

Variability read_variability(const Reader& v) {
  v.allow_keys({"cost_cv", "cost_noise", "cost_distribution", "init_wait_cv", "shuffle_uevents",
                "sample_coefficients"});
  Variability out;
  out.cost_noise = v.get_enum("cost_noise", CostNoise::per_load, {CostNoise::per_load, CostNoise::per_step});
  out.cost_distribution = v.get_enum("cost_distribution", CostDistribution::lognormal,
                                     {CostDistribution::lognormal, CostDistribution::exponential});
  out.cost_cv = v.get_double("cost_cv", out.cost_distribution == CostDistribution::exponential ? 1.0 : 0.0, 0.0, 10.0);
  if (out.cost_distribution == CostDistribution::exponential && out.cost_cv != 1.0)
    v.child("cost_cv").fail("an exponential cost has a coefficient of variation of 1: set cost_cv to 1 or leave it out");
  out.init_wait_cv = v.get_double("init_wait_cv", 0.0, 0.0, 10.0);
  out.shuffle_uevents = v.get_bool("shuffle_uevents", false);
  out.sample_coefficients = v.get_bool("sample_coefficients", false);
  return out;
}

Outputs read_outputs(const Reader& o) {
  o.allow_keys({"timeline", "trace"});
  Outputs out;
  out.timeline = o.get_bool("timeline", true);
  out.trace = o.get_bool("trace", false);
  return out;
}

} // namespace kmodsim::detail
