// The workload section of a scenario: the modules and uevents, as YAML lists or as TSV files
// (workload_tsv.hpp), with the checks they share; every number within its plausible range
// (kmodsim/limits.hpp, README "Ranges").
#include "config_doc.hpp"
#include "workload_tsv.hpp"
#include "kmodsim/depgraph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_map>

namespace kmodsim::detail {

namespace fs = std::filesystem;

void check_module(const Module& m, const std::function<void(const char* key, const std::string& msg)>& fail) {
  if (m.name.empty())
    fail("name", "module name is empty");
  if (!plain_name(m.name))
    fail("name", "module names use letters, digits and '_.+@-' only, at most 255 characters");
  if (m.init_kb > m.size_kb)
    fail("init_kb", "init_kb exceeds size_kb");
  if (m.dep_symbols > m.undef_symbols)
    fail("dep_symbols", "dep_symbols exceeds undef_symbols");
  if (m.dep_symbols > 0 && m.deps.empty())
    fail("dep_symbols", "dep_symbols > 0 but the module has no deps");
  for (size_t i = 0; i < m.deps.size(); ++i)
    if (std::find(m.deps.begin(), m.deps.begin() + static_cast<std::ptrdiff_t>(i), m.deps[i]) != m.deps.begin() + static_cast<std::ptrdiff_t>(i))
      fail("deps", "dependency '" + m.deps[i] + "' is listed twice");
}

std::string duplicate_module_message(const std::string& name) { return "duplicate module '" + name + "'"; }

std::string unknown_dep_message(const std::string& module, const std::string& dep, const std::vector<std::string>& names) {
  std::string msg = "module '" + module + "' depends on unknown module '" + dep + "'";
  const std::string dym = did_you_mean(dep, names);
  if (!dym.empty())
    msg += " (did you mean '" + dym + "'?)";
  return msg;
}

std::string self_dep_message(const std::string& dep) { return "module '" + dep + "' depends on itself"; }

std::vector<std::string> module_names(const std::vector<Module>& modules) {
  std::vector<std::string> names;
  names.reserve(modules.size());
  for (const auto& m : modules)
    names.push_back(m.name);
  return names;
}

namespace {

/// A workload's TSV file (`modules_tsv`, `uevents_tsv`), relative to the workload's own file.
std::string tsv_path(const Reader& r, const Reader& t) {
  const std::string origin = r.doc().origin(t.path()); // a file, or the text of a --set
  const fs::path dir = origin.rfind("--set", 0) == 0 ? fs::path() : fs::path(origin).parent_path();
  const fs::path ref(t.as_string());
  return (ref.is_absolute() ? ref : dir / ref).lexically_normal().string();
}

std::string read_tsv(const Reader& t, const std::string& file) {
  std::string err;
  std::string text = read_config_text(file, err);
  if (!err.empty())
    t.fail("cannot open '" + file + "': " + err);
  return text;
}

/// The workload's `modules` list, in YAML.
void read_module_list(const Reader& r, const Reader& mods, Workload& w, std::unordered_map<std::string, size_t>& index) {
  mods.expect_seq(limits::kMaxModules);
  for (size_t i = 0; i < mods.size(); ++i) {
    Reader m = mods.at(i);
    m.allow_keys({"name", "size_kb", "init_kb", "file_kb", "decompressed_kb", "undef_symbols", "dep_symbols", "relocations", "exports",
                  "percpu_kb", "deps", "init"});
    Module mod;
    mod.name = m.required("name").as_string();
    mod.loc = {r.doc().origin(m.path()), m.node().Mark().line + 1, m.node().Mark().column + 1};
    mod.size_kb = m.get_ranged("size_kb", 0.0, limits::kSizeKb);
    mod.init_kb = m.get_ranged("init_kb", 0.0, limits::kSizeKb);
    mod.file_kb = m.get_ranged("file_kb", 0.0, limits::kSizeKb);
    mod.decompressed_kb = m.get_ranged("decompressed_kb", 0.0, limits::kSizeKb);
    mod.undef_symbols = m.get_int("undef_symbols", 0, 0, limits::kMaxSymbols);
    mod.dep_symbols = m.get_int("dep_symbols", 0, 0, limits::kMaxSymbols);
    mod.relocations = m.get_int("relocations", 0, 0, limits::kMaxRelocations);
    mod.exports = m.get_int("exports", 0, 0, limits::kMaxSymbols);
    mod.percpu_kb = m.get_ranged("percpu_kb", 0.0, limits::kSizeKb);
    if (m.has("deps")) {
      Reader d = m.child("deps");
      d.expect_seq(limits::kMaxDepsPerModule);
      for (size_t j = 0; j < d.size(); ++j)
        mod.deps.push_back(d.at(j).as_string());
    }
    if (m.has("init")) {
      Reader in = m.child("init");
      in.allow_keys({"cpu_us", "wait_ms"});
      mod.init.cpu_us = in.get_ranged("cpu_us", 0.0, limits::kInitCpuUs);
      mod.init.wait_ms = in.get_ranged("wait_ms", 0.0, limits::kInitWaitMs);
    }
    check_module(mod, [&m](const char* key, const std::string& msg) { m.child(key).fail(msg); });
    if (!index.emplace(mod.name, i).second)
      m.child("name").fail(duplicate_module_message(mod.name));
    w.modules.push_back(std::move(mod));
  }
  for (size_t i = 0; i < w.modules.size(); ++i)
    for (size_t j = 0; j < w.modules[i].deps.size(); ++j) {
      const auto& d = w.modules[i].deps[j];
      if (!index.count(d))
        mods.at(i).child("deps").at(j).fail(unknown_dep_message(w.modules[i].name, d, module_names(w.modules)));
      if (d == w.modules[i].name)
        mods.at(i).child("deps").at(j).fail(self_dep_message(d));
    }
}

} // namespace

Workload read_workload(const Reader& r, bool sample, std::uint64_t seed) {
  r.allow_keys({"schema_version", "name", "provenance", "kernel_exports", "index_modules", "scale", "modules",
                "modules_tsv", "uevents", "uevents_tsv"});
  check_schema(r);
  Workload w;
  w.name = r.get_string("name", "workload");
  w.provenance = r.get_string("provenance", "");
  const limits::Range counts{0, 1e8, "entries"};
  const Coefficient ke = read_uncertain(r, "kernel_exports", counts, sample), im = read_uncertain(r, "index_modules", counts, sample);
  w.kernel_exports = std::llround(sample ? sample_coefficient(ke, seed, "workload.kernel_exports") : ke.value);
  w.index_modules = std::llround(sample ? sample_coefficient(im, seed, "workload.index_modules") : im.value);
  double scale_size = 1, scale_symbols = 1, scale_relocations = 1;
  if (r.has("scale")) {
    Reader sc = r.child("scale");
    sc.allow_keys({"size", "symbols", "relocations"});
    const limits::Range factor{0.01, 100, "(a factor)"};
    auto get = [&](const char* k) {
      const Coefficient c = read_uncertain(sc, k, factor, sample, 1.0);
      return sample ? sample_coefficient(c, seed, std::string("workload.scale.") + k) : c.value;
    };
    scale_size = get("size");
    scale_symbols = get("symbols");
    scale_relocations = get("relocations");
  }
  std::unordered_map<std::string, size_t> index;
  if (r.has("modules_tsv")) { // the fast path for big workloads (workload_tsv.hpp)
    Reader t = r.child("modules_tsv");
    if (r.has("modules"))
      t.fail("give the modules either as a list (modules) or as a TSV file (modules_tsv), not both");
    const std::string file = tsv_path(r, t);
    w.modules = parse_modules_tsv(read_tsv(t, file), file);
    for (size_t i = 0; i < w.modules.size(); ++i)
      index.emplace(w.modules[i].name, i);
  } else {
    read_module_list(r, r.required("modules"), w, index);
  }
  const std::vector<std::string> names = module_names(w.modules); // "did you mean" for the uevents
  for (auto& mod : w.modules) {
    if (scale_size != 1 || scale_symbols != 1 || scale_relocations != 1) { // another era's module (scale)
      mod.size_kb *= scale_size;
      mod.init_kb *= scale_size;
      mod.file_kb *= scale_size;
      mod.decompressed_kb *= scale_size;
      mod.percpu_kb *= scale_size;
      mod.undef_symbols = std::llround(static_cast<double>(mod.undef_symbols) * scale_symbols);
      mod.dep_symbols = std::min<std::int64_t>(mod.undef_symbols, std::llround(static_cast<double>(mod.dep_symbols) * scale_symbols));
      mod.exports = std::llround(static_cast<double>(mod.exports) * scale_symbols);
      mod.relocations = std::llround(static_cast<double>(mod.relocations) * scale_relocations);
    }
  }
  if (r.has("uevents_tsv")) { // the fast path for big workloads (workload_tsv.hpp)
    Reader t = r.child("uevents_tsv");
    if (r.has("uevents"))
      t.fail("give the uevents either as a list (uevents) or as a TSV file (uevents_tsv), not both");
    const std::string file = tsv_path(r, t);
    w.uevents = parse_uevents_tsv(read_tsv(t, file), file, index, names);
  } else if (r.has("uevents")) {
    Reader ev = r.child("uevents");
    ev.expect_seq(limits::kMaxUevents);
    for (size_t i = 0; i < ev.size(); ++i) {
      Reader e = ev.at(i);
      e.allow_keys({"device", "module", "repeat", "per_cpu"});
      Uevent u;
      u.device = e.get_string("device", "");
      u.repeat = static_cast<long>(e.get_int("repeat", 1, 1, limits::kMaxUevents));
      u.per_cpu = e.get_bool("per_cpu", false);
      u.module = e.given("module") ? e.child("module").as_string() : ""; // null: no module matches
      u.loc = {r.doc().origin(e.path()), e.node().Mark().line + 1, e.node().Mark().column + 1};
      if (!u.module.empty() && !index.count(u.module))
        e.child("module").fail(unknown_uevent_module(u.module, names));
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
    const Module& m = w.modules[cycle[0]];
    if (r.has("modules_tsv")) // its deps field: the module's line, col 1
      throw ConfigError(fmt::format("{}:{}:{}: workload.modules_tsv: deps: dependency cycle: {}", m.loc.file, m.loc.line,
                                    m.loc.column, p));
    r.child("modules").at(cycle[0]).child("deps").fail("dependency cycle: " + p);
  }
  return w;
}

} // namespace kmodsim::detail
