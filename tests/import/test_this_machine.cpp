// import_this_machine() on a fabricated machine root (this_machine_support.cpp), its writers,
// its parsers, the kmod index check, and its errors.
//
// The root, and what each part of it must give (hand-derived):
//
//   lib/modules/6.1.0-fixture  modules.dep: fx_a; fx_b <- fx_a; fx_c <- fx_b fx_a; fx_d; fx_e <-
//                              fx_f; fx_f; fx_g (7 modules). modules.alias.bin (libkmod's index;
//                              priorities in brackets): the Intel PCI pattern -> fx_a [0] and
//                              fx_d [3]; the Logitech USB pattern -> fx_b; platform:fx_e -> fx_e;
//                              a PCI pattern -> fx_not_in_tree (no modules.dep line).
//                              modules.builtin.alias.bin: platform:fx_builtin -> fx_builtin.
//   etc/modprobe.d             fx.conf: "blacklist fx_e"; fifo.conf: a FIFO (skipped, warned)
//   sys/devices (walked in name order, parents first)
//     pci0000:00/0000:00:19.0              Intel PCI  -> fx_a and fx_d: 2 uevents (several)
//     pci0000:00/0000:00:1d.0              PCI 8086:2934 -> nothing (unmatched)
//     .../usb2/2-1/2-1:1.0, 2-1:1.1        USB, interfaces 0 and 1 -> fx_b twice (1 duplicate)
//     pci0000:00/0000:00:1e.0              -> fx_not_in_tree only (outside the tree)
//     platform/bad                          "has a blank": invalid, skipped
//     platform/empty                        empty: skipped
//     platform/fx-builtin.0                 platform:fx-builtin -> built in: module null
//     platform/fx-e.0                       platform:fx-e -> fx_e, blacklisted: module null
//     platform/link/modalias                a symbolic link: not followed
//     platform/loop, platform/outside       links to sys/devices and to /: not followed
//     platform/unreadable/modalias          a FIFO: unreadable, never opened
//   -> 9 modalias files read, 7 modaliases: 2 one, 1 several (+1 uevent), 1 unmatched, 1 outside
//      the tree, 1 built in, 1 blacklisted; 8 uevents from sysfs.
//   proc/modules (newest first): fx_e fx_c fx_b fx_f fx_a fx_ghost. fx_ghost has no modules.dep
//      line (skipped). Loaded by the uevents (with deps): fx_a fx_d fx_b. Left: fx_c, fx_e, fx_f;
//      fx_f is fx_e's dependency, so in load order (oldest first) "boot-list:fx_c",
//      "boot-list:fx_e": 10 uevents, 4 with no module, 1 duplicate.
//   Modules: the 5 loaded ones in the tree + fx_d (added by a uevent) = 6 of 7 (not fx_g).
//   proc/kallsyms: __ksymtab_printk, _kmalloc, _msleep of vmlinux -> kernel_exports 3 (not
//      __ksymtab_strings, __start___ksymtab, or fx_a's [fx_a] entry).
//   sys/devices/system/cpu/online "0-3,6" -> 5 cores; proc/meminfo MemTotal 8167848 kB ->
//      ram_mb 7976.4140625; proc/cpuinfo (2 processors) is the fallback for cores.
#include "kmodsim/import/kmod_index.hpp"
#include "kmodsim/import/this_machine.hpp"

