// kmodsim replay: the scenario on real threads and cores, optionally beside its simulation.
#include "cmd_replay.hpp"

#include "output.hpp"
#include "replay.hpp"
#include "simulation.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace kmodsim {

namespace {

/// The figures --compare sets side by side: (label, JSON pointer).
const std::vector<std::pair<const char*, const char*>> kCompared = {
    {"makespan_s", "/makespan_s"},
    {"modules_loaded", "/modules_loaded"},
    {"failures", "/failures"},
    {"lock.acquisitions", "/lock/acquisitions"},
    {"lock.contentions", "/lock/contentions"},
    {"lock.wait_total_s", "/lock/wait_total_s"},
    {"lock.hold_total_s", "/lock/hold_total_s"},
    {"lock.utilization", "/lock/utilization"},
    {"cpu.busy_s", "/cpu/busy_s"},
};

} // namespace

int cmd_replay(const ReplayArgs& a) {
  auto sets = a.sets;
  if (!a.seed.empty())
    sets.push_back({"seed", a.seed});
  if (a.cores > 0)
    sets.push_back({"machine.cores", std::to_string(a.cores)});
  const Scenario s = load_scenario(a.scenario, sets);
  const std::string cfg = to_yaml(s);
  const std::string sha = sim::sha256_hex(cfg);
  const std::string out = a.out.empty() ? (fs::path("results") / (s.name + "-replay")).string() : a.out;
  sim::prepare_output_dir(out);

  nlohmann::ordered_json simulated;
  if (a.compare) { // first: the replay pins this process to its cores
    sim::SimOptions so;
    so.max_sim_time_s = a.max_time_s;
    simulated = sim::make_summary(s, sim::simulate(s, so), sha);
  }
  sim::ReplayOptions ro;
  ro.max_time_s = a.max_time_s;
  sim::ReplayInfo info;
  const sim::Results r = sim::replay(s, ro, info);
  auto summary = sim::make_summary(s, r, sha);
  summary.erase("simgrid_version");
  summary["replay"] = info.to_json();
  if (a.compare) {
    nlohmann::ordered_json cmp = nlohmann::ordered_json::object();
    for (const auto& [label, ptr] : kCompared) {
      const nlohmann::json::json_pointer p(ptr);
      if (!simulated.contains(p) || !summary.contains(p))
        continue;
      const double sv = simulated[p].get<double>(), rv = summary[p].get<double>();
      nlohmann::ordered_json rel = nullptr; // null: only the replayed figure is 0
      if (const auto e = relative_error(sv, rv))
        rel = *e;
      cmp[label] = {{"simulated", sv}, {"replayed", rv}, {"relative_error", rel}};
    }
    summary["replay"]["compare"] = cmp;
  }
  sim::write_outputs(out, s, cfg, r, summary);
  if (a.json) {
    std::cout << summary.dump(2) << "\n";
  } else if (!a.quiet) {
    std::cout << fmt::format("replayed {} on {} real core(s) (cpus {}): makespan {:.6f} s, {} modules loaded, "
                             "{} lock acquisitions ({} contended)\n",
                             s.name, s.machine.cores, fmt::join(info.cpus, ","), r.makespan, r.modules_loaded,
                             r.lock_acquisitions, r.lock_contentions);
    std::cout << fmt::format("  overheads: busy loops {:+.2f}% (sampled), sleeps {:.1f} us late on average, "
                             "runqueue wait {:.3f} s, program lock wait {:.3f} s\n",
                             info.busy_error_mean * 100, info.sleep_overshoot_mean_us, info.runqueue_wait_s,
                             info.program_lock_wait_s);
    if (a.compare) {
      std::cout << fmt::format("  {:<20} {:>14} {:>14} {:>10}\n", "figure", "simulated", "replayed", "sim/real-1");
      for (const auto& [label, v] : summary["replay"]["compare"].items()) {
        const auto& rel = v["relative_error"];
        std::cout << fmt::format("  {:<20} {:>14.6g} {:>14.6g} {:>10}\n", label, v["simulated"].get<double>(),
                                 v["replayed"].get<double>(),
                                 rel.is_null() ? std::string("n/a") : fmt::format("{:+.1f}%", rel.get<double>() * 100));
      }
    }
    std::cout << "  outputs in " << out << "/\n";
  }
  return 0;
}

} // namespace kmodsim
