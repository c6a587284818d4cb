// kmod_index() and build_machine_root() (this_machine_support.hpp).
#include "this_machine_support.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

namespace kmodsim::import::test {
namespace fs = std::filesystem;
namespace {

struct Node {
  std::map<unsigned char, std::unique_ptr<Node>> children;
  std::vector<std::pair<std::uint32_t, std::string>> values;
};

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

/// Writes `n` after its children; returns its offset word (flags | offset).
std::uint32_t write_node(const Node& n, std::string& out) {
  std::vector<std::uint32_t> child_words;
  unsigned char first = 0;
  unsigned char last = 0;
  if (!n.children.empty()) {
    first = n.children.begin()->first;
    last = n.children.rbegin()->first;
    child_words.assign(static_cast<std::size_t>(last - first) + 1, 0);
    for (const auto& [c, child] : n.children) {
      child_words[static_cast<std::size_t>(c - first)] = write_node(*child, out);
    }
  }
  std::uint32_t word = static_cast<std::uint32_t>(out.size());
  if (!n.children.empty()) {
    out += static_cast<char>(first);
    out += static_cast<char>(last);
    for (std::uint32_t w : child_words) put32(out, w);
    word |= 0x20000000;
  }
  if (!n.values.empty()) {
    put32(out, static_cast<std::uint32_t>(n.values.size()));
    for (const auto& [priority, value] : n.values) {
      put32(out, priority);
      out += value;
      out += '\0';
    }
    word |= 0x40000000;
  }
  return word;
}

} // namespace

std::string kmod_index(const std::vector<IndexEntry>& entries) {
  Node root;
  for (const IndexEntry& e : entries) {
    Node* n = &root;
    for (char ch : e.key) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 128) throw std::runtime_error("kmod_index: non-ASCII key " + e.key);
      auto& child = n->children[c];
      if (!child) child = std::make_unique<Node>();
      n = child.get();
    }
    n->values.emplace_back(e.priority, e.value);
  }
  std::string out;
  put32(out, 0xB007F457);
  put32(out, 0x00020001);
  put32(out, 0); // root offset, patched below
  const std::uint32_t root_word = write_node(root, out);
  for (int i = 0; i < 4; ++i) out[8 + static_cast<std::size_t>(i)] = static_cast<char>((root_word >> (24 - 8 * i)) & 0xff);
  return out;
}

std::string machine_modules_dir(const TempDir& root) {
  return root / (std::string("lib/modules/") + kRelease);
}

