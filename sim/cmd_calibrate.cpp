// kmodsim calibrate: measurements in, a calibration file out (docs/calibration.md). A thin
// layer: parsing and fitting live in models/ (kmodsim/calib.hpp).
#include "cmd_calibrate.hpp"
#include "output.hpp"
#include "read_input.hpp"

#include <kmodsim/atomic_file.hpp>
#include <kmodsim/calib.hpp>
#include <kmodsim/import/safe_io.hpp>
#include <kmodsim/limits.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace kmodsim {
namespace {


void write_text(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text);
  f.commit();
}

// --- the --report folder -------------------------------------------------------------------------
// The rules of `run --out` (sim/output.cpp), with a marker of its own: a report folder is not a
// run folder, and neither may be written into the other.
const sim::OutputFolder kReportFolder = {
    ".kmodsim-report",
    {"fit.csv", "residuals.csv", "initcalls.csv", "report.json"},
    "kmodsim calibrate report folder",
    "--report",
    "a kmodsim calibrate report folder: kmodsim may rewrite its files here; report.json is written last\n",
    "report.json"};

/// Writes the report into a folder prepare_output_dir made ready (report.json, the completion
/// mark, gone): report.json last; a file of the report that this calibration did not produce is
/// removed (a stale one would mislead).
void write_report(const std::string& dir_s, const std::map<std::string, std::string>& files,
                  const std::string& report_json) {
  const fs::path dir(dir_s);
  for (const char* name : {"fit.csv", "residuals.csv", "initcalls.csv"}) {
    auto it = files.find(name);
    if (it != files.end())
      write_text((dir / name).string(), it->second);
    else
      sim::remove_output(dir / name);
  }
  write_text((dir / "report.json").string(), report_json);
}

/// The reference written when neither the scenario nor --base names the machine: what was
/// measured, so that the file says where its values come from (never an empty string).
std::string default_reference(const CalibrateArgs& a) {
  std::vector<std::string> parts;
  for (const auto& f : a.dmesg)
    parts.push_back(fs::path(f).filename().string());
  for (const std::string* f : {&a.timings, &a.lock_stat})
    if (!f->empty())
      parts.push_back(fs::path(*f).filename().string());
  std::vector<std::string> what;
  if (!parts.empty())
    what.push_back(fmt::format("the machine of {}", fmt::join(parts, ", ")));
  if (a.microbench)
    what.push_back(std::string("the machine that ran kmodsim calibrate --microbench") +
                   (a.slowdown.empty() ? "" : ", scaled by --target-slowdown " + a.slowdown));
  return fmt::format("unnamed: {}", fmt::join(what, "; "));
}

/// The workload module an initcall belongs to: its " [module]" suffix, or its function name
/// with the usual init suffixes removed (uhci_hcd_init -> uhci_hcd); "" for a module the workload
/// (when there is one) does not hold.
std::string module_of(const calib::Initcall& ic, const std::set<std::string>& names) {
  auto norm = [](std::string s) {
    for (char& c : s)
      if (c == '-')
        c = '_';
    return s;
  };
  if (!ic.module.empty()) {
    const std::string mod = norm(ic.module);
    return names.empty() || names.count(mod) ? mod : "";
  }
  const std::string fn = ic.function;
  std::vector<std::string> cand;
  for (const char* suf : {"_init_module", "_module_init", "_driver_init", "_mod_init", "_init"})
    if (fn.size() > std::strlen(suf) && fn.compare(fn.size() - std::strlen(suf), std::strlen(suf), suf) == 0)
      cand.push_back(fn.substr(0, fn.size() - std::strlen(suf)));
  if (fn.rfind("init_", 0) == 0)
    cand.push_back(fn.substr(5));
  for (const auto& c : cand)
    if (names.count(c))
      return c;
  return "";
}

