// ELF reader and feature extraction, on objects compiled from fixtures/*.c at build time.
#include "kmodsim/import/elf.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

namespace kmodsim::import::test {
namespace {

using Names = std::vector<std::string>;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

/// Independent sums over the section table, to check extract_module_features against.
struct Sums {
  std::uint64_t alloc = 0, init = 0, percpu = 0, relocs = 0;
};
Sums sums_of(const ElfObject& elf) {
  Sums s;
  for (const ElfSection& sec : elf.sections()) {
    if (sec.name == ".data..percpu") s.percpu += sec.size;
    else if ((sec.flags & kShfAlloc) && sec.name != ".modinfo" && sec.name != "__versions") {
      s.alloc += sec.size;
      if (starts_with(sec.name, ".init")) s.init += sec.size;
    }
    if (sec.type == kShtRel || sec.type == kShtRela) s.relocs += sec.size / sec.entsize;
  }
  return s;
}

class ElfVariant : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (!has_variant(GetParam())) GTEST_SKIP() << GetParam() << " fixtures not built by this toolchain";
  }
};

TEST_P(ElfVariant, ClassAndByteOrder) {
  const std::string data = read_bytes(fixture_obj("fx_a", GetParam()));
  const ElfObject elf(data, "fx_a.o");
  const std::string v = GetParam();
  if (v == "m32") {
    EXPECT_FALSE(elf.is_64bit());
    EXPECT_FALSE(elf.is_big_endian());
  } else if (v == "ppc32be") {
    EXPECT_FALSE(elf.is_64bit());
    EXPECT_TRUE(elf.is_big_endian());
  } else if (v == "s390x") {
    EXPECT_TRUE(elf.is_64bit());
    EXPECT_TRUE(elf.is_big_endian());
  }
  ASSERT_NE(elf.find_section(".modinfo"), nullptr);
  ASSERT_NE(elf.find_section(".symtab"), nullptr);
  EXPECT_EQ(elf.find_section(".no-such-section"), nullptr);
}

TEST_P(ElfVariant, FeaturesOfModuleA) {
  const std::string data = read_bytes(fixture_obj("fx_a", GetParam()));
  const ModuleFeatures f = extract_module_features(data, "fx_a.o");
  EXPECT_EQ(f.file_bytes, data.size());
  EXPECT_EQ(f.export_names, (Names{"fx_a_func", "fx_a_gpl"}));
  EXPECT_EQ(f.exports, 2);
  EXPECT_EQ(f.undefined_names, (Names{"fx_kmalloc", "fx_printk"}));
  EXPECT_EQ(f.undef_symbols, 2);
  EXPECT_EQ(f.percpu_bytes, 64u);

  const Sums s = sums_of(ElfObject(data, "fx_a.o"));
  EXPECT_EQ(f.alloc_bytes, s.alloc);
  EXPECT_EQ(f.init_bytes, s.init);
  EXPECT_GT(f.init_bytes, 0u);
  EXPECT_LT(f.init_bytes, f.alloc_bytes);
  EXPECT_EQ(static_cast<std::uint64_t>(f.relocations), s.relocs);
  EXPECT_GT(f.relocations, 0);

  EXPECT_TRUE(f.has_modinfo);
  EXPECT_EQ(f.modinfo_name, "fx_a");
  EXPECT_TRUE(f.modinfo_depends.empty());
  EXPECT_EQ(std::set<std::string>(f.modinfo_aliases.begin(), f.modinfo_aliases.end()),
            (std::set<std::string>{"pci:v00008086d0000100Esv*sd*bc*sc*i*", "fx-a-alias"}));
  EXPECT_EQ(f.vermagic, "6.1.0-fixture SMP mod_unload");
}