#include "this_machine_support.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace kmodsim::import::test {
namespace {
namespace fs = std::filesystem;

using Names = std::vector<std::string>;

ThisMachineOptions options(const TempDir& root) {
  ThisMachineOptions o;
  o.root = root.path();
  o.jobs = 2;
  return o;
}

TEST(ThisMachine, FabricatedRoot) {
  TempDir root;
  build_machine_root(root);
  ThisMachineReport r;
  const kmodsim::Workload w = import_this_machine(options(root), r);

  EXPECT_EQ(r.release, kRelease);
  EXPECT_EQ(r.release_source, root / "proc/sys/kernel/osrelease");
  EXPECT_EQ(r.modules_dir, machine_modules_dir(root));

  // The sysfs walk.
  EXPECT_EQ(r.modalias_files, 9u);
  EXPECT_EQ(r.modalias_empty, 1u);
  EXPECT_EQ(r.modalias_invalid, 1u);
  EXPECT_EQ(r.modalias_unreadable, 1u);
  EXPECT_EQ(r.modalias_symlinks, 1u);
  EXPECT_EQ(r.directories_unreadable, 0u);
  EXPECT_EQ(r.directories_repeated, 0u);

  // libkmod's resolution.
  EXPECT_EQ(r.modaliases, 7u);
  EXPECT_EQ(r.modaliases_one, 2u);
  EXPECT_EQ(r.modaliases_several, 1u);
  EXPECT_EQ(r.extra_uevents, 1u);
  EXPECT_EQ(r.modaliases_unmatched, 1u);
  EXPECT_EQ(r.modaliases_not_in_tree, 1u);
  EXPECT_EQ(r.modaliases_builtin, 1u);
  EXPECT_EQ(r.modaliases_blacklisted, 1u);
  EXPECT_EQ(r.modaliases_refused, 0u);

  // The uevents, in walk order, then the boot-list requests.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00", "fx_a"},
      {"pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00", "fx_d"},
      {"pci:v00008086d00002934sv00008086sd00001376bc0Csc03i00", ""},
      {"usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in00", "fx_b"},
      {"usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in01", "fx_b"},
      {"pci:v0000FFFFd00000001sv00000000sd00000000bc00sc00i00", ""},
      {"platform:fx-builtin", ""},
      {"platform:fx-e", ""},
      {"boot-list:fx_c", "fx_c"},
      {"boot-list:fx_e", "fx_e"}};
  ASSERT_EQ(w.uevents.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(w.uevents[i].device, expected[i].first) << i;
    EXPECT_EQ(w.uevents[i].module, expected[i].second) << i;
  }
  EXPECT_EQ(w.uevents[0].loc.file, root / "sys/devices/pci0000:00/0000:00:19.0/modalias");
  EXPECT_EQ(w.uevents[8].loc.file, root / "proc/modules");
  EXPECT_EQ(w.uevents[8].loc.line, 2);
  EXPECT_EQ(r.import.uevents, 10u);
  EXPECT_EQ(r.import.uevents_unmatched, 4u);
  EXPECT_EQ(r.import.uevents_duplicate, 1u);

  // The boot list and the modules.
  EXPECT_EQ(r.loaded_modules, 6u);
  EXPECT_EQ(r.loaded_not_in_tree, 1u);
  EXPECT_EQ(r.boot_requests, 2u);
  EXPECT_EQ(module_names(w), (Names{"fx_a", "fx_b", "fx_c", "fx_d", "fx_e", "fx_f"}));
  EXPECT_EQ(r.import.modules_in_tree, 7u);
  EXPECT_EQ(r.import.boot_list_modules, 5u);
  EXPECT_EQ(r.import.uevent_added_modules, 1u);
  EXPECT_EQ(r.import.dependency_modules, 0u);
  EXPECT_EQ(w.index_modules, 7);

  // kernel_exports from /proc/kallsyms.
  EXPECT_EQ(w.kernel_exports, 3);
  EXPECT_EQ(r.import.kernel_exports_source, root / "proc/kallsyms");

  // Machine facts.
  EXPECT_EQ(r.facts.cores, 5);
  EXPECT_EQ(r.facts.cpu_list, "0-3,6");
  EXPECT_EQ(r.facts.cores_source, root / "sys/devices/system/cpu/online");
  EXPECT_EQ(r.facts.mem_total_kb, 8167848u);
  EXPECT_EQ(r.facts.cpu_model, "Fixture CPU @ 1.80GHz");

  EXPECT_TRUE(has_warning(r.import, "fifo.conf: is a FIFO, not a regular file; not given to libkmod"));
  EXPECT_TRUE(has_warning(r.import, "1 loaded module(s) not in"));
  EXPECT_TRUE(has_warning(r.import, "fx_ghost"));
  EXPECT_TRUE(has_warning(r.import, "fx_not_in_tree"));
  EXPECT_TRUE(has_warning(r.import, "1 unreadable modalias file(s), 1 invalid one(s)"));
  EXPECT_TRUE(has_warning(r.import, "platform/unreadable/modalias"));
}

