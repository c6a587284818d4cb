// import_this_machine() and read_machine_facts() (this_machine.hpp): gathers the running
// system's inputs under a root and hands them to the tree import (import.cpp) as a feed.

#include "kmodsim/import/this_machine.hpp"

#include "import_feed.hpp"
#include "kmod_alias.hpp"
#include "tree.hpp"

#include "kmodsim/import/safe_io.hpp"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

namespace kmodsim::import {
namespace fs = std::filesystem;
using namespace detail;
namespace {

constexpr std::uint64_t kMaxSysfsAttribute = 65536; // sysfs attributes hold one page
constexpr std::size_t kMaxModalias = 4095;          // libkmod's alias buffer is PATH_MAX
constexpr std::size_t kExamples = 5;                // paths named per kind of skipped file

std::string under(const std::string& root, const std::string& rel) {
  return (fs::path(root) / rel).string();
}

bool is_slash(const std::string& root) { return fs::path(root).lexically_normal() == "/"; }

std::string trim_line(std::string_view s) {
  s = s.substr(0, s.find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

void require_directory(const std::string& path, const std::string& what) {
  const FileKind kind = input_file_kind(path);
  if (kind == FileKind::missing) throw ImportError::in_file(path, "not found (" + what + ")");
  if (kind != FileKind::directory) {
    throw ImportError::in_file(path, std::string("is ") + file_kind_name(kind) +
                                         ", not a directory (" + what + ")");
  }
}

/// The kernel release: ROOT/proc/sys/kernel/osrelease; for "/" uname(2) if that is missing.
std::string read_release(const std::string& root, ThisMachineReport& r) {
  const std::string path = under(root, "proc/sys/kernel/osrelease");
  std::string text;
  try {
    text = read_regular_file(path, 4096);
    r.release_source = path;
  } catch (const InputFileError& e) {
    if (e.reason() != InputFileError::Reason::not_found) throw;
    struct utsname u {};
    if (!is_slash(root) || ::uname(&u) != 0) {
      throw ImportError::in_file(path, "not found: the release of the kernel running under " +
                                           root + " (what `uname -r` prints there)");
    }
    text = u.release;
    r.release_source = "uname(2)";
  }
  const std::string release = trim_line(text);
  const bool bad = release.empty() || release == "." || release == ".." ||
                   std::any_of(release.begin(), release.end(), [](char c) {
                     const auto u = static_cast<unsigned char>(c);
                     return c == '/' || u <= 0x20 || u >= 0x7f;
                   });
  if (bad) {
    throw ImportError::at_line(r.release_source, 1,
                               "not a kernel release: " + quote_for_message(release));
  }
  return release;
}

/// Every ROOT/sys/devices/**/modalias, parents before children, names in byte order. No
/// symbolic link is followed (each device has its own directory under sys/devices; the links
/// are cross references: subsystem, driver, device, ...), so the walk has no loop and stays in
/// sys/devices; a directory reached twice (a bind mount of an ancestor) is not walked again.
void walk_modaliases(const std::string& top, ThisMachineReport& r,
                     std::vector<MachineRequest>& out, std::vector<std::string>& notes) {
  std::vector<std::string> unreadable;
  std::vector<std::string> stack{top};
  std::set<std::pair<dev_t, ino_t>> seen;
  auto note = [&](const std::string& text) {
    if (unreadable.size() < kExamples) unreadable.push_back(text);
  };
  while (!stack.empty()) {
    const std::string dir = std::move(stack.back());
    stack.pop_back();
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      ++r.directories_unreadable;
      note(dir + ": cannot stat: " + std::generic_category().message(errno));
      continue;
    }
    if (!seen.insert({st.st_dev, st.st_ino}).second) {
      ++r.directories_repeated;
      continue;
    }
    std::error_code ec;
    std::vector<std::pair<std::string, fs::file_type>> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code ec2;
      const fs::file_status s = it->symlink_status(ec2);
      entries.emplace_back(it->path().filename().string(), ec2 ? fs::file_type::unknown : s.type());
    }
    if (ec) {
      ++r.directories_unreadable;
      note(dir + ": cannot list: " + ec.message());
      continue;
    }
    std::sort(entries.begin(), entries.end());
    std::vector<std::string> subdirs;
    for (const auto& [name, type] : entries) {
      const std::string path = dir + "/" + name;
      if (type == fs::file_type::directory) {
        subdirs.push_back(path);
        continue;
      }
      if (name != "modalias") continue;
      if (type == fs::file_type::symlink) {
        ++r.modalias_symlinks;
        continue;
      }
      std::string text;
      try {
        if (type != fs::file_type::regular) {
          throw InputFileError(InputFileError::Reason::not_regular,
                               path + ": not a regular file");
        }
        text = read_regular_file(path, kMaxSysfsAttribute);
      } catch (const InputFileError& e) {
        ++r.modalias_unreadable;
        note(e.what());
        continue;
      }
      ++r.modalias_files;
      const std::string alias = trim_line(text);
      if (alias.empty()) {
        ++r.modalias_empty;
        continue;
      }
      const bool invalid = alias.size() > kMaxModalias ||
                           std::any_of(alias.begin(), alias.end(), [](char c) {
                             const auto u = static_cast<unsigned char>(c);
                             return u <= 0x20 || u == 0x7f;
                           });
      if (invalid) {
        ++r.modalias_invalid;
        note(path + ": not a modalias: " + quote_for_message(alias));
        continue;
      }
      out.push_back({alias, path});
    }
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back(std::move(*it));
  }
  const std::size_t skipped = r.modalias_unreadable + r.modalias_invalid + r.directories_unreadable;
  if (skipped > 0) {
    std::string text = top + ": skipped " + std::to_string(r.modalias_unreadable) +
                       " unreadable modalias file(s), " + std::to_string(r.modalias_invalid) +
                       " invalid one(s), " + std::to_string(r.directories_unreadable) +
                       " unreadable director(ies); e.g. ";
    for (std::size_t i = 0; i < unreadable.size(); ++i) text += (i ? "; " : "") + unreadable[i];
    notes.push_back(text);
  }
}

/// ROOT/lib/modules/REL/build followed within ROOT: an absolute link target is taken under ROOT
/// (it names a file of that machine, not of this one).
std::string build_dir(const std::string& root, const std::string& modules_dir) {
  const fs::path build = fs::path(modules_dir) / "build";
  std::error_code ec;
  if (is_slash(root) || !fs::is_symlink(build, ec)) return build.string();
  const fs::path target = fs::read_symlink(build, ec);
  if (ec || !target.is_absolute()) return build.string();
  return (fs::path(root) / target.relative_path()).lexically_normal().string();
}

ExportSources machine_export_sources(const std::string& root, const std::string& modules_dir,
                                     const std::string& release, const std::string& kallsyms) {
  const std::string build = build_dir(root, modules_dir);
  ExportSources s;
  s.symvers = {under(modules_dir, "Module.symvers"), under(build, "Module.symvers"),
               under(root, "usr/src/linux-headers-" + release + "/Module.symvers")};
  s.maps = {under(modules_dir, "System.map"), under(build, "System.map"),
            under(root, "boot/System.map-" + release)};
  s.none_found = "kernel_exports not determinable, set to 0: no __ksymtab_ entry of vmlinux in " +
                 kallsyms +
                 " (kernels without CONFIG_KALLSYMS_ALL list none), and no Module.symvers or "
                 "System.map with vmlinux exports (install linux-headers-" +
                 release + ")";
  return s;
}

std::string exports_how(const ThisMachineReport& r, const std::string& kallsyms) {
  const std::string& src = r.import.kernel_exports_source;
  if (src.empty()) return "not determinable";
  if (src == kallsyms) return "__ksymtab_ entries of vmlinux in";
  if (src.find("Module.symvers") != std::string::npos) return "vmlinux lines of";
  return "__ksymtab_ symbols of";
}

Workload import_unguarded(const ThisMachineOptions& o, ThisMachineReport& r) {
  r = ThisMachineReport{};
  r.root = o.root.empty() ? std::string("/") : o.root;
  const std::string& root = r.root;
  require_directory(root, "the --root directory");
  r.release = read_release(root, r);
  r.modules_dir = under(root, "lib/modules/" + r.release);
  {
    const FileKind kind = input_file_kind(r.modules_dir);
    if (kind != FileKind::directory) {
      throw ImportError::in_file(r.modules_dir,
                                 (kind == FileKind::missing ? std::string("not found")
                                                            : "is " + std::string(file_kind_name(kind)) +
                                                                  ", not a directory") +
                                     ": no module tree for the running kernel " + r.release +
                                     " (release from " + r.release_source + ")");
    }
  }
  r.sysfs_devices = under(root, "sys/devices");
  require_directory(r.sysfs_devices, "the devices of sysfs: is sysfs mounted?");
  r.proc_modules = under(root, "proc/modules");
  const std::uint64_t max_file = o.max_file_bytes;

  MachineFeed feed;
  feed.report = &r;
  std::vector<std::string> notes;
  walk_modaliases(r.sysfs_devices, r, feed.requests, notes);
  if (r.modalias_symlinks > 0) {
    notes.push_back(r.sysfs_devices + ": " + std::to_string(r.modalias_symlinks) +
                    " modalias symbolic link(s) not followed");
  }
  try {
    feed.boot_text = read_regular_file(r.proc_modules, max_file);
  } catch (const InputFileError& e) {
    if (e.reason() != InputFileError::Reason::not_found) throw;
    throw ImportError::in_file(r.proc_modules,
                               "not found (the modules the running kernel loaded)");
  }
  feed.boot_source = r.proc_modules;

  const std::string kallsyms = under(root, "proc/kallsyms");
  r.kernel_exports_tried.push_back(kallsyms);
  if (const std::optional<std::string> text = read_optional(kallsyms, max_file)) {
    feed.kallsyms_exports = guarded(kallsyms, [&] { return count_kallsyms_exports(*text, kallsyms); });
    feed.kallsyms_source = kallsyms;
  }
  feed.export_sources = machine_export_sources(root, r.modules_dir, r.release, kallsyms);
  for (const auto* list : {&feed.export_sources.symvers, &feed.export_sources.maps}) {
    r.kernel_exports_tried.insert(r.kernel_exports_tried.end(), list->begin(), list->end());
  }

  r.facts = read_machine_facts(root, max_file);

  KmodAliasResolver resolver(r.modules_dir, root, depmod_hint(r.modules_dir), max_file);
  feed.resolve = [&](const std::string& alias) { return resolver.resolve(alias); };

  ImportOptions io;
  io.modules_dir = r.modules_dir;
  io.jobs = o.jobs;
  io.max_file_bytes = o.max_file_bytes;
  io.max_module_bytes = o.max_module_bytes;
  io.max_total_bytes = o.max_total_bytes;
  Workload w = import_tree_fed(io, &feed, r.import);

  // The machine's findings first, then the tree's.
  notes.insert(notes.end(), resolver.messages().begin(), resolver.messages().end());
  r.import.warnings.insert(r.import.warnings.begin(), notes.begin(), notes.end());
  r.kernel_exports_how = exports_how(r, kallsyms);
  w.index_modules = static_cast<std::int64_t>(r.import.modules_in_tree);
  w.name = "this-machine-" + r.release;
  w.provenance = "kmodsim import --this-machine of " + root + " (kernel " + r.release +
                 "): " + r.proc_modules + ", " + std::to_string(r.modaliases) + " modaliases of " +
                 r.sysfs_devices + " resolved with libkmod";
  return w;
}

} // namespace

MachineFacts read_machine_facts(const std::string& root, std::uint64_t max_file_bytes) {
  MachineFacts f;
  const std::string online = under(root, "sys/devices/system/cpu/online");
  if (const std::optional<std::string> text = read_optional(online, max_file_bytes)) {
    f.cores = static_cast<int>(std::min<std::size_t>(
        guarded(online, [&] { return count_cpu_list(*text, online); }), 1U << 20));
    f.cores_source = online;
    f.cpu_list = trim_line(*text);
  } else {
    f.tried.push_back(online);
  }
  const std::string cpuinfo = under(root, "proc/cpuinfo");
  if (const std::optional<std::string> text = read_optional(cpuinfo, max_file_bytes)) {
    f.cpu_model = cpuinfo_model_name(*text);
    if (f.cores == 0) {
      f.cores = static_cast<int>(std::min<std::size_t>(count_cpuinfo_processors(*text), 1U << 20));
      if (f.cores > 0) f.cores_source = cpuinfo;
    }
  } else {
    f.tried.push_back(cpuinfo);
  }
  const std::string meminfo = under(root, "proc/meminfo");
  if (const std::optional<std::string> text = read_optional(meminfo, max_file_bytes)) {
    f.mem_total_kb = guarded(meminfo, [&] { return parse_meminfo_total_kb(*text, meminfo); });
    f.ram_source = meminfo;
  } else {
    f.tried.push_back(meminfo);
  }
  return f;
}

Workload import_this_machine(const ThisMachineOptions& options, ThisMachineReport& report) {
  const std::string root = options.root.empty() ? std::string("/") : options.root;
  try {
    return guarded(root, [&] { return import_unguarded(options, report); });
  } catch (const std::system_error& e) {
    throw ImportError::in_file(root, e.what());
  }
}

} // namespace kmodsim::import
