// The module tree, the parallel module reader and vmlinux's export count (tree.hpp).

#include "tree.hpp"

#include "kmodsim/import/decompress.hpp"
#include "kmodsim/import/limits.hpp"
#include "kmodsim/import/safe_io.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <thread>
#include <utility>

namespace kmodsim::import::detail {
namespace fs = std::filesystem;

std::string join(const std::string& dir, const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  return (fs::path(dir) / path).string();
}

std::optional<std::string> read_optional(const std::string& path, std::uint64_t max_bytes) {
  try {
    return read_regular_file(path, max_bytes);
  } catch (const InputFileError& e) {
    if (e.reason() == InputFileError::Reason::not_found) return std::nullopt;
    throw;
  }
}

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
namespace {

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

} // namespace

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

ExportSources tree_export_sources(const std::string& modules_dir) {
  fs::path dir = fs::path(modules_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();
  const std::string version = dir.filename().string();
  ExportSources s;
  s.symvers = {join(modules_dir, "Module.symvers"), join(modules_dir, "build/Module.symvers")};
  s.maps = {join(modules_dir, "System.map"), join(modules_dir, "build/System.map"),
            (dir.parent_path().parent_path().parent_path() / "boot" / ("System.map-" + version))
                .string()};
  s.none_found = "kernel_exports set to 0: no Module.symvers or System.map with "
                 "vmlinux exports found in " +
                 modules_dir + " (copy the kernel's Module.symvers there)";
  return s;
}

std::int64_t count_kernel_exports(const ExportSources& sources, std::uint64_t max_file_bytes,
                                  ImportReport& report) {
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
  for (const std::string& f : sources.symvers) {
    const std::optional<std::string> text = read_candidate(f);
    if (!text) continue;
    const std::int64_t n = guarded(f, [&] { return count_symvers_vmlinux_exports(*text, f); });
    if (n > 0) {
      report.kernel_exports_source = f;
      return n;
    }
    report.warnings.push_back(f + ": no symbol exported by vmlinux");
  }
  for (const std::string& f : sources.maps) {
    const std::optional<std::string> text = read_candidate(f);
    if (!text) continue;
    const std::int64_t n = guarded(f, [&] { return count_system_map_exports(*text, f); });
    if (n > 0) {
      report.kernel_exports_source = f;
      return n;
    }
    report.warnings.push_back(f + ": no __ksymtab_ symbol (a placeholder System.map?)");
  }
  report.warnings.push_back(sources.none_found);
  return 0;
}

} // namespace kmodsim::import::detail
