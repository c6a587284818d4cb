// Internal to kmodsim_import: modalias resolution with libkmod, the library modprobe and udev's
// kmod builtin use (kmod_alias.cpp). Not an API.
#pragma once

#include "import_feed.hpp"

#include <cstdarg>
#include <cstdint>
#include <string>
#include <vector>

struct kmod_ctx;

namespace kmodsim::import::detail {

class KmodAliasResolver {
public:
  /// Checks the indexes libkmod reads in `modules_dir` (check_kmod_index; modules.alias.bin
  /// must exist), gathers the modprobe.d files of `root` as libkmod would (etc/modprobe.d,
  /// run/modprobe.d, usr/local/lib/modprobe.d, usr/lib/modprobe.d, lib/modprobe.d: *.conf and
  /// *.alias, the first of a name wins; one that is not a regular file is skipped with a
  /// warning) and opens a libkmod context on them. Throws ImportError.
  KmodAliasResolver(const std::string& modules_dir, const std::string& root,
                    const std::string& depmod_hint, std::uint64_t max_file_bytes);
  ~KmodAliasResolver();
  KmodAliasResolver(const KmodAliasResolver&) = delete;
  KmodAliasResolver& operator=(const KmodAliasResolver&) = delete;

  /// kmod_module_new_from_lookup(): every match, split into to load / built in / blacklisted.
  AliasMatches resolve(const std::string& modalias);

  /// What libkmod logged (errors), and the configuration files skipped; for the warnings.
  const std::vector<std::string>& messages() const { return messages_; }
  /// The configuration files libkmod was given.
  const std::vector<std::string>& config_files() const { return config_files_; }

private:
  static void log(void* self, int priority, const char* file, int line, const char* fn,
                  const char* format, va_list args);

  kmod_ctx* ctx_ = nullptr;
  std::vector<std::string> config_files_;
  std::vector<std::string> messages_;
};

} // namespace kmodsim::import::detail
