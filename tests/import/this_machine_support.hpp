// Helpers of the --this-machine tests: a kmod index writer (the format depmod writes for
// libkmod) and the fabricated machine root that test_this_machine.cpp describes.
#pragma once

#include "test_support.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kmodsim::import::test {

/// One entry of a kmod index: key (an alias pattern, normalised: '_' not '-'), value (a module
/// name), priority (libkmod returns the values of matching keys in ascending priority).
struct IndexEntry {
  std::string key;
  std::string value;
  std::uint32_t priority = 0;
};

/// A kmod index file (libkmod-index.c's format, version 2.1): a trie with one node per
/// character, children written before their parent as depmod does.
std::string kmod_index(const std::vector<IndexEntry>& entries);

inline constexpr const char* kRelease = "6.1.0-fixture";

/// Builds the fabricated machine root of test_this_machine.cpp in `root` (see the table there).
void build_machine_root(const TempDir& root);

/// ROOT/lib/modules/<kRelease>
std::string machine_modules_dir(const TempDir& root);

} // namespace kmodsim::import::test
