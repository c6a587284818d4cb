// Sweep specs: axis expansion, seeds, bad input (kmodsim/sweep.hpp).
#include <kmodsim/calib.hpp>
#include <kmodsim/sweep.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

using namespace kmodsim;

namespace {

std::string write_spec(const std::string& name, const std::string& body) {
  const auto dir = std::filesystem::temp_directory_path() / "kmodsim-sweep-test";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << "schema_version: 1\nname: t\nscenario: s.yaml\n" << body;
  return p.string();
}

std::string error_of(const std::string& path) {
  try {
    load_sweep_spec(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Sweep, GridTimesZipTimesReplications) {
  const auto s = load_sweep_spec(write_spec("a.yaml", "grid:\n  machine.cores: [1, 2, 4]\n  kernel: [k1.yaml, k2.yaml]\n"
                                                      "zip:\n  a.x: [1, 2]\n  a.y: [10, 20]\nreplications: 3\nseed: 5\n"));
  const auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), 3u * 2u * 2u);
  EXPECT_EQ(pts[0].sets[0].value, "1");
  EXPECT_EQ(pts[0].sets[1].path, "kernel");
  EXPECT_EQ(std::filesystem::path(pts[0].sets[1].value).filename(), "k1.yaml"); // relative to the spec
  EXPECT_TRUE(std::filesystem::path(pts[0].sets[1].value).is_absolute() ||
              pts[0].sets[1].value.find("kmodsim-sweep-test") != std::string::npos);
  EXPECT_EQ(pts[1].sets[2].value, "2"); // zip rows vary fastest, paired
  EXPECT_EQ(pts[1].sets[3].value, "20");
  const auto runs = expand_runs(s, pts.size());
  ASSERT_EQ(runs.size(), pts.size() * 3);
  EXPECT_EQ(runs[0].id, "p0000-r000");
  // common random numbers: replication r has one seed at every point; replications differ
  std::set<std::uint64_t> seeds;
  for (const auto& r : runs) {
    EXPECT_EQ(r.seed, replication_seed(5, r.replication));
    seeds.insert(r.seed);
  }
  EXPECT_EQ(seeds.size(), 3u);
  EXPECT_EQ(axis_names(s), (std::vector<std::string>{"machine.cores", "kernel", "a.x", "a.y"}));
}

TEST(Sweep, LatinHypercubeHasOneSamplePerStratum) {
  const auto s = load_sweep_spec(write_spec(
      "l.yaml", "lhs:\n  samples: 20\n  axes:\n    x: {lo: 0, hi: 1}\n    y: {distribution: log-uniform, lo: 1, hi: 100}\n"));
  const auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), 20u);
  std::set<int> sx, sy;
  for (const auto& p : pts) {
    sx.insert(static_cast<int>(std::stod(p.sets[0].value) * 20));
    sy.insert(static_cast<int>(std::log10(std::stod(p.sets[1].value)) / 2 * 20));
  }
  EXPECT_EQ(sx.size(), 20u);
  EXPECT_EQ(sy.size(), 20u);
  const auto r = load_sweep_spec(write_spec("r.yaml", "random:\n  samples: 50\n  axes:\n    z: {distribution: normal, mean: 5, sd: 0}\n"));
  for (const auto& p : expand_points(r))
    EXPECT_EQ(std::stod(p.sets[0].value), 5.0);
}

TEST(Sweep, NameIsAFolderNameNotAPath) {
  // the name makes the default output folder, results/<name>/: '../x' wrote outside results/
  const auto spec = std::filesystem::temp_directory_path() / "kmodsim-sweep-test" / "n1.yaml";
  std::filesystem::create_directories(spec.parent_path());
  std::ofstream(spec) << "schema_version: 1\nname: ../escape\nscenario: s.yaml\ngrid: {a: [1]}\n";
  EXPECT_NE(error_of(spec.string()).find("n1.yaml:2:7: name: '../escape' names the default output folder"),
            std::string::npos)
      << error_of(spec.string());
  std::ofstream(spec) << "schema_version: 1\nname: a-b_1.2\nscenario: s.yaml\ngrid: {a: [1]}\n";
  EXPECT_EQ(error_of(spec.string()), "");
}

