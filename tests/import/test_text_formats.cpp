// Parsers of modules.dep, modules.softdep, modules.alias, boot lists, uevent lists,
// Module.symvers and System.map, on the hand-written files of fixtures/text and fixtures/bad.
#include "kmodsim/import/text_formats.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

namespace kmodsim::import::test {
namespace {

using Names = std::vector<std::string>;

std::string text(const std::string& rel) { return read_bytes(fixture_src(rel)); }

TEST(ModuleName, Normalisation) {
  EXPECT_EQ(normalize_module_name("kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz"), "e1000e");
  EXPECT_EQ(normalize_module_name("kernel/sound/pci/hda/snd-hda-intel.ko.zst"), "snd_hda_intel");
  EXPECT_EQ(normalize_module_name("x/crc-t10dif.ko.gz"), "crc_t10dif");
  EXPECT_EQ(normalize_module_name("plain.ko"), "plain");
  EXPECT_EQ(normalize_module_name("snd-pcm"), "snd_pcm");
}

TEST(ModulesDep, ParsesFixture) {
  const auto deps = parse_modules_dep(text("text/modules.dep"), "modules.dep");
  ASSERT_EQ(deps.size(), 5u);
  EXPECT_EQ(deps[0].path, "kernel/fs/jbd2/jbd2.ko.xz");
  EXPECT_EQ(deps[0].deps, (Names{"kernel/lib/crc16.ko.xz"}));
  EXPECT_EQ(deps[1].deps, Names{});
  EXPECT_EQ(deps[3].path, "kernel/fs/ext4/ext4.ko.xz");
  EXPECT_EQ(deps[3].deps.size(), 3u);
  EXPECT_EQ(deps[3].line, 4u);
  EXPECT_EQ(deps[4].line, 6u); // a blank line is skipped but counted
  EXPECT_EQ(deps[4].deps[1], "kernel/sound/core/snd.ko.gz");
}

TEST(ModulesDep, MalformedLines) {
  expect_import_error([] { parse_modules_dep(text("bad/modules.dep-no-colon"), "modules.dep-no-colon"); },
                      {"modules.dep-no-colon:2:", "no ':'"});
  expect_import_error([] { parse_modules_dep("a.ko:\nb.ko: a.ko\na.ko: b.ko\n", "dup.dep"); },
                      {"dup.dep:3:", "listed twice", "line 1"});
  expect_import_error([] { parse_modules_dep("a.ko: b.ko: c.ko\n", "two.dep"); }, {"two.dep:1:"});
  expect_import_error([] { parse_modules_dep(": b.ko\n", "nopath.dep"); }, {"nopath.dep:1:"});
  EXPECT_TRUE(parse_modules_dep("", "empty").empty());
  EXPECT_EQ(parse_modules_dep("a.ko:\r\nb.ko: a.ko\r\n", "crlf")[1].deps, (Names{"a.ko"}));
}

TEST(ModulesSoftdep, ParsesFixture) {
  const auto sd = parse_modules_softdep(text("text/modules.softdep"), "modules.softdep");
  ASSERT_EQ(sd.size(), 3u);
  EXPECT_EQ(sd[0].module, "ext4");
  EXPECT_EQ(sd[0].pre, (Names{"crypto-crc32c"}));
  EXPECT_EQ(sd[1].post, (Names{"snd_hda_codec_hdmi", "snd_hda_codec_generic"}));
  EXPECT_EQ(sd[2].unqualified, (Names{"gcm"}));
  EXPECT_EQ(sd[2].line, 4u);
  expect_import_error([] { parse_modules_softdep("# x\noptions e1000e foo=1\n", "sd"); }, {"sd:2:", "options"});
  expect_import_error([] { parse_modules_softdep("softdep\n", "sd"); }, {"sd:1:"});
}

TEST(ModulesAlias, ParsesFixtureAndMatchesLikeModprobe) {
  const AliasMatcher m(parse_modules_alias(text("text/modules.alias"), "modules.alias"));
  ASSERT_EQ(m.entries().size(), 8u);
  EXPECT_EQ(m.entries()[0].line, 2u);
  auto first = [&](const std::string& alias) {
    const auto hits = m.match(alias);
    return hits.empty() ? std::string() : m.entries()[hits.front()].module;
  };
  EXPECT_EQ(first("pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00"), "e1000e");
  EXPECT_EQ(first("usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in00"), "usbhid");
  EXPECT_EQ(first("pci:v00008086d00003B56sv00001043sd00001313bc04sc03i00"), "snd_hda_intel");
  EXPECT_EQ(first("fs-ext4"), "ext4");         // '-' and '_' are the same (normalised)
  EXPECT_EQ(first("fs_ext4"), "ext4");
  EXPECT_EQ(first("platform:intel-pmc_core"), "pmc_core");
  EXPECT_EQ(first("usb:v0BDAp8151d0200dc00dsc00dp00icFFiscFFipFFin00"), "r8712u"); // [8-9]
  EXPECT_EQ(first("usb:v0BDAp7151d0200dc00dsc00dp00icFFiscFFipFFin00"), "");
  EXPECT_EQ(first("pci:v000010DEd00001234sv00001043sd00008370bc03sc00i00"), "");
  EXPECT_EQ(first(""), "");
  expect_import_error([] { parse_modules_alias("alias pci:v* e1000e extra\n", "ma"); }, {"ma:1:"});
  expect_import_error([] { parse_modules_alias("# c\n\nalis pci:v* e1000e\n", "ma"); }, {"ma:3:"});
}

TEST(ModulesAlias, Normalisation) {
  std::string out;
  ASSERT_TRUE(normalize_alias("a-b[x-z]-c", out));
  EXPECT_EQ(out, "a_b[x-z]_c");
  EXPECT_FALSE(normalize_alias("a[b", out));
  EXPECT_FALSE(normalize_alias("a]b", out));
}

TEST(BootList, Lsmod) {
  const BootList l = parse_boot_list(text("text/lsmod.txt"), "lsmod.txt");
  EXPECT_EQ(l.format, BootListFormat::lsmod);
  ASSERT_EQ(l.modules.size(), 5u);
  EXPECT_EQ(l.modules[0].name, "snd_hda_intel");
  EXPECT_EQ(l.modules[0].size, 57344u);
  EXPECT_EQ(l.modules[0].line, 2u);
  EXPECT_EQ(l.modules[4].name, "hid");
}

TEST(BootList, ProcModules) {
  const BootList l = parse_boot_list(text("text/proc_modules.txt"), "proc_modules.txt");
  EXPECT_EQ(l.format, BootListFormat::proc_modules);
  ASSERT_EQ(l.modules.size(), 4u);
  EXPECT_EQ(l.modules[1].name, "snd_hda_codec");
  EXPECT_EQ(l.modules[2].name, "e1000e");
  EXPECT_EQ(l.modules[3].line, 4u);
}

TEST(BootList, MalformedLines) {
  expect_import_error([] { parse_boot_list(text("bad/lsmod_malformed.txt"), "lsmod_malformed.txt"); },
                      {"lsmod_malformed.txt:3:", "malformed lsmod line"});
  expect_import_error([] { parse_boot_list(text("bad/proc_modules_malformed.txt"), "proc_modules_malformed.txt"); },
                      {"proc_modules_malformed.txt:2:", "/proc/modules"});
  expect_import_error([] { parse_boot_list("Module Size Used\n", "hdr"); }, {"hdr:1:", "header"});
  expect_import_error([] { parse_boot_list("Module Size Used by\ne1000e 1 0\ne1000e 1 0\n", "twice"); },
                      {"twice:3:", "listed twice", "line 2"});
  expect_import_error([] { parse_boot_list("Module Size Used by\ne1000/e 1 0\n", "name"); }, {"name:2:", "invalid module name"});
  expect_import_error([] { parse_boot_list("Module Size Used by\ne1000e 1 0 a,b extra\n", "extra"); }, {"extra:2:"});
  EXPECT_TRUE(parse_boot_list("", "empty").modules.empty());
  EXPECT_EQ(parse_boot_list("# comment\nModule Size Used by\nsnd-pcm 1 0\n", "c").modules.at(0).name, "snd_pcm");
}

TEST(UeventList, ParsesAndRejectsSpaces) {
  const auto u = parse_uevent_list(text("text/uevents.txt"), "uevents.txt");
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[1].modalias, "usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in00");
  EXPECT_EQ(u[1].line, 4u);
  EXPECT_EQ(u[2].modalias, "platform:intel-pmc_core");
  expect_import_error([] { parse_uevent_list(text("bad/uevents_space.txt"), "uevents_space.txt"); },
                      {"uevents_space.txt:3:"});
}

TEST(KernelExports, ModuleSymvers) {
  EXPECT_EQ(count_symvers_vmlinux_exports(text("text/Module.symvers"), "Module.symvers"), 3);
  EXPECT_EQ(count_symvers_vmlinux_exports(text("text/Module.symvers-5.4"), "Module.symvers"), 2);
  expect_import_error([] { count_symvers_vmlinux_exports("0x1\tprintk\tvmlinux\tEXPORT_SYMBOL\t\nzz\tx\n", "MS"); },
                      {"MS:2:"});
  expect_import_error([] { count_symvers_vmlinux_exports("nothex\tprintk\tvmlinux\tEXPORT_SYMBOL\n", "MS"); },
                      {"MS:1:"});
}

TEST(KernelExports, SystemMap) {
  EXPECT_EQ(count_system_map_exports(text("text/System.map"), "System.map"), 3);
  // Debian's placeholder: accepted, no exports.
  EXPECT_EQ(count_system_map_exports(
                "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n", "S"),
            0);
  expect_import_error([] { count_system_map_exports("ffffffff81000000 T _text\nnot a map\n", "SM"); }, {"SM:2:"});
}

} // namespace
} // namespace kmodsim::import::test
