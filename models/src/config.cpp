// Scenario loading: resolve file references, apply --set overrides, then read the merged YAML
// tree into typed structs, validating as we go. Every error names file:line:col and key path.
#include "kmodsim/config.hpp"
#include "kmodsim/depgraph.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace fs = std::filesystem;

namespace kmodsim {
namespace {

constexpr int kSchemaVersion = 1;

// ---------------------------------------------------------------------------------------------
// The merged document: one YAML tree, and for each key path the file it came from.

struct Doc {
  YAML::Node root;
  std::vector<std::pair<std::string, std::string>> origins; // (path prefix, file); later wins
  std::map<std::string, YAML::Mark> key_marks; // where a key was written, for keys copied into new maps

  const std::string& origin(const std::string& path) const {
    static const std::string unknown = "<config>";
    const std::string* best = &unknown;
    size_t best_len = 0;
    bool found = false;
    for (const auto& [prefix, file] : origins) {
      bool match = prefix.empty() || path == prefix ||
                   (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                    path[prefix.size()] == '.');
      if (match && (!found || prefix.size() >= best_len)) {
        best = &file;
        best_len = prefix.size();
        found = true;
      }
    }
    return *best;
  }
};

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

[[noreturn]] void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& path,
                          const std::string& msg) {
  std::ostringstream os;
  os << file;
  if (file.rfind("--set", 0) != 0 && !mark.is_null() && mark.line >= 0)
    os << ":" << mark.line + 1 << ":" << mark.column + 1;
  os << ": ";
  if (!path.empty())
    os << path << ": ";
  os << msg;
  throw ConfigError(os.str());
}

YAML::Node load_yaml_file(const std::string& file, const std::string& referrer, const YAML::Mark& mark,
                          const std::string& path) {
  std::ifstream in(file);
  if (!in) {
    if (referrer.empty())
      throw ConfigError(file + ": cannot open file: " + (fs::exists(file) ? "permission denied" : "no such file"));
    fail_at(referrer, mark, path, "cannot open '" + file + "': " + (fs::exists(file) ? "permission denied" : "no such file"));
  }
  try {
    YAML::Node n = YAML::Load(in);
    if (!n.IsMap())
      fail_at(file, n.Mark(), "", "expected a mapping at the top of the file");
    return n;
  } catch (const YAML::ParserException& e) {
    fail_at(file, e.mark, "", "YAML syntax error: " + e.msg);
  }
}

/// Deep-merge `over` into `base` (maps merge key by key; anything else replaces).
void deep_merge(YAML::Node base, const YAML::Node& over, const std::string& path, const std::string& file, Doc& doc) {
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    const std::string sub = join(path, key);
    YAML::Node b = base[key];
    doc.key_marks[sub] = it->first.Mark();
    if (b.IsDefined() && b.IsMap() && it->second.IsMap()) {
      deep_merge(b, it->second, sub, file, doc);
    } else {
      base[key] = it->second;
      doc.origins.emplace_back(sub, file);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Typed reading with validation.

class Reader {
public:
  Reader(const Doc& doc, YAML::Node node, std::string path) : doc_(doc), node_(std::move(node)), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  const Doc& doc() const { return doc_; }
  [[noreturn]] void fail(const std::string& msg) const { fail_at(doc_.origin(path_), node_.Mark(), path_, msg); }

  bool has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull(); }
  Reader child(const std::string& key) const { return Reader(doc_, node_[key], join(path_, key)); }
  Reader at(size_t i) const { return Reader(doc_, node_[i], join(path_, std::to_string(i))); }
  size_t size() const { return node_.size(); }

  void expect_map() const {
    if (!node_.IsMap())
      fail("expected a mapping");
  }
  void expect_seq() const {
    if (!node_.IsSequence())
      fail("expected a list");
  }

  /// Unknown keys are errors, with a "did you mean".
  void allow_keys(const std::vector<std::string>& allowed) const {
    expect_map();
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string msg = "unknown key '" + key + "'";
        std::string dym = did_you_mean(key, allowed);
        if (!dym.empty())
          msg += " (did you mean '" + dym + "'?)";
        YAML::Mark mark = it->first.Mark();
        auto km = doc_.key_marks.find(join(path_, key));
        if (mark.is_null() && km != doc_.key_marks.end())
          mark = km->second;
        fail_at(doc_.origin(join(path_, key)), mark, join(path_, key), msg);
      }
    }
  }

