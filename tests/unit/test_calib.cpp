// Parsers and fits of kmodsim calibrate, on snippets written from the documented formats
// (Documentation/locking/lockstat.rst, init/main.c's initcall_debug printks of 2.6.28 and 6.x)
// and on synthetic data generated from known coefficients.
#include <kmodsim/calib.hpp>
#include <kmodsim/config.hpp>
#include <kmodsim/rng.hpp>

#include <gtest/gtest.h>

#include <cmath>

using namespace kmodsim::calib;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CalibError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Dmesg, Linux2628FormWithTimestampsAndModules) {
  const std::string text = "[    0.512345] calling  init_mmap_min_addr+0x0/0x20 @ 1\n"
                           "[    0.512351] initcall init_mmap_min_addr+0x0/0x20 returned 0 after 0 usecs\n"
                           "[    2.100000] Linux agpgart interface v0.103\n"
                           "[    3.000001] calling  uhci_hcd_init+0x0/0x100 [uhci_hcd] @ 1234\n"
                           "[    3.673002] initcall uhci_hcd_init+0x0/0x100 [uhci_hcd] returned 0 after 673001 usecs\n"
                           "[    4.000000] initcall piix_init+0x0/0x29 [ata_piix] returned -19 after 830 usecs\n";
  auto v = parse_dmesg(text, "boot.txt");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].function, "init_mmap_min_addr");
  EXPECT_EQ(v[0].module, "");
  EXPECT_EQ(v[1].function, "uhci_hcd_init");
  EXPECT_EQ(v[1].module, "uhci_hcd");
  EXPECT_DOUBLE_EQ(v[1].usecs, 673001);
  EXPECT_DOUBLE_EQ(v[1].timestamp, 3.673002);
  EXPECT_EQ(v[1].line, 5);
  EXPECT_EQ(v[2].ret, -19);
  EXPECT_EQ(v[2].module, "ata_piix");
}

TEST(Dmesg, RanForFormAndModernFormWithoutTimestamps) {
  const std::string text = "initcall 0xffffffff80a12345 ran for 54 msecs: e100_init_module+0x0/0x5c()\n"
                           "<6>initcall psmouse_init [psmouse] returned 0 after 33012 usecs\n"
                           "Mar  6 10:00:01 host kernel: [   1.5] initcall ehci_hcd_init+0x0/0xe0 [ehci_hcd] returned 0 "
                           "after 187000 usecs\n";
  auto v = parse_dmesg(text, "x");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].function, "e100_init_module");
  EXPECT_DOUBLE_EQ(v[0].usecs, 54000);
  EXPECT_EQ(v[1].module, "psmouse");
  EXPECT_DOUBLE_EQ(v[1].usecs, 33012);
  EXPECT_EQ(v[2].module, "ehci_hcd");
  EXPECT_DOUBLE_EQ(v[2].timestamp, 1.5);
}

// CONFIG_PRINTK_CALLER adds "[    T1]" (or "[     C0]") after the time; journalctl -k -o
// short-monotonic puts the time before "host kernel: ". Both were refused as malformed or untimed.
TEST(Dmesg, CallerFieldAndJournalctlMonotonicForms) {
  const std::string text =
      "[    1.000000][    T1] calling  foo_init+0x0/0x1000 [foo] @ 200\n"
      "[    1.000500][    T1] initcall foo_init+0x0/0x1000 [foo] returned 0 after 500 usecs\n"
      "[    2.000500][     C3] initcall bar_init+0x0/0x10 [bar] returned -19 after 5 usecs\n"
      "[    T7] initcall untimed_init [untimed] returned 0 after 5 usecs\n"
      "[    3.000000] myhost kernel: calling  baz_init+0x0/0x1000 [baz] @ 200\n"
      "[    3.000500] myhost kernel: initcall baz_init+0x0/0x1000 [baz] returned 0 after 500 usecs\n";
  auto v = parse_dmesg(text, "d");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].module, "foo");
  EXPECT_DOUBLE_EQ(v[0].timestamp, 1.0005);
  EXPECT_EQ(v[1].module, "bar");
  EXPECT_EQ(v[1].ret, -19);
  EXPECT_DOUBLE_EQ(v[1].timestamp, 2.0005);
  EXPECT_EQ(v[2].module, "untimed");
  EXPECT_DOUBLE_EQ(v[2].timestamp, -1);
  EXPECT_EQ(v[3].module, "baz");
  EXPECT_DOUBLE_EQ(v[3].timestamp, 3.0005);
}

