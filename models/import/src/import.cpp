// import_tree(): from a depmod-indexed module tree to a Workload. See import.hpp.

#include "kmodsim/import/import.hpp"

#include "import_feed.hpp"
#include "tree.hpp"

#include "kmodsim/import/decompress.hpp"
#include "kmodsim/import/elf.hpp"
#include "kmodsim/import/limits.hpp"
#include "kmodsim/import/safe_io.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace kmodsim::import {
namespace fs = std::filesystem;
using namespace detail;

namespace {

/// One uevent of the workload, before it becomes a kmodsim::Uevent.
struct Resolved {
  std::string device;
  std::size_t module = SIZE_MAX; // tree index; SIZE_MAX = no match
  std::size_t line = 0;
  std::string file; // "" = the uevent file of the import
};

/// The boot list of a feed (/proc/modules): modules without a modules.dep line are skipped and
/// counted (a module built out of tree and loaded by hand, a tree updated since the boot).
void feed_boot_list(const Tree& tree, const MachineFeed& feed, std::vector<std::size_t>& boot,
                    std::vector<std::size_t>& boot_lines, ImportReport& report) {
  const BootList list =
      guarded(feed.boot_source, [&] { return parse_boot_list(feed.boot_text, feed.boot_source); });
  std::vector<std::string> unknown;
  for (const BootListEntry& e : list.modules) {
    const auto it = tree.by_name.find(e.name);
    if (it == tree.by_name.end()) {
      unknown.push_back(e.name);
      continue;
    }
    boot.push_back(it->second);
    boot_lines.push_back(e.line);
  }
  feed.report->loaded_modules = list.modules.size();
  feed.report->loaded_not_in_tree = unknown.size();
  if (!unknown.empty()) {
    report.warnings.push_back(feed.boot_source + ": " + std::to_string(unknown.size()) +
                              " loaded module(s) not in " + tree.dep_file +
                              ", left out: " + join_names(unknown));
  }
}

/// The uevents of a feed: one per modalias and module to load (every match, as udev's kmod
/// builtin loads them), or one with no module.
void feed_uevents(const Tree& tree, const MachineFeed& feed, std::vector<Resolved>& resolved,
                  ImportReport& report) {
  ThisMachineReport& r = *feed.report;
  std::set<std::string> outside; // matched, but not in modules.dep
  std::set<std::string> refused;
  for (const MachineRequest& q : feed.requests) {
    const AliasMatches m = feed.resolve(q.modalias);
    ++r.modaliases;
    std::vector<std::size_t> hits;
    for (const std::string& name : m.modules) {
      const auto it = tree.by_name.find(name);
      if (it == tree.by_name.end()) {
        outside.insert(name);
      } else {
        hits.push_back(it->second);
      }
    }
    if (!m.error.empty()) {
      ++r.modaliases_refused;
      if (refused.size() < 10) refused.insert(q.file + ": " + m.error);
    } else if (hits.size() == 1) {
      ++r.modaliases_one;
    } else if (hits.size() > 1) {
      ++r.modaliases_several;
      r.extra_uevents += hits.size() - 1;
    } else if (!m.modules.empty()) {
      ++r.modaliases_not_in_tree;
    } else if (!m.blacklisted.empty()) {
      ++r.modaliases_blacklisted;
    } else if (!m.builtin.empty()) {
      ++r.modaliases_builtin;
    } else {
      ++r.modaliases_unmatched;
    }
    if (hits.empty()) resolved.push_back({q.modalias, SIZE_MAX, 1, q.file});
    for (std::size_t h : hits) resolved.push_back({q.modalias, h, 1, q.file});
  }
  if (!outside.empty()) {
    report.warnings.push_back("modaliases matched module(s) without a line in " + tree.dep_file +
                              ", not loaded: " +
                              join_names(std::vector<std::string>(outside.begin(), outside.end())));
  }
  for (const std::string& e : refused) report.warnings.push_back("libkmod refused " + e);
}

/// Loaded modules that nothing of the workload loads (no modalias requests them or a module
/// depending on them): systemd-modules-load, the kernel's request_module(), a user. Each gets
/// a uevent "boot-list:NAME", oldest first (the order they were loaded: /proc/modules lists the
/// newest first), except those that another such module loads as a dependency.
void feed_boot_requests(const Tree& tree, const MachineFeed& feed,
                        const std::vector<std::size_t>& boot,
                        const std::vector<std::size_t>& boot_lines, std::vector<Resolved>& resolved) {
  std::vector<bool> loaded(tree.modules.size(), false); // by the uevents, with dependencies
  for (const Resolved& u : resolved) {
    if (u.module == SIZE_MAX) continue;
    loaded[u.module] = true;
    for (std::size_t d : tree.modules[u.module].deps) loaded[d] = true; // modules.dep: transitive
  }
  std::vector<bool> orphan(tree.modules.size(), false);
  for (std::size_t i : boot) orphan[i] = !loaded[i];
  std::vector<bool> dep_of_orphan(tree.modules.size(), false);
  for (std::size_t i : boot) {
    if (!orphan[i]) continue;
    for (std::size_t d : tree.modules[i].deps) dep_of_orphan[d] = true;
  }
  for (std::size_t k = boot.size(); k-- > 0;) {
    const std::size_t i = boot[k];
    if (!orphan[i] || dep_of_orphan[i]) continue;
    resolved.push_back({"boot-list:" + tree.modules[i].name, i, boot_lines[k], feed.boot_source});
    ++feed.report->boot_requests;
  }
}

} // namespace