TEST(ThisMachine, WritersReadBack) {
  TempDir root;
  build_machine_root(root);
  ThisMachineReport r;
  const kmodsim::Workload w = import_this_machine(options(root), r);

  std::ostringstream wl;
  write_this_machine_workload_yaml(w, r, wl, "2024-01-01");
  const std::string text = wl.str();
  EXPECT_NE(text.find("# kernel_exports: __ksymtab_ entries of vmlinux in " + (root / "proc/kallsyms")),
            std::string::npos);
  EXPECT_NE(text.find("1 several (each loaded"), std::string::npos);
  const YAML::Node y = YAML::Load(text);
  EXPECT_EQ(y["kernel_exports"].as<int>(), 3);
  EXPECT_EQ(y["index_modules"].as<int>(), 7);
  EXPECT_EQ(y["modules"].size(), 6u);
  EXPECT_EQ(y["uevents"].size(), 10u);
  EXPECT_TRUE(y["uevents"][2]["module"].IsNull());
  EXPECT_EQ(y["uevents"][1]["module"].as<std::string>(), "fx_d");

  std::ostringstream mo;
  write_machine_yaml(r, mo);
  const YAML::Node m = YAML::Load(mo.str());
  EXPECT_EQ(m["schema_version"].as<int>(), 1);
  EXPECT_EQ(m["cores"].as<int>(), 5);
  EXPECT_DOUBLE_EQ(m["ram_mb"].as<double>(), 8167848.0 / 1024.0);
  EXPECT_FALSE(m["speed"]); // left to the scenario, and said so
  EXPECT_NE(mo.str().find("#   speed: 1.0"), std::string::npos);

  // Deterministic: the same root gives the same bytes.
  ThisMachineReport r2;
  const kmodsim::Workload w2 = import_this_machine(options(root), r2);
  std::ostringstream again;
  write_this_machine_workload_yaml(w2, r2, again, "2024-01-01");
  EXPECT_EQ(again.str(), text);
}

TEST(ThisMachine, ExportsFromHeadersWhenKallsymsHasNone) {
  TempDir root;
  build_machine_root(root);
  // A kernel without CONFIG_KALLSYMS_ALL lists no data symbols.
  write_bytes(root / "proc/kallsyms", "ffffffff81000000 T _text\n");
  // build -> /usr/src/linux-kbuild-fx: taken under the root, not on this machine.
  fs::create_directory_symlink("/usr/src/linux-kbuild-fx", machine_modules_dir(root) + "/build");
  write_bytes(root / "usr/src/linux-kbuild-fx/Module.symvers",
              "0x1\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x2\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n"
              "0x3\tfx_a_func\tdrivers/fx/fx_a\tEXPORT_SYMBOL\t\n");
  ThisMachineReport r;
  kmodsim::Workload w = import_this_machine(options(root), r);
  EXPECT_EQ(w.kernel_exports, 2);
  EXPECT_EQ(r.import.kernel_exports_source, root / "usr/src/linux-kbuild-fx/Module.symvers");
  EXPECT_EQ(r.kernel_exports_how, "vmlinux lines of");

  // Without the link: the headers package's path.
  fs::remove(machine_modules_dir(root) + "/build");
  write_bytes(root / (std::string("usr/src/linux-headers-") + kRelease + "/Module.symvers"),
              read_bytes(fixture_src("tree/Module.symvers")));
  w = import_this_machine(options(root), r);
  EXPECT_EQ(w.kernel_exports, 3);
  EXPECT_EQ(r.import.kernel_exports_source,
            root / (std::string("usr/src/linux-headers-") + kRelease + "/Module.symvers"));
}

