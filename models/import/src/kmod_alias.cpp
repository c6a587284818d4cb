// check_kmod_index() (kmod_index.hpp) and KmodAliasResolver (kmod_alias.hpp).

#include "kmod_alias.hpp"

#include "kmodsim/import/kmod_index.hpp"
#include "kmodsim/import/safe_io.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <libkmod.h>
#include <syslog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <unordered_set>
#include <utility>

namespace kmodsim::import {
namespace {

constexpr std::uint32_t kIndexMagic = 0xB007F457;
constexpr std::uint32_t kIndexMajor = 2;
constexpr std::uint32_t kNodePrefix = 0x80000000;
constexpr std::uint32_t kNodeValues = 0x40000000;
constexpr std::uint32_t kNodeChilds = 0x20000000;
constexpr std::uint32_t kNodeMask = 0x0FFFFFFF;
constexpr std::size_t kMaxDepth = 4096;

std::uint32_t be32(std::string_view d, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(d[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(d[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(d[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(d[at + 3])};
}

} // namespace

std::size_t check_kmod_index(std::string_view data, const std::string& source) {
  const std::size_t size = data.size();
  if (size < 12) throw ImportError::at_offset(source, 0, "truncated kmod index header");
  if (be32(data, 0) != kIndexMagic) {
    throw ImportError::at_offset(source, 0, "not a kmod index (bad magic; expected 0xB007F457)");
  }
  if ((be32(data, 4) >> 16) != kIndexMajor) {
    throw ImportError::at_offset(source, 4, "unsupported kmod index version (major " +
                                                std::to_string(be32(data, 4) >> 16) +
                                                ", expected 2)");
  }
  std::size_t values = 0;
  std::unordered_set<std::uint32_t> seen;
  struct Pending {
    std::uint32_t word;   // flags | offset
    std::size_t limit;    // the node must start before this (its parent's offset)
    std::size_t from;     // where the word was read (for messages)
    std::size_t depth;
  };
  std::vector<Pending> work{{be32(data, 8), size, 8, 1}};
  while (!work.empty()) {
    const Pending p = work.back();
    work.pop_back();
    const std::size_t at = p.word & kNodeMask;
    if (at == 0) continue; // no node
    if ((p.word & ~kNodeMask & ~(kNodePrefix | kNodeValues | kNodeChilds)) != 0) {
      throw ImportError::at_offset(source, p.from, "unknown node flags in a node offset");
    }
    if ((p.word & ~kNodeMask) == 0 && at >= 12 && at <= p.limit) {
      continue; // a node with nothing in it: libkmod reads no byte of it (depmod's empty index)
    }
    if (at < 12 || at >= p.limit) {
      throw ImportError::at_offset(
          source, p.from,
          "node offset " + std::to_string(at) +
              (at >= size ? " past the end of the file" : " not before its parent's (a loop?)"));
    }
    if (p.depth > kMaxDepth) {
      throw ImportError::at_offset(source, at, "trie deeper than " + std::to_string(kMaxDepth) +
                                                   " nodes");
    }
    if (!seen.insert(static_cast<std::uint32_t>(at)).second) {
      throw ImportError::at_offset(source, p.from, "node " + std::to_string(at) +
                                                       " has two parents (not a tree)");
    }
    std::size_t pos = at;
    auto need = [&](std::size_t n, const char* what) {
      if (n > size - pos) {
        throw ImportError::at_offset(source, pos, std::string("truncated node: ") + what +
                                                      " past the end of the file");
      }
    };
    auto skip_string = [&](const char* what) {
      const std::size_t nul = data.find('\0', pos);
      if (nul == std::string_view::npos) {
        throw ImportError::at_offset(source, pos, std::string("unterminated ") + what);
      }
      pos = nul + 1;
    };
    if ((p.word & kNodePrefix) != 0) skip_string("node prefix");
    if ((p.word & kNodeChilds) != 0) {
      need(2, "child range");
      const auto first = static_cast<unsigned char>(data[pos]);
      const auto last = static_cast<unsigned char>(data[pos + 1]);
      if (first > last || last >= 128) {
        throw ImportError::at_offset(source, pos, "bad child range " + std::to_string(first) +
                                                      ".." + std::to_string(last));
      }
      pos += 2;
      const std::size_t children = std::size_t{last} - first + 1;
      need(4 * children, "child offsets");
      for (std::size_t c = 0; c < children; ++c, pos += 4) {
        work.push_back({be32(data, pos), at, pos, p.depth + 1});
      }
    }
    if ((p.word & kNodeValues) != 0) {
      need(4, "value count");
      const std::uint32_t count = be32(data, pos);
      pos += 4;
      if (count > (size - pos) / 5) {
        throw ImportError::at_offset(source, pos - 4, "value count " + std::to_string(count) +
                                                          " past the end of the file");
      }
      for (std::uint32_t v = 0; v < count; ++v) {
        need(4, "value priority");
        pos += 4;
        skip_string("value");
      }
      values += count;
    }
  }
  return values;
}

namespace detail {
namespace fs = std::filesystem;

KmodAliasResolver::KmodAliasResolver(const std::string& modules_dir, const std::string& root,
                                     const std::string& depmod_hint, std::uint64_t max_file_bytes) {
  // The indexes libkmod's lookups open, checked before it reads them.
  for (const char* name : {"modules.alias.bin", "modules.dep.bin", "modules.symbols.bin",
                           "modules.builtin.bin", "modules.builtin.alias.bin"}) {
    const std::string path = (fs::path(modules_dir) / name).string();
    const std::optional<std::string> data = read_optional(path, max_file_bytes);
    if (!data) {
      if (std::strcmp(name, "modules.alias.bin") == 0) {
        throw ImportError::in_file(path, "not found: libkmod resolves modaliases with depmod's "
                                         "binary indexes; run `" + depmod_hint + "`");
      }
      continue;
    }
    // depmod writes an empty file for an index it has nothing for (modules.builtin.bin without
    // modules.builtin); libkmod takes it for a missing one.
    if (data->empty() && std::strcmp(name, "modules.alias.bin") != 0) continue;
    guarded(path, [&] { return check_kmod_index(*data, path); });
  }

  // The modprobe.d files of `root`, as libkmod lists them (libkmod-config.c): in each
  // directory the names not starting with '.' ending in .conf or .alias; a name found in an
  // earlier directory hides the later ones. Given to libkmod as files, so that nothing but
  // regular files within the size cap is opened (a FIFO would block it).
  std::set<std::string> names;
  for (const char* dir : {"etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d",
                          "usr/lib/modprobe.d", "lib/modprobe.d"}) {
    const fs::path d = fs::path(root) / dir;
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<std::string> entries;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(it->path().filename().string());
    }
    if (ec) {
      messages_.push_back(d.string() + ": cannot list: " + ec.message() + "; not read");
      continue;
    }
    std::sort(entries.begin(), entries.end());
    for (const std::string& n : entries) {
      const bool conf = n.size() >= 6 && (n.compare(n.size() - 5, 5, ".conf") == 0 ||
                                          n.compare(n.size() - 6, 6, ".alias") == 0);
      if (n.empty() || n[0] == '.' || !conf || names.count(n) != 0) continue;
      const std::string path = (d / n).string();
      try {
        const FileKind kind = input_file_kind(path);
        if (kind == FileKind::directory) continue; // libkmod skips these too
        if (kind != FileKind::regular) {
          messages_.push_back(path + ": is " + file_kind_name(kind) +
                              ", not a regular file; not given to libkmod");
          continue;
        }
        if (fs::file_size(path, ec) > max_file_bytes || ec) {
          messages_.push_back(path + ": over the input file cap or unreadable; not given to libkmod");
          continue;
        }
      } catch (const InputFileError& e) {
        messages_.push_back(std::string(e.what()) + "; not given to libkmod");
        continue;
      }
      names.insert(n);
      config_files_.push_back(path);
    }
  }
  std::vector<const char*> paths;
  for (const std::string& f : config_files_) paths.push_back(f.c_str());
  paths.push_back(nullptr);
  ctx_ = kmod_new(modules_dir.c_str(), paths.data());
  if (ctx_ == nullptr) throw ImportError::in_file(modules_dir, "libkmod: cannot create a context");
  kmod_set_log_fn(ctx_, &KmodAliasResolver::log, this);
  kmod_set_log_priority(ctx_, LOG_ERR);
}

KmodAliasResolver::~KmodAliasResolver() {
  if (ctx_ != nullptr) kmod_unref(ctx_);
}

void KmodAliasResolver::log(void* self, int priority, const char* /*file*/, int /*line*/,
                            const char* /*fn*/, const char* format, va_list args) {
  auto* r = static_cast<KmodAliasResolver*>(self);
  if (priority > LOG_ERR || r->messages_.size() >= 100) return;
  char buf[512];
  std::vsnprintf(buf, sizeof buf, format, args);
  try { // called from C: nothing may be thrown through libkmod
    std::string m = buf;
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
    r->messages_.push_back("libkmod: " + m);
  } catch (...) {
  }
}

namespace {
/// Owns a kmod_list of modules.
struct ModuleList {
  kmod_list* list = nullptr;
  ~ModuleList() {
    if (list != nullptr) kmod_module_unref_list(list);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    kmod_list* l = nullptr;
    kmod_list_foreach(l, list) {
      kmod_module* mod = kmod_module_get_module(l);
      out.push_back(normalize_module_name(kmod_module_get_name(mod)));
      kmod_module_unref(mod);
    }
    return out;
  }
};
} // namespace

AliasMatches KmodAliasResolver::resolve(const std::string& modalias) {
  AliasMatches m;
  ModuleList all;
  const int err = kmod_module_new_from_lookup(ctx_, modalias.c_str(), &all.list);
  if (err < 0) {
    m.error = std::strerror(-err);
    return m;
  }
  ModuleList not_builtin;
  ModuleList allowed;
  if (kmod_module_apply_filter(ctx_, KMOD_FILTER_BUILTIN, all.list, &not_builtin.list) < 0 ||
      kmod_module_apply_filter(ctx_, KMOD_FILTER_BLACKLIST, not_builtin.list, &allowed.list) < 0) {
    throw std::bad_alloc(); // libkmod's only failure here
  }
  const std::vector<std::string> loadable = allowed.names();
  const std::vector<std::string> unfiltered = not_builtin.names();
  const std::set<std::string> load_set(loadable.begin(), loadable.end());
  const std::set<std::string> nb_set(unfiltered.begin(), unfiltered.end());
  std::set<std::string> listed;
  for (const std::string& name : all.names()) {
    if (!listed.insert(name).second) continue; // two patterns of one module
    if (load_set.count(name) != 0) {
      m.modules.push_back(name);
    } else if (nb_set.count(name) != 0) {
      m.blacklisted.push_back(name);
    } else {
      m.builtin.push_back(name);
    }
  }
  return m;
}

} // namespace detail
} // namespace kmodsim::import