TEST(Dmesg, MalformedInitcallLineNamesFileAndLine) {
  EXPECT_EQ(error_of([] { parse_dmesg("ok line\ninitcall foo returned zero after 3 usecs\n", "d.txt"); }).rfind("d.txt:2: ", 0),
            0u);
  EXPECT_NE(error_of([] { parse_dmesg("calling foo\n", "d.txt"); }).find("d.txt:1: malformed 'calling'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_dmesg("initcall " + std::string(2000, 'a') + "\n", "d"); }).find("longer than"),
            std::string::npos);
}

TEST(LockStat, Version04ModuleMutexAndSplitLines) {
  const std::string text =
      "lock_stat version 0.4\n"
      "------------------------------------------------------------------------------\n"
      "                              class name    con-bounces    contentions   waittime-min   waittime-max "
      "waittime-total   waittime-avg    acq-bounces   acquisitions   holdtime-min   holdtime-max holdtime-total   "
      "holdtime-avg\n"
      "------------------------------------------------------------------------------\n"
      "\n"
      "                         &mm->mmap_sem-W:            46             84           0.26         939.10       "
      "16371.53         194.90          47291        2922365           0.16     2220301.69 17464026916.32        "
      "5975.99\n"
      "                            module_mutex:            12             40           3.21       20051.33      "
      "150321.20        3758.03            300           1800           0.50       40034.11      900321.50         "
      "500.18\n"
      "                            ------------\n"
      "                            module_mutex             30          [<ffffffff8108a1b2>] sys_init_module+0x42/0x1e0\n";
  auto v = parse_lock_stat(text, "ls");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].name, "&mm->mmap_sem-W"); // the write side of a reader/writer lock, a class of its own
  EXPECT_DOUBLE_EQ(v[0].acquisitions, 2922365);
  EXPECT_EQ(v[1].name, "module_mutex");
  EXPECT_DOUBLE_EQ(v[1].contentions, 40);
  EXPECT_DOUBLE_EQ(v[1].acquisitions, 1800);
  EXPECT_DOUBLE_EQ(v[1].waittime_total_us, 150321.20);
  EXPECT_DOUBLE_EQ(v[1].holdtime_max_us, 40034.11);
  EXPECT_DOUBLE_EQ(v[1].holdtime_avg_us, 500.18);
}

// The kernel's "%40s:%14lu " leaves no space after the colon when con-bounces has 14 digits;
// kmodsim's writer put one there before it followed that layout (both read).
TEST(LockStat, NumberRightAfterTheColonAndTheWarningLine) {
  const std::string text = "lock_stat version 0.4\n"
                           "*WARNING* lock debugging disabled!! - possibly due to a lockdep warning\n"
                           "                            module_mutex:12345678901234              5           1.50"
                           "         100.25         300.50          60.10             10             50           0.50"
                           "        2000.00        5000.00         100.00\n"
                           "                           other_mutex:              0              1           2.00"
                           "           2.00           2.00           2.00              0              4           1.00"
                           "           3.00           8.00           2.00\n";
  auto v = parse_lock_stat(text, "ls");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].name, "module_mutex");
  EXPECT_DOUBLE_EQ(v[0].con_bounces, 12345678901234.0);
  EXPECT_DOUBLE_EQ(v[0].contentions, 5);
  EXPECT_EQ(v[1].name, "other_mutex");
  EXPECT_DOUBLE_EQ(v[1].acquisitions, 4);
}

TEST(LockStat, Version03HasNoAverageColumns) {
  const std::string text = "lock_stat version 0.3\n"
                           "module_mutex: 1 4 1.0 9.0 20.0 10 100 0.5 50.0 1000.0\n";
  auto v = parse_lock_stat(text, "ls");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_DOUBLE_EQ(v[0].waittime_avg_us, 5.0);
  EXPECT_DOUBLE_EQ(v[0].holdtime_avg_us, 10.0);
  EXPECT_EQ(error_of([] { parse_lock_stat("lock_stat version 0.4\nmodule_mutex: 1 2 3\n", "ls"); }).rfind("ls:2: ", 0), 0u);
  EXPECT_EQ(error_of([] { parse_lock_stat("lock_stat version 0.9\n", "ls"); }).rfind("ls:1: ", 0), 0u);
  EXPECT_EQ(error_of([] { parse_lock_stat("module_mutex: 1\n", "ls"); }).rfind("ls:1: ", 0), 0u);
}

