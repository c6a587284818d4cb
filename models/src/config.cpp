// Scenario loading: resolve file references, apply --set overrides, then read the merged YAML
// tree into typed structs (config_sections.cpp), validating as we go. Every error names
// file:line:col and key path (or the --set); no error text of yaml-cpp or std::filesystem
// reaches the user unwrapped.
#include "config_doc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <new>
#include <sstream>

namespace fs = std::filesystem;

namespace kmodsim {
using namespace detail;

namespace {

const std::vector<std::string> kSections = {"machine", "kernel", "workload", "calibration"};

/// Navigates (creating maps as needed) to the parent of the node at `path`; sequences take an
/// index or the `name` of an element. `canonical` receives the path with indices only (so
/// errors found later under it are attributed to the --set).
YAML::Node navigate(YAML::Node root, const std::string& path, const std::string& where, std::string& canonical) {
  YAML::Node cur = root;
  std::string done;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.'))
    parts.push_back(part);
  if (!path.empty() && path.back() == '.')
    parts.emplace_back();
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.empty())
      throw ConfigError(where + ": empty component in key path '" + path + "'");
    if (cur.IsSequence()) {
      YAML::Node next;
      std::string idx_s = p;
      bool numeric = std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (numeric) {
        if (p.size() > 9 || std::stoul(p) >= cur.size())
          throw ConfigError(where + ": index " + p + " out of range at '" + join(done, p) + "' (size " +
                            std::to_string(cur.size()) + ")");
        next = cur[std::stoul(p)];
      } else {
        bool found = false;
        for (size_t j = 0; j < cur.size() && !found; ++j)
          if (cur[j].IsMap() && cur[j]["name"].IsDefined() && cur[j]["name"].IsScalar() && cur[j]["name"].Scalar() == p) {
            next.reset(cur[j]);
            idx_s = std::to_string(j);
            found = true;
          }
        if (!found)
          throw ConfigError(where + ": no element named '" + p + "' in '" + done + "'");
      }
      if (i + 1 == parts.size())
        throw ConfigError(where + ": cannot replace a whole list element; set one of its keys");
      cur.reset(next);
      done = join(done, idx_s);
      continue;
    }
    if (!cur.IsMap() && !cur.IsNull())
      throw ConfigError(where + ": '" + done + "' is a scalar, cannot set a key under it");
    if (i + 1 == parts.size()) {
      canonical = join(done, p);
      return cur; // caller assigns cur[p]
    }
    YAML::Node next = cur[p];
    if (!next.IsDefined() || next.IsNull()) {
      const std::string& sub = parts[i + 1]; // an index or an element's name needs a list that exists
      if (!sub.empty() && std::all_of(sub.begin(), sub.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw ConfigError(where + ": '" + join(done, p) + "' is not a list in the files, so '" + sub +
                          "' cannot index it");
      cur[p] = YAML::Node(YAML::NodeType::Map);
      next = cur[p];
    }
    cur.reset(next);
    done = join(done, p);
  }
  throw ConfigError(where + ": empty key path");
}

/// The file a section reference names, relative to the file that names it.
std::string resolve_ref(const fs::path& dir, const std::string& ref) {
  return (fs::path(ref).is_absolute() ? fs::path(ref) : dir / ref).lexically_normal().string();
}

} // namespace

struct PreparedScenario {
  std::string file;
  Doc doc;
  YAML::Mark top_mark;
};

namespace {

std::shared_ptr<PreparedScenario> prepare_impl(const std::string& file, const std::vector<Override>& overrides) {
  YAML::Node top = load_yaml_file(file, "", YAML::Mark::null_mark(), "");
  const fs::path dir = fs::path(file).parent_path();
  auto prep = std::make_shared<PreparedScenario>();
  prep->file = file;
  prep->top_mark = top.Mark();
  Doc& doc = prep->doc;
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
    const std::string key = key_string(it->first, file, "");
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
    // Looked up through a const node: a non-const operator[] inserts the key it misses, and
    // `val` may be an alias of the very map this loop walks (`kernel: *top`, fuzz_config_sim):
    // the insertion freed the loop's iterator under it.
    const YAML::Node cval = val;
    if (cval.IsScalar()) {
      ref = cval.Scalar();
    } else if (cval.IsMap() && cval["file"].IsDefined()) {
      if (!cval["file"].IsScalar())
        fail_at(file, cval["file"].Mark(), key + ".file", "expected a file path");
      ref = cval["file"].Scalar();
      overlay = val;
    }
    if (ref.empty()) { // inline
      root[key] = val;
      continue;
    }
    const std::string resolved = resolve_ref(dir, ref);
    YAML::Node loaded = load_yaml_file(resolved, file, cval.IsScalar() ? cval.Mark() : cval["file"].Mark(),
                                       cval.IsScalar() ? key : key + ".file");
    doc.origins.emplace_back(key, resolved);
    if (overlay.IsDefined()) {
      YAML::Node rest_map(YAML::NodeType::Map);
      for (auto o = overlay.begin(); o != overlay.end(); ++o) {
        const std::string k = key_string(o->first, file, key);
        if (k != "file")
          rest_map[k] = o->second;
      }
      deep_merge(loaded, rest_map, key, file, doc);
    }
    root[key] = loaded;
  }
  for (const auto& [key, ref] : cli_refs) {
    const std::string where = "--set " + key + "=" + ref;
    const std::string resolved = fs::path(ref).lexically_normal().string();
    root[key] = load_yaml_file(resolved, where, YAML::Mark::null_mark(), key);
    doc.origins.emplace_back(key, resolved);
  }
  for (const auto& o : rest) {
    const std::string where = "--set " + o.path + "=" + o.value;
    YAML::Node value = parse_yaml(o.value, where);
    std::string canonical;
    YAML::Node parent = navigate(root, o.path, where, canonical);
    const std::string last = o.path.substr(o.path.rfind('.') == std::string::npos ? 0 : o.path.rfind('.') + 1);
    parent[last] = value;
    doc.origins.emplace_back(canonical, where);
  }
  doc.root = root;
  return prep;
}

/// Duplicate requests: a uevent with `repeat: K` (K per CPU with `per_cpu`) becomes K copies,
/// the first under its own name, the others named device#k, in place.
void expand_uevents(Workload& w, int cores, const Reader& r) {
  long long total = 0;
  for (const auto& u : w.uevents)
    total += u.repeat * (u.per_cpu ? cores : 1);
  if (total == static_cast<long long>(w.uevents.size()))
    return;
  if (total > limits::kMaxUevents)
    r.child("workload").fail(fmt::format("the uevents' repeats come to {} requests on {} cores (at most {})", total,
                                         cores, limits::kMaxUevents));
  std::vector<Uevent> out;
  out.reserve(static_cast<size_t>(total));
  for (const auto& u : w.uevents) {
    const long n = u.repeat * (u.per_cpu ? cores : 1);
    for (long k = 0; k < n; ++k) {
      Uevent c = u;
      c.repeat = 1;
      c.per_cpu = false;
      if (k > 0)
        c.device += "#" + std::to_string(k);
      out.push_back(std::move(c));
    }
  }
  w.uevents = std::move(out);
}

Scenario build_impl(const PreparedScenario& prep, std::optional<std::uint64_t> seed) {
  const std::string& file = prep.file;
  const Doc& doc = prep.doc;
  Reader r(doc, doc.root, "");
  r.allow_keys({"schema_version", "name", "description", "machine", "kernel", "workload", "calibration", "userspace",
                "variability", "outputs", "seed"});
  if (!r.has("schema_version"))
    fail_at(file, prep.top_mark, "", "missing required key 'schema_version' (this kmodsim reads 1)");
  check_schema(r);
  Scenario s;
  s.file = file;
  s.name = r.has("name") ? folder_name(r.child("name")) : fs::path(file).stem().string();
  s.seed = static_cast<std::uint64_t>(r.get_int("seed", 1, 0, INT64_MAX));
  if (seed)
    s.seed = *seed;
  for (const auto& k : kSections)
    if (!r.has(k))
      fail_at(file, prep.top_mark, "", "missing required key '" + k + "'");
  if (r.has("variability")) // before the costs: it may redraw the coefficients they name
    s.variability = read_variability(r.child("variability"));
  s.calibration = read_calibration(r.child("calibration"), s.variability.sample_coefficients);
  if (s.variability.sample_coefficients) {
    for (auto& [name, c] : s.calibration.coefficients)
      c.value = sample_coefficient(c, s.seed, name);
    auto& cf = s.calibration.module_init.cpu_fraction;
    cf.value = std::min(1.0, sample_coefficient(cf, s.seed, "module_init.cpu_fraction"));
  }
  s.machine = read_machine(r.child("machine"));
  s.kernel = read_kernel(r.child("kernel"), s.calibration);
  s.workload = read_workload(r.child("workload"), s.variability.sample_coefficients, s.seed);
  apply_module_init(s);
  expand_uevents(s.workload, s.machine.cores, r);
  if (r.has("userspace"))
    s.userspace = read_userspace(r.child("userspace"), s.calibration, s.machine);
  if (r.has("outputs"))
    s.outputs = read_outputs(r.child("outputs"));
  return s;
}

/// Runs a loader step; any exception that is not already a ConfigError becomes one line that
/// names `file` (never the raw text of a library).
template <class F> auto guard(const std::string& file, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const ConfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark, "", "YAML error: " + e.msg);
  } catch (const fs::filesystem_error& e) {
    throw ConfigError(file + ": " + (e.path1().empty() ? std::string() : e.path1().string() + ": ") +
                      e.code().message());
  } catch (const std::bad_alloc&) {
    throw ConfigError(file + ": out of memory while reading the config");
  } catch (const std::exception& e) {
    throw ConfigError(file + ": " + e.what());
  }
}

} // namespace

