#include <kmodsim/config.hpp>

#include <gtest/gtest.h>

#include <sstream>

#include <filesystem>
#include <fstream>

using namespace kmodsim;

namespace {
const std::string kDir = KMODSIM_TEST_DIR; // tests/e2e
std::string cfg(const std::string& f) { return kDir + "/configs/" + f; }
std::string bad(const std::string& f) { return kDir + "/bad/" + f; }

std::string error_of(const std::string& path, const std::vector<Override>& o = {}) {
  try {
    load_scenario(path, o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string write_tmp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("kmodsim-test-" + name);
  std::ofstream(p) << text;
  return p.string();
}
} // namespace

TEST(Config, LoadsAndResolvesReferences) {
  Scenario s = load_scenario(cfg("base.yaml"));
  EXPECT_EQ(s.name, "e2e");
  EXPECT_EQ(s.machine.cores, 1);
  EXPECT_EQ(s.machine.scheduler.model, SchedulerModel::run_to_block);
  EXPECT_EQ(s.kernel.name, "tiny-coarse");
  ASSERT_EQ(s.kernel.init_module.size(), 4u);
  EXPECT_EQ(s.kernel.init_module[0].lock, LockKind::module_mutex);
  ASSERT_EQ(s.kernel.init_module[0].steps.size(), 3u);
  // coefficient names resolve to their values and are remembered
  const CostTerm& t = s.kernel.init_module[0].steps[1].cost.terms.at(0);
  EXPECT_DOUBLE_EQ(t.coef, 10.0);
  EXPECT_EQ(t.coef_name, "sym_us");
  EXPECT_EQ(s.workload.modules.size(), 2u);
  EXPECT_EQ(s.userspace.modprobe.startup_us, 1000.0);
}

TEST(Config, OverridesAnyField) {
  Scenario s = load_scenario(cfg("base.yaml"), {parse_override("machine.cores=8"),
                                                 parse_override("workload.modules.b.undef_symbols=7"),
                                                 parse_override("workload.modules.0.size_kb=3.5"),
                                                 parse_override("variability.cost_cv=0.2")});
  EXPECT_EQ(s.machine.cores, 8);
  EXPECT_EQ(s.workload.modules[1].undef_symbols, 7);
  EXPECT_DOUBLE_EQ(s.workload.modules[0].size_kb, 3.5);
  EXPECT_DOUBLE_EQ(s.variability.cost_cv, 0.2);
}

TEST(Config, FileReferenceOverrideIsRelativeToCwd) {
  Scenario s = load_scenario(cfg("base.yaml"), {parse_override("kernel=" + cfg("fine.yaml"))});
  EXPECT_EQ(s.kernel.name, "tiny-fine");
}

TEST(Config, InlineSectionWithFileAndOverlay) {
  std::string p = write_tmp("overlay.yaml", "schema_version: 1\nmachine: {file: " + cfg("machine.yaml") +
                                                ", cores: 3, scheduler: {slice_ms: 2}}\nkernel: " + cfg("fine.yaml") +
                                                "\nworkload: " + cfg("two.yaml") + "\ncalibration: " +
                                                cfg("calib.yaml") + "\n");
  Scenario s = load_scenario(p);
  EXPECT_EQ(s.machine.cores, 3);
  EXPECT_DOUBLE_EQ(s.machine.scheduler.slice_ms, 2.0);
  EXPECT_EQ(s.machine.scheduler.model, SchedulerModel::run_to_block); // deep merge keeps the file's model
}

// CFS's boot-time scaling of its granularity (sched_init_granularity, 2.6.28; SCHED_TUNABLESCALING_LOG, 2.6.36+)
TEST(Config, SliceScalingByHand) {
  Machine::Scheduler s;
  s.slice_ms = 4;
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(2), 4.0); // none
  s.slice_scaling = SliceScaling::log;            // x (1 + ilog2(CPUs)), at most 200 ms
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(1), 4.0);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(2), 8.0);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(3), 8.0);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(4), 12.0);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(64), 28.0);
  s.slice_ms = 40;
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(1024), 200.0); // 40 x 11 = 440, the limit
  s.slice_ms = 0.75;
  s.slice_scaling = SliceScaling::log_capped; // x (1 + ilog2(min(CPUs, 8)))
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(1), 0.75);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(4), 2.25);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(8), 3.0);
  EXPECT_DOUBLE_EQ(s.effective_slice_ms(2048), 3.0);
}