TEST(Timings, HeaderRowsAndErrors) {
  const std::string text = "# from bpftrace\nmodule,total_us,step:resolve_symbol\nsnd,5000,1200\nusbcore,3000,\n";
  auto v = parse_timings_csv(text, "t.csv");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].module, "snd");
  EXPECT_DOUBLE_EQ(v[0].steps_us.at("resolve_symbol"), 1200);
  EXPECT_TRUE(v[1].steps_us.empty());
  EXPECT_EQ(error_of([] { parse_timings_csv("mod,total\n", "t.csv"); }).rfind("t.csv:1: ", 0), 0u);
  EXPECT_EQ(error_of([] { parse_timings_csv("module,total_us\na,-3\n", "t.csv"); }).rfind("t.csv:2: ", 0), 0u);
  EXPECT_EQ(error_of([] { parse_timings_csv("module,total_us\na,1,2\n", "t.csv"); }).rfind("t.csv:2: ", 0), 0u);
}

// Audit findings: counts are whole numbers up to 10^7 (1e30 symtab entries overflowed the
// int64 cast and zeroed every coefficient), times of one load at most 100 s, a column given
// twice is an error (the second overwrote the first), and a file without rows says so.
TEST(Timings, RangesDuplicateColumnsAndNoRows) {
  auto err = [](const std::string& text) { return error_of([&] { parse_timings_csv(text, "t.csv"); }); };
  EXPECT_EQ(err("module,total_us,symtab_entries\na,5,1e30\n"),
            "t.csv:2: symtab_entries: '1e30' is not a whole number from 0 to 10^7");
  EXPECT_EQ(err("module,total_us,loaded_modules\na,5,1.5\n"),
            "t.csv:2: loaded_modules: '1.5' is not a whole number from 0 to 10^7");
  EXPECT_EQ(err("module,total_us,loaded_modules\na,5,10000001\n"),
            "t.csv:2: loaded_modules: '10000001' is not a whole number from 0 to 10^7");
  EXPECT_EQ(err("module,total_us\n# c\na,2e10\n"),
            "t.csv:3: total_us: 2e10 us is over 100 s (1e8 us): not the time of one load (microseconds?)");
  EXPECT_EQ(err("module,total_us,step:x\na,5,1.5e8\n"),
            "t.csv:2: step:x: 1.5e8 us is over 100 s (1e8 us): not the time of one step (microseconds?)");
  EXPECT_EQ(err("module,total_us,step:x,loaded_modules,step:x\na,5,1,2,3\n"),
            "t.csv:1: step:x: column given twice (columns 3 and 5)");
  EXPECT_EQ(err("module,total_us,symtab_entries,symtab_entries\na,5,1,2\n"),
            "t.csv:1: symtab_entries: column given twice (columns 3 and 4)");
  EXPECT_EQ(err("# only a header\nmodule,total_us\n\n"),
            "t.csv: no data rows after the header (one row per init_module call)");
  auto v = parse_timings_csv("module,total_us,loaded_modules,symtab_entries,step:x\na,1e8,10000000,1e3,1e8\n", "t.csv");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_DOUBLE_EQ(v[0].symtab_entries, 1000);
  EXPECT_DOUBLE_EQ(v[0].loaded_modules, 1e7);
}

TEST(Nnls, ExactSolutionAndBound) {
  Eigen::MatrixXd A(4, 2);
  A << 1, 0, 0, 1, 1, 1, 2, 1;
  Eigen::VectorXd x(2);
  x << 3, 5;
  Eigen::VectorXd b = A * x;
  auto got = nnls(A, b);
  EXPECT_NEAR(got(0), 3, 1e-9);
  EXPECT_NEAR(got(1), 5, 1e-9);
  // the unconstrained optimum has x1 < 0: NNLS puts it at the bound
  Eigen::VectorXd b2(4);
  b2 << 1, -1, 0, 1;
  auto g2 = nnls(A, b2);
  EXPECT_GE(g2(1), 0.0);
  EXPECT_NEAR(g2(1), 0.0, 1e-12);
}

