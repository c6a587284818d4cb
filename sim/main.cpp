// kmodsim: the thin CLI. Parses arguments, loads the scenario, runs, writes outputs.
#include "output.hpp"
#include "simulation.hpp"

#include <kmodsim/config.hpp>
#include <kmodsim/depgraph.hpp>
#ifdef KMODSIM_HAVE_IMPORT
#include <kmodsim/import/import.hpp>
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
using namespace kmodsim;

namespace {

std::vector<Override> parse_overrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets)
    out.push_back(parse_override(s));
  return out;
}

int cmd_run(const std::string& scenario, const std::vector<std::string>& sets, const std::string& seed,
            std::string out_dir, bool json, bool quiet, const std::vector<std::string>& logs,
            const std::vector<std::string>& cfgs) {
  auto overrides = parse_overrides(sets);
  if (!seed.empty())
    overrides.push_back({"seed", seed});
  Scenario s = load_scenario(scenario, overrides);
  const std::string config = to_yaml(s);
  const std::string sha = sim::sha256_hex(config);
  if (out_dir.empty())
    out_dir = (fs::path("results") / s.name).string();
  sim::prepare_output_dir(out_dir); // before the run: a refused folder costs nothing
  std::vector<std::string> engine_args;
  for (const auto& l : logs)
    engine_args.push_back("--log=" + l);
  for (const auto& c : cfgs)
    engine_args.push_back("--cfg=" + c);
  sim::Results r = sim::simulate(s, engine_args);
  auto summary = sim::make_summary(s, r, sha);
  sim::write_outputs(out_dir, s, config, r, summary);
  if (json)
    std::cout << summary.dump(2) << "\n";
  else if (!quiet)
    std::cout << sim::human_summary(summary) << "  outputs in " << out_dir << "/\n";
  return 0;
}

int cmd_graph(const std::string& file, bool dot) {
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
  // Estimated load cost for the critical path: the module's size and symbol work as a proxy
  // (undefined symbols + relocations/100 + size_kb); a ranking, not a time.
  std::vector<double> cost;
  for (const auto& m : w.modules)
    cost.push_back(static_cast<double>(m.undef_symbols) + static_cast<double>(m.relocations) / 100.0 + m.size_kb);
  auto st = g.stats(cost);
  std::cout << fmt::format("modules        {}\nuevents        {}\ndependencies   {}\nmax depth      {}\nmax width      {}\n",
                           w.modules.size(), w.uevents.size(), st.edges, st.max_depth, st.max_width);
  std::cout << "load order     ";
  for (size_t i : g.topo_order())
    std::cout << w.modules[i].name << " ";
  std::cout << "\ncritical path  ";
  for (size_t i = 0; i < st.critical_path.size(); ++i)
    std::cout << (i ? " -> " : "") << w.modules[st.critical_path[i]].name;
  std::cout << fmt::format("  (weight {:.1f}: undef_symbols + relocations/100 + size_kb)\n", st.critical_cost);
  return 0;
}

#ifdef KMODSIM_HAVE_IMPORT
int cmd_import(const import::ImportOptions& opt, const std::string& output, const std::string& date, bool force) {
  if (fs::exists(output) && !force)
    throw std::runtime_error(output + ": exists; refusing to overwrite it (use --force)");
  import::ImportReport report;
  Workload w = import::import_tree(opt, report);
  const std::string tmp = output + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out)
      throw std::runtime_error(output + ": cannot write");
    import::write_workload_yaml(w, report, opt, out, date);
  }
  fs::rename(tmp, output);
  for (const auto& warn : report.warnings)
    std::cerr << "warning: " << warn << "\n";
  std::cout << fmt::format("imported {} of {} modules, {} uevents ({} unmatched, {} duplicate), kernel {} -> {}\n",
                           report.modules_imported, report.modules_in_tree, report.uevents, report.uevents_unmatched,
                           report.uevents_duplicate, report.kernel_version, output);
  return 0;
}
#endif

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"kmodsim: a discrete-event simulator of Linux boot-time kernel module loading (SimGrid)"};
  app.set_version_flag("--version", std::string("kmodsim ") + KMODSIM_VERSION);
  app.require_subcommand(1);

  std::string scenario, seed, out_dir, workload;
  std::vector<std::string> sets, logs, cfgs;
  bool json = false, quiet = false, dot = false;

  auto* run = app.add_subcommand("run", "simulate a scenario and write summary.json, modules.csv, timeline.csv");
  run->add_option("scenario", scenario, "scenario YAML file")->required()->check(CLI::ExistingFile);
  run->add_option("--set", sets, "override a config field: key.path=value (repeatable)");
  run->add_option("--seed", seed, "random seed (same as --set seed=N)");
  run->add_option("--out", out_dir, "output folder (default results/<scenario name>/)");
  run->add_flag("--json", json, "print summary.json on stdout instead of the human summary");
  run->add_flag("-q,--quiet", quiet, "print nothing on success");
  run->add_option("--log", logs, "SimGrid log setting, e.g. kmodsim.thres:debug (repeatable)");
  run->add_option("--cfg", cfgs, "SimGrid configuration item, e.g. contexts/factory:thread (repeatable)");

  auto* validate = app.add_subcommand("validate", "load and check a scenario; print nothing but errors");
  validate->add_option("scenario", scenario, "scenario YAML file")->required()->check(CLI::ExistingFile);
  validate->add_option("--set", sets, "override a config field: key.path=value (repeatable)");

  auto* config = app.add_subcommand("config", "print the fully resolved scenario as YAML");
  config->add_option("scenario", scenario, "scenario YAML file")->required()->check(CLI::ExistingFile);
  config->add_option("--set", sets, "override a config field: key.path=value (repeatable)");

  auto* graph = app.add_subcommand("graph", "dependency graph of a workload: order, depth, width, critical path");
  graph->add_option("workload", workload, "workload YAML file")->required()->check(CLI::ExistingFile);
  graph->add_flag("--dot", dot, "print Graphviz instead");

#ifdef KMODSIM_HAVE_IMPORT
  import::ImportOptions iopt;
  std::string output, date;
  bool force = false;
  auto* imp = app.add_subcommand("import", "import a kernel module tree (modules.dep + .ko) as a workload YAML");
  imp->add_option("--modules-dir", iopt.modules_dir, "a /lib/modules/<version> tree with modules.dep")->required();
  imp->add_option("--boot-list", iopt.boot_list, "lsmod output or /proc/modules text: the modules loaded at boot");
  imp->add_option("--uevents", iopt.uevents, "one modalias per line (one per device event)");
  imp->add_flag("--force", force, "overwrite the output file if it exists");
  imp->add_option("-o,--output", output, "workload YAML to write")->required();
  imp->add_option("--date", date, "date for the provenance header (default: none, for reproducible output)");
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*run)
      return cmd_run(scenario, sets, seed, out_dir, json, quiet, logs, cfgs);
    if (*validate) {
      load_scenario(scenario, parse_overrides(sets));
      return 0;
    }
    if (*config) {
      std::cout << to_yaml(load_scenario(scenario, parse_overrides(sets)));
      return 0;
    }
    if (*graph)
      return cmd_graph(workload, dot);
#ifdef KMODSIM_HAVE_IMPORT
    if (*imp)
      return cmd_import(iopt, output, date, force);
#endif
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sim::SimulationError& e) {
    std::cerr << "simulation error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
