// import_tree(): from a depmod-indexed module tree to a Workload. See import.hpp.

#include "kmodsim/import/import.hpp"

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
namespace {

/// One line of modules.dep, resolved.
struct TreeModule {
  std::string name;      ///< normalised
  std::string path;      ///< as modules.dep writes it
  std::string file;      ///< the path to open
  std::size_t line = 0;  ///< modules.dep line
  std::vector<std::size_t> deps; ///< indices into the tree, modules.dep order
};

struct Tree {
  std::string dep_file;
  std::vector<TreeModule> modules; ///< modules.dep order
  std::unordered_map<std::string, std::size_t> by_name;
};

std::string join(const std::string& dir, const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  return (fs::path(dir) / path).string();
}

/// Runs f(), turning what means "this file could not be processed" but is not an ImportError
/// (memory exhaustion, a file system error) into an ImportError naming `path`.
template <class F> auto guarded(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ImportError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw ImportError::in_file(path, "out of memory");
  } catch (const std::length_error&) {
    throw ImportError::in_file(path, "out of memory");
  } catch (const fs::filesystem_error& e) {
    throw ImportError::in_file(e.path1().empty() ? path : e.path1().string(), e.code().message());
  }
}

/// Reads an optional input file: nullopt if it does not exist; any other problem (a directory,
/// a FIFO, too large, unreadable) is an error, as for a required one.
std::optional<std::string> read_optional(const std::string& path, std::uint64_t max_bytes) {
  try {
    return read_regular_file(path, max_bytes);
  } catch (const InputFileError& e) {
    if (e.reason() == InputFileError::Reason::not_found) return std::nullopt;
    throw;
  }
}

/// The `depmod -b BASEDIR VERSION` a user should run for a modules directory.
std::string depmod_hint(const std::string& modules_dir) {
  fs::path dir = fs::path(modules_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path(); // trailing '/'
  const std::string version = dir.filename().string();
  const fs::path modules = dir.parent_path();
  const fs::path lib = modules.parent_path();
  if (modules.filename() == "modules" && lib.filename() == "lib") {
    std::string base = lib.parent_path().string();
    if (base.empty()) base = ".";
    return "depmod -b " + base + " " + version;
  }
  return "depmod -b BASEDIR " + version + " (with " + modules_dir +
         " at BASEDIR/lib/modules/" + version + ")";
}

Tree load_tree(const std::string& modules_dir, std::uint64_t max_file_bytes) {
  Tree tree;
  tree.dep_file = join(modules_dir, "modules.dep");
  const std::optional<std::string> dep_text = read_optional(tree.dep_file, max_file_bytes);
  if (!dep_text) {
    throw ImportError::in_file(tree.dep_file,
                               "not found: the module tree has not been indexed; run `" +
                                   depmod_hint(modules_dir) + "` first");
  }
  const std::vector<DepLine> lines =
      guarded(tree.dep_file, [&] { return parse_modules_dep(*dep_text, tree.dep_file); });
  tree.modules.reserve(lines.size());
  for (const DepLine& l : lines) {
    TreeModule m;
    m.name = normalize_module_name(l.path);
    m.path = l.path;
    m.file = join(modules_dir, l.path);
    m.line = l.line;
    if (m.name.empty()) {
      throw ImportError::at_line(tree.dep_file, l.line,
                                 "cannot derive a module name from " + quote_for_message(l.path));
    }
    const auto [it, inserted] = tree.by_name.emplace(m.name, tree.modules.size());
    if (!inserted) {
      throw ImportError::at_line(tree.dep_file, l.line,
                                 "module '" + m.name + "' (" + l.path +
                                     ") has the same name as the module of line " +
                                     std::to_string(tree.modules[it->second].line));
    }
    FileKind kind = FileKind::missing;
    try {
      kind = input_file_kind(m.file);
    } catch (const InputFileError& e) {
      throw ImportError::at_line(tree.dep_file, l.line,
                                 "module file " + quote_for_message(l.path) + ": " + e.what());
    }
    if (kind == FileKind::missing) {
      throw ImportError::at_line(tree.dep_file, l.line,
                                 "module file " + quote_for_message(l.path) + " not found (" +
                                     m.file + ")");
    }
    if (kind != FileKind::regular) {
      throw ImportError::at_line(tree.dep_file, l.line,
                                 "module file " + quote_for_message(l.path) + " is " +
                                     file_kind_name(kind) + ", not a regular file (" + m.file +
                                     ")");
    }
    tree.modules.push_back(std::move(m));
  }
  // Resolve dependencies by module name, as kmod does.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    for (const std::string& dep_path : lines[i].deps) {
      const std::string dep = normalize_module_name(dep_path);
      const auto it = tree.by_name.find(dep);
      if (it == tree.by_name.end()) {
        throw ImportError::at_line(tree.dep_file, lines[i].line,
                                   "module '" + tree.modules[i].name + "' depends on unknown module '" +
                                       dep + "' (" + dep_path + " has no line in modules.dep)");
      }
      tree.modules[i].deps.push_back(it->second);
    }
  }
  return tree;
}