// Synthetic traces from known coefficients plus noise: the 95% intervals must cover the truth
// about 95% of the time (a check of the interval, not only of the point estimate).
TEST(Nnls, IntervalsCoverTheTrueCoefficients) {
  const double truth[] = {120.0, 0.65, 1.0, 0.02}; // constant, size_kb, undef_symbols, relocations
  const std::vector<std::string> names = {"constant", "size_kb", "undef_symbols", "relocations"};
  int covered = 0, total = 0;
  for (std::uint64_t rep = 0; rep < 200; ++rep) {
    const int m = 60;
    Eigen::MatrixXd A(m, 4);
    Eigen::VectorXd b(m);
    for (int i = 0; i < m; ++i) {
      const auto u = [&](int k) { return kmodsim::uniform01(rep, 7, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(k)); };
      A(i, 0) = 1;
      A(i, 1) = 10 + 2000 * u(1);
      A(i, 2) = 400 * u(2);
      A(i, 3) = 20000 * u(3);
      const double z = std::sqrt(-2 * std::log(u(4))) * std::cos(2 * M_PI * u(5));
      b(i) = A.row(i).dot(Eigen::Map<const Eigen::Vector4d>(truth)) + 30.0 * z;
    }
    auto f = fit_nnls(A, b, names);
    for (int j = 0; j < 4; ++j) {
      total++;
      if (truth[j] >= f.lo(j) && truth[j] <= f.hi(j))
        covered++;
    }
    EXPECT_GT(f.r2, 0.99);
  }
  const double coverage = static_cast<double>(covered) / total;
  EXPECT_GT(coverage, 0.92) << covered << " of " << total;
  EXPECT_LT(coverage, 0.98) << covered << " of " << total;
}

TEST(Nnls, WarnsWhenACoefficientIsNotIdentifiable) {
  Eigen::MatrixXd A(5, 2);
  A << 1, 0, 2, 0, 3, 0, 4, 0, 5, 0;
  Eigen::VectorXd b(5);
  b << 1, 2, 3, 4, 5.1;
  auto f = fit_nnls(A, b, {"a", "b"});
  EXPECT_FALSE(f.identifiable[1]);
  ASSERT_FALSE(f.warnings.empty());
  EXPECT_NE(f.warnings[0].find("'b' is not identifiable"), std::string::npos);
}

// One load's total and its steps are one cluster: with no more loads than free coefficients the
// cluster-robust covariance is rank-deficient (one load gave a zero-width "95%" interval marked
// identifiable): no interval, nothing identifiable. With more, t has (loads - 1) dof.
TEST(Nnls, ClusteredFitNeedsMoreLoadsThanFreeCoefficients) {
  auto design = [](int loads, Eigen::MatrixXd& A, Eigen::VectorXd& b, std::vector<int>& cl) {
    A.resize(3 * loads, 2);
    b.resize(3 * loads);
    cl.clear();
    for (int l = 0; l < loads; ++l) {
      const double u = 2.0 + 3.0 * l; // undef symbols of the load
      A.row(3 * l) << 1, u;           // total: dup + u sym
      A.row(3 * l + 1) << 1, 0;       // step: find_module
      A.row(3 * l + 2) << 0, u;       // step: resolve_symbol
      b(3 * l) = 100 + 10 * u + (l % 2 ? 3 : -2);
      b(3 * l + 1) = 98 + l;
      b(3 * l + 2) = 10.5 * u - l;
      cl.insert(cl.end(), 3, 10 + l); // cluster ids: the row's line
    }
  };
  Eigen::MatrixXd A;
  Eigen::VectorXd b;
  std::vector<int> cl;
  for (int loads : {1, 2}) {
    design(loads, A, b, cl);
    auto f = fit_nnls(A, b, {"dup_us", "sym_us"}, true, &cl);
    EXPECT_FALSE(f.identifiable[0]) << loads << " load(s)";
    EXPECT_FALSE(f.identifiable[1]) << loads << " load(s)";
    EXPECT_TRUE(std::isnan(f.se(0)) && std::isnan(f.se(1)));
    ASSERT_EQ(f.warnings.size(), 1u);
    EXPECT_NE(f.warnings[0].find(std::to_string(loads) + " load(s) for 2 free coefficient(s): no intervals"),
              std::string::npos) << f.warnings[0];
  }
  design(4, A, b, cl);
  auto f = fit_nnls(A, b, {"dup_us", "sym_us"}, true, &cl);
  ASSERT_TRUE(f.identifiable[0] && f.identifiable[1]);
  for (int j = 0; j < 2; ++j) {
    EXPECT_GT(f.se(j), 0);
    EXPECT_NEAR(f.hi(j) - f.x(j), student_t_quantile(0.975, 3) * f.se(j), 1e-9 * f.x(j));
  }
}

