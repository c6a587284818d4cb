// The fully resolved scenario as YAML: defaults filled in, coefficient names resolved to
// numbers (the names kept as comments). `kmodsim config` prints it; its SHA-256 is the run's
// config_sha256.
#include "kmodsim/config.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iterator>
#include <yaml-cpp/yaml.h>

namespace kmodsim {
namespace {

std::string num(double v) { return fmt::format("{}", v); }

/// A JSON string literal, which is also a YAML double-quoted scalar.
std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

void emit_cost(YAML::Emitter& e, const CostExpr& c) {
  e << YAML::Flow << YAML::BeginMap;
  for (const auto& t : c.terms) {
    e << YAML::Key << to_string(t.feature) << YAML::Value << num(t.coef);
  }
  e << YAML::EndMap;
  std::string names;
  for (const auto& t : c.terms)
    if (!t.coef_name.empty())
      names += (names.empty() ? "" : ", ") + std::string(to_string(t.feature)) + "=" + t.coef_name;
  if (!names.empty())
    e << YAML::Comment(names);
}

void emit_steps(YAML::Emitter& e, const std::vector<Step>& steps, const Kernel& k) {
  e << YAML::BeginSeq;
  for (const auto& s : steps) {
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << s.name;
    e << YAML::Key << "lock" << YAML::Value << (s.takes_lock() ? k.lock_name(s.lock_id) : to_string(s.lock));
    e << YAML::Key << "repeat" << YAML::Value << to_string(s.repeat);
    if (s.has_only_if)
      e << YAML::Key << "only_if" << YAML::Value << to_string(s.only_if);
    if (s.steps.empty()) {
      e << YAML::Key << "effect" << YAML::Value << to_string(s.effect);
      e << YAML::Key << "cost" << YAML::Value;
      emit_cost(e, s.cost);
      if (!s.wait.empty()) {
        e << YAML::Key << "wait" << YAML::Value;
        emit_cost(e, s.wait);
      }
      if (s.wait_unlocked) // listed only when set: configs from before it stay byte-identical
        e << YAML::Key << "wait_unlocked" << YAML::Value << true;
      if (!s.vmalloc_take.empty()) {
        e << YAML::Key << "vmalloc" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "take" << YAML::Value;
        emit_cost(e, s.vmalloc_take);
        e << YAML::EndMap;
      } else if (!s.vmalloc_release.empty()) {
        e << YAML::Key << "vmalloc" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "release"
          << YAML::Value << s.vmalloc_release << YAML::EndMap;
      }
    } else {
      e << YAML::Key << "steps" << YAML::Value;
      emit_steps(e, s.steps, k);
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

void emit_calibration(YAML::Emitter& e, const Calibration& c) {
  e << YAML::BeginMap;
  e << YAML::Key << "schema_version" << YAML::Value << 1;
  e << YAML::Key << "name" << YAML::Value << c.name;
  e << YAML::Key << "reference" << YAML::Value << c.reference;
  e << YAML::Key << "coefficients" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, co] : c.coefficients) {
    e << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "value" << YAML::Value
      << num(co.value) << YAML::Key << "unit" << YAML::Value << co.unit << YAML::Key << "source" << YAML::Value
      << co.source;
    if (co.has_ci())
      e << YAML::Key << "ci95" << YAML::Value << YAML::Flow << YAML::BeginSeq << num(co.ci_lo) << num(co.ci_hi)
        << YAML::EndSeq;
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  const ModuleInitCalib& mi = c.module_init;
  if (!mi.empty()) {
    e << YAML::Key << "module_init" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "cpu_fraction" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "value"
      << YAML::Value << num(mi.cpu_fraction.value) << YAML::Key << "source" << YAML::Value << mi.cpu_fraction.source;
    if (mi.cpu_fraction.has_ci())
      e << YAML::Key << "ci95" << YAML::Value << YAML::Flow << YAML::BeginSeq << num(mi.cpu_fraction.ci_lo)
        << num(mi.cpu_fraction.ci_hi) << YAML::EndSeq;
    e << YAML::EndMap;
    if (mi.has_default)
      e << YAML::Key << "default" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "median_us"
        << YAML::Value << num(mi.median_us) << YAML::Key << "sigma" << YAML::Value << num(mi.sigma) << YAML::Key
        << "source" << YAML::Value << mi.default_source << YAML::EndMap;
    if (!mi.modules.empty()) {
      e << YAML::Key << "modules" << YAML::Value << YAML::BeginMap;
      for (const auto& [name, me] : mi.modules)
        e << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "us" << YAML::Value
          << num(me.us) << YAML::Key << "source" << YAML::Value << me.source << YAML::EndMap;
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
}

} // namespace

std::string calibration_to_yaml(const Calibration& c) {
  YAML::Emitter e;
  emit_calibration(e, c);
  return std::string(e.c_str()) + "\n";
}

std::string to_yaml(const Scenario& s) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "schema_version" << YAML::Value << s.schema_version;
  e << YAML::Key << "name" << YAML::Value << s.name;
  e << YAML::Key << "seed" << YAML::Value << s.seed;

  const auto& m = s.machine;
  e << YAML::Key << "machine" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << m.name;
  e << YAML::Key << "cores" << YAML::Value << m.cores;
  if (m.ram_mb > 0) // listed only when given: configs from before the field stay byte-identical
    e << YAML::Key << "ram_mb" << YAML::Value << num(m.ram_mb);
  if (m.module_area_mb != 1024) // likewise: the default (x86-64 MODULES_LEN) is not listed
    e << YAML::Key << "module_area_mb" << YAML::Value << num(m.module_area_mb);
  e << YAML::Key << "speed" << YAML::Value << num(m.speed);
  e << YAML::Key << "disk" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "read_mbps" << YAML::Value
    << num(m.disk.read_mbps) << YAML::Key << "latency_ms" << YAML::Value << num(m.disk.latency_ms) << YAML::EndMap;
  e << YAML::Key << "scheduler" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "model" << YAML::Value
    << to_string(m.scheduler.model) << YAML::Key << "slice_ms" << YAML::Value << num(m.scheduler.slice_ms);
  if (m.scheduler.slice_scaling != SliceScaling::none) // listed only when given, as ram_mb
    e << YAML::Key << "slice_scaling" << YAML::Value << to_string(m.scheduler.slice_scaling);
  e << YAML::EndMap;
  e << YAML::EndMap;

  const auto& k = s.kernel;
  e << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << k.name;
  e << YAML::Key << "preemption" << YAML::Value << to_string(k.preemption);
  e << YAML::Key << "mutex" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "wakeup_us" << YAML::Value
    << num(k.mutex.wakeup_us) << YAML::Key << "adaptive_spin" << YAML::Value << k.mutex.adaptive_spin << YAML::Key << "handoff"
    << YAML::Value << k.mutex.handoff << YAML::EndMap;
  if (!k.locks.empty()) { // listed only when declared: configs from before locks stay byte-identical
    e << YAML::Key << "locks" << YAML::Value << YAML::BeginMap;
    for (const auto& l : k.locks) {
      e << YAML::Key << l.name << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "kind" << YAML::Value
        << (l.spinlock ? "spinlock" : "mutex");
      if (!l.spinlock)
        e << YAML::Key << "wakeup_us" << YAML::Value << num(l.params.wakeup_us) << YAML::Key << "adaptive_spin"
          << YAML::Value << l.params.adaptive_spin << YAML::Key << "handoff" << YAML::Value << l.params.handoff;
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  if (k.vmap_lazy_max_mb > 0)
    e << YAML::Key << "vmap_lazy_max_mb" << YAML::Value << num(k.vmap_lazy_max_mb);
  e << YAML::Key << "use_module_timeout_s" << YAML::Value << num(k.use_module_timeout_s);
  e << YAML::Key << "init_module" << YAML::Value;
  emit_steps(e, k.init_module, k);
  e << YAML::EndMap;

  const auto& u = s.userspace;
  e << YAML::Key << "userspace" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "udev" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "children_max"
    << YAML::Value << u.udev.children_max << YAML::Key << "event_us" << YAML::Value << num(u.udev.event_us)
    << YAML::Key << "spawn_us" << YAML::Value << num(u.udev.spawn_us) << YAML::EndMap;
  e << YAML::Key << "modprobe" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "startup_us"
    << YAML::Value << num(u.modprobe.startup_us) << YAML::Key << "index_us_per_module" << YAML::Value
    << num(u.modprobe.index_us_per_module) << YAML::Key << "check_us" << YAML::Value << num(u.modprobe.check_us)
    << YAML::Key << "check_us_per_loaded" << YAML::Value << num(u.modprobe.check_us_per_loaded) << YAML::Key
    << "loaded_check" << YAML::Value << to_string(u.modprobe.loaded_check) << YAML::Key << "poll_ms" << YAML::Value
    << num(u.modprobe.poll_ms);
  if (u.modprobe.index != ModprobeIndex::text) // listed only when not the default (byte-identical configs)
    e << YAML::Key << "index" << YAML::Value << to_string(u.modprobe.index) << YAML::Key << "index_lookup_us"
      << YAML::Value << num(u.modprobe.index_lookup_us);
  e << YAML::EndMap;
  e << YAML::EndMap;

  e << YAML::Key << "variability" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "cost_cv"
    << YAML::Value << num(s.variability.cost_cv) << YAML::Key << "init_wait_cv" << YAML::Value
    << num(s.variability.init_wait_cv) << YAML::Key << "shuffle_uevents" << YAML::Value
    << s.variability.shuffle_uevents << YAML::Key << "sample_coefficients" << YAML::Value
    << s.variability.sample_coefficients;
  // listed only when not the defaults, so that configs (and their hashes) from before these
  // options existed stay byte-identical
  if (s.variability.cost_noise != CostNoise::per_load)
    e << YAML::Key << "cost_noise" << YAML::Value << to_string(s.variability.cost_noise);
  if (s.variability.cost_distribution != CostDistribution::lognormal)
    e << YAML::Key << "cost_distribution" << YAML::Value << to_string(s.variability.cost_distribution);
  e << YAML::EndMap;
  e << YAML::Key << "outputs" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "timeline" << YAML::Value
    << s.outputs.timeline;
  if (s.outputs.trace) // listed only when on: configs from before the option stay byte-identical
    e << YAML::Key << "trace" << YAML::Value << true;
  e << YAML::EndMap;

  e << YAML::Key << "calibration" << YAML::Value;
  emit_calibration(e, s.calibration);

  const auto& w = s.workload;
  e << YAML::Key << "workload" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << w.name;
  e << YAML::Key << "kernel_exports" << YAML::Value << w.kernel_exports;
  e << YAML::Key << "index_modules" << YAML::Value << w.index_modules;
  e << YAML::EndMap; // workload (continued below)
  e << YAML::EndMap;
  // The module and uevent lists (thousands of rows for an imported tree) are written directly,
  // one flow mapping per row: YAML::Emitter took ~0.1 ms per row. They continue the `workload`
  // block mapping, the last key of the document, at its indentation; strings are JSON-quoted
  // (a JSON string is a valid YAML double-quoted scalar).
  std::string out(e.c_str());
  out += "\n  modules:";
  if (w.modules.empty())
    out += " []";
  for (const auto& mod : w.modules) {
    fmt::format_to(std::back_inserter(out),
                   "\n    - {{name: {}, size_kb: {}, init_kb: {}, file_kb: {}, undef_symbols: {}, dep_symbols: {}, "
                   "relocations: {}, exports: {}, percpu_kb: {}, deps: [",
                   quoted(mod.name), num(mod.size_kb), num(mod.init_kb), num(mod.file_kb), mod.undef_symbols,
                   mod.dep_symbols, mod.relocations, mod.exports, num(mod.percpu_kb));
    for (size_t i = 0; i < mod.deps.size(); ++i)
      out += (i ? ", " : "") + quoted(mod.deps[i]);
    if (mod.decompressed_kb > 0) // listed only when compressed: configs from before stay byte-identical
      fmt::format_to(std::back_inserter(out), "], decompressed_kb: {}, init: {{cpu_us: {}, wait_ms: {}}}}}",
                     num(mod.decompressed_kb), num(mod.init.cpu_us), num(mod.init.wait_ms));
    else
      fmt::format_to(std::back_inserter(out), "], init: {{cpu_us: {}, wait_ms: {}}}}}", num(mod.init.cpu_us),
                     num(mod.init.wait_ms));
  }
  out += "\n  uevents:";
  if (w.uevents.empty())
    out += " []";
  for (const auto& ev : w.uevents)
    fmt::format_to(std::back_inserter(out), "\n    - {{device: {}, module: {}}}", quoted(ev.device),
                   ev.module.empty() ? std::string("~") : quoted(ev.module));
  return out + "\n";
}

} // namespace kmodsim