static kmodsim::Workload import_tree_unguarded(const ImportOptions& options, const MachineFeed* feed,
                                               ImportReport& report) {
  report = ImportReport{};
  {
    const FileKind kind = input_file_kind(options.modules_dir);
    if (kind == FileKind::missing) {
      throw ImportError::in_file(options.modules_dir, "not found (the modules directory)");
    }
    if (kind != FileKind::directory) {
      throw ImportError::in_file(options.modules_dir,
                                 std::string("is ") + file_kind_name(kind) + ", not a directory");
    }
  }
  const std::uint64_t max_file = options.max_file_bytes;
  const Tree tree = load_tree(options.modules_dir, max_file);
  check_acyclic(tree);
  report.modules_in_tree = tree.modules.size();

  // modules.softdep: parsed for validation and counted; the workload schema has no soft
  // dependencies.
  const std::string softdep_file = join(options.modules_dir, "modules.softdep");
  if (const std::optional<std::string> text = read_optional(softdep_file, max_file)) {
    report.softdeps =
        guarded(softdep_file, [&] { return parse_modules_softdep(*text, softdep_file); }).size();
  }

  // Boot list.
  std::vector<std::size_t> boot; // tree indices, list order
  std::vector<std::size_t> boot_lines;
  std::vector<bool> in_boot(tree.modules.size(), false);
  const bool have_boot = feed != nullptr || !options.boot_list.empty();
  if (feed != nullptr) {
    feed_boot_list(tree, *feed, boot, boot_lines, report);
    for (std::size_t i : boot) in_boot[i] = true;
    report.boot_list_modules = boot.size();
  } else if (!options.boot_list.empty()) {
    const std::string text = read_regular_file(options.boot_list, max_file);
    const BootList list =
        guarded(options.boot_list, [&] { return parse_boot_list(text, options.boot_list); });
    if (list.modules.empty()) // it imported no module at all, silently
      throw ImportError(options.boot_list + ": lists no module (lsmod output or /proc/modules text expected)");
    for (const BootListEntry& e : list.modules) {
      const auto it = tree.by_name.find(e.name);
      if (it == tree.by_name.end()) {
        throw ImportError::at_line(options.boot_list, e.line,
                                   "module '" + e.name + "' is not in " + tree.dep_file +
                                       " (built into the kernel, or a different kernel?)");
      }
      boot.push_back(it->second);
      boot_lines.push_back(e.line);
      in_boot[it->second] = true;
    }
    report.boot_list_modules = boot.size();
  }

  // Uevent list, resolved through modules.alias (a feed: through libkmod).
  std::vector<Resolved> resolved;
  if (feed != nullptr) {
    feed_uevents(tree, *feed, resolved, report);
  } else if (!options.uevents.empty()) {
    const std::string uevent_text = read_regular_file(options.uevents, max_file);
    const std::vector<UeventRequest> requests =
        guarded(options.uevents, [&] { return parse_uevent_list(uevent_text, options.uevents); });
    const std::string alias_file = join(options.modules_dir, "modules.alias");
    const std::optional<std::string> alias_text = read_optional(alias_file, max_file);
    if (!alias_text) {
      throw ImportError::in_file(alias_file, "not found (needed to resolve " + options.uevents +
                                                 "); run `" + depmod_hint(options.modules_dir) +
                                                 "`");
    }
    const AliasMatcher matcher = guarded(
        alias_file, [&] { return AliasMatcher(parse_modules_alias(*alias_text, alias_file)); });
    report.aliases = matcher.entries().size();
    std::set<std::string> unknown_alias_modules; // named by modules.alias, not in modules.dep
    for (const AliasEntry& a : matcher.entries()) {
      if (tree.by_name.count(normalize_module_name(a.module)) == 0) {
        unknown_alias_modules.insert(a.module);
      }
    }
    for (const std::string& m : unknown_alias_modules) {
      report.warnings.push_back(alias_file + ": aliases of module '" + m +
                                "', which is not in modules.dep, are ignored");
    }
    for (const UeventRequest& r : requests) {
      Resolved u{r.modalias, SIZE_MAX, r.line, ""};
      // modprobe looks a name up as a module name before it tries the aliases.
      const auto direct = tree.by_name.find(normalize_module_name(r.modalias));
      if (r.modalias.find(':') == std::string::npos && direct != tree.by_name.end()) {
        u.module = direct->second;
      } else {
        for (std::size_t hit : matcher.match(r.modalias)) {
          const AliasEntry& a = matcher.entries()[hit];
          const auto it = tree.by_name.find(normalize_module_name(a.module));
          if (it == tree.by_name.end()) continue; // warned about above
          if (u.module == SIZE_MAX) u.module = it->second; // first match
          if (in_boot[it->second]) {                       // ... unless a boot-list one matches
            u.module = it->second;
            break;
          }
        }
      }
      resolved.push_back(std::move(u));
    }
  } else if (!options.boot_list.empty()) {
    for (std::size_t k = 0; k < boot.size(); ++k) {
      resolved.push_back({"boot-list:" + tree.modules[boot[k]].name, boot[k], boot_lines[k], ""});
    }
  }

  // The modules of the workload.
  std::vector<bool> selected(tree.modules.size(), !have_boot);
  if (have_boot) {
    // Adds the dependencies of everything on `work` that is not selected yet.
    auto close = [&](std::vector<std::size_t> work) {
      while (!work.empty()) {
        const std::size_t m = work.back();
        work.pop_back();
        for (std::size_t d : tree.modules[m].deps) {
          if (!selected[d]) {
            selected[d] = true;
            work.push_back(d);
            ++report.dependency_modules;
          }
        }
      }
    };
    for (std::size_t i : boot) selected[i] = true;
    close(boot);
    // Then what coldplug would load beyond the boot list (and its dependencies).
    for (const Resolved& u : resolved) {
      if (u.module != SIZE_MAX && !selected[u.module]) {
        selected[u.module] = true;
        ++report.uevent_added_modules;
        close({u.module});
      }
    }
  }
  std::vector<std::size_t> order; // selected modules, by name
  for (std::size_t i = 0; i < tree.modules.size(); ++i) {
    if (selected[i]) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return tree.modules[a].name < tree.modules[b].name;
  });
  if (!have_boot && options.uevents.empty()) {
    for (std::size_t i : order) {
      resolved.push_back({"modules.dep:" + tree.modules[i].name, i, tree.modules[i].line, ""});
    }
  }
  if (feed != nullptr) feed_boot_requests(tree, *feed, boot, boot_lines, resolved);

  // Read every selected module (in parallel; results are positional, so deterministic).
  unsigned jobs = options.jobs;
  if (jobs == 0) jobs = std::max(1U, std::min(16U, std::thread::hardware_concurrency()));
  std::vector<std::size_t> disk_bytes;
  const std::vector<ModuleFeatures> features =
      read_features(tree, order, jobs, options, disk_bytes, report.peak_module_memory);
  std::vector<std::size_t> pos_of(tree.modules.size(), SIZE_MAX); // tree index -> order pos
  for (std::size_t k = 0; k < order.size(); ++k) pos_of[order[k]] = k;

  kmodsim::Workload w;
  std::map<std::string, std::size_t> versions; // vermagic version -> modules
  for (std::size_t k = 0; k < order.size(); ++k) {
    const TreeModule& tm = tree.modules[order[k]];
    const ModuleFeatures& f = features[k];
    switch (compression_from_path(tm.file)) {
      case Compression::xz: ++report.files_xz; break;
      case Compression::zstd: ++report.files_zstd; break;
      case Compression::gzip: ++report.files_gzip; break;
      case Compression::none: ++report.files_plain; break;
    }
    report.bytes_on_disk += disk_bytes[k];
    report.bytes_elf += f.file_bytes;
    if (!f.vermagic.empty()) ++versions[f.vermagic.substr(0, f.vermagic.find(' '))];

    kmodsim::Module m;
    m.name = tm.name;
    m.size_kb = static_cast<double>(f.alloc_bytes) / 1024.0;
    m.init_kb = static_cast<double>(f.init_bytes) / 1024.0;
    if (compression_from_path(tm.file) == Compression::none) {
      m.file_kb = static_cast<double>(f.file_bytes) / 1024.0;
    } else { // the file read from disk is the compressed one; the ELF image is its decompressed copy
      m.file_kb = static_cast<double>(disk_bytes[k]) / 1024.0;
      m.decompressed_kb = static_cast<double>(f.file_bytes) / 1024.0;
    }
    m.undef_symbols = f.undef_symbols;
    m.relocations = f.relocations;
    m.exports = f.exports;
    m.percpu_kb = static_cast<double>(f.percpu_bytes) / 1024.0;
    m.loc.file = tree.dep_file;
    m.loc.line = static_cast<int>(std::min<std::size_t>(tm.line, INT32_MAX));
    for (std::size_t d : tm.deps) m.deps.push_back(tree.modules[d].name);

    // dep_symbols: undefined symbols that one of the dependencies exports.
    for (const std::string& sym : f.undefined_names) {
      for (std::size_t d : tm.deps) {
        const auto& exported = features[pos_of[d]].export_names;
        if (std::binary_search(exported.begin(), exported.end(), sym)) {
          ++m.dep_symbols;
          break;
        }
      }
    }

    // Cross-check .modinfo against modules.dep.
    if (!f.has_modinfo) {
      report.warnings.push_back(tm.name + ": no .modinfo section");
    } else {
      if (!f.modinfo_name.empty() && normalize_module_name(f.modinfo_name) != tm.name) {
        report.warnings.push_back(tm.name + ": .modinfo name '" + f.modinfo_name +
                                  "' differs from the file name (" + tm.path + ")");
      }
      std::set<std::string> listed(m.deps.begin(), m.deps.end());
      std::vector<std::string> direct;
      for (const std::string& d : f.modinfo_depends) direct.push_back(normalize_module_name(d));
      // Closure of the modinfo depends, through the modinfo of the selected modules.
      std::set<std::string> closure;
      std::vector<std::string> work = direct;
      while (!work.empty()) {
        const std::string n = work.back();
        work.pop_back();
        if (!closure.insert(n).second) continue;
        const auto it = tree.by_name.find(n);
        if (it == tree.by_name.end() || pos_of[it->second] == SIZE_MAX) continue;
        for (const std::string& dd : features[pos_of[it->second]].modinfo_depends) {
          work.push_back(normalize_module_name(dd));
        }
      }
      std::vector<std::string> only_modinfo;
      std::vector<std::string> only_dep;
      for (const std::string& d : direct) {
        if (listed.count(d) == 0) only_modinfo.push_back(d);
      }
      for (const std::string& d : m.deps) {
        if (closure.count(d) == 0) only_dep.push_back(d);
      }
      if (!only_modinfo.empty()) {
        report.warnings.push_back(tm.name + ": .modinfo depends lists " + join_names(only_modinfo) +
                                  ", modules.dep (line " + std::to_string(tm.line) + ") does not");
      }
      if (!only_dep.empty()) {
        report.warnings.push_back(tm.name + ": modules.dep (line " + std::to_string(tm.line) +
                                  ") lists " + join_names(only_dep) +
                                  ", not reachable through .modinfo depends");
      }
      if (!only_modinfo.empty() || !only_dep.empty()) ++report.modinfo_depends_mismatches;
    }
    w.modules.push_back(std::move(m));
  }
  report.modules_imported = w.modules.size();

  // Kernel version: the vermagic most modules carry; else the directory name.
  if (!versions.empty()) {
    const auto best = std::max_element(versions.begin(), versions.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    report.kernel_version = best->first;
    if (versions.size() > 1) {
      report.warnings.push_back("modules disagree on the kernel version (vermagic): " +
                                std::to_string(versions.size()) + " versions, most common " +
                                best->first);
    }
  } else {
    fs::path dir = fs::path(options.modules_dir).lexically_normal();
    if (dir.filename().empty()) dir = dir.parent_path();
    report.kernel_version = dir.filename().string();
  }

  if (feed == nullptr) {
    w.kernel_exports = count_kernel_exports(tree_export_sources(options.modules_dir), max_file, report);
  } else if (feed->kallsyms_exports > 0) {
    w.kernel_exports = feed->kallsyms_exports;
    report.kernel_exports_source = feed->kallsyms_source;
  } else {
    w.kernel_exports = count_kernel_exports(feed->export_sources, max_file, report);
  }

  // Uevents.
  std::vector<bool> requested(tree.modules.size(), false);
  const std::string uevent_file = !options.uevents.empty() ? options.uevents
                                  : !options.boot_list.empty() ? options.boot_list
                                                               : tree.dep_file;
  for (const Resolved& r : resolved) {
    kmodsim::Uevent u;
    u.device = r.device;
    u.loc.file = r.file.empty() ? uevent_file : r.file;
    u.loc.line = static_cast<int>(std::min<std::size_t>(r.line, INT32_MAX));
    if (r.module == SIZE_MAX) {
      ++report.uevents_unmatched;
    } else {
      u.module = tree.modules[r.module].name;
      if (requested[r.module]) ++report.uevents_duplicate;
      requested[r.module] = true;
    }
    w.uevents.push_back(std::move(u));
  }
  report.uevents = w.uevents.size();

  w.name = "import-" + report.kernel_version;
  w.provenance = "kmodsim import of " + options.modules_dir + " (kernel " + report.kernel_version +
                 ")";
  if (!options.boot_list.empty()) w.provenance += ", boot list " + options.boot_list;
  if (!options.uevents.empty()) w.provenance += ", uevents " + options.uevents;
  return w;
}

kmodsim::Workload detail::import_tree_fed(const ImportOptions& options, const MachineFeed* feed,
                                          ImportReport& report) {
  // What the steps above did not attribute to a file is attributed to the tree.
  try {
    return guarded(options.modules_dir,
                   [&] { return import_tree_unguarded(options, feed, report); });
  } catch (const std::system_error& e) {
    throw ImportError::in_file(options.modules_dir, e.what());
  }
}

kmodsim::Workload import_tree(const ImportOptions& options, ImportReport& report) {
  return import_tree_fed(options, nullptr, report);
}

} // namespace kmodsim::import