TEST(Sweep, BadSpecsNameFileLineAndKey) {
  EXPECT_NE(error_of(write_spec("e1.yaml", "grid:\n  machine.cores: []\n")).find("e1.yaml:5:18: grid.machine.cores: an axis needs at least one value"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("e2.yaml", "zip:\n  a: [1, 2]\n  b: [1]\n")).find("e2.yaml:6:6: zip.b: zip lists must have equal lengths"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("e3.yaml", "grid: {a: [1]}\nreplications: 0\n")).find("e3.yaml:5:15: replications: must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("e4.yaml", "random:\n  samples: 3\n  axes:\n    x: {lo: 2, hi: 1}\n")).find("random.axes.x.lo: lo 2 is above hi 1"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("e5.yaml", "replications: 2\n")).find("needs at least one of grid, cases, zip, random, lhs"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("e6.yaml", "grdi: {a: [1]}\n")).find("unknown key 'grdi' (did you mean 'grid'?)"),
            std::string::npos);
}

TEST(Sweep, CasesAreNamedPointsCrossedWithTheGrid) {
  const auto s = load_sweep_spec(write_spec(
      "c.yaml", "grid:\n  kernel: [k1.yaml, k2.yaml]\ncases:\n  - name: base\n  - name: rtb\n"
                "    set: {machine.scheduler.model: run_to_block, a.ci95: [1, 1], w: {value: 3, source: s}}\n"
                "zip:\n  x: [1, 2]\n"));
  EXPECT_EQ(axis_names(s), (std::vector<std::string>{"kernel", "case", "x"}));
  const auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), 2u * 2u * 2u);
  // kernel slowest, then the case, then the zip row; a case sets only its own keys
  EXPECT_EQ(pts[0].columns[1], "base");
  EXPECT_EQ(pts[0].sets.size(), 2u); // kernel, x
  // a file value: the column as the spec writes it, the override resolved against the spec's
  // folder to an absolute path (the same from any working folder, as the executors' shards need)
  EXPECT_EQ(pts[2].columns, (std::vector<std::string>{"k1.yaml", "rtb", "1"}));
  EXPECT_TRUE(std::filesystem::path(pts[2].sets[0].value).is_absolute());
  EXPECT_EQ(std::filesystem::path(pts[2].sets[0].value).filename(), "k1.yaml");
  ASSERT_EQ(pts[2].sets.size(), 5u);
  EXPECT_EQ(pts[2].sets[1].path, "machine.scheduler.model");
  EXPECT_EQ(pts[2].sets[1].value, "run_to_block");
  EXPECT_EQ(pts[2].sets[2].value, "[1, 1]"); // lists and maps pass as flow YAML
  EXPECT_EQ(pts[2].sets[3].value, "{value: 3, source: s}");
  EXPECT_EQ(pts[2].sets[4].path, "x");
  EXPECT_EQ(std::filesystem::path(pts[4].sets[0].value).filename(), "k2.yaml");
}

TEST(Sweep, BadCases) {
  EXPECT_NE(error_of(write_spec("c1.yaml", "cases: []\n")).find("c1.yaml:4:8: cases: expected at least one case"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("c2.yaml", "cases:\n  - name: a\n  - name: a\n")).find("c2.yaml:6:11: cases.1.name: "
                                                                                          "the case 'a' is named twice"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("c3.yaml", "grid: {x: [1]}\ncases:\n  - {name: a, set: {x: 2}}\n"))
                .find("c3.yaml:6:24: cases.0.set.x: the key path 'x' is also an axis"),
            std::string::npos);
  EXPECT_NE(error_of(write_spec("c4.yaml", "cases:\n  - {name: a, sett: {x: 2}}\n")).find("unknown key 'sett' (did you mean 'set'?)"),
            std::string::npos);
}

// points.csv's 95% interval is mean +- t(0.975, n-1) sd / sqrt(n). By hand, from a t table:
// t(0.975, 2) = 4.302653, t(0.975, 9) = 2.262157, t(0.975, 29) = 2.045230; for the values
// {1, 2, 3} (mean 2, sd 1) the half-width is 4.302653 / sqrt(3) = 2.484138.
TEST(Sweep, StudentTIntervalByHand) {
  EXPECT_NEAR(calib::student_t_quantile(0.975, 2), 4.302653, 1e-6);
  EXPECT_NEAR(calib::student_t_quantile(0.975, 9), 2.262157, 1e-6);
  EXPECT_NEAR(calib::student_t_quantile(0.975, 29), 2.045230, 1e-6);
  EXPECT_NEAR(calib::student_t_quantile(0.975, 2) * 1.0 / std::sqrt(3.0), 2.484138, 1e-6);
}
