// kmodsim calibrate --microbench: the costs one can measure in user space on this machine
// (kmodsim/calib.hpp, docs/calibration.md).
#include "kmodsim/calib.hpp"
#include "kmodsim/rng.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>

namespace kmodsim::calib {
namespace {

double now_ns() {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

volatile long g_sink; // keeps the measured loops from being optimised away

/// find_symbol of 2.6.29: a linear scan of the name table with strcmp. Returns the index or -1.
long linear_find(const std::vector<const char*>& table, const char* name) {
  for (size_t i = 0; i < table.size(); ++i)
    if (std::strcmp(table[i], name) == 0)
      return static_cast<long>(i);
  return -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

std::vector<std::string> symvers_vmlinux_names(const std::string& text, const std::string& file) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  int ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    if (line.empty())
      continue;
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string tok;
    while (std::getline(ls, tok, '\t'))
      f.push_back(tok);
    if (f.size() < 3)
      throw CalibError(file + ":" + std::to_string(ln) + ": expected CRC<TAB>SYMBOL<TAB>MODULE (Module.symvers)");
    if (f[2] == "vmlinux")
      out.push_back(f[1]);
  }
  if (out.empty())
    throw CalibError(file + ": no vmlinux export in this Module.symvers");
  return out;
}

std::vector<std::string> synthetic_export_names(size_t n) {
  static const char* prefixes[] = {"",     "__",    "dev_",  "pci_",   "usb_",  "snd_", "drm_",  "i2c_",
                                   "acpi_", "sysfs_", "kmem_", "mutex_", "netif_", "skb_", "blk_", "scsi_",
                                   "input_", "crypto_", "tty_", "device_", "platform_", "of_", "kobject_", "rcu_"};
  static const char* words[] = {"alloc", "free", "register", "unregister", "get", "put", "init", "exit", "create",
                                "destroy", "lock", "unlock", "read", "write", "find", "add", "del", "set", "queue"};
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto p = static_cast<size_t>(uniform01(7, 1, i, 0) * 24) % 24;
    const auto w = static_cast<size_t>(uniform01(7, 1, i, 1) * 19) % 19;
    out.push_back(std::string(prefixes[p]) + words[w] + "_" + std::to_string(i));
  }
  return out;
}

BenchResult run_microbench(const std::vector<std::string>& names, int reps) {
  BenchResult r;
  r.table_size = names.size();
  std::vector<const char*> table;
  for (const auto& n : names)
    table.push_back(n.c_str());
  const size_t lookups = std::max<size_t>(200, 2000000 / std::max<size_t>(1, names.size()));
  std::vector<std::string> misses;
  for (size_t i = 0; i < lookups; ++i)
    misses.push_back(names[i % names.size()] + "_x"); // shares the prefix, as a miss typically does
  for (int rep = 0; rep < reps; ++rep) {
    double t0 = now_ns();
    long acc = 0;
    for (size_t i = 0; i < lookups; ++i) {
      const auto pos = static_cast<size_t>(uniform01(11, static_cast<std::uint64_t>(rep), i, 0) *
                                           static_cast<double>(names.size())) % names.size();
      acc += linear_find(table, table[pos]);
    }
    double t1 = now_ns();
    g_sink = acc;
    r.hit_ns_per_entry.push_back((t1 - t0) / (static_cast<double>(lookups) * static_cast<double>(names.size())));
    t0 = now_ns();
    for (size_t i = 0; i < lookups; ++i)
      acc += linear_find(table, misses[i].c_str());
    t1 = now_ns();
    g_sink = acc;
    r.miss_ns_per_entry.push_back((t1 - t0) / (static_cast<double>(lookups) * static_cast<double>(names.size())));
    // memcpy of a 4 MiB image (copy_from_user and the section copies are memcpy-like)
    std::vector<char> src(4 << 20, 1), dst(4 << 20);
    t0 = now_ns();
    const int copies = 32;
    for (int c = 0; c < copies; ++c) {
      src[static_cast<size_t>(c)] = static_cast<char>(c);
      std::memcpy(dst.data(), src.data(), src.size());
      acc += dst[static_cast<size_t>(c) * 4096];
    }
    t1 = now_ns();
    g_sink = acc;
    r.memcpy_ns_per_kib.push_back((t1 - t0) / (copies * 4096.0));
  }
  r.hit = median(r.hit_ns_per_entry);
  r.miss = median(r.miss_ns_per_entry);
  r.memcpy = median(r.memcpy_ns_per_kib);
  return r;
}

} // namespace kmodsim::calib
