// import_tree() on the fixture tree (fixtures/tree + compiled objects), and its errors.
#include "kmodsim/import/import.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace kmodsim::import::test {
namespace {

using Names = std::vector<std::string>;

const kmodsim::Module& module(const kmodsim::Workload& w, const std::string& name) {
  const auto it = std::find_if(w.modules.begin(), w.modules.end(),
                               [&](const kmodsim::Module& m) { return m.name == name; });
  if (it == w.modules.end()) throw std::runtime_error("no module " + name);
  return *it;
}

class TreeVariant : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (!has_variant(GetParam())) GTEST_SKIP() << GetParam() << " fixtures not built by this toolchain";
  }
};

TEST_P(TreeVariant, WholeTreeWithoutBootList) {
  TempDir dir;
  build_fixture_tree(dir, GetParam());
  ImportReport r;
  const kmodsim::Workload w = import_tree({dir.path(), "", "", 2}, r);

  EXPECT_EQ(module_names(w), (Names{"fx_a", "fx_b", "fx_c", "fx_d"})); // sorted by name
  EXPECT_EQ(r.modules_in_tree, 4u);
  EXPECT_EQ(r.modules_imported, 4u);
  EXPECT_EQ(r.files_plain, 1u);
  EXPECT_EQ(r.files_xz, 1u);
  EXPECT_EQ(r.files_zstd, 1u);
  EXPECT_EQ(r.files_gzip, 1u);
  EXPECT_EQ(r.kernel_version, "6.1.0-fixture");
  EXPECT_EQ(r.softdeps, 2u);
  EXPECT_EQ(w.kernel_exports, 3); // vmlinux lines of Module.symvers
  EXPECT_EQ(r.kernel_exports_source, dir / "Module.symvers");

  const auto& a = module(w, "fx_a");
  EXPECT_EQ(a.exports, 2);
  EXPECT_EQ(a.undef_symbols, 2);
  EXPECT_EQ(a.dep_symbols, 0);
  EXPECT_DOUBLE_EQ(a.percpu_kb, 64.0 / 1024.0);
  EXPECT_GT(a.init_kb, 0.0);
  EXPECT_GT(a.size_kb, a.init_kb);
  EXPECT_DOUBLE_EQ(a.file_kb, static_cast<double>(read_bytes(fixture_obj("fx_a", GetParam())).size()) / 1024.0);
  EXPECT_GT(a.relocations, 0);
  EXPECT_TRUE(a.deps.empty());
  EXPECT_EQ(a.init.cpu_us, 0.0);
  EXPECT_EQ(a.init.wait_ms, 0.0);

  const auto& b = module(w, "fx_b"); // from fx-b.ko.xz
  EXPECT_EQ(b.deps, (Names{"fx_a"}));
  EXPECT_EQ(b.undef_symbols, 3);
  EXPECT_EQ(b.dep_symbols, 2); // fx_a_func, fx_a_gpl
  EXPECT_EQ(b.exports, 1);
  // a compressed file: file_kb is what is read from disk, decompressed_kb the ELF image
  EXPECT_DOUBLE_EQ(b.decompressed_kb,
                   static_cast<double>(read_bytes(fixture_obj("fx_b", GetParam())).size()) / 1024.0);
  EXPECT_DOUBLE_EQ(b.file_kb, static_cast<double>(read_bytes(dir / "kernel/drivers/fx/fx-b.ko.xz").size()) / 1024.0);
  EXPECT_LT(b.file_kb, b.decompressed_kb);
  EXPECT_EQ(a.decompressed_kb, 0.0); // a plain .ko

  const auto& c = module(w, "fx_c"); // from .zst, deps as modules.dep lists them
  EXPECT_EQ(c.deps, (Names{"fx_b", "fx_a"}));
  EXPECT_EQ(c.undef_symbols, 3);
  EXPECT_EQ(c.dep_symbols, 1); // fx_b_func
  EXPECT_EQ(c.exports, 0);

  const auto& d = module(w, "fx_d"); // fx_a's object, gzip-compressed, under another name
  EXPECT_EQ(d.size_kb, a.size_kb);
  EXPECT_EQ(d.relocations, a.relocations);

  // .modinfo vs modules.dep.
  EXPECT_TRUE(has_warning(r, "fx_c: .modinfo depends lists fx_ghost"));
  EXPECT_TRUE(has_warning(r, "fx_d: .modinfo name 'fx_a' differs"));
  EXPECT_FALSE(has_warning(r, "fx_b:"));
  EXPECT_EQ(r.modinfo_depends_mismatches, 1u);

  // One uevent per module of the tree.
  ASSERT_EQ(w.uevents.size(), 4u);
  EXPECT_EQ(w.uevents[0].device, "modules.dep:fx_a");
  EXPECT_EQ(w.uevents[0].module, "fx_a");
}