  Reader required(const std::string& key) const {
    expect_map();
    if (!has(key))
      fail("missing required key '" + key + "'");
    return child(key);
  }

  double as_double() const {
    if (!node_.IsScalar())
      fail("expected a number");
    try {
      double v = node_.as<double>();
      if (!std::isfinite(v))
        fail("expected a finite number, got '" + node_.Scalar() + "'");
      return v;
    } catch (const YAML::BadConversion&) {
      fail("expected a number, got '" + node_.Scalar() + "'");
    }
  }
  long long as_int() const {
    if (!node_.IsScalar())
      fail("expected an integer");
    try {
      return node_.as<long long>();
    } catch (const YAML::BadConversion&) {
      fail("expected an integer, got '" + node_.Scalar() + "'");
    }
  }
  bool as_bool() const {
    if (!node_.IsScalar())
      fail("expected true or false");
    try {
      return node_.as<bool>();
    } catch (const YAML::BadConversion&) {
      fail("expected true or false, got '" + node_.Scalar() + "'");
    }
  }
  std::string as_string() const {
    if (!node_.IsScalar())
      fail("expected a string");
    return node_.Scalar();
  }

  double get_double(const std::string& key, double def, double lo, double hi = INFINITY) const {
    if (!has(key))
      return def;
    Reader r = child(key);
    double v = r.as_double();
    if (v < lo)
      r.fail("must be >= " + fmt_num(lo) + ", got " + fmt_num(v));
    if (v > hi)
      r.fail("must be <= " + fmt_num(hi) + ", got " + fmt_num(v));
    return v;
  }
  long long get_int(const std::string& key, long long def, long long lo, long long hi) const {
    if (!has(key))
      return def;
    Reader r = child(key);
    long long v = r.as_int();
    if (v < lo)
      r.fail("must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
    if (v > hi)
      r.fail("must be <= " + std::to_string(hi) + ", got " + std::to_string(v));
    return v;
  }
  std::string get_string(const std::string& key, const std::string& def) const {
    return has(key) ? child(key).as_string() : def;
  }
  bool get_bool(const std::string& key, bool def) const { return has(key) ? child(key).as_bool() : def; }

  template <class E>
  E get_enum(const std::string& key, E def, const std::vector<E>& values) const {
    if (!has(key))
      return def;
    Reader r = child(key);
    std::string s = r.as_string();
    std::vector<std::string> names;
    for (E e : values) {
      if (s == to_string(e))
        return e;
      names.emplace_back(to_string(e));
    }
    std::string msg = "unknown value '" + s + "'; valid: ";
    for (size_t i = 0; i < names.size(); ++i)
      msg += (i ? ", " : "") + names[i];
    std::string dym = did_you_mean(s, names);
    if (!dym.empty())
      msg += " (did you mean '" + dym + "'?)";
    r.fail(msg);
  }

  static std::string fmt_num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  }

private:
  const Doc& doc_;
  YAML::Node node_;
  std::string path_;
};

void check_schema(const Reader& r) {
  if (!r.has("schema_version"))
    return; // optional in included files; required at scenario level (checked there)
  long long v = r.child("schema_version").as_int();
  if (v != kSchemaVersion)
    r.child("schema_version").fail("unsupported schema_version " + std::to_string(v) + " (this kmodsim reads " +
                                    std::to_string(kSchemaVersion) + ")");
}

// --- calibration -----------------------------------------------------------------------------

