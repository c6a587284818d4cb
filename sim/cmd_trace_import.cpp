// kmodsim trace-import: a real boot's initcall_debug dmesg (and /proc/lock_stat) in the shapes of
// a run folder, so that a simulated and a real boot can be laid side by side
// (analysis/compare_boot.py) and opened in Perfetto.
#include "cmd_trace_import.hpp"

#include "output.hpp"
#include "read_input.hpp"
#include "simulation.hpp"

#include <kmodsim/calib.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

namespace fs = std::filesystem;

namespace kmodsim {

namespace {

/// A lock_stat count (a non-negative number as read) as an integer; the parser bounds it only
/// by double's range, and a cast of a larger value is undefined.
std::int64_t as_count(double v) {
  return v < 9.2e18 ? static_cast<std::int64_t>(v) : std::numeric_limits<std::int64_t>::max();
}

/// Why `name` is not in the file: a reader/writer lock has only its -W and -R lines, which are
/// the classes to name; any other name is simply absent.
std::string missing_class(const std::vector<calib::LockStat>& locks, const std::string& name) {
  std::vector<std::string> sides;
  for (const char* side : {"-W", "-R"})
    if (std::any_of(locks.begin(), locks.end(), [&](const calib::LockStat& l) { return l.name == name + side; }))
      sides.push_back(name + side);
  if (sides.empty())
    return "no lock class '" + name + "' (--lock-class)";
  return fmt::format("{} has reader/writer classes {}: name one (--lock-class)", name, fmt::join(sides, ", "));
}

} // namespace

int cmd_trace_import(const TraceImportArgs& a) {
  if (a.dmesg.empty() && a.lock_stat.empty())
    throw calib::CalibError("nothing to import: give --dmesg and/or --lock-stat");
  if (a.lock_class && a.lock_stat.empty())
    throw calib::CalibError("--lock-class needs --lock-stat (it names the lock class to read from that file)");
  const std::string lock_class = a.lock_class.value_or("module_mutex");
  Scenario s;
  s.name = "real-boot";
  s.kernel.name = "real";
  s.machine.name = "real";
  s.outputs.timeline = true;
  s.outputs.trace = true;
  sim::Results r;
  r.rec = Recorder(true);
  const std::uint32_t step = r.rec.step_id("module_init");
  nlohmann::ordered_json j;
  j["source"] = a.dmesg.empty() ? "lock_stat" : "dmesg";
  j["dmesg"] = a.dmesg;
  j["lock_stat"] = a.lock_stat;
  if (!a.dmesg.empty()) {
    const auto calls = calib::parse_dmesg(read_measurement(a.dmesg), a.dmesg);
    std::size_t builtin = 0, untimed = 0, failed = 0;
    std::map<std::string, std::uint32_t> index;
    for (const auto& c : calls) {
      if (c.module.empty()) { // a built-in initcall: not a module load
        builtin++;
        continue;
      }
      if (c.timestamp < 0) { // no printk time: it cannot go on a time axis
        untimed++;
        continue;
      }
      auto [it, added] = index.emplace(c.module, static_cast<std::uint32_t>(s.workload.modules.size()));
      if (added) {
        Module m;
        m.name = c.module;
        s.workload.modules.push_back(m);
      }
      const double end = c.timestamp, start = std::max(0.0, end - c.usecs * 1e-6);
      const std::uint32_t task = r.rec.add_task("init-" + c.module, -1, start);
      r.rec.set_state(task, State::kernel, start, -1, it->second + 1, step);
      r.rec.end_task(task, end);
      LoadRecord l{it->second, task};
      l.outcome = c.ret == 0 ? Outcome::loaded : Outcome::failed_init;
      l.init_ret = c.ret; // dmesg.txt says it again, so that importing that file keeps the failure
      l.requested = l.load_start = -1;
      l.load_end = start;
      l.init_end = end;
      l.lock_known = false; // neither dmesg nor lock_stat's per-class totals tell them per init
      r.rec.loads.push_back(l);
      r.makespan = std::max(r.makespan, end);
      if (c.ret != 0)
        failed++;
      else
        r.modules_loaded++;
    }
    if (r.rec.loads.empty())
      throw calib::CalibError(a.dmesg + ": no timed module initcalls (needs initcall_debug with printk.time=1 and "
                                        "modules: lines ending in \" [module]\")");
    j["inits"] = r.rec.loads.size();
    j["failed_inits"] = failed;
    j["builtin_initcalls_skipped"] = builtin;
    j["untimed_initcalls_skipped"] = untimed;
    j["makespan_s"] = r.makespan;
    j["modules_loaded"] = r.modules_loaded;
  }
  r.lock_known = !a.lock_stat.empty();
  r.lock_class = lock_class;
  if (!a.lock_stat.empty()) {
    const auto locks = calib::parse_lock_stat(read_measurement(a.lock_stat), a.lock_stat);
    auto it = std::find_if(locks.begin(), locks.end(), [&](const calib::LockStat& l) { return l.name == lock_class; });
    if (it == locks.end())
      throw calib::CalibError(a.lock_stat + ": " + missing_class(locks, lock_class));
    r.lock_acquisitions = as_count(it->acquisitions);
    r.lock_contentions = as_count(it->contentions);
    r.lock_con_bounces = as_count(it->con_bounces); // lock_stat.txt carries them through
    r.lock_acq_bounces = as_count(it->acq_bounces);
    r.lock_contended_wait_min = it->waittime_min_us * 1e-6;
    r.lock_wait_max = it->waittime_max_us * 1e-6;
    r.lock_wait_total = it->waittime_total_us * 1e-6;
    r.lock_hold_min = it->holdtime_min_us * 1e-6;
    r.lock_hold_max = it->holdtime_max_us * 1e-6;
    r.lock_hold_total = it->holdtime_total_us * 1e-6;
    auto r9 = [](double v) { return std::round(v * 1e9) / 1e9; };
    j["lock"] = {{"class", lock_class},
                 {"acquisitions", r.lock_acquisitions},
                 {"contentions", r.lock_contentions},
                 {"wait_total_s", r9(r.lock_wait_total)},
                 {"wait_max_s", r9(r.lock_wait_max)},
                 {"hold_total_s", r9(r.lock_hold_total)},
                 {"hold_max_s", r9(r.lock_hold_max)}};
  }
  j["kmodsim_version"] = KMODSIM_VERSION;
  sim::prepare_output_dir(a.out);
  sim::write_outputs(a.out, s,
                     fmt::format("# imported by kmodsim trace-import from{}{}{}{}\n",
                                 a.dmesg.empty() ? "" : " --dmesg ", a.dmesg,
                                 a.lock_stat.empty() ? "" : " --lock-stat ", a.lock_stat),
                     r, j);
  std::cout << fmt::format("imported {} module init(s){} -> {}/\n", r.rec.loads.size(),
                           a.lock_stat.empty() ? "" : " and the " + lock_class + " lock figures", a.out);
  return 0;
}

} // namespace kmodsim