INSTANTIATE_TEST_SUITE_P(Variants, TreeVariant, ::testing::Values("native", "m32", "ppc32be", "s390x"),
                         [](const auto& param_info) { return param_info.param; });

TEST(ImportTree, BootListAndUevents) {
  TempDir dir;
  build_fixture_tree(dir);
  ImportReport r;
  const kmodsim::Workload w =
      import_tree({dir.path(), dir / "boot-lsmod.txt", dir / "uevents.txt", 0}, r);
  // Boot list: fx_c, fx_d; closure adds fx_b, fx_a.
  EXPECT_EQ(module_names(w), (Names{"fx_a", "fx_b", "fx_c", "fx_d"}));
  EXPECT_EQ(r.boot_list_modules, 2u);
  EXPECT_EQ(r.dependency_modules, 2u);
  EXPECT_EQ(r.uevent_added_modules, 0u);
  EXPECT_EQ(r.aliases, 6u);
  ASSERT_EQ(w.uevents.size(), 6u);
  // The PCI alias matches fx_a (first in modules.alias) and fx_d: fx_d is in the boot list.
  EXPECT_EQ(w.uevents[0].device, "pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00");
  EXPECT_EQ(w.uevents[0].module, "fx_d");
  EXPECT_EQ(w.uevents[1].module, "fx_b");
  EXPECT_EQ(w.uevents[2].module, "fx_b"); // second interface of the same USB device
  EXPECT_EQ(w.uevents[3].module, "fx_c");
  EXPECT_EQ(w.uevents[4].module, "");     // no driver for this GPU
  EXPECT_EQ(w.uevents[5].module, "fx_a"); // plain alias, '-' normalised to '_'
  EXPECT_EQ(w.uevents[3].loc.line, 6);
  EXPECT_EQ(r.uevents, 6u);
  EXPECT_EQ(r.uevents_unmatched, 1u);
  EXPECT_EQ(r.uevents_duplicate, 1u);
  EXPECT_TRUE(has_warning(r, "fx_not_in_tree"));
}

TEST(ImportTree, UeventsPullInModulesOutsideTheBootList) {
  TempDir dir;
  build_fixture_tree(dir);
  write_bytes(dir / "boot.txt", "Module Size Used by\nfx_a 1 0\n");
  ImportReport r;
  const kmodsim::Workload w = import_tree({dir.path(), dir / "boot.txt", dir / "uevents.txt", 1}, r);
  EXPECT_EQ(w.uevents[0].module, "fx_a"); // now fx_a is the boot-list match
  EXPECT_EQ(module_names(w), (Names{"fx_a", "fx_b", "fx_c"}));
  EXPECT_EQ(r.uevent_added_modules, 2u); // fx_b, fx_c
}

TEST(ImportTree, BootListWithoutUevents) {
  TempDir dir;
  build_fixture_tree(dir);
  write_bytes(dir / "proc_modules", "fx_b 16384 0 - Live 0x0000000000000000\n");
  ImportReport r;
  const kmodsim::Workload w = import_tree({dir.path(), dir / "proc_modules", "", 0}, r);
  EXPECT_EQ(module_names(w), (Names{"fx_a", "fx_b"}));
  ASSERT_EQ(w.uevents.size(), 1u);
  EXPECT_EQ(w.uevents[0].device, "boot-list:fx_b");
  EXPECT_EQ(w.uevents[0].module, "fx_b");
}

TEST(ImportTree, ParallelAndSerialAgree) {
  TempDir dir;
  build_fixture_tree(dir);
  ImportReport r1, r8;
  const auto w1 = import_tree({dir.path(), "", "", 1}, r1);
  const auto w8 = import_tree({dir.path(), "", "", 8}, r8);
  ASSERT_EQ(w1.modules.size(), w8.modules.size());
  for (std::size_t i = 0; i < w1.modules.size(); ++i) {
    EXPECT_EQ(w1.modules[i].name, w8.modules[i].name);
    EXPECT_EQ(w1.modules[i].relocations, w8.modules[i].relocations);
    EXPECT_EQ(w1.modules[i].dep_symbols, w8.modules[i].dep_symbols);
  }
  EXPECT_EQ(r1.warnings, r8.warnings);
}