/// Depth-first search for a dependency cycle; throws with the whole cycle if there is one.
void check_acyclic(const Tree& tree) {
  enum : unsigned char { white, grey, black };
  std::vector<unsigned char> colour(tree.modules.size(), white);
  std::vector<std::pair<std::size_t, std::size_t>> stack; // (module, next dep to visit)
  for (std::size_t root = 0; root < tree.modules.size(); ++root) {
    if (colour[root] != white) continue;
    stack.emplace_back(root, 0);
    colour[root] = grey;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const auto& deps = tree.modules[node].deps;
      if (next == deps.size()) {
        colour[node] = black;
        stack.pop_back();
        continue;
      }
      const std::size_t dep = deps[next++];
      if (colour[dep] == white) {
        colour[dep] = grey;
        stack.emplace_back(dep, 0);
      } else if (colour[dep] == grey) {
        // The cycle is the part of the stack from `dep` up, closed by `dep` again.
        std::string path;
        std::string lines;
        bool in_cycle = false;
        for (const auto& frame : stack) {
          if (frame.first == dep) in_cycle = true;
          if (!in_cycle) continue;
          path += tree.modules[frame.first].name + " -> ";
          lines += (lines.empty() ? "" : ", ") + std::to_string(tree.modules[frame.first].line);
        }
        path += tree.modules[dep].name;
        throw ImportError::at_line(tree.dep_file, tree.modules[dep].line,
                                   "dependency cycle: " + path + " (modules.dep lines " + lines +
                                       ")");
      }
    }
  }
}

/// Reads one module within a budget: a normal reservation first; if the budget runs short
/// while other threads hold it, again with an exclusive one (see MemoryBudget).
ModuleFeatures read_one(const TreeModule& m, const ImportOptions& options, MemoryBudget& budget,
                        std::size_t& disk_bytes) {
  // Name the file on disk; for a compressed module say that offsets are in its contents.
  const std::string source =
      compression_from_path(m.file) == Compression::none ? m.file : m.file + " (decompressed)";
  for (bool exclusive = false;; exclusive = true) {
    BudgetReservation reservation(budget, exclusive);
    try {
      const std::string elf = read_module_file(m.file, &disk_bytes, options.max_module_bytes,
                                               options.max_file_bytes, &reservation);
      return extract_module_features(elf, source);
    } catch (const BudgetShortage&) {
      if (exclusive) throw ImportError::in_file(m.file, "memory budget exhausted"); // cannot happen
    }
  }
}

/// Reads and analyses the given modules with `jobs` threads. Results are indexed like `which`;
/// if several modules fail, the error of the first one (in `which` order) is thrown, so the
/// outcome does not depend on thread timing. The threads share a MemoryBudget of
/// options.max_total_bytes; its peak goes to `peak_memory`.
std::vector<ModuleFeatures> read_features(const Tree& tree, const std::vector<std::size_t>& which,
                                          unsigned jobs, const ImportOptions& options,
                                          std::vector<std::size_t>& disk_bytes,
                                          std::uint64_t& peak_memory) {
  std::vector<ModuleFeatures> features(which.size());
  std::vector<std::exception_ptr> errors(which.size());
  disk_bytes.assign(which.size(), 0);
  MemoryBudget budget(options.max_total_bytes);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= which.size()) return;
      const TreeModule& m = tree.modules[which[k]];
      try {
        features[k] = guarded(m.file, [&] { return read_one(m, options, budget, disk_bytes[k]); });
      } catch (...) {
        errors[k] = std::current_exception();
      }
    }
  };
  if (jobs <= 1 || which.size() < 2) {
    worker();
  } else {
    std::vector<std::thread> threads;
    const unsigned n = std::min<unsigned>(jobs, static_cast<unsigned>(which.size()));
    threads.reserve(n);
    for (unsigned t = 0; t < n; ++t) {
      try {
        threads.emplace_back(worker);
      } catch (const std::system_error&) {
        break; // no more threads to be had (EAGAIN): go on with those that started
      }
    }
    if (threads.empty()) worker();
    for (std::thread& t : threads) t.join();
  }
  peak_memory = budget.peak();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return features;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// vmlinux's export count from Module.symvers, else System.map; 0 and a warning if neither.
