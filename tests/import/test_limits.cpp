// The importer's caps and inputs that are not regular files: a directory or FIFO in place of
// modules.dep or of a module, a module over the file cap, decompression bombs (one, and six
// read by six threads), the memory budget the threads share.
#include "kmodsim/import/decompress.hpp"
#include "kmodsim/import/import.hpp"
#include "kmodsim/import/limits.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

namespace kmodsim::import::test {
namespace {
namespace fs = std::filesystem;

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;

const std::string kDir = "kernel/drivers/fx/";

Workload import_with(const ImportOptions& o) {
  ImportReport r;
  return import_tree(o, r);
}

ImportOptions options(const TempDir& dir, unsigned jobs = 1) {
  ImportOptions o;
  o.modules_dir = dir.path();
  o.jobs = jobs;
  return o;
}

std::string compress(Compression c, const std::string& data) {
  switch (c) {
    case Compression::xz: return compress_xz(data);
    case Compression::zstd: return compress_zstd(data);
    case Compression::gzip: return compress_gzip(data);
    case Compression::none: break;
  }
  return data;
}

const char* suffix(Compression c) {
  switch (c) {
    case Compression::xz: return ".ko.xz";
    case Compression::zstd: return ".ko.zst";
    case Compression::gzip: return ".ko.gz";
    case Compression::none: break;
  }
  return ".ko";
}

/// 4 MiB of zeros, compressed (a few hundred bytes to a few KiB): made once per format.
const std::string& bomb(Compression c) {
  static std::string cache[4];
  std::string& b = cache[static_cast<int>(c)];
  if (b.empty()) b = compress(c, std::string(4 * MiB, '\0'));
  return b;
}

/// A tree of `n` modules m0..m{n-1} with no dependencies; module i is compressed with
/// formats[i % formats.size()] and holds payload(format).
void build_flat_tree(const TempDir& dir, std::size_t n, const std::function<std::string(Compression)>& payload,
                     const std::vector<Compression>& formats = {Compression::gzip, Compression::zstd,
                                                                Compression::xz}) {
  std::string dep;
  for (std::size_t i = 0; i < n; ++i) {
    const Compression c = formats[i % formats.size()];
    const std::string path = kDir + "m" + std::to_string(i) + suffix(c);
    dep += path + ":\n";
    write_bytes(dir / path, payload(c));
  }
  write_bytes(dir / "modules.dep", dep);
}

/// fx_a padded with zeros to `size` bytes: still a valid module (nothing points past its end).
std::string padded_module(std::size_t size) {
  std::string elf = read_bytes(fixture_obj("fx_a"));
  elf.resize(std::max(size, elf.size()), '\0');
  return elf;
}

void replace_with_directory(const std::string& path) {
  fs::remove(path);
  fs::create_directories(path);
}

void replace_with_fifo(const std::string& path) {
  fs::remove(path);
  make_fifo(path);
}

// ---- inputs that are not regular files -----------------------------------------------------

TEST(ImportInputs, ModulesDepThatIsADirectoryIsNotMissing) {
  TempDir dir;
  build_fixture_tree(dir);
  replace_with_directory(dir / "modules.dep");
  expect_import_error([&] { import_with(options(dir)); },
                      {dir / "modules.dep: is a directory, not a regular file"});
  try {
    import_with(options(dir));
  } catch (const ImportError& e) {
    EXPECT_EQ(std::string(e.what()).find("depmod"), std::string::npos) << e.what();
  }
}

TEST(ImportInputs, ModulesDepThatIsAFifoDoesNotBlock) {
  TempDir dir;
  build_fixture_tree(dir);
  replace_with_fifo(dir / "modules.dep");
  without_blocking(dir / "modules.dep", [&] {
    expect_import_error([&] { import_with(options(dir)); },
                        {dir / "modules.dep: is a FIFO, not a regular file"});
  });
}

TEST(ImportInputs, ModuleThatIsADirectoryOrAFifo) {
  TempDir dir;
  build_fixture_tree(dir);
  replace_with_directory(dir / (kDir + "fx_c.ko.zst"));
  expect_import_error([&] { import_with(options(dir, 4)); },
                      {"modules.dep:3:", "fx_c.ko.zst", "is a directory, not a regular file"});
  replace_with_fifo(dir / (kDir + "fx_c.ko.zst"));
  without_blocking(dir / (kDir + "fx_c.ko.zst"), [&] {
    expect_import_error([&] { import_with(options(dir, 4)); },
                        {"modules.dep:3:", "fx_c.ko.zst", "is a FIFO, not a regular file"});
  });
}

TEST(ImportInputs, OtherInputsThatAreNotRegularFiles) {
  TempDir dir;
  build_fixture_tree(dir);
  make_fifo(dir / "boot.fifo");
  without_blocking(dir / "boot.fifo", [&] {
    ImportOptions o = options(dir);
    o.boot_list = dir / "boot.fifo";
    expect_import_error([&] { import_with(o); }, {dir / "boot.fifo: is a FIFO, not a regular file"});
  });
  {
    ImportOptions o = options(dir);
    o.uevents = dir.path(); // a directory
    expect_import_error([&] { import_with(o); }, {dir.path() + ": is a directory, not a regular file"});
  }
  replace_with_fifo(dir / "modules.alias");
  without_blocking(dir / "modules.alias", [&] {
    ImportOptions o = options(dir);
    o.uevents = dir / "uevents.txt";
    expect_import_error([&] { import_with(o); }, {"modules.alias: is a FIFO, not a regular file"});
  });
  replace_with_directory(dir / "modules.softdep");
  expect_import_error([&] { import_with(options(dir)); },
                      {"modules.softdep: is a directory, not a regular file"});
  fs::remove(dir / "modules.softdep");
  // Module.symvers is optional: one that cannot be read is a warning, and the next is tried.
  replace_with_directory(dir / "Module.symvers");
  ImportReport r;
  import_tree(options(dir), r);
  EXPECT_TRUE(std::any_of(r.warnings.begin(), r.warnings.end(), [](const std::string& w) {
    return w.find("Module.symvers: is a directory, not a regular file") != std::string::npos;
  }));
  // The modules directory itself.
  make_fifo(dir / "dir.fifo");
  ImportOptions o = options(dir);
  o.modules_dir = dir / "dir.fifo";
  expect_import_error([&] { import_with(o); }, {"dir.fifo: is a FIFO, not a directory"});
}

// ---- caps ----------------------------------------------------------------------------------

TEST(ImportCaps, DefaultsAreTheDocumentedOnes) {
  const ImportOptions o;
  EXPECT_EQ(o.max_file_bytes, 256 * MiB);
  EXPECT_EQ(o.max_module_bytes, 512 * MiB);
  EXPECT_EQ(o.max_total_bytes, 2048 * MiB);
}

TEST(ImportCaps, ModuleOverTheFileCap) {
  TempDir dir;
  build_fixture_tree(dir);
  write_bytes(dir / (kDir + "fx_a.ko"), padded_module(64 << 10));
  ImportOptions o = options(dir, 2);
  o.max_file_bytes = 32 << 10;
  expect_import_error([&] { import_with(o); }, {"fx_a.ko: 65536 bytes", "over the cap of 32768 bytes"});
  o.max_file_bytes = 64 << 10; // exactly the size: accepted
  EXPECT_EQ(import_with(o).modules.size(), 4u);
  o.max_module_bytes = 32 << 10; // a plain module is a module too
  expect_import_error([&] { import_with(o); }, {"fx_a.ko", "over 32768 bytes, the cap on one module"});
}

TEST(ImportCaps, DecompressionBombIsStoppedAtTheModuleCap) {
  for (Compression c : {Compression::gzip, Compression::zstd, Compression::xz}) {
    SCOPED_TRACE(compression_name(c));
    TempDir dir;
    build_flat_tree(dir, 1, [](Compression f) { return bomb(f); }, {c});
    ImportOptions o = options(dir);
    o.max_module_bytes = MiB;
    expect_import_error([&] { import_with(o); },
                        {std::string("m0") + suffix(c), "exceeds 1048576 bytes, the cap on one module"});
  }
}

TEST(ImportCaps, SixBombsWithSixJobs) {
  TempDir dir;
  build_flat_tree(dir, 6, [](Compression f) { return bomb(f); });
  ImportOptions o = options(dir, 6);
  o.max_module_bytes = MiB;
  o.max_total_bytes = 16 * MiB;
  // Every module fails; the first one's error is reported, whatever the thread timing.
  for (int run = 0; run < 3; ++run) {
    expect_import_error([&] { import_with(o); }, {"m0.ko.gz", "exceeds 1048576 bytes"});
  }
  // Under the module cap but over the total: the bomb alone exceeds what the threads share.
  o.max_module_bytes = 64 * MiB;
  o.max_total_bytes = 2 * MiB;
  for (int run = 0; run < 3; ++run) {
    expect_import_error([&] { import_with(o); },
                        {"m0.ko.gz", "needs more than the memory budget of 2097152 bytes"});
  }
}

TEST(ImportCaps, SixJobsShareTheTotalBudget) {
  // Six real (padded) modules of 1.5 MiB; each needs several MiB while it is decompressed
  // (output blocks, decoder state), so 12 MiB cannot hold six at once: the threads must take
  // turns, and the import must still succeed and agree with a serial one.
  TempDir dir;
  const std::string elf = padded_module(3 * MiB / 2);
  build_flat_tree(dir, 6, [&](Compression f) { return compress(f, elf); });
  ImportOptions o = options(dir, 6);
  o.max_total_bytes = 12 * MiB;
  ImportReport r;
  const Workload w = import_tree(o, r);
  EXPECT_EQ(w.modules.size(), 6u);
  EXPECT_GT(r.peak_module_memory, 3 * MiB / 2);
  EXPECT_LE(r.peak_module_memory, o.max_total_bytes);
  ImportReport serial_report;
  const Workload serial = import_tree(options(dir, 1), serial_report);
  ASSERT_EQ(serial.modules.size(), w.modules.size());
  for (std::size_t i = 0; i < w.modules.size(); ++i) {
    EXPECT_EQ(w.modules[i].name, serial.modules[i].name);
    EXPECT_EQ(w.modules[i].file_kb, serial.modules[i].file_kb);
    EXPECT_EQ(w.modules[i].decompressed_kb, 1536.0); // the ELF image; file_kb is the compressed file
  }
  // One module that needs more than the whole budget on its own.
  o.max_total_bytes = MiB;
  expect_import_error([&] { import_with(o); },
                      {"m0.ko.gz", "needs more than the memory budget of 1048576 bytes"});
}

TEST(ImportCaps, DecompressStopsAtTheCapWithoutTheDeclaredSize) {
  // zstd frames declare their content size; a frame that declares 4 MiB is decoded up to the
  // cap only, and its buffers are reserved as they grow.
  MemoryBudget budget(64 * MiB);
  BudgetReservation r(budget, false);
  expect_import_error([&] { decompress(bomb(Compression::zstd), Compression::zstd, "b.ko.zst", MiB, &r); },
                      {"b.ko.zst", "exceeds 1048576 bytes"});
  EXPECT_LE(budget.peak(), 3 * MiB + (std::uint64_t{8} << 20)); // blocks up to 1 MiB + window
  EXPECT_EQ(budget.used(), r.held());
}

TEST(ImportCaps, XzDecoderMemoryIsReserved) {
  // `xz` by default (preset 6) writes an 8 MiB dictionary: the decoder's ~8 MiB are reserved
  // (after a restart with a higher memory limit), not only the output.
  const std::string elf = read_bytes(fixture_obj("fx_a"));
  const std::string packed = compress_xz(elf);
  MemoryBudget big(64 * MiB);
  {
    BudgetReservation r(big, false);
    EXPECT_EQ(decompress(packed, Compression::xz, "m.ko.xz", MiB, &r), elf);
  }
  EXPECT_GE(big.peak(), 8 * MiB);
  EXPECT_EQ(big.used(), 0u);
  MemoryBudget small(6 * MiB);
  BudgetReservation r(small, false);
  expect_import_error([&] { decompress(packed, Compression::xz, "m.ko.xz", MiB, &r); },
                      {"m.ko.xz", "needs more than the memory budget of 6291456 bytes"});
}

// ---- the budget ----------------------------------------------------------------------------

TEST(MemoryBudgetTest, GrowShrinkAndPeak) {
  MemoryBudget b(100);
  {
    BudgetReservation r(b, false);
    r.grow(60, "x");
    r.shrink(20);
    r.grow(50, "x");
    EXPECT_EQ(b.used(), 90u);
    EXPECT_EQ(r.held(), 90u);
  }
  EXPECT_EQ(b.used(), 0u);
  EXPECT_EQ(b.peak(), 90u);
}

TEST(MemoryBudgetTest, ShortageWhileOthersHoldErrorWhenAlone) {
  MemoryBudget b(100);
  auto a = std::make_unique<BudgetReservation>(b, false);
  a->grow(70, "a");
  BudgetReservation c(b, false);
  c.grow(20, "c");
  EXPECT_THROW(c.grow(20, "c"), BudgetShortage); // a holds what is missing: retry later
  a.reset();
  c.grow(20, "c");
  expect_import_error([&] { c.grow(80, "c.ko"); }, {"c.ko", "needs more than the memory budget of 100 bytes"});
}

TEST(MemoryBudgetTest, ExclusiveWaitsForHoldersAndHoldsOffNewOnes) {
  MemoryBudget b(100);
  auto a = std::make_unique<BudgetReservation>(b, false);
  a->grow(50, "a");
  std::atomic<bool> started{false};
  std::thread t([&] {
    BudgetReservation x(b, true);
    started = true;
    x.grow(100, "x"); // the whole budget
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(started.load()); // waits for `a`
  a.reset();
  t.join();
  EXPECT_TRUE(started.load());
  EXPECT_EQ(b.used(), 0u);
  EXPECT_EQ(b.peak(), 100u);
}

} // namespace
} // namespace kmodsim::import::test
