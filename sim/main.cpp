// kmodsim: the thin CLI. Parses arguments, loads the scenario, runs, writes outputs.
#include "cmd_calibrate.hpp"
#include "cmd_replay.hpp"
#include "cmd_trace_import.hpp"
#include "cmd_sweep.hpp"
#include "engine_options.hpp"
#include "output.hpp"
#include "replay.hpp"
#include "simulation.hpp"

#include <kmodsim/calib.hpp>
#include <kmodsim/config.hpp>
#include <kmodsim/depgraph.hpp>
#include <kmodsim/estimate.hpp>
#include <kmodsim/import/import.hpp>
#include <kmodsim/import/safe_io.hpp>
#include <kmodsim/import/this_machine.hpp>
#include <kmodsim/limits.hpp>
#include <kmodsim/plan.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <chrono>
#include <thread>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
using namespace kmodsim;

namespace {

/// A number in [lo, hi]: CLI::Range lets NaN through (every comparison with it is false).
CLI::Validator finite_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& v) {
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0' || !std::isfinite(x) || x < lo || x > hi)
          return fmt::format("'{}' is not a number in [{:g}, {:g}]", v, lo, hi);
        return std::string();
      },
      fmt::format("FLOAT in [{:g}, {:g}]", lo, hi));
}

/// A path option given empty: "" would mean the default folder (or the current one), silently.
const CLI::Validator kNonEmpty([](std::string& v) { return v.empty() ? std::string("an empty path") : std::string(); },
                               "PATH");
/// Text that goes into a written config (--name, --provenance, --date): a workload that holds a
/// newline or a control character would not load back.
const CLI::Validator kCleanText(
    [](std::string& v) {
      return is_clean_text(v) ? std::string() : std::string("not valid UTF-8 text (or holds control characters)");
    },
    "TEXT");
/// 1 to `max_digits` decimal digits and nothing else (no sign, no blank).
bool whole_number(const std::string& v, std::size_t max_digits) {
  return !v.empty() && v.size() <= max_digits &&
         std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); });
}

/// A seed: a whole number (the config's seed key reads it), never "" (which meant "the file's").
const CLI::Validator kSeed(
    [](std::string& v) { return whole_number(v, 19) ? std::string() : "'" + v + "' is not a seed (a whole number >= 0)"; },
    "N");

std::vector<Override> parse_overrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets)
    out.push_back(parse_override(s));
  return out;
}

int cmd_run(const std::string& scenario, const std::vector<std::string>& sets, const std::string& seed,
            std::string out_dir, bool json, bool quiet, const std::vector<std::string>& logs,
            const std::vector<std::string>& cfgs, double max_sim_time, std::int64_t max_steps, bool timings,
            sim::EngineKind engine) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  sim::SimOptions opt; // usage errors first: nothing loaded, no folder made
  for (const auto& l : logs) { // SimGrid would abort on a bad one
    if (std::string e = sim::check_log_setting(l); !e.empty())
      throw CLI::ValidationError("--log", e);
    opt.engine_args.push_back("--log=" + l);
  }
  for (const auto& c : cfgs) {
    if (std::string e = sim::check_cfg_setting(c); !e.empty())
      throw CLI::ValidationError("--cfg", e);
    opt.engine_args.push_back("--cfg=" + c);
  }
  auto overrides = parse_overrides(sets);
  if (!seed.empty())
    overrides.push_back({"seed", seed});
  Scenario s = load_scenario(scenario, overrides);
  opt.engine = engine;
  const std::string config = to_yaml(s);
  const std::string sha = sim::sha256_hex(config);
  if (out_dir.empty())
    out_dir = (fs::path("results") / s.name).string();
  sim::prepare_output_dir(out_dir); // before the run: a refused folder costs nothing
  opt.max_sim_time_s = max_sim_time;
  opt.max_steps = max_steps;
  const auto t1 = Clock::now();
  sim::Results r = sim::simulate(s, opt);
  const auto t2 = Clock::now();
  auto summary = sim::make_summary(s, r, sha);
  const auto t3 = Clock::now();
  sim::write_outputs(out_dir, s, config, r, summary);
  if (timings) { // on stderr: the outputs stay byte-identical from run to run
    const auto sec = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    std::cerr << fmt::format("timings: load {:.3f} s (files, checks, resolved config), simulate {:.3f} s, summary "
                             "{:.3f} s (analytic figures included), outputs {:.3f} s, total {:.3f} s\n",
                             sec(t1 - t0), sec(t2 - t1), sec(t3 - t2), sec(Clock::now() - t3), sec(Clock::now() - t0));
  }
  if (json)
    std::cout << summary.dump(2) << "\n";
  else if (!quiet)
    std::cout << sim::human_summary(summary) << "  outputs in " << out_dir << "/\n";
  return 0;
}