TEST(ThisMachine, ExportsNotDeterminableSaysSo) {
  TempDir root;
  build_machine_root(root);
  fs::remove(root / "proc/kallsyms");
  ThisMachineReport r;
  const kmodsim::Workload w = import_this_machine(options(root), r);
  EXPECT_EQ(w.kernel_exports, 0);
  EXPECT_EQ(r.import.kernel_exports_source, "");
  EXPECT_EQ(r.kernel_exports_how, "not determinable");
  EXPECT_TRUE(has_warning(r.import, "kernel_exports not determinable, set to 0"));
  std::ostringstream out;
  write_this_machine_workload_yaml(w, r, out);
  EXPECT_NE(out.str().find("# kernel_exports: NOT DETERMINABLE, written as 0; looked in:"),
            std::string::npos);
  EXPECT_NE(out.str().find(root / "proc/kallsyms"), std::string::npos);
}

TEST(ThisMachine, CoresFromCpuinfoAndUnknownCores) {
  TempDir root;
  build_machine_root(root);
  fs::remove(root / "sys/devices/system/cpu/online");
  MachineFacts f = read_machine_facts(root.path(), kDefaultMaxFileBytes);
  EXPECT_EQ(f.cores, 2);
  EXPECT_EQ(f.cores_source, root / "proc/cpuinfo");

  fs::remove(root / "proc/cpuinfo");
  fs::remove(root / "proc/meminfo");
  ThisMachineReport r;
  import_this_machine(options(root), r);
  EXPECT_EQ(r.facts.cores, 0);
  EXPECT_EQ(r.facts.mem_total_kb, 0u);
  std::ostringstream out;
  expect_import_error([&] { write_machine_yaml(r, out); },
                      {"the number of CPUs is unknown", "cpu/online", "proc/cpuinfo"});
}

TEST(ThisMachine, BadInput) {
  {
    ThisMachineOptions o;
    o.root = "/nonexistent/kmodsim-root";
    ThisMachineReport r;
    expect_import_error([&] { import_this_machine(o, r); },
                        {"/nonexistent/kmodsim-root: not found (the --root directory)"});
  }
  TempDir root;
  build_machine_root(root);
  ThisMachineReport r;
  // No module tree for the running kernel.
  write_bytes(root / "proc/sys/kernel/osrelease", "6.9.9-other\n");
  expect_import_error([&] { import_this_machine(options(root), r); },
                      {root / "lib/modules/6.9.9-other", "not found", "6.9.9-other"});
  write_bytes(root / "proc/sys/kernel/osrelease", "../../etc\n");
  expect_import_error([&] { import_this_machine(options(root), r); },
                      {"osrelease:1: not a kernel release"});
  write_bytes(root / "proc/sys/kernel/osrelease", std::string(kRelease) + "\n");
  // No index for libkmod.
  const std::string alias_bin = machine_modules_dir(root) + "/modules.alias.bin";
  const std::string saved = read_bytes(alias_bin);
  fs::remove(alias_bin);
  expect_import_error([&] { import_this_machine(options(root), r); },
                      {alias_bin, "not found", "depmod -b " + root.path() + " " + kRelease});
  write_bytes(alias_bin, saved.substr(0, saved.size() - 3));
  expect_import_error([&] { import_this_machine(options(root), r); }, {alias_bin, "byte offset"});
  write_bytes(alias_bin, saved);
  // Malformed /proc files: one line naming file and line.
  write_bytes(root / "proc/kallsyms", "ffffffff81000000 T _text\nnot a kallsyms line at all\n");
  expect_import_error([&] { import_this_machine(options(root), r); }, {"kallsyms:2: malformed"});
  fs::remove(root / "proc/kallsyms");
  write_bytes(root / "sys/devices/system/cpu/online", "0-3,\n");
  expect_import_error([&] { import_this_machine(options(root), r); }, {"online:1: malformed CPU list"});
  write_bytes(root / "sys/devices/system/cpu/online", "0-1\n");
  fs::remove(root / "proc/modules");
  expect_import_error([&] { import_this_machine(options(root), r); },
                      {root / "proc/modules", "not found"});
  write_bytes(root / "proc/modules", "");
  fs::remove_all(root / "sys/devices");
  expect_import_error([&] { import_this_machine(options(root), r); },
                      {root / "sys/devices", "not found"});
}