/// --target-slowdown "V,LO,HI" (or "V": no interval beyond the measurement's).
void parse_slowdown(const std::string& s, double& v, double& lo, double& hi) {
  v = lo = hi = 1.0;
  if (s.empty())
    return;
  std::vector<double> x;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    char* end = nullptr;
    const double d = std::strtod(tok.c_str(), &end);
    if (tok.empty() || end != tok.c_str() + tok.size() || !(d > 0) || d > 1000)
      throw calib::CalibError("--target-slowdown " + s + ": expected V or V,LO,HI with 0 < LO <= V <= HI <= 1000");
    x.push_back(d);
  }
  if (x.size() == 1)
    x = {x[0], x[0], x[0]};
  if (x.size() != 3 || !(x[1] <= x[0] && x[0] <= x[2]))
    throw calib::CalibError("--target-slowdown " + s + ": expected V or V,LO,HI with 0 < LO <= V <= HI <= 1000");
  v = x[0];
  lo = x[1];
  hi = x[2];
}

void microbench(const CalibrateArgs& a, Calibration& cal, nlohmann::ordered_json& report,
                std::vector<std::string>& warnings) {
  double f = 1, flo = 1, fhi = 1;
  parse_slowdown(a.slowdown, f, flo, fhi);
  std::vector<std::string> names;
  std::string table;
  if (!a.symvers.empty()) {
    names = calib::symvers_vmlinux_names(read_measurement(a.symvers), a.symvers);
    table = fmt::format("the {} vmlinux exports of {}", names.size(), fs::path(a.symvers).filename().string());
  } else {
    names = calib::synthetic_export_names(6000);
    table = "6000 synthetic kernel-like export names (give --symvers for a real table)";
  }
  const calib::BenchResult b = calib::run_microbench(names, a.bench_reps);
  const std::string where =
      a.slowdown.empty() ? std::string("this machine (no --target-slowdown)")
                         : fmt::format("scaled by --target-slowdown {} ({}-{}) to the target machine", f, flo, fhi);
  // `what` says what was timed; the scans say over which table (the memcpy reads none)
  auto set = [&](const char* name, const std::vector<double>& samples, double med, double scale, const std::string& what) {
    auto it = cal.coefficients.find(name);
    if (it == cal.coefficients.end()) {
      warnings.push_back(std::string("microbench: the calibration has no coefficient '") + name + "': not written");
      return;
    }
    const auto [mn, mx] = std::minmax_element(samples.begin(), samples.end());
    Coefficient& c = it->second;
    c.value = med * scale * f * 1e-3;
    c.ci_lo = *mn * scale * flo * 1e-3;
    c.ci_hi = *mx * scale * fhi * 1e-3;
    c.source = fmt::format("microbench: {}, median of {} runs, {} (kmodsim calibrate --microbench)", what,
                           samples.size(), where);
    std::cout << fmt::format("  {:28} {:12.6g} us  95% [{:.6g}, {:.6g}]\n", name, c.value, c.ci_lo, c.ci_hi);
  };
  std::cout << fmt::format("microbench on this machine: find_symbol hit {:.3g} ns/entry, miss {:.3g} ns/entry, "
                           "memcpy {:.3g} ns/KiB\n", b.hit, b.miss, b.memcpy);
  set("lookup_hit_us_per_entry", b.hit_ns_per_entry, b.hit, 1.0,
      "linear strcmp scan, symbol found (per table entry) over " + table);
  set("lookup_miss_us_per_entry", b.miss_ns_per_entry, b.miss, 1.0,
      "linear strcmp scan, symbol absent (per entry) over " + table);
  set("strcmp_us_per_entry", b.miss_ns_per_entry, b.miss, 1.0, "one strcmp of the scan (per entry) over " + table);
  set("copy_us_per_kb", b.memcpy_ns_per_kib, b.memcpy, 1.0, "memcpy of a 4 MiB image (per KiB)");
  report["microbench"] = {{"table", table},          {"hit_ns_per_entry", b.hit_ns_per_entry},
                          {"miss_ns_per_entry", b.miss_ns_per_entry}, {"memcpy_ns_per_kib", b.memcpy_ns_per_kib},
                          {"target_slowdown", {f, flo, fhi}}};
}

} // namespace

