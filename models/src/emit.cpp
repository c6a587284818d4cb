// The fully resolved scenario as YAML: defaults filled in, coefficient names resolved to
// numbers (the names kept as comments). `kmodsim config` prints it; its SHA-256 is the run's
// config_sha256.
#include "kmodsim/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace kmodsim {
namespace {

std::string num(double v) { return fmt::format("{}", v); }

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

void emit_steps(YAML::Emitter& e, const std::vector<Step>& steps) {
  e << YAML::BeginSeq;
  for (const auto& s : steps) {
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << s.name;
    e << YAML::Key << "lock" << YAML::Value << to_string(s.lock);
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
    } else {
      e << YAML::Key << "steps" << YAML::Value;
      emit_steps(e, s.steps);
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

} // namespace

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
  e << YAML::Key << "speed" << YAML::Value << num(m.speed);
  e << YAML::Key << "disk" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "read_mbps" << YAML::Value
    << num(m.disk.read_mbps) << YAML::Key << "latency_ms" << YAML::Value << num(m.disk.latency_ms) << YAML::EndMap;
  e << YAML::Key << "scheduler" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "model" << YAML::Value
    << to_string(m.scheduler.model) << YAML::Key << "slice_ms" << YAML::Value << num(m.scheduler.slice_ms)
    << YAML::EndMap;
  e << YAML::EndMap;

  const auto& k = s.kernel;
  e << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << k.name;
  e << YAML::Key << "preemption" << YAML::Value << to_string(k.preemption);
  e << YAML::Key << "mutex" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "wakeup_us" << YAML::Value
    << num(k.mutex.wakeup_us) << YAML::Key << "adaptive_spin" << YAML::Value << k.mutex.adaptive_spin << YAML::Key << "handoff"
    << YAML::Value << k.mutex.handoff << YAML::EndMap;
  e << YAML::Key << "use_module_timeout_s" << YAML::Value << num(k.use_module_timeout_s);
  e << YAML::Key << "init_module" << YAML::Value;
  emit_steps(e, k.init_module);
  e << YAML::EndMap;

  const auto& u = s.userspace;
  e << YAML::Key << "userspace" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "udev" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "children_max"
    << YAML::Value << u.udev.children_max << YAML::Key << "event_us" << YAML::Value << num(u.udev.event_us)
    << YAML::Key << "spawn_us" << YAML::Value << num(u.udev.spawn_us) << YAML::EndMap;
  e << YAML::Key << "modprobe" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "startup_us"
    << YAML::Value << num(u.modprobe.startup_us) << YAML::Key << "index_us_per_module" << YAML::Value
    << num(u.modprobe.index_us_per_module) << YAML::Key << "check_us" << YAML::Value << num(u.modprobe.check_us)
    << YAML::Key << "check_us_per_loaded" << YAML::Value << num(u.modprobe.check_us_per_loaded) << YAML::EndMap;
  e << YAML::EndMap;

  e << YAML::Key << "variability" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "cost_cv"
    << YAML::Value << num(s.variability.cost_cv) << YAML::Key << "init_wait_cv" << YAML::Value
    << num(s.variability.init_wait_cv) << YAML::Key << "shuffle_uevents" << YAML::Value
    << s.variability.shuffle_uevents << YAML::EndMap;
  e << YAML::Key << "outputs" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "timeline" << YAML::Value
    << s.outputs.timeline << YAML::EndMap;

  e << YAML::Key << "calibration" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << s.calibration.name;
  e << YAML::Key << "reference" << YAML::Value << s.calibration.reference;
  e << YAML::Key << "coefficients" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, c] : s.calibration.coefficients) {
    e << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "value" << YAML::Value
      << num(c.value) << YAML::Key << "unit" << YAML::Value << c.unit << YAML::Key << "source" << YAML::Value
      << c.source << YAML::EndMap;
  }
  e << YAML::EndMap << YAML::EndMap;

  const auto& w = s.workload;
  e << YAML::Key << "workload" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << w.name;
  e << YAML::Key << "kernel_exports" << YAML::Value << w.kernel_exports;
  e << YAML::Key << "index_modules" << YAML::Value << w.index_modules;
  e << YAML::Key << "modules" << YAML::Value << YAML::BeginSeq;
  for (const auto& mod : w.modules) {
    e << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << mod.name;
    e << YAML::Key << "size_kb" << YAML::Value << num(mod.size_kb);
    e << YAML::Key << "init_kb" << YAML::Value << num(mod.init_kb);
    e << YAML::Key << "file_kb" << YAML::Value << num(mod.file_kb);
    e << YAML::Key << "undef_symbols" << YAML::Value << mod.undef_symbols;
    e << YAML::Key << "dep_symbols" << YAML::Value << mod.dep_symbols;
    e << YAML::Key << "relocations" << YAML::Value << mod.relocations;
    e << YAML::Key << "exports" << YAML::Value << mod.exports;
    e << YAML::Key << "percpu_kb" << YAML::Value << num(mod.percpu_kb);
    e << YAML::Key << "deps" << YAML::Value << YAML::Flow << mod.deps;
    e << YAML::Key << "init" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "cpu_us" << YAML::Value
      << num(mod.init.cpu_us) << YAML::Key << "wait_ms" << YAML::Value << num(mod.init.wait_ms) << YAML::EndMap;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "uevents" << YAML::Value << YAML::BeginSeq;
  for (const auto& ev : w.uevents) {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "device" << YAML::Value << ev.device << YAML::Key << "module"
      << YAML::Value;
    if (ev.module.empty())
      e << YAML::Null;
    else
      e << ev.module;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

} // namespace kmodsim