TEST(ThisMachine, NothingLoadedIsAnEmptyBootList) {
  TempDir root;
  build_machine_root(root);
  write_bytes(root / "proc/modules", "");
  ThisMachineReport r;
  const kmodsim::Workload w = import_this_machine(options(root), r);
  // Only what the modaliases load, not the whole tree.
  EXPECT_EQ(module_names(w), (Names{"fx_a", "fx_b", "fx_d"}));
  EXPECT_EQ(r.boot_requests, 0u);
  EXPECT_EQ(w.uevents.size(), 8u);
}

TEST(ThisMachineParsers, Kallsyms) {
  EXPECT_EQ(count_kallsyms_exports("", "k"), 0);
  EXPECT_EQ(count_kallsyms_exports("0000000000000000 r __ksymtab_a\n"
                                   "0000000000000000 r __ksymtab_b\t[mod]\n"
                                   "0000000000000000 r __ksymtab_strings\n",
                                   "k"),
            1);
  expect_import_error([] { count_kallsyms_exports("zz T x\n", "k"); }, {"k:1: malformed"});
  expect_import_error([] { count_kallsyms_exports("00 T x [m\n", "k"); }, {"k:1: malformed"});
}

TEST(ThisMachineParsers, CpuListMeminfoCpuinfo) {
  EXPECT_EQ(count_cpu_list("0\n", "c"), 1u);
  EXPECT_EQ(count_cpu_list("0-1023\n", "c"), 1024u);
  EXPECT_EQ(count_cpu_list("0-3,8,10-11", "c"), 7u);
  for (const char* bad : {"", "\n", "3-1", "a", "0,,1", "0-", "0-3\n4\n"}) {
    EXPECT_THROW(count_cpu_list(bad, "c"), ImportError) << bad;
  }
  EXPECT_EQ(parse_meminfo_total_kb("MemFree: 1 kB\nMemTotal:  2048 kB\n", "m"), 2048u);
  expect_import_error([] { parse_meminfo_total_kb("MemFree: 1 kB\n", "m"); }, {"m: no 'MemTotal:' line"});
  expect_import_error([] { parse_meminfo_total_kb("MemTotal: x kB\n", "m"); }, {"m:1: malformed"});
  EXPECT_EQ(count_cpuinfo_processors("processor : 0\nprocessor\t: 1\nflags : processor\n"), 2u);
  EXPECT_EQ(cpuinfo_model_name("processor : 0\nmodel name\t: X Y\n"), "X Y");
}

TEST(KmodIndex, AcceptsWhatDepmodWrites) {
  const std::string idx = kmod_index({{"a*", "m1", 0}, {"ab", "m2", 1}, {"b", "m3", 2}});
  EXPECT_EQ(check_kmod_index(idx, "i"), 3u);
  EXPECT_EQ(check_kmod_index(kmod_index({}), "i"), 0u);
}

