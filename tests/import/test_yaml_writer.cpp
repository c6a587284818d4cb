// write_workload_yaml(): schema, determinism, quoting; read back with yaml-cpp.
#include "kmodsim/import/import.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>

namespace kmodsim::import::test {
namespace {

std::string write(const kmodsim::Workload& w, const ImportReport& r, const ImportOptions& o,
                  const std::string& date = "") {
  std::ostringstream out;
  write_workload_yaml(w, r, o, out, date);
  return out.str();
}

TEST(FormatKib, ShortestWithDecimalPoint) {
  EXPECT_EQ(format_kib(0.0), "0.0");
  EXPECT_EQ(format_kib(120.5), "120.5");
  EXPECT_EQ(format_kib(3.0), "3.0");
  EXPECT_EQ(format_kib(1000000.0), "1000000.0");
  EXPECT_EQ(format_kib(3073.0 / 1024.0), "3.0009765625");
}

TEST(YamlWriter, ImportedTreeReadsBackWithTheSchemaKeys) {
  TempDir dir;
  build_fixture_tree(dir);
  const ImportOptions opt{dir.path(), dir / "boot-lsmod.txt", dir / "uevents.txt", 0};
  ImportReport r;
  const kmodsim::Workload w = import_tree(opt, r);
  const std::string text = write(w, r, opt, "2024-01-01");

  EXPECT_NE(text.find("# kernel version: 6.1.0-fixture"), std::string::npos);
  EXPECT_NE(text.find("# date:           2024-01-01"), std::string::npos);
  EXPECT_NE(text.find("fx_c: .modinfo depends lists fx_ghost"), std::string::npos);

  const YAML::Node root = YAML::Load(text);
  std::set<std::string> top;
  for (const auto& kv : root) top.insert(kv.first.as<std::string>());
  EXPECT_EQ(top, (std::set<std::string>{"schema_version", "name", "provenance", "kernel_exports",
                                        "modules", "uevents"}));
  EXPECT_EQ(root["schema_version"].as<int>(), 1);
  EXPECT_EQ(root["name"].as<std::string>(), "import-6.1.0-fixture");
  EXPECT_EQ(root["kernel_exports"].as<std::int64_t>(), 3);
  ASSERT_EQ(root["modules"].size(), w.modules.size());
  const std::set<std::string> module_keys{"name", "size_kb", "init_kb", "file_kb", "undef_symbols",
                                          "dep_symbols", "relocations", "exports", "percpu_kb",
                                          "deps", "init"};
  for (std::size_t i = 0; i < w.modules.size(); ++i) {
    const YAML::Node m = root["modules"][i];
    std::set<std::string> keys;
    for (const auto& kv : m) keys.insert(kv.first.as<std::string>());
    std::set<std::string> want = module_keys; // a compressed file also says its decompressed size
    if (w.modules[i].decompressed_kb > 0) {
      want.insert("decompressed_kb");
      EXPECT_EQ(m["decompressed_kb"].as<double>(), w.modules[i].decompressed_kb);
    }
    EXPECT_EQ(keys, want);
    const kmodsim::Module& src = w.modules[i];
    EXPECT_EQ(m["name"].as<std::string>(), src.name);
    EXPECT_EQ(m["size_kb"].as<double>(), src.size_kb); // exact: shortest round-trip output
    EXPECT_EQ(m["init_kb"].as<double>(), src.init_kb);
    EXPECT_EQ(m["file_kb"].as<double>(), src.file_kb);
    EXPECT_EQ(m["percpu_kb"].as<double>(), src.percpu_kb);
    EXPECT_EQ(m["undef_symbols"].as<std::int64_t>(), src.undef_symbols);
    EXPECT_EQ(m["dep_symbols"].as<std::int64_t>(), src.dep_symbols);
    EXPECT_EQ(m["relocations"].as<std::int64_t>(), src.relocations);
    EXPECT_EQ(m["exports"].as<std::int64_t>(), src.exports);
    EXPECT_EQ(m["deps"].as<std::vector<std::string>>(), src.deps);
    EXPECT_EQ(m["init"]["cpu_us"].as<double>(), 0.0);
    EXPECT_EQ(m["init"]["wait_ms"].as<double>(), 0.0);
  }
  ASSERT_EQ(root["uevents"].size(), w.uevents.size());
  for (std::size_t i = 0; i < w.uevents.size(); ++i) {
    const YAML::Node u = root["uevents"][i];
    EXPECT_EQ(u.size(), 2u);
    EXPECT_EQ(u["device"].as<std::string>(), w.uevents[i].device);
    if (w.uevents[i].module.empty()) {
      EXPECT_TRUE(u["module"].IsNull());
    } else {
      EXPECT_EQ(u["module"].as<std::string>(), w.uevents[i].module);
    }
  }
}

TEST(YamlWriter, DeterministicAndDateOptional) {
  TempDir dir;
  build_fixture_tree(dir);
  const ImportOptions opt{dir.path(), "", "", 0};
  ImportReport r1, r2;
  const std::string a = write(import_tree(opt, r1), r1, opt);
  const std::string b = write(import_tree(opt, r2), r2, opt);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.find("# date:"), std::string::npos);
}

TEST(YamlWriter, QuotesAwkwardStrings) {
  kmodsim::Workload w;
  w.name = "weird \"name\"\nwith: colon";
  w.provenance = "tab\there \\ backslash";
  kmodsim::Module m;
  m.name = "8250_pci"; // starts with a digit: must stay a string
  m.deps = {"null", "yes", "a_b"};
  w.modules.push_back(m);
  kmodsim::Module n;
  n.name = "true";
  w.modules.push_back(n);
  w.uevents.push_back({"pci:v*d\"x\"#not-a-comment", "8250_pci", {}});
  w.uevents.push_back({"acpi:PNP0C0A:", "", {}});
  ImportReport r;
  r.warnings = {"multi\nline warning"};
  const std::string text = write(w, r, ImportOptions{"/tree\nwith newline", "", "", 0});
  const YAML::Node root = YAML::Load(text);
  EXPECT_EQ(root["name"].as<std::string>(), w.name);
  EXPECT_EQ(root["provenance"].as<std::string>(), w.provenance);
  EXPECT_EQ(root["modules"][0]["name"].as<std::string>(), "8250_pci");
  EXPECT_TRUE(root["modules"][0]["name"].Tag() == "!" || root["modules"][0]["name"].Tag() == "?");
  EXPECT_EQ(root["modules"][0]["deps"].as<std::vector<std::string>>(), m.deps);
  EXPECT_FALSE(root["modules"][0]["deps"][0].IsNull());
  EXPECT_EQ(root["modules"][1]["name"].as<std::string>(), "true");
  EXPECT_EQ(root["uevents"][0]["device"].as<std::string>(), "pci:v*d\"x\"#not-a-comment");
  EXPECT_EQ(root["uevents"][0]["module"].as<std::string>(), "8250_pci");
  EXPECT_TRUE(root["uevents"][1]["module"].IsNull());
  // Header comments stay comments: the newline in the path and warning became '?'.
  EXPECT_NE(text.find("# source tree:    /tree?with newline"), std::string::npos);
  EXPECT_NE(text.find("#   multi?line warning"), std::string::npos);
}

TEST(YamlWriter, EmptyWorkload) {
  const kmodsim::Workload w;
  const YAML::Node root = YAML::Load(write(w, ImportReport{}, ImportOptions{}));
  EXPECT_TRUE(root["modules"].IsSequence());
  EXPECT_EQ(root["modules"].size(), 0u);
  EXPECT_TRUE(root["uevents"].IsSequence());
}

} // namespace
} // namespace kmodsim::import::test