struct BadCase {
  const char* file;
  const char* needle;
};

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, NamesFileLineAndKey) {
  std::string e = error_of(bad(GetParam().file));
  ASSERT_FALSE(e.empty()) << "no error for " << GetParam().file;
  EXPECT_NE(e.find(GetParam().needle), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
  EXPECT_NE(e.find(".yaml:"), std::string::npos) << "file:line: " << e;
}

INSTANTIATE_TEST_SUITE_P(
    Classes, BadInput,
    ::testing::Values(BadCase{"syntax.yaml", "syntax.yaml:7:1: YAML syntax error"},
                      BadCase{"wrong-type.yaml", "machine.cores: expected an integer, got 'two'"},
                      BadCase{"unknown-key.yaml", "unknown-key.yaml:6:1: seeed: unknown key 'seeed' (did you mean 'seed'?)"},
                      BadCase{"negative-cost.yaml", "userspace.modprobe.startup_us: cost must be >= 0"},
                      BadCase{"missing-file.yaml", "missing-file.yaml:3:9: kernel: cannot open"},
                      BadCase{"unknown-dep.yaml", "depends on unknown module 'c'"},
                      BadCase{"cycle.yaml", "dependency cycle: a -> c -> b -> a"},
                      BadCase{"zero-cores.yaml", "machine.cores: must be >= 1, got 0"}));

TEST(Config, ScenarioNameIsAFolderNameNotAPath) {
  // the name makes the default output folder, results/<name>/: '../x', '/tmp/x', '' escaped it
  for (const char* bad : {"../escape", "/tmp/abs", "a/b", ".hidden", "'   '", "''"}) {
    const std::string e = error_of(cfg("base.yaml"), {parse_override(std::string("name=") + bad)});
    EXPECT_NE(e.find("names the default output folder"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_EQ(error_of(cfg("base.yaml"), {parse_override("name=my-run_2.1")}), "");
}

TEST(Config, AKeyWithNoValueIsAnErrorNotItsDefault) {
  // `--set key=` and `key:` read as YAML null, which took the key's default, silently
  for (const char* o : {"machine.scheduler.model=", "seed=  "})
    try {
      parse_override(o);
      ADD_FAILURE() << o << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("no value (leave the key out for its default)"), std::string::npos) << e.what();
    }
  const auto dir = std::filesystem::temp_directory_path() / "kmodsim-config-null";
  std::filesystem::create_directories(dir);
  for (const auto& f : {"machine.yaml", "coarse.yaml", "two.yaml", "calib.yaml"})
    std::filesystem::copy_file(cfg(f), dir / f, std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "s.yaml") << "schema_version: 1\nname: n\nmachine: {file: machine.yaml, speed: }\n"
                                   "kernel: coarse.yaml\nworkload: two.yaml\ncalibration: calib.yaml\nseed: ~\n";
  const std::string e = error_of((dir / "s.yaml").string());
  EXPECT_NE(e.find("no value (leave the key out for its default)"), std::string::npos) << e;
}

TEST(Config, AnIntegerTooLargeIsSaidSo) {
  const std::string e = error_of(cfg("base.yaml"), {parse_override("seed=9223372036854775808")});
  EXPECT_NE(e.find("seed: the integer 9223372036854775808 is out of range"), std::string::npos) << e;
  EXPECT_NE(error_of(cfg("base.yaml"), {parse_override("seed=12x")}).find("expected an integer, got '12x'"),
            std::string::npos);
}

TEST(Config, RangeErrorsDoNotRoundTheValueOntoTheBound) {
  // 6 significant digits made 100000001 "1e+08", the very bound it exceeds
  const std::string e = error_of(cfg("base.yaml"), {parse_override("workload.modules.0.init.cpu_us=100000001")});
  EXPECT_NE(e.find("100000001 is outside the plausible range [0, 1e+08]"), std::string::npos) << e;
}

TEST(Config, OverrideErrorsNameTheOverride) {
  EXPECT_NE(error_of(cfg("base.yaml"), {parse_override("machine.cores=0")}).find("--set machine.cores=0"),
            std::string::npos);
  EXPECT_NE(error_of(cfg("base.yaml"), {parse_override("workload.modules.9.size_kb=1")}).find("out of range"),
            std::string::npos);
  EXPECT_NE(error_of(cfg("base.yaml"), {parse_override("workload.modules.zz.size_kb=1")}).find("no element named"),
            std::string::npos);
  EXPECT_THROW(parse_override("novalue"), ConfigError);
}

TEST(Config, KernelValidation) {
  auto kernel = [](const std::string& body) {
    std::string k = write_tmp("k.yaml", "schema_version: 1\nname: k\ninit_module:\n" + body);
    return error_of(cfg("base.yaml"), {parse_override("kernel=" + k)});
  };
  const std::string ok_tail = "  - {name: l, effect: list_add}\n  - {name: i, effect: init}\n  - {name: v, effect: live}\n";
  EXPECT_EQ(kernel(ok_tail), "");
  EXPECT_NE(kernel("  - {name: x, cost: {bogus: 1}}\n" + ok_tail).find("unknown key 'bogus'"), std::string::npos);
  EXPECT_NE(kernel("  - {name: x, cost: no_such_coef}\n" + ok_tail).find("neither a number nor a coefficient"),
            std::string::npos);
  EXPECT_NE(kernel("  - {name: x, cost: -3}\n" + ok_tail).find("must be >= 0"), std::string::npos);
  EXPECT_NE(kernel("  - {name: x, lock: module_mutx}\n" + ok_tail).find("did you mean 'module_mutex'"), std::string::npos);
  EXPECT_NE(kernel("  - {name: x, effect: resolve_symbol}\n" + ok_tail).find("per_undef_symbol"), std::string::npos);
  EXPECT_NE(kernel("  - {name: g, lock: module_mutex, steps: [{name: y, lock: module_mutex}]}\n" + ok_tail)
                .find("not recursive"),
            std::string::npos);
  EXPECT_NE(kernel("  - {name: i, effect: init}\n  - {name: v, effect: live}\n").find("list_add"), std::string::npos);
  EXPECT_NE(kernel("  - {name: 'a,b'}\n" + ok_tail).find("step names"), std::string::npos);
}

TEST(Config, SchemaVersionChecked) {
  std::string p = write_tmp("v2.yaml", "schema_version: 2\n");
  EXPECT_NE(error_of(p).find("unsupported schema_version 2"), std::string::npos);
  std::string q = write_tmp("v0.yaml", "name: x\n");
  EXPECT_NE(error_of(q).find("missing required key 'schema_version'"), std::string::npos);
}

TEST(Config, ToYamlRoundTripsDeterministically) {
  Scenario s = load_scenario(cfg("base.yaml"));
  std::string y1 = to_yaml(s), y2 = to_yaml(load_scenario(cfg("base.yaml")));
  EXPECT_EQ(y1, y2);
  EXPECT_NE(y1.find("sym_us"), std::string::npos); // coefficient names kept as comments
}

TEST(Config, ToYamlLoadsBackToTheSameScenario) {
  Scenario s = load_scenario(cfg("base.yaml"));
  // Strings YAML would misread if written plain.
  s.workload.modules[0].name = "null";
  s.workload.uevents[0].device = "pci:v*d*\"x\" #1: [a]";
  s.workload.uevents[0].module = "null";
  const std::string y1 = to_yaml(s);
  const std::string back = write_tmp("roundtrip.yaml", y1);
  const Scenario s2 = load_scenario(back);
  EXPECT_EQ(s2.workload.modules[0].name, "null");
  EXPECT_EQ(s2.workload.uevents[0].device, "pci:v*d*\"x\" #1: [a]");
  EXPECT_EQ(s2.workload.uevents[0].module, "null");
  ASSERT_EQ(s2.workload.modules.size(), s.workload.modules.size());
  ASSERT_EQ(s2.workload.uevents.size(), s.workload.uevents.size());
  // Equal but for the comments that name the coefficients (the reloaded file has numbers only).
  auto strip = [](std::string y) {
    std::string out, line;
    std::istringstream in(y);
    while (std::getline(in, line)) {
      const auto c = line.find("  # ");
      out += (c == std::string::npos ? line : line.substr(0, c)) + "\n";
    }
    return out;
  };
  EXPECT_EQ(strip(to_yaml(s2)), strip(y1));
}

TEST(Config, DidYouMean) {
  EXPECT_EQ(did_you_mean("cores", {"cores", "speed"}), "cores");
  EXPECT_EQ(did_you_mean("coers", {"cores", "speed"}), "cores");
  EXPECT_EQ(did_you_mean("zzzzzzzz", {"cores", "speed"}), "");
}

// parse_yaml checks keys on the loaded tree when the text can hold no alias and no second
// document (one parse instead of two, issue 12), else with the event pass; both must report
// the same first offence at the same place.
TEST(Config, KeyChecksAgreeOnBothPaths) {
  auto message = [](const std::string& name, const std::string& text) {
    const std::string p = write_tmp(name, text);
    try {
      load_scenario(p);
    } catch (const ConfigError& e) {
      std::string m = e.what();
      return m.substr(m.find(':')); // without the file name
    }
    return std::string("no error");
  };
  const std::string dup = "schema_version: 1\nmachine:\n  cores: 2\n  speed: 1\n  cores: 4\n";
  const std::string anchored = "schema_version: 1\nmachine:\n  cores: 2\n  speed: &s 1\n  cores: 4\n";
  EXPECT_EQ(message("dup-plain.yaml", dup), ":5:3: duplicate key 'cores' (first written on line 3)");
  EXPECT_EQ(message("dup-anchor.yaml", anchored), message("dup-plain.yaml", dup));
  const std::string seq_key = "schema_version: 1\n? [a, b]\n: 1\n";
  EXPECT_EQ(message("seqkey-plain.yaml", seq_key),
            ":2:3: map keys must be plain strings, not a list or a mapping");
  EXPECT_EQ(message("seqkey-anchor.yaml", seq_key + "x: &a 1\n"), message("seqkey-plain.yaml", seq_key));
  EXPECT_NE(message("two-docs.yaml", "schema_version: 1\n---\nname: x\n").find("more than one YAML document"),
            std::string::npos);
}