int cmd_analytic(const std::string& scenario, const std::vector<std::string>& sets, bool json) {
  const Scenario s = load_scenario(scenario, parse_overrides(sets));
  const WorkPlan p = plan_boot(s);
  const Analytic a = analyze(s, p);
  if (json) {
    auto j = sim::analytic_json(s, a, nullptr);
    j["plan"] = {{"modprobes", p.modprobes},  {"loads", p.loads},         {"acquisitions", p.acquisitions},
                 {"user_s", p.user_s},        {"kernel_s", p.kernel_s},   {"locked_s", p.locked_s},
                 {"off_cpu_s", p.off_cpu_s},  {"disk_s", p.disk_s},       {"sequential_s", p.sequential_s}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "{}: {} modprobes, {} loads, {} module_mutex acquisitions (the boot run one process at a time: {:.6f} s)\n"
      "work: CPU {:.6f} s (user {:.6f}, kernel {:.6f}, under module_mutex {:.6f}), off CPU {:.6f} s, disk {:.6f} s\n"
      "bounds on {} cores: lock {:.6f} s, CPU {:.6f} s, longest process {:.6f} s -> makespan >= {:.6f} s\n"
      "closed network (exact MVA), N = {} modprobes at once, per acquisition D_lock {:.3f} us, D_cpu {:.3f} us "
      "on {} cores, Z {:.3f} us{}:\n"
      "  throughput {:.1f} acquisitions/s, lock utilisation {:.4f}, response {:.3f} us -> makespan {:.6f} s\n"
      "  with the locked work also at the CPU station (an approximation for N > C): makespan {:.6f} s\n"
      "finite-source queue (N loaders, think D_cpu + Z): lock utilisation {:.4f}, saturation at N* = {:.1f}\n"
      "Amdahl with critical sections: P(contention) {:.4f} -> makespan {:.6f} s\n",
      s.name, p.modprobes, p.loads, p.acquisitions, p.sequential_s, p.cpu_s(), p.user_s, p.kernel_s, p.locked_s,
      p.off_cpu_s, p.disk_s, s.machine.cores, a.lock_bound_s, a.cpu_bound_s, a.chain_s, a.lower_s, a.population,
      a.d_lock_s * 1e6, a.d_cpu_s * 1e6, s.machine.cores, a.z_s * 1e6,
      a.product_form ? " (product form: exact)" : " (N > C: the lock holder shares the CPUs, not product form)",
      a.throughput, a.lock_utilization, a.response_s * 1e6, a.makespan_s, a.makespan_cpu_held_s, a.finite.utilization, a.finite.saturation_n,
      a.p_ctn, a.amdahl_makespan_s);
  return 0;
}

int cmd_graph(const std::string& file, bool dot, const std::string& scenario) {
  Workload w = load_workload_file(file);
  DepGraph g(w);
  if (dot) {
    std::cout << "digraph modules {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n";
    for (const auto& m : w.modules) {
      std::cout << fmt::format("  \"{}\";\n", m.name);
      for (const auto& d : m.deps)
        std::cout << fmt::format("  \"{}\" -> \"{}\";\n", m.name, d);
    }
    std::cout << "}\n";
    return 0;
  }
  // The critical path is the chain of largest summed estimated load cost. With a scenario:
  // its kernel's init_module on its machine, uncontended, vmlinux's exports only (seconds).
  // Without: a size and symbol-work proxy (a ranking, not a time).
  std::vector<double> cost;
  std::string unit = "undef_symbols + relocations/100 + size_kb; give --scenario for seconds";
  if (!scenario.empty()) {
    const Scenario s = load_scenario(scenario, {{"workload", file}});
    const LoadState state{s.machine.cores, s.workload.kernel_exports, 0};
    for (const auto& m : s.workload.modules)
      cost.push_back(estimated_load_s(s.kernel, m, state, s.machine.speed));
    unit = fmt::format("s of uncontended init_module under {} on {}", s.kernel.name, s.machine.name);
  } else {
    for (const auto& m : w.modules)
      cost.push_back(static_cast<double>(m.undef_symbols) + static_cast<double>(m.relocations) / 100.0 + m.size_kb);
  }
  auto st = g.stats(cost);
  std::cout << fmt::format("modules        {}\nuevents        {}\ndependencies   {}\nmax depth      {}\nmax width      {}\n",
                           w.modules.size(), w.uevents.size(), st.edges, st.max_depth, st.max_width);
  std::cout << "load order     ";
  for (size_t i : g.topo_order())
    std::cout << w.modules[i].name << " ";
  std::cout << "\ncritical path  ";
  for (size_t i = 0; i < st.critical_path.size(); ++i)
    std::cout << (i ? " -> " : "") << w.modules[st.critical_path[i]].name;
  std::cout << fmt::format("  ({:.6g} {})\n", st.critical_cost, unit);
  return 0;
}

struct ImportArgs {
  import::ImportOptions opt;
  std::string output, tsv, date, name, provenance;
  bool force = false;
  bool this_machine = false;
  std::string root, machine_out; // --this-machine only
};

/// `import --this-machine`: the running system under --root (docs/import.md "Simulate this machine").
int cmd_import_this_machine(const ImportArgs& a) {
  import::ThisMachineOptions o;
  o.root = a.root.empty() ? "/" : a.root;
  o.jobs = a.opt.jobs;
  import::ThisMachineReport t;
  const auto t0 = std::chrono::steady_clock::now();
  Workload w = import::import_this_machine(o, t);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.name.empty())
    w.name = a.name;
  if (!a.provenance.empty())
    w.provenance = a.provenance;
  if (!a.machine_out.empty())
    import::check_machine_facts(t); // an unknown core count fails before anything is written
  if (!a.output.empty())
    import::write_output_file(a.output, a.force,
                              [&](std::ostream& out) { import::write_this_machine_workload_yaml(w, t, out, a.date); });
  if (!a.tsv.empty())
    import::write_output_file(a.tsv, a.force, [&](std::ostream& out) { import::write_features_tsv(w, out); });
  if (!a.machine_out.empty())
    import::write_output_file(a.machine_out, a.force, [&](std::ostream& out) { import::write_machine_yaml(t, out, a.date); });
  const import::ImportReport& r = t.import;
  for (const auto& warn : r.warnings)
    std::cerr << "warning: " << warn << "\n";
  std::cout << fmt::format("imported {} of {} modules, {} uevents ({} unmatched, {} duplicate), kernel {}, "
                           "{} warnings, {:.2f} s -> {}\n",
                           r.modules_imported, r.modules_in_tree, r.uevents, r.uevents_unmatched, r.uevents_duplicate,
                           r.kernel_version, r.warnings.size(), secs, a.output.empty() ? a.tsv : a.output);
  std::cout << fmt::format("  root {}, kernel release {} (from {}), tree {}\n", t.root, t.release, t.release_source,
                           t.modules_dir);
  std::cout << fmt::format("  modaliases: {} files under {} ({} empty, {} invalid, {} unreadable, {} links skipped): "
                           "{} match one module, {} several (+{} uevents), {} none, {} built in, {} blacklisted, "
                           "{} outside the tree\n",
                           t.modalias_files, t.sysfs_devices, t.modalias_empty, t.modalias_invalid,
                           t.modalias_unreadable, t.modalias_symlinks, t.modaliases_one, t.modaliases_several,
                           t.extra_uevents, t.modaliases_unmatched, t.modaliases_builtin, t.modaliases_blacklisted,
                           t.modaliases_not_in_tree);
  std::cout << fmt::format("  boot list: {} modules in {} ({} not in the tree), {} requested for nothing else "
                           "loads them\n",
                           t.loaded_modules, t.proc_modules, t.loaded_not_in_tree, t.boot_requests);
  if (r.kernel_exports_source.empty())
    std::cout << fmt::format("  kernel_exports: NOT DETERMINABLE, written as 0 (no __ksymtab_ entry of vmlinux and "
                             "no Module.symvers or System.map with vmlinux exports in: {})\n",
                             fmt::join(t.kernel_exports_tried, ", "));
  else
    std::cout << fmt::format("  kernel_exports: {} ({} {})\n", w.kernel_exports, t.kernel_exports_how,
                             r.kernel_exports_source);
  const import::MachineFacts& f = t.facts;
  std::cout << fmt::format("  machine: {} cores ({}), RAM {} ({}){}\n",
                           f.cores > 0 ? std::to_string(f.cores) : "unknown",
                           f.cores_source.empty() ? "not found" : f.cores_source,
                           f.mem_total_kb > 0 ? fmt::format("{:.1f} MiB", static_cast<double>(f.mem_total_kb) / 1024.0)
                                              : "unknown",
                           f.ram_source.empty() ? "not found" : f.ram_source,
                           a.machine_out.empty() ? "" : " -> " + a.machine_out);
  return 0;
}

