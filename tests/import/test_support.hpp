// Shared helpers of the import tests: fixture paths, temporary trees, compression.
#pragma once

#include "kmodsim/import/error.hpp"
#include "kmodsim/import/import.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace kmodsim::import::test {

/// tests/import/fixtures/<rel>
std::string fixture_src(const std::string& rel);
/// Compiled fixture object: <build>/fixture-objects/<name>.<variant>.o
std::string fixture_obj(const std::string& name, const std::string& variant = "native");
/// Variants built by this toolchain ("native" always; "m32", "ppc32be", "s390x" maybe).
std::vector<std::string> fixture_variants();
bool has_variant(const std::string& variant);

std::string read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& data);

std::string compress_xz(const std::string& data);
std::string compress_zstd(const std::string& data);
std::string compress_gzip(const std::string& data);

/// A fresh directory under the test temp dir, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
  std::string path_;
};

/// Builds the fixture module tree of fixtures/tree in `dir`: the text files (modules.dep,
/// modules.alias, modules.softdep, Module.symvers, boot list, uevents) and
///   kernel/drivers/fx/fx_a.ko      (fx_a, plain)
///   kernel/drivers/fx/fx-b.ko.xz   (fx_b)
///   kernel/drivers/fx/fx_c.ko.zst  (fx_c)
///   kernel/drivers/fx/fx_d.ko.gz   (a copy of fx_a: its .modinfo says name=fx_a)
void build_fixture_tree(const TempDir& dir, const std::string& variant = "native");

/// Creates a FIFO at `path` (and its parent directories).
void make_fifo(const std::string& path);

/// Runs fn on another thread; if it has not returned after 2 s (blocked opening or reading the
/// FIFO `fifo`), fails the test and unblocks it by opening the FIFO for writing.
void without_blocking(const std::string& fifo, const std::function<void()>& fn);

/// The names of a workload's modules, in order.
std::vector<std::string> module_names(const kmodsim::Workload& w);
/// Whether some warning of the report contains `part`.
bool has_warning(const ImportReport& r, const std::string& part);

/// Runs fn, expects an ImportError whose message contains every one of `parts`.
void expect_import_error(const std::function<void()>& fn, std::initializer_list<std::string> parts);

} // namespace kmodsim::import::test