TEST(KmodIndex, RefusesWhatWouldHangOrCrashLibkmod) {
  const std::string good = kmod_index({{"ab", "m", 0}});
  auto with_root = [&](std::uint32_t word) {
    std::string s = good;
    for (int i = 0; i < 4; ++i) s[8 + static_cast<std::size_t>(i)] = static_cast<char>((word >> (24 - 8 * i)) & 0xff);
    return s;
  };
  expect_import_error([&] { check_kmod_index("", "i"); }, {"i: byte offset 0x0 (0): truncated"});
  expect_import_error([&] { check_kmod_index(std::string(12, 'x'), "i"); }, {"bad magic"});
  std::string v3 = good;
  v3[5] = 3;
  expect_import_error([&] { check_kmod_index(v3, "i"); }, {"version"});
  expect_import_error([&] { check_kmod_index(with_root(0x20000000 | 5000), "i"); }, {"past the end"});
  expect_import_error([&] { check_kmod_index(good.substr(0, good.size() - 2), "i"); }, {"i: byte offset"});
  expect_import_error([&] { check_kmod_index(with_root(0x10000000 | 12), "i"); }, {"unknown node flags"});

  // A node whose child points back at itself: libkmod's wildcard walk would never end.
  std::string loop = good + std::string("\x61\x61", 2);
  const auto at = static_cast<std::uint32_t>(good.size());
  for (int i = 0; i < 4; ++i) loop += static_cast<char>(((0x20000000 | at) >> (24 - 8 * i)) & 0xff);
  for (int i = 0; i < 4; ++i) loop[8 + static_cast<std::size_t>(i)] = static_cast<char>(((0x20000000 | at) >> (24 - 8 * i)) & 0xff);
  expect_import_error([&] { check_kmod_index(loop, "i"); }, {"not before its parent"});

  // Two children sharing one node: exponential work for libkmod.
  std::string shared = good;
  const std::uint32_t leaf = 12; // the first node written (the deepest)
  const auto at2 = static_cast<std::uint32_t>(shared.size());
  shared += std::string("\x61\x62", 2);
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < 4; ++i) shared += static_cast<char>(((0x40000000 | leaf) >> (24 - 8 * i)) & 0xff);
  }
  for (int i = 0; i < 4; ++i) shared[8 + static_cast<std::size_t>(i)] = static_cast<char>(((0x20000000 | at2) >> (24 - 8 * i)) & 0xff);
  expect_import_error([&] { check_kmod_index(shared, "i"); }, {"two parents"});

  // Child characters must be ASCII, first <= last.
  std::string range = good;
  const auto at3 = static_cast<std::uint32_t>(range.size());
  range += std::string("\x62\x61", 2);
  for (int i = 0; i < 4; ++i) range[8 + static_cast<std::size_t>(i)] = static_cast<char>(((0x20000000 | at3) >> (24 - 8 * i)) & 0xff);
  expect_import_error([&] { check_kmod_index(range, "i"); }, {"bad child range"});
}

TEST(KmodIndex, RefusesATooDeepTrie) {
  EXPECT_NO_THROW(check_kmod_index(kmod_index({{std::string(4000, 'a'), "m", 0}}), "i"));
  expect_import_error([] { check_kmod_index(kmod_index({{std::string(5000, 'a'), "m", 0}}), "i"); },
                      {"deeper than 4096"});
}

/// The real depmod on a tree of the fixture objects, when it is installed (package kmod): the
/// index this test's writer imitates, read by libkmod, gives every match of the PCI alias.
TEST(ThisMachine, WithRealDepmod) {
  std::string depmod;
  for (const char* p : {"/usr/sbin/depmod", "/sbin/depmod"}) {
    if (fs::exists(p)) {
      depmod = p;
      break;
    }
  }
  if (depmod.empty()) GTEST_SKIP() << "depmod (Debian package kmod) is not installed";
  TempDir root;
  build_machine_root(root);
  const std::string mods = machine_modules_dir(root);
  for (const char* f : {"modules.dep", "modules.alias", "modules.alias.bin",
                        "modules.builtin.alias.bin", "modules.builtin.bin"}) {
    fs::remove(mods + "/" + f);
  }
  const std::string cmd = depmod + " -b '" + root.path() + "' " + kRelease + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ThisMachineReport r;
  const kmodsim::Workload w = import_this_machine(options(root), r);
  // depmod took the aliases from .modinfo: fx_a, fx_f and fx_g (copies of fx_a), and fx_d
  // (fx_a gzipped) if this kmod reads .ko.gz (Debian's is built without zlib), all match the
  // Intel PCI device; fx_b matches both USB interfaces; fx_c and fx_e (fx_c's object) match no
  // device here.
  const bool gzip = read_bytes(mods + "/modules.dep").find("fx_d.ko.gz") != std::string::npos;
  Names expected = {"fx_a", "fx_f", "fx_g"};
  if (gzip) expected.insert(expected.begin() + 1, "fx_d");
  Names pci;
  for (const auto& u : w.uevents) {
    if (u.device == "pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00") pci.push_back(u.module);
  }
  std::sort(pci.begin(), pci.end());
  EXPECT_EQ(pci, expected);
  EXPECT_EQ(r.modaliases_several, 1u);
  EXPECT_EQ(r.extra_uevents, expected.size() - 1);
  EXPECT_EQ(r.modaliases_one, 2u); // the two USB interfaces
}

} // namespace
} // namespace kmodsim::import::test
