// Decompression of .ko.xz / .ko.zst / .ko.gz.
#include "kmodsim/import/decompress.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

namespace kmodsim::import::test {
namespace {

std::string sample() {
  // Compressible but not trivial: a fixture object repeated with a counter.
  const std::string obj = read_bytes(fixture_obj("fx_a", "native"));
  std::string s;
  for (int i = 0; i < 50; ++i) s += obj + std::to_string(i);
  return s;
}

TEST(Decompress, SuffixSelectsMethod) {
  EXPECT_EQ(compression_from_path("a/b/e1000e.ko.xz"), Compression::xz);
  EXPECT_EQ(compression_from_path("e1000e.ko.zst"), Compression::zstd);
  EXPECT_EQ(compression_from_path("e1000e.ko.gz"), Compression::gzip);
  EXPECT_EQ(compression_from_path("e1000e.ko"), Compression::none);
  EXPECT_STREQ(compression_name(Compression::zstd), "zstd");
}

TEST(Decompress, RoundTripsAllThreeFormats) {
  const std::string s = sample();
  EXPECT_EQ(decompress(compress_xz(s), Compression::xz, "m.ko.xz"), s);
  EXPECT_EQ(decompress(compress_zstd(s), Compression::zstd, "m.ko.zst"), s);
  EXPECT_EQ(decompress(compress_gzip(s), Compression::gzip, "m.ko.gz"), s);
  EXPECT_EQ(decompress(s, Compression::none, "m.ko"), s);
}

TEST(Decompress, ConcatenatedStreams) {
  const std::string a = "first part ", b = "second part";
  EXPECT_EQ(decompress(compress_xz(a) + compress_xz(b), Compression::xz, "x"), a + b);
  EXPECT_EQ(decompress(compress_zstd(a) + compress_zstd(b), Compression::zstd, "z"), a + b);
  EXPECT_EQ(decompress(compress_gzip(a) + compress_gzip(b), Compression::gzip, "g"), a + b);
}

TEST(Decompress, EmptyPayload) {
  EXPECT_EQ(decompress(compress_xz(""), Compression::xz, "x"), "");
  EXPECT_EQ(decompress(compress_zstd(""), Compression::zstd, "z"), "");
  EXPECT_EQ(decompress(compress_gzip(""), Compression::gzip, "g"), "");
}

TEST(Decompress, WrongMagicNamesFileAndOffset) {
  const std::string s = sample();
  expect_import_error([&] { decompress(s, Compression::xz, "m.ko.xz"); }, {"m.ko.xz", "byte offset 0x0", "xz"});
  expect_import_error([&] { decompress(s, Compression::zstd, "m.ko.zst"); }, {"m.ko.zst", "byte offset 0x0", "zstd"});
  expect_import_error([&] { decompress(s, Compression::gzip, "m.ko.gz"); }, {"m.ko.gz", "byte offset 0x0", "gzip"});
  expect_import_error([&] { decompress("", Compression::xz, "e.ko.xz"); }, {"e.ko.xz", "byte offset"});
}

TEST(Decompress, TruncatedAndCorruptStreams) {
  const std::string s = sample();
  struct Case {
    Compression c;
    std::string data;
    const char* name;
  };
  for (const Case& k : {Case{Compression::xz, compress_xz(s), "t.ko.xz"},
                        Case{Compression::zstd, compress_zstd(s), "t.ko.zst"},
                        Case{Compression::gzip, compress_gzip(s), "t.ko.gz"}}) {
    SCOPED_TRACE(k.name);
    expect_import_error([&] { decompress(k.data.substr(0, k.data.size() / 2), k.c, k.name); },
                        {k.name, "byte offset"});
    expect_import_error([&] { decompress(k.data.substr(0, k.data.size() - 1), k.c, k.name); },
                        {k.name, "byte offset"});
    std::string corrupt = k.data;
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
    corrupt[corrupt.size() / 2 + 1] = static_cast<char>(corrupt[corrupt.size() / 2 + 1] ^ 0x55);
    expect_import_error([&] { decompress(corrupt, k.c, k.name); }, {k.name});
    // Trailing garbage after a complete stream.
    expect_import_error([&] { decompress(k.data + "garbage!", k.c, k.name); }, {k.name, "byte offset"});
  }
}

TEST(Decompress, OutputCap) {
  const std::string big(1 << 20, 'k');
  for (Compression c : {Compression::xz, Compression::zstd, Compression::gzip}) {
    const std::string packed = c == Compression::xz     ? compress_xz(big)
                               : c == Compression::zstd ? compress_zstd(big)
                                                        : compress_gzip(big);
    expect_import_error([&] { decompress(packed, c, "bomb.ko", 4096); }, {"bomb.ko", "exceeds 4096"});
    EXPECT_EQ(decompress(packed, c, "ok.ko", big.size()).size(), big.size());
  }
}

TEST(Decompress, ReadModuleFile) {
  TempDir dir;
  const std::string s = sample();
  write_bytes(dir / "m.ko.zst", compress_zstd(s));
  std::size_t on_disk = 0;
  EXPECT_EQ(read_module_file(dir / "m.ko.zst", &on_disk), s);
  EXPECT_EQ(on_disk, compress_zstd(s).size());
  expect_import_error([&] { read_module_file(dir / "absent.ko"); }, {"absent.ko", "not found"});
}

} // namespace
} // namespace kmodsim::import::test
