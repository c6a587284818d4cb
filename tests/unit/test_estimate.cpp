// estimated_load_s(): the uncontended init_module time of one module, by hand.
#include <kmodsim/config.hpp>
#include <kmodsim/estimate.hpp>

#include <gtest/gtest.h>

using namespace kmodsim;

namespace {
const std::string kDir = KMODSIM_TEST_DIR;
std::string cfg(const std::string& f) { return kDir + "/configs/" + f; }
} // namespace

TEST(Estimate, TinyKernelsByHand) {
  // tiny-coarse: find_module 100 us + 2 symbols x 10 us + free_init 10 us = 130 us
  Scenario s = load_scenario(cfg("base.yaml"));
  const LoadState st{1, 0, 0};
  EXPECT_NEAR(estimated_load_s(s.kernel, s.workload.modules[0], st, 1.0), 130e-6, 1e-12);
  // the fine kernel does the same work under other locks
  Scenario f = load_scenario(cfg("base.yaml"), {parse_override("kernel=" + cfg("fine.yaml"))});
  EXPECT_NEAR(estimated_load_s(f.kernel, f.workload.modules[0], st, 1.0), 130e-6, 1e-12);
  // the module's init: +50 us of CPU and 1 ms asleep; a machine twice as fast halves CPU only
  Module m = s.workload.modules[0];
  m.init.cpu_us = 50;
  m.init.wait_ms = 1;
  EXPECT_NEAR(estimated_load_s(s.kernel, m, st, 1.0), 1180e-6, 1e-12);
  EXPECT_NEAR(estimated_load_s(s.kernel, m, st, 2.0), 1090e-6, 1e-12);
  // repeats follow the module: 5 undefined symbols
  m.undef_symbols = 5;
  EXPECT_NEAR(estimated_load_s(s.kernel, m, st, 1.0), 1210e-6, 1e-12);
}

TEST(Estimate, FeaturesAndRepeats) {
  Module m;
  m.size_kb = 10;
  m.init_kb = 4;
  m.undef_symbols = 7;
  m.exports = 3;
  const Features f = module_features(m, {4, 900, 12});
  EXPECT_EQ(f[Feature::core_kb], 6);
  EXPECT_EQ(f[Feature::file_kb], 10); // no file size: the image size stands in
  EXPECT_EQ(f[Feature::symtab_entries], 900);
  EXPECT_EQ(f[Feature::loaded_modules], 12);
  EXPECT_EQ(f[Feature::cpus], 4);
  Step s;
  s.repeat = Repeat::per_export;
  EXPECT_EQ(step_repeats(s, m, 4), 3);
  s.repeat = Repeat::per_cpu;
  EXPECT_EQ(step_repeats(s, m, 4), 4);
  s.repeat = Repeat::per_undef_symbol;
  EXPECT_EQ(step_repeats(s, m, 4), 7);
}