void build_machine_root(const TempDir& root) {
  const std::string mods = machine_modules_dir(root);
  const std::string a = read_bytes(fixture_obj("fx_a"));
  const std::string c = read_bytes(fixture_obj("fx_c"));
  write_bytes(mods + "/kernel/fx/fx_a.ko", a);
  write_bytes(mods + "/kernel/fx/fx-b.ko.xz", compress_xz(read_bytes(fixture_obj("fx_b"))));
  write_bytes(mods + "/kernel/fx/fx_c.ko", c);
  write_bytes(mods + "/kernel/fx/fx_d.ko.gz", compress_gzip(a));
  write_bytes(mods + "/kernel/fx/fx_e.ko", c);
  write_bytes(mods + "/kernel/fx/fx_f.ko", a);
  write_bytes(mods + "/kernel/fx/fx_g.ko", a);
  write_bytes(mods + "/modules.dep",
              "kernel/fx/fx_a.ko:\n"
              "kernel/fx/fx-b.ko.xz: kernel/fx/fx_a.ko\n"
              "kernel/fx/fx_c.ko: kernel/fx/fx-b.ko.xz kernel/fx/fx_a.ko\n"
              "kernel/fx/fx_d.ko.gz:\n"
              "kernel/fx/fx_e.ko: kernel/fx/fx_f.ko\n"
              "kernel/fx/fx_f.ko:\n"
              "kernel/fx/fx_g.ko:\n");
  // The text form, as depmod writes it next to the index (libkmod reads only the index).
  write_bytes(mods + "/modules.alias",
              "alias pci:v00008086d0000100Esv*sd*bc*sc*i* fx_a\n"
              "alias usb:v046DpC52Bd*dc*dsc*dp*ic*isc*ip*in* fx_b\n"
              "alias acpi*:FXC0001:* fx_c\n"
              "alias pci:v00008086d0000100Esv*sd*bc*sc*i* fx_d\n"
              "alias platform:fx_e fx_e\n"
              "alias pci:v0000FFFFd*sv*sd*bc*sc*i* fx_not_in_tree\n");
  write_bytes(mods + "/modules.alias.bin",
              kmod_index({{"pci:v00008086d0000100Esv*sd*bc*sc*i*", "fx_a", 0},
                          {"usb:v046DpC52Bd*dc*dsc*dp*ic*isc*ip*in*", "fx_b", 1},
                          {"acpi*:FXC0001:*", "fx_c", 2},
                          {"pci:v00008086d0000100Esv*sd*bc*sc*i*", "fx_d", 3},
                          {"platform:fx_e", "fx_e", 4},
                          {"pci:v0000FFFFd*sv*sd*bc*sc*i*", "fx_not_in_tree", 5}}));
  write_bytes(mods + "/modules.builtin.alias.bin",
              kmod_index({{"platform:fx_builtin", "fx_builtin", 0}}));
  write_bytes(mods + "/modules.builtin.bin", kmod_index({{"fx_builtin", "", 0}}));

  write_bytes(root / "etc/modprobe.d/fx.conf", "# fx_e is loaded by hand, never for a device\n"
                                                "blacklist fx_e\n");
  make_fifo(root / "etc/modprobe.d/fifo.conf"); // never opened: it would block libkmod

  const std::string dev = root / "sys/devices";
  write_bytes(dev + "/pci0000:00/0000:00:19.0/modalias",
              "pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00\n");
  write_bytes(dev + "/pci0000:00/0000:00:1d.0/modalias",
              "pci:v00008086d00002934sv00008086sd00001376bc0Csc03i00\n");
  write_bytes(dev + "/pci0000:00/0000:00:1d.0/usb2/2-1/2-1:1.0/modalias",
              "usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in00\n");
  write_bytes(dev + "/pci0000:00/0000:00:1d.0/usb2/2-1/2-1:1.1/modalias",
              "usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in01\n");
  write_bytes(dev + "/pci0000:00/0000:00:1e.0/modalias",
              "pci:v0000FFFFd00000001sv00000000sd00000000bc00sc00i00\n");
  write_bytes(dev + "/platform/bad/modalias", "has a blank\n");
  write_bytes(dev + "/platform/empty/modalias", "");
  write_bytes(dev + "/platform/fx-builtin.0/modalias", "platform:fx-builtin\n");
  write_bytes(dev + "/platform/fx-e.0/modalias", "platform:fx-e\n");
  fs::create_directories(dev + "/platform/link");
  fs::create_symlink("../fx-e.0/modalias", dev + "/platform/link/modalias");
  fs::create_directory_symlink("../..", dev + "/platform/loop"); // back up to sys/devices
  fs::create_directory_symlink("/", dev + "/platform/outside");  // out of the root
  make_fifo(dev + "/platform/unreadable/modalias");
  write_bytes(dev + "/system/cpu/online", "0-3,6\n");
  write_bytes(dev + "/virtual/net/lo/uevent", "INTERFACE=lo\n");

  write_bytes(root / "proc/sys/kernel/osrelease", std::string(kRelease) + "\n");
  // /proc/modules lists the newest module first.
  write_bytes(root / "proc/modules", "fx_e 16384 0 - Live 0x0000000000000000\n"
                                     "fx_c 16384 0 - Live 0x0000000000000000\n"
                                     "fx_b 12288 1 fx_c, Live 0x0000000000000000\n"
                                     "fx_f 12288 1 fx_e, Live 0x0000000000000000\n"
                                     "fx_a 12288 2 fx_b,fx_c, Live 0x0000000000000000\n"
                                     "fx_ghost 4096 0 - Live 0x0000000000000000 (OE)\n");
  write_bytes(root / "proc/kallsyms", "ffffffff81000000 T _text\n"
                                      "ffffffff82000000 r __ksymtab_printk\n"
                                      "ffffffff82000010 r __ksymtab_kmalloc\n"
                                      "ffffffff82000020 r __ksymtab_msleep\n"
                                      "ffffffff82800000 R __ksymtab_strings\n"
                                      "ffffffff82900000 D __start___ksymtab\n"
                                      "0000000000000000 r __ksymtab_fx_a_func\t[fx_a]\n"
                                      "0000000000000000 t fx_a_init\t[fx_a]\n");
  write_bytes(root / "proc/meminfo", "MemTotal:        8167848 kB\n"
                                     "MemFree:          123456 kB\n");
  write_bytes(root / "proc/cpuinfo", "processor\t: 0\nmodel name\t: Fixture CPU @ 1.80GHz\n\n"
                                     "processor\t: 1\nmodel name\t: Fixture CPU @ 1.80GHz\n");
}

} // namespace kmodsim::import::test