std::int64_t count_kernel_exports(const std::string& modules_dir, std::uint64_t max_file_bytes,
                                  ImportReport& report) {
  fs::path dir = fs::path(modules_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();
  const std::string version = dir.filename().string();
  const std::vector<std::string> symvers = {join(modules_dir, "Module.symvers"),
                                            join(modules_dir, "build/Module.symvers")};
  const std::vector<std::string> maps = {
      join(modules_dir, "System.map"), join(modules_dir, "build/System.map"),
      (dir.parent_path().parent_path().parent_path() / "boot" / ("System.map-" + version))
          .string()};
  // A candidate that is missing is skipped; one that cannot be read (not a regular file, over
  // the cap, unreadable: /boot/System.map-* is often readable by root only) gives a warning.
  auto read_candidate = [&](const std::string& f) -> std::optional<std::string> {
    try {
      return read_optional(f, max_file_bytes);
    } catch (const InputFileError& e) {
      report.warnings.push_back(std::string(e.what()) + "; not used for kernel_exports");
      return std::nullopt;
    }
  };
  for (const std::string& f : symvers) {
    const std::optional<std::string> text = read_candidate(f);
    if (!text) continue;
    const std::int64_t n = guarded(f, [&] { return count_symvers_vmlinux_exports(*text, f); });
    if (n > 0) {
      report.kernel_exports_source = f;
      return n;
    }
    report.warnings.push_back(f + ": no symbol exported by vmlinux");
  }
  for (const std::string& f : maps) {
    const std::optional<std::string> text = read_candidate(f);
    if (!text) continue;
    const std::int64_t n = guarded(f, [&] { return count_system_map_exports(*text, f); });
    if (n > 0) {
      report.kernel_exports_source = f;
      return n;
    }
    report.warnings.push_back(f + ": no __ksymtab_ symbol (a placeholder System.map?)");
  }
  report.warnings.push_back("kernel_exports set to 0: no Module.symvers or System.map with "
                            "vmlinux exports found in " +
                            modules_dir + " (copy the kernel's Module.symvers there)");
  return 0;
}

} // namespace

static kmodsim::Workload import_tree_unguarded(const ImportOptions& options, ImportReport& report) {
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
  if (!options.boot_list.empty()) {
    const std::string text = read_regular_file(options.boot_list, max_file);
    const BootList list =
        guarded(options.boot_list, [&] { return parse_boot_list(text, options.boot_list); });
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

  // Uevent list, resolved through modules.alias.
  struct Resolved {
    std::string device;
    std::size_t module = SIZE_MAX; // tree index; SIZE_MAX = no match
    std::size_t line = 0;
  };
  std::vector<Resolved> resolved;
  if (!options.uevents.empty()) {
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
      Resolved u{r.modalias, SIZE_MAX, r.line};
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
      resolved.push_back({"boot-list:" + tree.modules[boot[k]].name, boot[k], boot_lines[k]});
    }
  }

  // The modules of the workload.
  std::vector<bool> selected(tree.modules.size(), options.boot_list.empty());
  if (!options.boot_list.empty()) {
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
  if (options.uevents.empty() && options.boot_list.empty()) {
    for (std::size_t i : order) {
      resolved.push_back({"modules.dep:" + tree.modules[i].name, i, tree.modules[i].line});
    }
  }

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
    m.file_kb = static_cast<double>(f.file_bytes) / 1024.0;
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

  w.kernel_exports = count_kernel_exports(options.modules_dir, max_file, report);

  // Uevents.
  std::vector<bool> requested(tree.modules.size(), false);
  const std::string uevent_file = !options.uevents.empty() ? options.uevents
                                  : !options.boot_list.empty() ? options.boot_list
                                                               : tree.dep_file;
  for (const Resolved& r : resolved) {
    kmodsim::Uevent u;
    u.device = r.device;
    u.loc.file = uevent_file;
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

kmodsim::Workload import_tree(const ImportOptions& options, ImportReport& report) {
  // What the steps above did not attribute to a file is attributed to the tree.
  try {
    return guarded(options.modules_dir, [&] { return import_tree_unguarded(options, report); });
  } catch (const std::system_error& e) {
    throw ImportError::in_file(options.modules_dir, e.what());
  }
}

} // namespace kmodsim::import