Override parse_override(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + text + ": expected KEY.PATH=VALUE");
  const std::string value = text.substr(eq + 1);
  if (value.find_first_not_of(" \t") == std::string::npos) // YAML reads it as null: the default, silently
    throw ConfigError("--set " + text + ": no value (leave the key out for its default)");
  return {text.substr(0, eq), value};
}

Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  return guard(path, [&] { return build_impl(*prepare_impl(path, overrides), std::nullopt); });
}

std::shared_ptr<const PreparedScenario> prepare_scenario(const std::string& path,
                                                         const std::vector<Override>& overrides) {
  return guard(path, [&] { return std::shared_ptr<const PreparedScenario>(prepare_impl(path, overrides)); });
}

Scenario build_scenario(const PreparedScenario& p, std::optional<std::uint64_t> seed) {
  return guard(p.file, [&] { return build_impl(p, seed); });
}

Calibration load_calibration_file(const std::string& path) {
  return guard(path, [&] {
    Doc doc;
    doc.root = load_yaml_file(path, "", YAML::Mark::null_mark(), "");
    doc.origins.emplace_back("", path);
    return read_calibration(Reader(doc, doc.root, ""));
  });
}

Workload load_workload_file(const std::string& path) {
  return guard(path, [&] {
    Doc doc;
    doc.root = load_yaml_file(path, "", YAML::Mark::null_mark(), "");
    doc.origins.emplace_back("", path);
    return read_workload(Reader(doc, doc.root, ""));
  });
}

} // namespace kmodsim