Calibration read_calibration(const Reader& r) {
  r.allow_keys({"schema_version", "name", "reference", "coefficients"});
  check_schema(r);
  Calibration c;
  c.name = r.get_string("name", "");
  c.reference = r.get_string("reference", "");
  if (r.has("coefficients")) {
    Reader cs = r.child("coefficients");
    cs.expect_map();
    for (auto it = cs.node().begin(); it != cs.node().end(); ++it) {
      const std::string key = it->first.as<std::string>();
      Reader e = cs.child(key);
      Coefficient co;
      if (e.node().IsScalar()) {
        co.value = e.as_double();
      } else {
        e.allow_keys({"value", "unit", "source"});
        co.value = e.required("value").as_double();
        co.unit = e.get_string("unit", "");
        co.source = e.get_string("source", "");
      }
      if (co.value < 0)
        e.fail("coefficient must be >= 0, got " + Reader::fmt_num(co.value));
      c.coefficients[key] = co;
    }
  }
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
  for (auto it = r.node().begin(); it != r.node().end(); ++it) {
    const std::string key = it->first.as<std::string>();
    CostTerm t;
    t.feature = feature_from_string(key);
    t.coef = read_cost_scalar(r.child(key), cal, &t.coef_name);
    e.terms.push_back(t);
  }
  return e;
}

// --- machine ---------------------------------------------------------------------------------

Machine read_machine(const Reader& r) {
  r.allow_keys({"schema_version", "name", "description", "cores", "speed", "disk", "scheduler"});
  check_schema(r);
  Machine m;
  m.name = r.get_string("name", "machine");
  m.description = r.get_string("description", "");
  m.cores = static_cast<int>(r.get_int("cores", 0, 1, 65536));
  if (!r.has("cores"))
    r.fail("missing required key 'cores'");
  m.speed = r.get_double("speed", 1.0, 1e-6);
  if (m.speed <= 0)
    r.child("speed").fail("must be > 0");
  if (r.has("disk")) {
    Reader d = r.child("disk");
    d.allow_keys({"read_mbps", "latency_ms"});
    m.disk.read_mbps = d.get_double("read_mbps", 0.0, 0.0);
    m.disk.latency_ms = d.get_double("latency_ms", 0.0, 0.0);
  }
  if (r.has("scheduler")) {
    Reader s = r.child("scheduler");
    s.allow_keys({"model", "slice_ms"});
    m.scheduler.model = s.get_enum("model", SchedulerModel::time_slice,
                                   {SchedulerModel::processor_sharing, SchedulerModel::time_slice,
                                    SchedulerModel::run_to_block});
    m.scheduler.slice_ms = s.get_double("slice_ms", 4.0, 1e-6);
  }
  return m;
}

// --- kernel ----------------------------------------------------------------------------------

constexpr int kMaxGroupDepth = 8; // the simulator interprets groups recursively on small actor stacks