TEST_P(ElfVariant, FeaturesOfModulesBAndC) {
  const ModuleFeatures b = extract_module_features(read_bytes(fixture_obj("fx_b", GetParam())), "fx_b.o");
  EXPECT_EQ(b.export_names, (Names{"fx_b_func"}));
  EXPECT_EQ(b.undefined_names, (Names{"fx_a_func", "fx_a_gpl", "fx_printk"}));
  EXPECT_EQ(b.modinfo_depends, (Names{"fx_a"}));
  EXPECT_EQ(b.percpu_bytes, 0u);

  const ModuleFeatures c = extract_module_features(read_bytes(fixture_obj("fx_c", GetParam())), "fx_c.o");
  EXPECT_EQ(c.exports, 0);
  EXPECT_EQ(c.undefined_names, (Names{"fx_b_func", "fx_msleep", "fx_printk"}));
  EXPECT_EQ(c.modinfo_depends, (Names{"fx_b", "fx_ghost"}));
  EXPECT_EQ(c.init_bytes, 0u);
  EXPECT_GT(c.alloc_bytes, 32u); // fx_c_table alone is 32 bytes
}

INSTANTIATE_TEST_SUITE_P(Variants, ElfVariant,
                         ::testing::Values("native", "m32", "ppc32be", "s390x"),
                         [](const auto& param_info) { return param_info.param; });

// ---- malformed input -----------------------------------------------------------------------