int cmd_import(const ImportArgs& a) {
  if (a.this_machine && !a.opt.modules_dir.empty())
    throw CLI::ValidationError("import", "--this-machine reads ROOT/lib/modules/<release>: leave out --modules-dir");
  if (!a.this_machine && a.opt.modules_dir.empty())
    throw CLI::ValidationError("import", "give --modules-dir DIR, or --this-machine");
  if (a.this_machine && (!a.opt.boot_list.empty() || !a.opt.uevents.empty()))
    throw CLI::ValidationError("import", "--this-machine reads the boot list and the uevents from the machine "
                                         "(ROOT/proc/modules, ROOT/sys/devices): leave out --boot-list and --uevents");
  if (!a.this_machine && (!a.root.empty() || !a.machine_out.empty()))
    throw CLI::ValidationError("import", "--root and --machine-out go with --this-machine");
  if (a.output.empty() && a.tsv.empty())
    throw CLI::ValidationError("import", "give -o WORKLOAD.yaml, --tsv FILE, or both");
  if (!a.output.empty() && a.output == a.tsv)
    throw CLI::ValidationError("import", "-o and --tsv name the same file");
  if (!a.machine_out.empty() && (a.machine_out == a.output || a.machine_out == a.tsv))
    throw CLI::ValidationError("import", "--machine-out names the same file as -o or --tsv");
  for (const std::string& f : {a.output, a.tsv, a.machine_out}) // fail before the work, not after it
    if (!f.empty())
      import::check_output_path(f, a.force); // import::OutputError (a kmodsim::OutputError): exit 1
  if (a.this_machine)
    return cmd_import_this_machine(a);
  import::ImportReport report;
  const auto t0 = std::chrono::steady_clock::now();
  Workload w = import::import_tree(a.opt, report);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.name.empty())
    w.name = a.name;
  if (!a.provenance.empty())
    w.provenance = a.provenance;
  if (!a.output.empty())
    import::write_output_file(a.output, a.force,
                              [&](std::ostream& out) { import::write_workload_yaml(w, report, a.opt, out, a.date); });
  if (!a.tsv.empty())
    import::write_output_file(a.tsv, a.force, [&](std::ostream& out) { import::write_features_tsv(w, out); });
  for (const auto& warn : report.warnings)
    std::cerr << "warning: " << warn << "\n";
  std::cout << fmt::format("imported {} of {} modules, {} uevents ({} unmatched, {} duplicate), kernel {}, "
                           "{} warnings, {:.2f} s -> {}\n",
                           report.modules_imported, report.modules_in_tree, report.uevents, report.uevents_unmatched,
                           report.uevents_duplicate, report.kernel_version, report.warnings.size(), secs,
                           a.output.empty() ? a.tsv : a.output);
  return 0;
}

} // namespace