int cmd_calibrate(const CalibrateArgs& a) {
  if (a.output.empty())
    throw calib::CalibError("give -o CALIBRATION.yaml");
  if (a.dmesg.empty() && a.timings.empty() && a.lock_stat.empty() && !a.microbench)
    throw calib::CalibError("nothing to calibrate from: give --dmesg, --timings, --lock-stat and/or --microbench");
  if (!a.timings.empty() && a.scenario.empty())
    throw calib::CalibError("--timings needs --scenario (its kernel names the coefficients, its workload has the features)");
  // options of one mode given without it would be silently ignored: usage errors
  if (!a.sets.empty() && a.scenario.empty())
    throw calib::CalibError("--set needs --scenario (it overrides a field of that scenario)");
  if (!a.microbench && !a.slowdown.empty())
    throw calib::CalibError("--target-slowdown needs --microbench (it scales the microbenchmark's results)");
  if (!a.microbench && !a.symvers.empty())
    throw calib::CalibError("--symvers needs --microbench (it gives the export names the scan benchmark reads)");
  if (a.microbench) { // before any work
    double f, lo, hi;
    parse_slowdown(a.slowdown, f, lo, hi);
    if (a.scenario.empty() && a.base.empty()) // an empty calibration has no coefficient to set
      throw calib::CalibError("--microbench needs --scenario or --base to write its coefficients into");
  }
  import::check_output_path(a.output, a.force);
  if (!a.report.empty())
    sim::check_output_dir(a.report, kReportFolder); // refused before the work, made when written

  Scenario s;
  Calibration cal;
  if (!a.scenario.empty()) {
    s = load_scenario(a.scenario, a.sets);
    cal = s.calibration;
  }
  if (!a.base.empty())
    cal = load_calibration_file(a.base);
  if (!a.name.empty())
    cal.name = a.name;
  if (cal.name.empty()) // no scenario, no --base, no --name: the output's file name
    cal.name = fs::path(a.output).stem().string();
  if (cal.name.empty())
    cal.name = "calibration";
  if (cal.reference.empty())
    cal.reference = default_reference(a);
  nlohmann::ordered_json report;
  std::map<std::string, std::string> report_files;
  std::vector<std::string> warnings;

  // --- timings: NNLS over the coefficients the kernel names --------------------------------------
  if (!a.timings.empty()) {
    const auto rows = calib::parse_timings_csv(read_measurement(a.timings), a.timings);
    const calib::Design d = calib::timing_design(s, rows, a.timings);
    if (d.coefs.empty())
      throw calib::CalibError(a.timings + ": the kernel's costs name no calibration coefficient to fit");
    calib::FitResult f = calib::fit_nnls(d.A, d.b, d.coefs, true, &d.cluster);
    for (const auto& w : f.warnings)
      warnings.push_back(a.timings + ": " + w);
    // The written calibration must load: a fitted value beyond the range of a coefficient is an
    // error (the timings' units, most likely); an interval reaching beyond it is cut there.
    const limits::Range& range = limits::kCostUs;
    for (size_t j = 0; j < d.coefs.size(); ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      if (!f.identifiable[j])
        continue;
      if (f.x(jj) > range.hi)
        throw calib::CalibError(fmt::format("{}: {}: fitted value {:.6g} is over the range of a coefficient ({} to {:g} "
                                            "{}): are the timings in microseconds?",
                                            a.timings, d.coefs[j], f.x(jj), range.lo, range.hi, range.unit));
      if (f.hi(jj) > range.hi) {
        warnings.push_back(fmt::format("{}: {}: the 95% interval's upper bound {:.6g} is cut to {:g}, the range of a "
                                       "coefficient", a.timings, d.coefs[j], f.hi(jj), range.hi));
        f.hi(jj) = range.hi;
      }
    }
    // A coefficient the fit cannot identify keeps the base value and its source: fit.csv and the
    // terminal show that kept value, with no interval (the fit's estimate is not used).
    std::string fit_csv = "coefficient,value,se,ci95_lo,ci95_hi,identifiable\n";
    std::string printed;
    std::vector<std::string> kept;
    for (size_t j = 0; j < d.coefs.size(); ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      const std::string& name = d.coefs[j];
      if (f.identifiable[j]) {
        Coefficient& c = cal.coefficients[name];
        c.value = f.x(jj);
        c.ci_lo = f.lo(jj);
        c.ci_hi = f.hi(jj);
        c.source = fmt::format("fit: NNLS over {} equations of {} (R2 {:.4f}; kmodsim calibrate)", d.A.rows(),
                               fs::path(a.timings).filename().string(), f.r2);
        fit_csv += fmt::format("{},{:.9g},{:.9g},{:.9g},{:.9g},yes\n", name, f.x(jj), f.se(jj), f.lo(jj), f.hi(jj));
        printed += fmt::format("  {:32} {:12.6g}  95% [{:.6g}, {:.6g}]\n", name, f.x(jj), f.lo(jj), f.hi(jj));
        continue;
      }
      kept.push_back(name);
      auto it = cal.coefficients.find(name);
      if (it == cal.coefficients.end()) {
        fit_csv += fmt::format("{},,,,,no\n", name);
        printed += fmt::format("  {:32} {:>12}  not identifiable, and not in the base calibration: not written\n",
                               name, "-");
        warnings.push_back(a.timings + ": coefficient '" + name + "' is not identifiable and the base calibration "
                           "has none: the written calibration lacks it");
      } else {
        fit_csv += fmt::format("{},{:.9g},,,,no\n", name, it->second.value);
        printed += fmt::format("  {:32} {:12.6g}  kept: not identifiable from these measurements (the base value, "
                               "not fitted)\n", name, it->second.value);
      }
    }
    report["timings"] = {{"file", a.timings}, {"equations", d.A.rows()}, {"coefficients", d.coefs},
                         {"not_identifiable_kept", kept}, {"r2", f.r2}, {"condition", f.condition}};
    report_files["fit.csv"] = fit_csv;
    std::string res = "row,measured_us,predicted_us,residual_us\n";
    const Eigen::VectorXd pred = d.A * f.x;
    for (size_t i = 0; i < d.rows.size(); ++i)
      res += fmt::format("\"{}\",{:.9g},{:.9g},{:.9g}\n", d.rows[i], d.b(static_cast<Eigen::Index>(i)),
                         pred(static_cast<Eigen::Index>(i)), f.residuals(static_cast<Eigen::Index>(i)));
    report_files["residuals.csv"] = res;
    std::cout << fmt::format("timings: {} equations, {} coefficients, R2 {:.4f}\n", d.A.rows(), d.coefs.size(), f.r2)
              << printed;
  }

  // --- dmesg: module init durations and their distribution --------------------------------------
  if (!a.dmesg.empty()) {
    std::set<std::string> names;
    for (const auto& m : s.workload.modules)
      names.insert(m.name);
    std::vector<double> all;
    std::string csv = "file,line,function,module,workload_module,ret,usecs\n";
    size_t matched = 0, failed = 0;
    // Several initcalls of one module: the longest, with its own line as the source. Measured
    // modules replace the base's entry (a shorter measurement included).
    std::map<std::string, ModuleInitCalib::Measured> measured;
    for (const auto& file : a.dmesg) {
      const auto calls = calib::parse_dmesg(read_measurement(file), file);
      if (calls.empty())
        warnings.push_back(file + ": no initcall_debug lines (boot with initcall_debug)");
      for (const auto& ic : calls) {
        const std::string mod = module_of(ic, names);
        csv += fmt::format("{},{},{},{},{},{},{}\n", file, ic.line, ic.function, ic.module, mod, ic.ret, ic.usecs);
        if (ic.ret != 0) {
          failed++;
          continue; // a failed init (-ENODEV: no such hardware) says little about a real one
        }
        if (ic.usecs > 0)
          all.push_back(ic.usecs);
        if (!mod.empty() && (names.empty() || names.count(mod))) {
          if (ic.usecs > limits::kInitCpuUs.hi) // the range of module_init.modules.<name>.us
            throw calib::CalibError(fmt::format("{}:{}: {}: {} usecs is over the range of a module's init time ({:g} "
                                                "us)", file, ic.line, mod, ic.usecs, limits::kInitCpuUs.hi));
          auto [it, first] = measured.try_emplace(mod);
          if (first || ic.usecs > it->second.us)
            it->second = {ic.usecs, fmt::format("{}:{} ({} returned 0 after {} usecs)",
                                                fs::path(file).filename().string(), ic.line, ic.function, ic.usecs)};
          matched++;
        }
      }
    }
    for (const auto& [mod, me] : measured)
      cal.module_init.modules[mod] = me;
    if (all.size() >= 2) {
      const calib::Lognormal g = calib::fit_lognormal(all);
      if (g.median() > limits::kInitCpuUs.hi || g.sigma > limits::kLogSigma.hi)
        throw calib::CalibError(fmt::format(
            "{}: module_init.default: the lognormal of the init times (median {:.6g} us, sigma {:.3f}) is over the "
            "range of a calibration (median up to {:g} us, sigma up to {:g})", fmt::join(a.dmesg, ", "), g.median(),
            g.sigma, limits::kInitCpuUs.hi, limits::kLogSigma.hi));
      auto& mi = cal.module_init;
      mi.has_default = true;
      mi.median_us = g.median();
      mi.sigma = g.sigma;
      mi.default_source = fmt::format("fit: lognormal MLE over {} initcalls of {} (median 95% [{:.6g}, {:.6g}] us)",
                                      g.n, fs::path(a.dmesg.front()).filename().string(), std::exp(g.mu_lo),
                                      std::exp(g.mu_hi));
      report["dmesg"] = {{"initcalls", all.size()}, {"failed", failed}, {"matched_modules", matched},
                         {"median_us", g.median()}, {"sigma", g.sigma},
                         {"median_ci95_us", {std::exp(g.mu_lo), std::exp(g.mu_hi)}}};
      std::cout << fmt::format("dmesg: {} initcalls ({} failed), {} matched to modules; init time lognormal median "
                               "{:.6g} us (95% [{:.6g}, {:.6g}]), sigma {:.3f}\n",
                               all.size() + failed, failed, matched, g.median(), std::exp(g.mu_lo), std::exp(g.mu_hi),
                               g.sigma);
    } else {
      warnings.push_back("dmesg: fewer than 2 successful initcalls with a duration: no distribution fitted");
    }
    if (cal.module_init.cpu_fraction.source.empty()) {
      auto& cf = cal.module_init.cpu_fraction;
      cf.value = 0.5;
      cf.ci_lo = 0.1;
      cf.ci_hi = 0.9;
      cf.unit = "fraction";
      cf.source = "assumption: initcall_debug prints wall time only; the CPU share of an init function is unknown "
                  "(0.1-0.9)";
    }
    report_files["initcalls.csv"] = csv;
  }

  // --- lock_stat: the measured module_mutex, as a check ---------------------------------------------
  if (!a.lock_stat.empty()) {
    const auto locks = calib::parse_lock_stat(read_measurement(a.lock_stat), a.lock_stat);
    const calib::LockStat* mm = nullptr;
    for (const auto& l : locks)
      if (l.name == "module_mutex" || l.name == "&module_mutex")
        mm = &l;
    if (!mm) {
      warnings.push_back(a.lock_stat + ": no module_mutex class (CONFIG_LOCK_STAT on, and read after the boot?)");
    } else {
      report["lock_stat"] = {{"file", a.lock_stat},         {"line", mm->line},
                             {"acquisitions", mm->acquisitions}, {"contentions", mm->contentions},
                             {"wait_total_us", mm->waittime_total_us}, {"wait_max_us", mm->waittime_max_us},
                             {"hold_total_us", mm->holdtime_total_us}, {"hold_max_us", mm->holdtime_max_us},
                             {"hold_avg_us", mm->holdtime_avg_us}};
      std::cout << fmt::format("lock_stat: module_mutex {} acquisitions, {} contended, hold total {:.6g} us (max "
                               "{:.6g}), wait total {:.6g} us (max {:.6g})\n",
                               mm->acquisitions, mm->contentions, mm->holdtime_total_us, mm->holdtime_max_us,
                               mm->waittime_total_us, mm->waittime_max_us);
    }
  }

  if (a.microbench)
    microbench(a, cal, report, warnings);

  for (const auto& w : warnings)
    std::cerr << "warning: " << w << "\n";
  report["warnings"] = warnings;
  if (!a.report.empty())
    sim::prepare_output_dir(a.report, kReportFolder);
  import::write_output_file(a.output, a.force, [&](std::ostream& out) {
    out << "# Written by kmodsim calibrate; every fitted value says so in its source.\n" << calibration_to_yaml(cal);
  });
  if (!a.report.empty())
    write_report(a.report, report_files, report.dump(2) + "\n");
  std::cout << "calibration -> " << a.output << "\n";
  return 0;
}

} // namespace kmodsim