// A step:<name> column naming a step inside a repeated group counts the group's repetitions
// (and its only_if): `lookup` of nested-kernel.yaml runs once per undefined symbol (the column
// was taken as one run, so a fit of exact timings had R2 -16).
TEST(TimingDesign, StepInsideAGroupRunsAsOftenAsItsGroup) {
  const std::string dir = KMODSIM_TEST_DIR;
  const kmodsim::Scenario s = kmodsim::load_scenario(
      dir + "/configs/base.yaml", {kmodsim::parse_override("kernel=" + dir + "/configs/calib_fix/nested-kernel.yaml")});
  TimingRow r; // module a: 2 undefined symbols, no per-CPU data
  r.module = "a";
  r.total_us = 120;
  r.steps_us = {{"lookup", 20}, {"pcpu", 0}};
  r.line = 2;
  const Design d = timing_design(s, {r}, "t.csv");
  ASSERT_EQ(d.coefs, (std::vector<std::string>{"dup_us", "sym_us"})); // free_us: pcpu never runs
  ASSERT_EQ(d.A.rows(), 3);
  EXPECT_EQ(d.rows[1], "t.csv:2 a lookup");
  EXPECT_DOUBLE_EQ(d.A(0, 0), 1);
  EXPECT_DOUBLE_EQ(d.A(0, 1), 2);
  EXPECT_DOUBLE_EQ(d.A(1, 0), 0);
  EXPECT_DOUBLE_EQ(d.A(1, 1), 2); // the group's 2 repetitions
  EXPECT_EQ(d.rows[2], "t.csv:2 a pcpu");
  EXPECT_DOUBLE_EQ(d.A.row(2).norm(), 0); // the group's only_if does not hold
}

TEST(Lognormal, RecoversParameters) {
  std::vector<double> x;
  for (std::uint64_t i = 0; i < 4000; ++i) {
    const double u1 = kmodsim::uniform01(3, 1, i, 0), u2 = kmodsim::uniform01(3, 1, i, 1);
    const double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
    x.push_back(std::exp(8.0 + 1.5 * z)); // median e^8 us ~ 3 ms
  }
  auto g = fit_lognormal(x);
  EXPECT_NEAR(g.mu, 8.0, 0.1);
  EXPECT_NEAR(g.sigma, 1.5, 0.05);
  EXPECT_LT(g.mu_lo, 8.0);
  EXPECT_GT(g.mu_hi, 8.0);
  EXPECT_THROW(fit_lognormal({1.0}), CalibError);
}

// Coefficients with a 95% interval: runs with variability.sample_coefficients draw from it.
TEST(SampleCoefficient, LognormalThroughTheIntervalAndDeterministic) {
  kmodsim::Coefficient c;
  c.value = 2;
  c.ci_lo = 1;
  c.ci_hi = 4;
  int inside = 0;
  const int n = 4000;
  for (int s = 0; s < n; ++s) {
    const double v = kmodsim::sample_coefficient(c, static_cast<std::uint64_t>(s), "a");
    EXPECT_GT(v, 0);
    inside += v >= 1 && v <= 4;
  }
  EXPECT_NEAR(static_cast<double>(inside) / n, 0.95, 0.015);
  EXPECT_EQ(kmodsim::sample_coefficient(c, 7, "a"), kmodsim::sample_coefficient(c, 7, "a"));
  EXPECT_NE(kmodsim::sample_coefficient(c, 7, "a"), kmodsim::sample_coefficient(c, 7, "b")); // own stream
  c.ci_lo = 0; // uniform on [0, hi]
  for (int s = 0; s < 100; ++s) {
    const double v = kmodsim::sample_coefficient(c, static_cast<std::uint64_t>(s), "a");
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 4);
  }
  kmodsim::Coefficient exact;
  exact.value = 3;
  EXPECT_EQ(kmodsim::sample_coefficient(exact, 1, "x"), 3);
}

// fuzz_calib_dmesg finding: a 47-digit return value overflowed the cast to long long (UBSan).
TEST(Dmesg, HugeNumbersAreErrorsNotOverflows) {
  EXPECT_EQ(error_of([] {
              parse_dmesg("initcall f+0x0/0x1 returned 88888888888888888888888888888888888888888888888 after 3 usecs\n", "d");
            }).rfind("d:1: number out of range", 0),
            0u);
  EXPECT_EQ(error_of([] { parse_dmesg("initcall f returned 0 after 99999999999999999999 usecs\n", "d"); })
                .rfind("d:1: number out of range", 0),
            0u);
  EXPECT_EQ(error_of([] { parse_dmesg("initcall 0x1 ran for 99999999999999 msecs: f+0x0/0x1()\n", "d"); })
                .rfind("d:1: number out of range", 0),
            0u);
}