constexpr const char* kEngineHelp =
    "actors: every process a SimGrid actor (default); fibers: every process a fiber run from SimGrid's timers, "
    "several times faster on big workloads, the same models (docs/engines.md)";


static int kmodsim_main(int argc, char** argv) {
  CLI::App app{"kmodsim: a discrete-event simulator of Linux boot-time kernel module loading (SimGrid)"};
  app.set_version_flag("--version", std::string("kmodsim ") + KMODSIM_VERSION);
  app.require_subcommand(1);

  std::string scenario, seed, out_dir, workload;
  std::vector<std::string> sets, logs, cfgs;
  bool json = false, quiet = false, dot = false, trace = false, timings = false;

  auto* run = app.add_subcommand("run", "simulate a scenario and write summary.json, modules.csv, timeline.csv");
  double max_sim_time = limits::kDefaultMaxSimTimeS;
  std::int64_t max_steps = 1000000000;
  run->add_option("scenario", scenario, "scenario YAML file")->required();
  run->add_option("--set", sets, "override a config field: key.path=value (repeatable)");
  run->add_option("--seed", seed, "random seed (same as --set seed=N)")->check(kSeed);
  run->add_option("--out", out_dir, "output folder (default results/<scenario name>/)")->check(kNonEmpty);
  run->add_flag("--json", json, "print summary.json on stdout instead of the human summary");
  run->add_flag("--trace", trace, "also write trace.json (Perfetto), dmesg.txt (initcall_debug), lock_stat.txt");
  run->add_flag("-q,--quiet", quiet, "print nothing on success");
  run->add_flag("--timings", timings, "print the time each phase took (load, simulate, summary, outputs) on stderr");
  run->add_option("--log", logs, "SimGrid log setting, e.g. kmodsim.thres:debug (repeatable)");
  run->add_option("--cfg", cfgs, "SimGrid configuration item, e.g. contexts/factory:thread (repeatable)");
  run->add_option("--max-sim-time", max_sim_time,
                  "end a run whose simulated clock passes this many seconds (exit 1; default 3600)")
      ->check(finite_in(1e-6, 1e9));
  run->add_option("--max-steps", max_steps, "end a run after this many step repetitions (exit 1; default 1e9)")
      ->check(CLI::Range(static_cast<std::int64_t>(1), static_cast<std::int64_t>(1) << 50));
  std::string engine = "actors";
  run->add_option("--engine", engine, kEngineHelp)->check(CLI::IsMember({"actors", "fibers"}));

  ReplayArgs ra;
  std::vector<std::string> ra_sets;
  auto* rep = app.add_subcommand("replay", "run the scenario on real threads and cores (validation); same outputs");
  rep->add_option("scenario", ra.scenario, "scenario YAML file")->required();
  rep->add_option("--set", ra_sets, "override a config field: key.path=value (repeatable)");
  rep->add_option("--seed", ra.seed, "random seed (same as --set seed=N)")->check(kSeed);
  rep->add_option("--cores", ra.cores, "real cores to pin to (same as --set machine.cores=C)")->check(CLI::Range(1, 4096));
  rep->add_option("--out", ra.out, "output folder (default results/<scenario name>-replay/)")->check(kNonEmpty);
  rep->add_flag("--compare", ra.compare, "also simulate the scenario and print both side by side");
  rep->add_flag("--json", ra.json, "print summary.json on stdout");
  rep->add_flag("-q,--quiet", ra.quiet, "print nothing on success");
  rep->add_option("--max-sim-time", ra.max_time_s, "end a replay that runs longer than this many seconds (exit 1)")
      ->check(finite_in(1e-3, 1e6));

  TraceImportArgs ti;
  auto* timp = app.add_subcommand("trace-import", "a real boot's initcall_debug dmesg / lock_stat as a run folder");
  timp->add_option("--dmesg", ti.dmesg, "dmesg of a boot with initcall_debug printk.time=1");
  timp->add_option("--lock-stat", ti.lock_stat, "a copy of /proc/lock_stat (CONFIG_LOCK_STAT)");
  timp->add_option("--lock-class", ti.lock_class, "the lock class to read from --lock-stat (default module_mutex)");
  timp->add_option("-o,--out", ti.out, "output folder")->required()->check(kNonEmpty);

  auto* ana = app.add_subcommand("analytic", "the queueing cross-checks of a scenario, without simulating it");
  ana->add_option("scenario", scenario, "scenario YAML file")->required();
  ana->add_option("--set", sets, "override a config field: key.path=value (repeatable)");
  ana->add_flag("--json", json, "print them as JSON (summary.json's analytic.*)");

  auto* validate = app.add_subcommand("validate", "load and check a scenario; print nothing but errors");
  validate->add_option("scenario", scenario, "scenario YAML file")->required();
  validate->add_option("--set", sets, "override a config field: key.path=value (repeatable)");

  auto* config = app.add_subcommand("config", "print the fully resolved scenario as YAML");
  config->add_option("scenario", scenario, "scenario YAML file")->required();
  config->add_option("--set", sets, "override a config field: key.path=value (repeatable)");

  auto* graph = app.add_subcommand("graph", "dependency graph of a workload: order, depth, width, critical path");
  graph->add_option("workload", workload, "workload YAML file")->required();
  graph->add_flag("--dot", dot, "print Graphviz instead");
  std::string graph_scenario;
  graph->add_option("--scenario", graph_scenario,
                    "weigh the critical path by this scenario's kernel and machine (seconds)");

  ImportArgs ia;
  auto* imp = app.add_subcommand("import", "import a kernel module tree (modules.dep + .ko), or this machine, "
                                          "as a workload YAML");
  imp->add_option("--modules-dir", ia.opt.modules_dir, "a /lib/modules/<version> tree on which depmod has run");
  imp->add_flag("--this-machine", ia.this_machine,
                "import the running system instead: ROOT/lib/modules/<release>, ROOT/sys/devices/**/modalias "
                "(resolved with libkmod), ROOT/proc/modules, ROOT/proc/kallsyms");
  imp->add_option("--root", ia.root, "--this-machine: the machine's root directory (default /)");
  imp->add_option("--machine-out", ia.machine_out, "--this-machine: also write a machine YAML (cores, ram_mb)");
  imp->add_option("--boot-list", ia.opt.boot_list, "lsmod output or /proc/modules text: the modules loaded at boot");
  imp->add_option("--uevents", ia.opt.uevents, "one modalias per line (one per device event)");
  imp->add_option("-o,--output", ia.output, "workload YAML to write")->check(kNonEmpty);
  imp->add_option("--tsv", ia.tsv, "also write the raw per-module features (bytes) as TSV");
  imp->add_option("--jobs", ia.opt.jobs, "threads reading modules (default: all cores, at most 16)")
      ->check(CLI::Range(1, 1024));
  imp->add_option("--name", ia.name, "workload name (default: import-<kernel version>)")->check(kCleanText);
  imp->add_option("--provenance", ia.provenance, "provenance text of the workload")->check(kCleanText);
  imp->add_option("--date", ia.date, "date for the provenance header (default: none, for reproducible output)")
      ->check(kCleanText);
  imp->add_flag("--force", ia.force, "overwrite output files that exist");

  CalibrateArgs ca;
  std::vector<std::string> ca_sets;
  auto* cal = app.add_subcommand("calibrate", "fit a calibration file from measurements (docs/calibration.md)");
  cal->add_option("--scenario", ca.scenario, "scenario whose kernel, workload and calibration the fit uses");
  cal->add_option("--set", ca_sets, "override a field of the scenario (repeatable)");
  cal->add_option("--base", ca.base, "start from this calibration file (default: the scenario's)");
  cal->add_option("--dmesg", ca.dmesg, "initcall_debug dmesg: module init durations (repeatable)");
  cal->add_option("--timings", ca.timings, "per-load timings CSV: NNLS fit of the kernel's coefficients");
  cal->add_option("--lock-stat", ca.lock_stat, "/proc/lock_stat: module_mutex figures, as a check");
  cal->add_option("-o,--output", ca.output, "calibration YAML to write")->required()->check(kNonEmpty);
  cal->add_option("--report", ca.report, "folder for fit.csv, residuals.csv, initcalls.csv, report.json");
  cal->add_option("--name", ca.name, "name of the calibration");
  cal->add_flag("--force", ca.force, "overwrite the output file");
  cal->add_flag("--microbench", ca.microbench, "measure find_symbol's strcmp scan and memcpy on this machine");
  cal->add_option("--symvers", ca.symvers, "Module.symvers whose vmlinux exports the scan benchmark uses");
  cal->add_option("--target-slowdown", ca.slowdown,
                  "V[,LO,HI]: the target machine is V (LO-HI) times slower than this one (microbench)");

  SweepArgs sa;
  sa.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* sweep = app.add_subcommand("sweep", "run a sweep spec: points x replications, forked children, runs.csv + points.csv");
  sweep->add_option("spec", sa.spec, "sweep spec YAML")->required();
  sweep->add_option("-j,--jobs", sa.jobs, "simulations at a time (default: all cores)")->check(CLI::Range(1, 1024));
  sweep->add_option("--out", sa.out, "output folder (default results/<spec name>/)")->check(kNonEmpty);
  sweep->add_flag("--resume", sa.resume, "finish or extend the runs already in the folder");
  sweep->add_flag("--force", sa.force, "replace the results of another spec in the folder");
  sweep->add_flag("--keep-runs", sa.keep_runs, "also keep every run's folder under runs/");
  std::string shard;
  auto* shard_opt =
      sweep->add_option("--shard", shard, "I/N: run only the I-th of N deterministic slices (merge with --collect)");
  sweep->add_option("--collect", sa.collect, "merge these shard folders (same spec) into --out; runs nothing");
  sweep->add_option("--executor", sa.executor,
                    "local (forked children), parallel (GNU parallel over shards) or slurm (an sbatch array)")
      ->check(CLI::IsMember({"local", "parallel", "slurm"}));
  auto* shards_opt = sweep->add_option("--shards", sa.shards, "parallel: number of shards (default 4 x jobs)")
                         ->check(CLI::Range(1, 100000));
  auto* pargs_opt = sweep->add_option("--parallel-args", sa.parallel_args,
                    "parallel: more GNU parallel arguments (\"--sshlogin h1,h2\"); slurm: more sbatch arguments "
                    "(\"--partition p --time 1:00:00\")");
  sweep->add_flag("--dry-run", sa.dry_run, "load every point and print the points; run and write nothing");
  sweep->add_flag("--quiet-progress", sa.quiet_progress, "no progress lines (as GNU parallel's shards run)");
  sweep->add_option("--engine", sa.engine, kEngineHelp)->check(CLI::IsMember({"actors", "fibers"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) { // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) { // one line, exit 2 like every other bad input
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands([&](const CLI::App* c) {
                                                  return c->get_name() == argv[1];
                                                }).empty()) { // CLI11 says only "A subcommand is required"
      std::string names;
      for (const CLI::App* c : app.get_subcommands([](const CLI::App*) { return true; }))
        names += (names.empty() ? "" : ", ") + c->get_name();
      std::cerr << "error: unknown command '" << argv[1] << "' (" << names << ")\n";
      return 2;
    }
    std::cerr << "error: " << e.what() << " (kmodsim --help)\n";
    return 2;
  }
  try {
    if (*run)
    {
      if (trace)
        sets.push_back("outputs.trace=true");
      return cmd_run(scenario, sets, seed, out_dir, json, quiet, logs, cfgs, max_sim_time, max_steps, timings,
                     sim::engine_from_name(engine));
    }
    if (*rep) {
      ra.sets = parse_overrides(ra_sets);
      return cmd_replay(ra);
    }
    if (*ana)
      return cmd_analytic(scenario, sets, json);
    if (*timp)
      return cmd_trace_import(ti);
    if (*validate) {
      load_scenario(scenario, parse_overrides(sets));
      return 0;
    }
    if (*config) {
      std::cout << to_yaml(load_scenario(scenario, parse_overrides(sets)));
      return 0;
    }
    if (*graph)
      return cmd_graph(workload, dot, graph_scenario);
    if (*imp)
      return cmd_import(ia);
    if (*sweep) {
      for (const auto* o : {shards_opt, pargs_opt}) // the local executor has no shards nor GNU parallel
        if (o->count() > 0 && sa.executor == "local")
          throw CLI::ValidationError(o->get_name(), "applies to --executor parallel or slurm only");
      if (shard_opt->count() > 0) { // I/N, two whole numbers and nothing else
        const auto slash = shard.find('/');
        const std::string i = shard.substr(0, slash), n = slash == std::string::npos ? "" : shard.substr(slash + 1);
        if (!whole_number(i, 9) || !whole_number(n, 9) || (sa.shard_i = std::stoi(i)) < 1 || (sa.shard_n = std::stoi(n)) < sa.shard_i)
          throw CLI::ValidationError("--shard", "'" + shard + "': expected I/N, two whole numbers with 1 <= I <= N");
      }
      return cmd_sweep(sa);
    }
    if (*cal) {
      ca.sets = parse_overrides(ca_sets);
      return cmd_calibrate(ca);
    }
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const import::ImportError& e) { // bad input, like a config error
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const calib::CalibError& e) { // bad measurement input
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const CLI::ValidationError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sim::ReplayRefused& e) { // this machine cannot replay it faithfully
    std::cerr << "error: replay refused: " << e.what() << "\n";
    return 2;
  } catch (const sim::SimulationError& e) {
    std::cerr << "simulation error: " << e.what() << "\n";
    return 1;
  } catch (const OutputError& e) { // the run could not finish writing (disk full, ...)
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

/// Standard output carries results (config, graph --dot, --json, --dry-run, analytic): a write
/// that failed (a full disk) is an error, not a success with a truncated output.
int main(int argc, char** argv) {
  const int code = kmodsim_main(argc, argv);
  errno = 0;
  std::cout.flush();
  if ((!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) && code == 0) {
    std::cerr << "error: standard output: write failed" << (errno ? std::string(": ") + std::strerror(errno) : "")
              << "\n";
    return 1;
  }
  return code;
}