Step read_step(const Reader& r, const Calibration& cal, LockKind enclosing, int depth = 0) {
  if (depth >= kMaxGroupDepth)
    r.fail("groups nest deeper than " + std::to_string(kMaxGroupDepth) + " levels");
  r.allow_keys({"name", "lock", "repeat", "effect", "cost", "wait", "steps", "only_if"});
  Step s;
  s.name = r.required("name").as_string();
  if (s.name.empty() || s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                            std::string::npos)
    r.child("name").fail("step names use letters, digits, '_', '.' and '-' only");
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
  s.lock = r.get_enum("lock", LockKind::none, {LockKind::none, LockKind::module_mutex, LockKind::preempt_off});
  s.repeat = r.get_enum("repeat", Repeat::once, {Repeat::once, Repeat::per_undef_symbol, Repeat::per_export, Repeat::per_cpu});
  s.effect = r.get_enum("effect", Effect::none,
                        {Effect::none, Effect::duplicate_check, Effect::sysfs_claim, Effect::resolve_symbol, Effect::verify_exports,
                         Effect::list_add, Effect::init, Effect::live});
  if (s.lock == LockKind::module_mutex && enclosing == LockKind::module_mutex)
    r.child("lock").fail("module_mutex is already held by an enclosing group (it is not recursive)");
  if (r.has("cost"))
    s.cost = read_cost(r.child("cost"), cal);
  if (r.has("wait"))
    s.wait = read_cost(r.child("wait"), cal);
  if (r.has("steps")) {
    Reader ss = r.child("steps");
    ss.expect_seq();
    if (r.has("cost") || r.has("wait") || r.has("effect"))
      r.fail("a group (with 'steps') takes no cost, wait or effect of its own");
    LockKind inner = s.lock == LockKind::none ? enclosing : s.lock;
    for (size_t i = 0; i < ss.size(); ++i)
      s.steps.push_back(read_step(ss.at(i), cal, inner, depth + 1));
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

void count_effects(const std::vector<Step>& steps, std::map<Effect, int>& n) {
  for (const auto& s : steps) {
    n[s.effect]++;
    count_effects(s.steps, n);
  }
}

Kernel read_kernel(const Reader& r, const Calibration& cal) {
  r.allow_keys({"schema_version", "name", "description", "preemption", "mutex", "use_module_timeout_s", "init_module"});
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
  k.use_module_timeout_s = r.get_double("use_module_timeout_s", 30.0, 0.0);
  Reader steps = r.required("init_module");
  steps.expect_seq();
  for (size_t i = 0; i < steps.size(); ++i)
    k.init_module.push_back(read_step(steps.at(i), cal, LockKind::none));
  std::map<Effect, int> n;
  count_effects(k.init_module, n);
  for (Effect e : {Effect::duplicate_check, Effect::sysfs_claim, Effect::list_add, Effect::init, Effect::live,
                   Effect::verify_exports})
    if (n[e] > 1)
      steps.fail(std::string("effect ") + to_string(e) + " appears " + std::to_string(n[e]) + " times (at most once)");
  for (Effect e : {Effect::list_add, Effect::init, Effect::live})
    if (n[e] != 1)
      steps.fail(std::string("the pipeline needs exactly one step with effect ") + to_string(e));
  return k;
}

// --- workload --------------------------------------------------------------------------------

Workload read_workload(const Reader& r) {
  r.allow_keys({"schema_version", "name", "provenance", "kernel_exports", "index_modules", "modules", "uevents"});
  check_schema(r);
  Workload w;
  w.name = r.get_string("name", "workload");
  w.provenance = r.get_string("provenance", "");
  w.kernel_exports = r.get_int("kernel_exports", 0, 0, 100000000);
  w.index_modules = r.get_int("index_modules", 0, 0, 100000000);
  Reader mods = r.required("modules");
  mods.expect_seq();
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < mods.size(); ++i) {
    Reader m = mods.at(i);
    m.allow_keys({"name", "size_kb", "init_kb", "file_kb", "undef_symbols", "dep_symbols", "relocations", "exports",
                  "percpu_kb", "deps", "init"});
    Module mod;
    mod.name = m.required("name").as_string();
    if (mod.name.empty())
      m.child("name").fail("module name is empty");
    mod.loc = {r.doc().origin(m.path()), m.node().Mark().line + 1, m.node().Mark().column + 1};
    mod.size_kb = m.get_double("size_kb", 0.0, 0.0);
    mod.init_kb = m.get_double("init_kb", 0.0, 0.0);
    if (mod.init_kb > mod.size_kb)
      m.child("init_kb").fail("init_kb exceeds size_kb");
    mod.file_kb = m.get_double("file_kb", 0.0, 0.0);
    mod.undef_symbols = m.get_int("undef_symbols", 0, 0, 10000000);
    mod.dep_symbols = m.get_int("dep_symbols", 0, 0, 10000000);
    if (mod.dep_symbols > mod.undef_symbols)
      m.child("dep_symbols").fail("dep_symbols exceeds undef_symbols");
    mod.relocations = m.get_int("relocations", 0, 0, 1000000000);
    mod.exports = m.get_int("exports", 0, 0, 10000000);
    mod.percpu_kb = m.get_double("percpu_kb", 0.0, 0.0);
    if (m.has("deps")) {
      Reader d = m.child("deps");
      d.expect_seq();
      for (size_t j = 0; j < d.size(); ++j)
        mod.deps.push_back(d.at(j).as_string());
    }
    if (mod.dep_symbols > 0 && mod.deps.empty())
      m.child("dep_symbols").fail("dep_symbols > 0 but the module has no deps");
    if (m.has("init")) {
      Reader in = m.child("init");
      in.allow_keys({"cpu_us", "wait_ms"});
      mod.init.cpu_us = in.get_double("cpu_us", 0.0, 0.0);
      mod.init.wait_ms = in.get_double("wait_ms", 0.0, 0.0);
    }
    if (!index.emplace(mod.name, i).second)
      m.child("name").fail("duplicate module '" + mod.name + "'");
    w.modules.push_back(std::move(mod));
  }
  // references
  std::vector<std::string> names;
  for (const auto& m : w.modules)
    names.push_back(m.name);
  for (size_t i = 0; i < w.modules.size(); ++i)
    for (size_t j = 0; j < w.modules[i].deps.size(); ++j) {
      const auto& d = w.modules[i].deps[j];
      if (!index.count(d)) {
        std::string msg = "module '" + w.modules[i].name + "' depends on unknown module '" + d + "'";
        std::string dym = did_you_mean(d, names);
        if (!dym.empty())
          msg += " (did you mean '" + dym + "'?)";
        mods.at(i).child("deps").at(j).fail(msg);
      }
      if (d == w.modules[i].name)
        mods.at(i).child("deps").at(j).fail("module '" + d + "' depends on itself");
    }
  if (r.has("uevents")) {
    Reader ev = r.child("uevents");
    ev.expect_seq();
    for (size_t i = 0; i < ev.size(); ++i) {
      Reader e = ev.at(i);
      e.allow_keys({"device", "module"});
      Uevent u;
      u.device = e.get_string("device", "");
      u.module = e.has("module") ? e.child("module").as_string() : "";
      u.loc = {r.doc().origin(e.path()), e.node().Mark().line + 1, e.node().Mark().column + 1};
      if (!u.module.empty() && !index.count(u.module)) {
        std::string msg = "uevent requests unknown module '" + u.module + "'";
        std::string dym = did_you_mean(u.module, names);
        if (!dym.empty())
          msg += " (did you mean '" + dym + "'?)";
        e.child("module").fail(msg);
      }
      w.uevents.push_back(std::move(u));
    }
  }
  // cycles: reported with the full path
  DepGraph g(w);
  auto cycle = g.find_cycle();
  if (!cycle.empty()) {
    std::string p;
    for (size_t i = 0; i < cycle.size(); ++i)
      p += (i ? " -> " : "") + w.modules[cycle[i]].name;
    p += " -> " + w.modules[cycle[0]].name;
    mods.at(cycle[0]).child("deps").fail("dependency cycle: " + p);
  }
  return w;
}

// --- userspace, variability ------------------------------------------------------------------

Userspace read_userspace(const Reader& r, const Calibration& cal) {
  r.allow_keys({"udev", "modprobe"});
  Userspace u;
  if (r.has("udev")) {
    Reader d = r.child("udev");
    d.allow_keys({"children_max", "event_us", "spawn_us"});
    u.udev.children_max = static_cast<int>(d.get_int("children_max", 64, 1, 10000000));
    u.udev.event_us = get_cost_scalar(d, "event_us", cal, 0.0);
    u.udev.spawn_us = get_cost_scalar(d, "spawn_us", cal, 0.0);
  }
  if (r.has("modprobe")) {
    Reader m = r.child("modprobe");
    m.allow_keys({"startup_us", "index_us_per_module", "check_us", "check_us_per_loaded"});
    u.modprobe.startup_us = get_cost_scalar(m, "startup_us", cal, 0.0);
    u.modprobe.index_us_per_module = get_cost_scalar(m, "index_us_per_module", cal, 0.0);
    u.modprobe.check_us = get_cost_scalar(m, "check_us", cal, 0.0);
    u.modprobe.check_us_per_loaded = get_cost_scalar(m, "check_us_per_loaded", cal, 0.0);
  }
  return u;
}

// --- references and overrides ----------------------------------------------------------------

const std::vector<std::string> kSections = {"machine", "kernel", "workload", "calibration"};

/// Navigates (creating maps as needed) to the node at `path`; sequences take an index or the
/// `name` of an element.
YAML::Node navigate(YAML::Node root, const std::string& path, const std::string& where) {
  YAML::Node cur = root;
  std::string done;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.'))
    parts.push_back(part);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.empty())
      throw ConfigError(where + ": empty component in key path '" + path + "'");
    if (cur.IsSequence()) {
      YAML::Node next;
      bool numeric = std::all_of(p.begin(), p.end(), ::isdigit);
      if (numeric) {
        size_t idx = std::stoul(p);
        if (idx >= cur.size())
          throw ConfigError(where + ": index " + p + " out of range at '" + join(done, p) + "' (size " +
                            std::to_string(cur.size()) + ")");
        next = cur[idx];
      } else {
        bool found = false;
        for (size_t j = 0; j < cur.size() && !found; ++j)
          if (cur[j].IsMap() && cur[j]["name"].IsDefined() && cur[j]["name"].Scalar() == p) {
            next.reset(cur[j]);
            found = true;
          }
        if (!found)
          throw ConfigError(where + ": no element named '" + p + "' in '" + done + "'");
      }
      cur.reset(next);
    } else {
      if (!cur.IsMap() && !cur.IsNull())
        throw ConfigError(where + ": '" + done + "' is a scalar, cannot set a key under it");
      if (i + 1 == parts.size())
        return cur; // caller assigns cur[p]
      YAML::Node next = cur[p];
      if (!next.IsDefined() || next.IsNull()) {
        cur[p] = YAML::Node(YAML::NodeType::Map);
        next = cur[p];
      }
      cur.reset(next);
    }
    done = join(done, p);
  }
  return cur;
}

} // namespace