TEST(ImportTree, KernelExportsMissingIsAWarning) {
  TempDir dir;
  build_fixture_tree(dir);
  std::filesystem::remove(dir / "Module.symvers");
  ImportReport r;
  const auto w = import_tree({dir.path(), "", "", 0}, r);
  EXPECT_EQ(w.kernel_exports, 0);
  EXPECT_TRUE(has_warning(r, "kernel_exports set to 0"));
}

// ---- errors --------------------------------------------------------------------------------

TEST(ImportTreeErrors, NoModulesDepSaysRunDepmod) {
  TempDir dir;
  std::filesystem::create_directories(dir / "lib/modules/6.1.0-x");
  expect_import_error([&] { ImportReport r; import_tree({dir / "lib/modules/6.1.0-x", "", "", 0}, r); },
                      {"modules.dep", "depmod -b " + dir.path() + " 6.1.0-x"});
  expect_import_error([&] { ImportReport r; import_tree({dir / "nope", "", "", 0}, r); }, {"nope", "not found"});
}

void expect_dep_error(const std::string& fixture, std::initializer_list<std::string> parts) {
  TempDir dir;
  build_fixture_tree(dir);
  write_bytes(dir / "modules.dep", read_bytes(fixture_src("bad/" + fixture)));
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), "", "", 0}, r); }, parts);
}

TEST(ImportTreeErrors, MissingModuleFile) {
  expect_dep_error("modules.dep-missing-file", {"modules.dep:2:", "fx_missing.ko", "not found"});
}

TEST(ImportTreeErrors, DependencyOnUnknownModule) {
  expect_dep_error("modules.dep-unknown-dep", {"modules.dep:2:", "unknown module 'fx_nowhere'"});
}

TEST(ImportTreeErrors, CycleGivesTheWholePath) {
  expect_dep_error("modules.dep-cycle", {"modules.dep:2:", "dependency cycle: fx_b -> fx_c -> fx_d -> fx_b"});
}

TEST(ImportTreeErrors, MalformedModulesDep) {
  expect_dep_error("modules.dep-no-colon", {"modules.dep:2:", "malformed"});
}

TEST(ImportTreeErrors, BadBootLists) {
  TempDir dir;
  build_fixture_tree(dir);
  const std::string bad = fixture_src("bad/lsmod_malformed.txt");
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), bad, "", 0}, r); },
                      {"lsmod_malformed.txt:3:", "malformed lsmod line"});
  const std::string unknown = fixture_src("bad/lsmod_unknown_module.txt");
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), unknown, "", 0}, r); },
                      {"lsmod_unknown_module.txt:3:", "fx_zzz", "not in"});
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), dir / "absent", "", 0}, r); },
                      {"absent", "not found"});
}

TEST(ImportTreeErrors, BadUeventList) {
  TempDir dir;
  build_fixture_tree(dir);
  const std::string bad = fixture_src("bad/uevents_space.txt");
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), "", bad, 0}, r); }, {"uevents_space.txt:3:"});
  std::filesystem::remove(dir / "modules.alias");
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), "", dir / "uevents.txt", 0}, r); },
                      {"modules.alias", "not found"});
}

TEST(ImportTreeErrors, CorruptModuleNamesFileAndOffset) {
  TempDir dir;
  build_fixture_tree(dir);
  std::string obj = read_bytes(fixture_obj("fx_b"));
  obj.resize(obj.size() / 2);
  write_bytes(dir / "kernel/drivers/fx/fx-b.ko.xz", compress_xz(obj));
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), "", "", 4}, r); },
                      {"fx-b.ko.xz (decompressed)", "byte offset"});
  write_bytes(dir / "kernel/drivers/fx/fx-b.ko.xz", "not xz at all");
  expect_import_error([&] { ImportReport r; import_tree({dir.path(), "", "", 4}, r); },
                      {"fx-b.ko.xz: byte offset 0x0", "xz"});
}

} // namespace
} // namespace kmodsim::import::test