void put_le(std::string& d, std::size_t off, std::uint64_t v, unsigned width) {
  for (unsigned i = 0; i < width; ++i) d[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint64_t get_le(const std::string& d, std::size_t off, unsigned width) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= std::uint64_t{static_cast<unsigned char>(d[off + i])} << (8 * i);
  return v;
}

/// The native fixture, which must be ELF64 little-endian for the patching tests.
std::string native_a() {
  std::string d = read_bytes(fixture_obj("fx_a", "native"));
  if (d.size() < 64 || d[4] != 2 || d[5] != 1) return {};
  return d;
}

TEST(ElfErrors, EmptyAndShortFiles) {
  expect_import_error([] { ElfObject(std::string_view(), "empty.ko"); }, {"empty.ko", "byte offset 0x0", "truncated"});
  expect_import_error([] { ElfObject(std::string_view("\x7f" "ELF\2\1\1", 7), "short.ko"); },
                      {"short.ko", "byte offset", "truncated"});
}

TEST(ElfErrors, TruncatedHeaderAndTable) {
  const std::string d = native_a();
  if (d.empty()) GTEST_SKIP() << "native fixture is not ELF64 LE";
  expect_import_error([&] { ElfObject(std::string_view(d).substr(0, 40), "cut40.ko"); },
                      {"cut40.ko", "byte offset 0x28 (40)", "truncated ELF header"});
  // The section header table is at the end of the file: cutting it off.
  const std::string half = d.substr(0, d.size() / 2);
  expect_import_error([&] { ElfObject(half, "half.ko"); }, {"half.ko", "byte offset", "past the end"});
  expect_import_error([&] { extract_module_features(d.substr(0, d.size() - 1), "minus1.ko"); },
                      {"minus1.ko", "byte offset"});
}

TEST(ElfErrors, WrongMagicClassEncodingType) {
  std::string d = native_a();
  if (d.empty()) GTEST_SKIP() << "native fixture is not ELF64 LE";
  std::string bad = d;
  bad[1] = 'X';
  expect_import_error([&] { ElfObject(bad, "magic.ko"); }, {"magic.ko", "byte offset 0x0 (0)", "bad magic"});
  bad = d;
  bad[4] = 7;
  expect_import_error([&] { ElfObject(bad, "class.ko"); }, {"class.ko", "byte offset 0x4 (4)", "class"});
  bad = d;
  bad[5] = 0;
  expect_import_error([&] { ElfObject(bad, "enc.ko"); }, {"enc.ko", "byte offset 0x5 (5)", "encoding"});
  bad = d;
  put_le(bad, 16, 2, 2); // ET_EXEC
  expect_import_error([&] { ElfObject(bad, "exec.ko"); }, {"exec.ko", "byte offset 0x10 (16)", "relocatable"});
}

TEST(ElfErrors, SectionOffsetsPastTheEnd) {
  const std::string d = native_a();
  if (d.empty()) GTEST_SKIP() << "native fixture is not ELF64 LE";
  const std::size_t shoff = static_cast<std::size_t>(get_le(d, 40, 8));
  // e_shoff beyond the file.
  std::string bad = d;
  put_le(bad, 40, d.size() + 100, 8);
  expect_import_error([&] { ElfObject(bad, "shoff.ko"); }, {"shoff.ko", "byte offset 0x28 (40)", "past the end"});
  // sh_offset of section 1 beyond the file: the message points at that field.
  bad = d;
  const std::size_t field = shoff + 64 + 24;
  put_le(bad, field, 0xffffffffffff0000ULL, 8);
  expect_import_error([&] { ElfObject(bad, "shoff1.ko"); },
                      {"shoff1.ko", "byte offset " , "(" + std::to_string(field) + ")", "section 1", "past the end"});
  // sh_size too large (offset + size overflows 64 bits).
  bad = d;
  put_le(bad, shoff + 64 + 32, 0xffffffffffffffffULL, 8);
  expect_import_error([&] { ElfObject(bad, "shsize.ko"); }, {"shsize.ko", "byte offset", "past the end"});
  // Too many sections for the file.
  bad = d;
  put_le(bad, 60, 0xfff0, 2);
  expect_import_error([&] { ElfObject(bad, "shnum.ko"); }, {"shnum.ko", "byte offset 0x3c (60)"});
  // Section name string table index out of range.
  bad = d;
  put_le(bad, 62, 0xfeff, 2);
  expect_import_error([&] { ElfObject(bad, "shstrndx.ko"); }, {"shstrndx.ko", "byte offset 0x3e (62)"});
  // Section name offset outside .shstrtab.
  bad = d;
  put_le(bad, shoff + 64, 0x7fffffff, 4);
  expect_import_error([&] { ElfObject(bad, "name.ko"); }, {"name.ko", "byte offset", "section name"});
}

TEST(ElfErrors, BadSymbolTable) {
  const std::string d = native_a();
  if (d.empty()) GTEST_SKIP() << "native fixture is not ELF64 LE";
  const ElfObject elf(d, "ok.ko");
  const ElfSection* symtab = elf.find_section(".symtab");
  ASSERT_NE(symtab, nullptr);
  std::string bad = d;
  put_le(bad, static_cast<std::size_t>(symtab->header_offset + 56), 23, 8); // sh_entsize
  expect_import_error([&] { extract_module_features(bad, "entsize.ko"); }, {"entsize.ko", "byte offset", "entry size"});
  bad = d;
  put_le(bad, static_cast<std::size_t>(symtab->header_offset + 40), 0, 4); // sh_link
  expect_import_error([&] { extract_module_features(bad, "link.ko"); }, {"link.ko", "byte offset", "string table"});
  // A symbol name offset out of its string table.
  bad = d;
  put_le(bad, static_cast<std::size_t>(symtab->offset + 24), 0x7ffffff0, 4);
  expect_import_error([&] { extract_module_features(bad, "stname.ko"); }, {"stname.ko", "byte offset", "symbol name"});
  // No symbol table at all (type changed to PROGBITS).
  bad = d;
  put_le(bad, static_cast<std::size_t>(symtab->header_offset + 4), 1, 4);
  expect_import_error([&] { extract_module_features(bad, "stripped.ko"); }, {"stripped.ko", "no symbol table"});
}

TEST(ElfErrors, EveryTruncationAndByteFlipIsCleanlyHandled) {
  // Exhaustive small-scale robustness check: every prefix of the object and the object with
  // each single byte inverted either parses or raises ImportError; nothing else happens.
  const std::string d = read_bytes(fixture_obj("fx_b", "native"));
  std::size_t errors = 0;
  for (std::size_t n = 0; n < d.size(); ++n) {
    try {
      extract_module_features(std::string_view(d).substr(0, n), "cut.ko");
    } catch (const ImportError& e) {
      ++errors;
      ASSERT_NE(std::string(e.what()).find("cut.ko"), std::string::npos);
    }
  }
  EXPECT_GT(errors, d.size() / 2); // compilers put the section table at the end
  for (std::size_t i = 0; i < d.size(); ++i) {
    std::string bad = d;
    bad[i] = static_cast<char>(~bad[i]);
    try {
      extract_module_features(bad, "flip.ko");
    } catch (const ImportError& e) {
      ASSERT_NE(std::string(e.what()).find("flip.ko"), std::string::npos);
    }
  }
}

} // namespace
} // namespace kmodsim::import::test