Override parse_override(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + text + ": expected KEY.PATH=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  const std::string file = path;
  YAML::Node top = load_yaml_file(file, "", YAML::Mark::null_mark(), "");
  const fs::path dir = fs::path(file).parent_path();
  Doc doc;
  doc.origins.emplace_back("", file);

  // File references given on the command line (--set kernel=path) are relative to the cwd.
  std::map<std::string, std::string> cli_refs;
  std::vector<Override> rest;
  for (const auto& o : overrides) {
    if (std::find(kSections.begin(), kSections.end(), o.path) != kSections.end() &&
        o.value.find_first_of("{}:\n") == std::string::npos)
      cli_refs[o.path] = o.value;
    else
      rest.push_back(o);
  }

  YAML::Node root(YAML::NodeType::Map);
  for (auto it = top.begin(); it != top.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    YAML::Node val = it->second;
    doc.key_marks[key] = it->first.Mark();
    bool is_section = std::find(kSections.begin(), kSections.end(), key) != kSections.end();
    if (!is_section || cli_refs.count(key)) {
      if (!cli_refs.count(key))
        root[key] = val;
      continue;
    }
    std::string ref;
    YAML::Node overlay;
    if (val.IsScalar()) {
      ref = val.Scalar();
    } else if (val.IsMap() && val["file"].IsDefined()) {
      if (!val["file"].IsScalar())
        fail_at(file, val["file"].Mark(), key + ".file", "expected a file path");
      ref = val["file"].Scalar();
      overlay = val;
    }
    if (ref.empty()) { // inline
      root[key] = val;
      continue;
    }
    std::string resolved = (fs::path(ref).is_absolute() ? fs::path(ref) : dir / ref).lexically_normal().string();
    YAML::Node loaded = load_yaml_file(resolved, file, val.IsScalar() ? val.Mark() : val["file"].Mark(),
                                       val.IsScalar() ? key : key + ".file");
    doc.origins.emplace_back(key, resolved);
    if (overlay.IsDefined()) {
      YAML::Node rest_map(YAML::NodeType::Map);
      for (auto o = overlay.begin(); o != overlay.end(); ++o)
        if (o->first.as<std::string>() != "file")
          rest_map[o->first.as<std::string>()] = o->second;
      deep_merge(loaded, rest_map, key, file, doc);
    }
    root[key] = loaded;
  }
  for (const auto& [key, ref] : cli_refs) {
    const std::string where = "--set " + key + "=" + ref;
    std::string resolved = fs::path(ref).lexically_normal().string();
    root[key] = load_yaml_file(resolved, where, YAML::Mark::null_mark(), key);
    doc.origins.emplace_back(key, resolved);
  }
  for (const auto& o : rest) {
    const std::string where = "--set " + o.path + "=" + o.value;
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::ParserException& e) {
      throw ConfigError(where + ": YAML syntax error in value: " + e.msg);
    }
    YAML::Node parent = navigate(root, o.path, where);
    const std::string last = o.path.substr(o.path.rfind('.') == std::string::npos ? 0 : o.path.rfind('.') + 1);
    if (parent.IsSequence()) {
      throw ConfigError(where + ": cannot replace a whole list element; set one of its keys");
    }
    parent[last] = value;
    doc.origins.emplace_back(o.path, where);
  }
  doc.root = root;

  Reader r(doc, root, "");
  r.allow_keys({"schema_version", "name", "description", "machine", "kernel", "workload", "calibration", "userspace",
                "variability", "outputs", "seed"});
  if (!r.has("schema_version"))
    r.fail("missing required key 'schema_version' (this kmodsim reads " + std::to_string(kSchemaVersion) + ")");
  check_schema(r);
  Scenario s;
  s.file = file;
  s.name = r.get_string("name", fs::path(file).stem().string());
  s.seed = static_cast<std::uint64_t>(r.get_int("seed", 1, 0, INT64_MAX));
  for (const auto& k : kSections)
    if (!r.has(k))
      r.fail("missing required key '" + k + "'");
  s.calibration = read_calibration(r.child("calibration"));
  s.machine = read_machine(r.child("machine"));
  s.kernel = read_kernel(r.child("kernel"), s.calibration);
  s.workload = read_workload(r.child("workload"));
  if (r.has("userspace"))
    s.userspace = read_userspace(r.child("userspace"), s.calibration);
  if (r.has("variability")) {
    Reader v = r.child("variability");
    v.allow_keys({"cost_cv", "init_wait_cv", "shuffle_uevents"});
    s.variability.cost_cv = v.get_double("cost_cv", 0.0, 0.0, 10.0);
    s.variability.init_wait_cv = v.get_double("init_wait_cv", 0.0, 0.0, 10.0);
    s.variability.shuffle_uevents = v.get_bool("shuffle_uevents", false);
  }
  if (r.has("outputs")) {
    Reader o = r.child("outputs");
    o.allow_keys({"timeline"});
    s.outputs.timeline = o.get_bool("timeline", true);
  }
  return s;
}

Workload load_workload_file(const std::string& path) {
  Doc doc;
  doc.root = load_yaml_file(path, "", YAML::Mark::null_mark(), "");
  doc.origins.emplace_back("", path);
  return read_workload(Reader(doc, doc.root, ""));
}

} // namespace kmodsim
