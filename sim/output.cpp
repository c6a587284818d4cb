#include "output.hpp"
#include "trace_out.hpp"

#include <fmt/format.h>
#include <fmt/os.h>
#include <kmodsim/atomic_file.hpp>
#include <openssl/evp.h>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/version.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace fs = std::filesystem;

#ifndef KMODSIM_VERSION
#define KMODSIM_VERSION "0.0.0"
#endif

namespace kmodsim::sim {

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i)
    out += fmt::format("{:02x}", md[i]);
  return out;
}

namespace {
double round9(double v) { return std::round(v * 1e9) / 1e9; }
} // namespace

nlohmann::ordered_json analytic_json(const Scenario& s, const Analytic& a, const Results* r) {
  // rel: (analytic - run) / run, the run being the simulation (or the replay)
  auto rel = [](double model, double run) { return run != 0 ? round9((model - run) / run) : 0.0; };
  nlohmann::ordered_json j;
  const double span = r ? r->makespan : 0;
  j["bounds"] = {{"lock_s", round9(a.lock_bound_s)},
                 {"cpu_s", round9(a.cpu_bound_s)},
                 {"chain_s", round9(a.chain_s)},
                 {"lower_s", round9(a.lower_s)}};
  j["mva"] = {{"population", a.population},
              {"cores", s.machine.cores},
              {"product_form", a.product_form},
              {"d_lock_s", round9(a.d_lock_s)},
              {"d_cpu_s", round9(a.d_cpu_s)},
              {"z_s", round9(a.z_s)},
              {"throughput", round9(a.throughput)},
              {"lock_utilization", round9(a.lock_utilization)},
              {"response_s", round9(a.response_s)},
              {"makespan_s", round9(a.makespan_s)},
              {"makespan_cpu_held_s", round9(a.makespan_cpu_held_s)}};
  j["finite_source"] = {{"utilization", round9(a.finite.utilization)},
                        {"throughput", round9(a.finite.throughput)},
                        {"response_s", round9(a.finite.response)},
                        {"saturation_n", round9(a.finite.saturation_n)}};
  j["amdahl_cs"] = {{"p_ctn", round9(a.p_ctn)}, {"makespan_s", round9(a.amdahl_makespan_s)}};
  if (r && span > 0) {
    const double x = static_cast<double>(r->lock_acquisitions) / span, u = r->lock_hold_total / span;
    j["bounds"]["lower_rel"] = rel(a.lower_s, span);
    j["mva"]["throughput_rel"] = rel(a.throughput, x);
    j["mva"]["lock_utilization_rel"] = rel(a.lock_utilization, u);
    j["mva"]["makespan_rel"] = rel(a.makespan_s, span);
    j["mva"]["makespan_cpu_held_rel"] = rel(a.makespan_cpu_held_s, span);
    j["finite_source"]["utilization_rel"] = rel(a.finite.utilization, u);
    j["finite_source"]["throughput_rel"] = rel(a.finite.throughput, x);
    j["amdahl_cs"]["p_ctn_run"] = r->lock_acquisitions
                                      ? round9(static_cast<double>(r->lock_contentions) /
                                               static_cast<double>(r->lock_acquisitions))
                                      : 0.0;
    j["amdahl_cs"]["makespan_rel"] = rel(a.amdahl_makespan_s, span);
  }
  return j;
}

nlohmann::ordered_json make_summary(const Scenario& s, const Results& r, const std::string& config_sha256) {
  nlohmann::ordered_json j;
  const double span = r.makespan;
  j["scenario"] = s.name;
  j["kernel"] = s.kernel.name;
  j["machine"] = s.machine.name;
  j["workload"] = s.workload.name;
  j["cores"] = s.machine.cores;
  j["scheduler"] = to_string(s.machine.scheduler.model);
  j["seed"] = s.seed;
  j["makespan_s"] = round9(span);
  j["modules_loaded"] = r.modules_loaded;
  j["modprobe_runs"] = r.modprobe_runs;
  j["uevents"] = s.workload.uevents.size();
  j["load_attempts"] = r.load_attempts;
  j["eexist"] = r.eexist;
  j["already_loaded_skips"] = r.already_loaded_skips;
  j["failures"] = r.failures;
  j["races"] = {{"duplicate_check_passed", r.races.duplicate_check_passed},
                {"unknown_symbol", r.races.unknown_symbol},
                {"duplicate_exports", r.races.duplicate_exports},
                {"double_load", r.races.double_load},
                {"sysfs_exists", r.races.sysfs_exists}};
  j["lock"] = {{"acquisitions", r.lock_acquisitions},
               {"contentions", r.lock_contentions},
               {"wait_total_s", round9(r.lock_wait_total)},
               {"wait_max_s", round9(r.lock_wait_max)},
               {"hold_total_s", round9(r.lock_hold_total)},
               {"hold_max_s", round9(r.lock_hold_max)},
               {"hold_work_s", round9(r.locked_work_s)},
               {"holder_preempted_s", round9(r.holder_preempted_s)},
               {"utilization", span > 0 ? round9(r.lock_hold_total / span) : 0.0}};
  if (!r.other_locks.empty()) { // kernel.locks: listed only when the kernel declares them
    nlohmann::ordered_json& ol = j["locks"];
    for (const auto& l : r.other_locks)
      ol[l.name] = {{"kind", l.spinlock ? "spinlock" : "mutex"},
                    {"acquisitions", l.acquisitions},
                    {"contentions", l.contentions},
                    {"wait_total_s", round9(l.wait_total)},
                    {"wait_max_s", round9(l.wait_max)},
                    {"hold_total_s", round9(l.hold_total)},
                    {"hold_max_s", round9(l.hold_max)},
                    {"utilization", span > 0 ? round9(l.hold_total / span) : 0.0}};
    j["lock"]["holder_waits_other_locks_s"] = round9(r.locked_lock_wait_s);
  }
  j["cpu"] = {{"busy_s", round9(r.cpu_busy_s)},
              {"utilization", span > 0 ? round9(r.cpu_busy_s / (span * s.machine.cores)) : 0.0}};
  j["bounds"] = {{"lower_s", round9(r.lower_bound_s)}, {"lock_work_s", round9(r.locked_work_s)}};
  if (!r.rec.vmalloc.empty() || r.enomem > 0) // the kernel's steps take module area
    j["vmalloc"] = {{"area_mb", s.machine.module_area_mb},
                    {"peak_mb", round9(r.vmalloc_peak_kb / 1024.0)},
                    {"enomem_failures", r.enomem}};
  if (s.kernel.vmap_lazy_max_mb > 0)
    j["vmalloc"]["lazy_purges"] = r.vmap_purges;
  j["analytic"] = analytic_json(s, analyze(s, plan_boot(s)), &r);
  j["config_sha256"] = config_sha256;
  j["kmodsim_version"] = KMODSIM_VERSION;
  j["simgrid_version"] = fmt::format("{}.{}.{}", SIMGRID_VERSION_MAJOR, SIMGRID_VERSION_MINOR, SIMGRID_VERSION_PATCH);
  // only when not the default: a default run's summary.json stays byte-identical to those from
  // before the engines (issue 12); absent means actors
  if (!r.engine.empty() && r.engine != "actors")
    j["engine"] = r.engine;
  return j;
}

std::string human_summary(const nlohmann::ordered_json& j) {
  const auto& l = j["lock"];
  return fmt::format("scenario {} | kernel {} | {} cores, {}\n"
                     "  makespan          {:.6f} s (lower bound {:.6f} s)\n"
                     "  modprobe runs     {}   modules loaded {}   EEXIST {}   failures {}\n"
                     "  module_mutex      {} acquisitions, {} contended, hold {:.6f} s, wait {:.6f} s (max {:.6f} s)\n"
                     "  lock utilization  {:.3f}   cpu utilization {:.3f}\n",
                     j["scenario"].get<std::string>(), j["kernel"].get<std::string>(), j["cores"].get<int>(),
                     j["scheduler"].get<std::string>(), j["makespan_s"].get<double>(),
                     j["bounds"]["lower_s"].get<double>(), j["modprobe_runs"].get<long>(),
                     j["modules_loaded"].get<long>(), j["eexist"].get<long>(), j["failures"].get<long>(),
                     l["acquisitions"].get<long>(), l["contentions"].get<long>(), l["hold_total_s"].get<double>(),
                     l["wait_total_s"].get<double>(), l["wait_max_s"].get<double>(), l["utilization"].get<double>(),
                     j["cpu"]["utilization"].get<double>());
}

namespace {

/// A temporary file kmodsim itself leaves behind when a write into a folder of `kind` is killed.
bool own_temp_file(const std::string& name, const OutputFolder& kind) {
  if (name == AtomicFile::temp_path(kind.marker))
    return true;
  for (const auto& o : kind.files)
    if (name == AtomicFile::temp_path(o))
      return true;
  return false;
}

/// Writes one output file completely or not at all (AtomicFile); `body` appends to a buffer.
template <class F> void write_file(const fs::path& path, F&& body) {
  AtomicFile f(path.string());
  fmt::memory_buffer buf;
  auto flush = [&] {
    f.write(std::string_view(buf.data(), buf.size()));
    buf.clear();
  };
  body(buf, flush);
  flush();
  f.commit();
}

} // namespace

const OutputFolder kRunFolder = {
    ".kmodsim-run",
    {"summary.json", "config.yaml", "modules.csv", "timeline.csv", "trace.json", "dmesg.txt", "lock_stat.txt",
     "vmalloc.csv"},
    "kmodsim run folder",
    "",
    "a kmodsim run folder: kmodsim may rewrite its outputs here; summary.json is written last\n",
    "summary.json"};

void check_output_dir(const std::string& dir_s, const OutputFolder& kind) {
  const fs::path dir(dir_s);
  const std::string by = *kind.option ? std::string(" (") + kind.option + ")" : std::string();
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st))
    return;
  if (!fs::is_directory(st))
    throw OutputError(dir.string() + ": exists and is not a directory" + by);
  if (fs::is_regular_file(fs::symlink_status(dir / kind.marker, ec)))
    return;
  // empty, or only temporary files of a write killed before the marker
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (!own_temp_file(it->path().filename().string(), kind))
      throw OutputError(dir.string() + ": not empty and not a " + kind.what + " (no " + kind.marker +
                        " marker); refusing to write into it" + by);
  if (ec)
    throw OutputError(dir.string() + ": cannot list: " + ec.message() + by);
}

void prepare_output_dir(const std::string& dir_s, const OutputFolder& kind) {
  check_output_dir(dir_s, kind);
  const fs::path dir(dir_s);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec)
      throw OutputError(dir.string() + ": cannot create directory: " + ec.message() +
                        (*kind.option ? std::string(" (") + kind.option + ")" : std::string()));
  }
  if (!fs::is_regular_file(fs::symlink_status(dir / kind.marker, ec))) {
    AtomicFile m((dir / kind.marker).string());
    m.write(kind.marker_text);
    m.commit();
  }
  // the completion file marks a complete run: an earlier run's goes before this one starts, so
  // one that fails (the time guard, a deadlock) leaves no folder that looks complete
  remove_output(dir / kind.completion);
  fsync_dir(dir.string());
}

void write_outputs(const std::string& dir_s, const Scenario& s, const std::string& config_yaml, const Results& r,
                   const nlohmann::ordered_json& summary) {
  const fs::path dir(dir_s);
  prepare_output_dir(dir_s);
  const auto& rec = r.rec;
  const auto& mods = s.workload.modules;
  // summary.json is the completion mark: prepare_output_dir removed it, it is written last, so a
  // run killed on the way leaves a folder that is visibly incomplete (and reusable: its marker).
  write_file(dir / "config.yaml", [&](auto& out, auto&&) { fmt::format_to(std::back_inserter(out), "{}", config_yaml); });
  write_file(dir / "modules.csv", [&](auto& out, auto&& flush) {
    auto o = std::back_inserter(out);
    fmt::format_to(o, "{}\n", kModulesCsvHeader);
    for (const auto& l : rec.loads) {
      fmt::format_to(o, "{},{},", mods[l.module].name, rec.tasks[l.task].name);
      if (rec.tasks[l.task].uevent >= 0)
        fmt::format_to(o, "{}", rec.tasks[l.task].uevent);
      fmt::format_to(o, ",{},", to_string(l.outcome));
      // unknown times (a real boot imported from dmesg knows only its init functions) are empty
      if (l.requested >= 0)
        fmt::format_to(o, "{:.9f}", l.requested);
      fmt::format_to(o, ",");
      if (l.load_start >= 0)
        fmt::format_to(o, "{:.9f}", l.load_start);
      fmt::format_to(o, ",");
      if (l.load_end >= 0)
        fmt::format_to(o, "{:.9f}", l.load_end);
      fmt::format_to(o, ",");
      if (l.init_end >= 0)
        fmt::format_to(o, "{:.9f}", l.init_end);
      if (l.lock_known)
        fmt::format_to(o, ",{:.9f},{:.9f},{},{}\n", l.lock_wait, l.lock_hold, l.acquisitions, l.contentions);
      else
        fmt::format_to(o, ",,,,\n");
      if (out.size() > (1u << 20))
        flush();
    }
  });
  if (s.outputs.timeline) {
    write_file(dir / "timeline.csv", [&](auto& out, auto&& flush) {
      auto o = std::back_inserter(out);
      fmt::format_to(o, "{}\n", kTimelineCsvHeader);
      std::vector<size_t> order(rec.intervals.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return rec.intervals[a].task < rec.intervals[b].task; });
      static const std::string empty;
      for (size_t i : order) {
        const Interval& iv = rec.intervals[i];
        const auto& ti = rec.tasks[iv.task];
        fmt::format_to(o, "{},", ti.name);
        if (ti.uevent >= 0)
          fmt::format_to(o, "{}", ti.uevent);
        fmt::format_to(o, ",{},{},{},{:.9f},{:.9f},{}\n", iv.module ? mods[iv.module - 1].name : empty,
                       rec.step_names[iv.step], to_string(iv.state), iv.start, iv.end, iv.cpu);
        if (out.size() > (1u << 20))
          flush();
      }
    });
  } else {
    remove_output(dir / "timeline.csv"); // a stale one from an earlier run would mislead
  }
  if (!rec.vmalloc.empty()) { // the module area over time
    write_file(dir / "vmalloc.csv", [&](auto& out, auto&&) {
      auto o = std::back_inserter(out);
      fmt::format_to(o, "time_s,used_kb\n");
      for (const auto& [t, kb] : rec.vmalloc)
        fmt::format_to(o, "{:.9f},{:.3f}\n", t, kb);
    });
  } else {
    remove_output(dir / "vmalloc.csv");
  }
  if (s.outputs.trace) {
    std::vector<std::string> names;
    for (const auto& m : mods)
      names.push_back(m.name);
    TraceMachine machine;
    if (s.machine.scheduler.model == SchedulerModel::processor_sharing)
      machine.fluid_cores = s.machine.cores;
    for (const auto& l : s.kernel.locks)
      machine.locks.push_back(l.name);
    write_file(dir / "trace.json", [&](auto& out, auto&&) {
      const std::string t = chrome_trace_json(
          rec, names, s.name + " | " + s.kernel.name + " | " + std::to_string(s.machine.cores) + " cores", machine);
      out.append(t.data(), t.data() + t.size());
    });
    write_file(dir / "dmesg.txt", [&](auto& out, auto&&) {
      const std::string t = initcall_dmesg(rec, names);
      out.append(t.data(), t.data() + t.size());
    });
    if (r.lock_known)
      write_file(dir / "lock_stat.txt", [&](auto& out, auto&&) {
        const std::string t = lock_stat_text(r);
        out.append(t.data(), t.data() + t.size());
      });
    else // nothing to say, rather than a made-up idle lock
      remove_output(dir / "lock_stat.txt");
  } else { // stale ones from an earlier run would mislead
    for (const char* f : {"trace.json", "dmesg.txt", "lock_stat.txt"})
      remove_output(dir / f);
  }
  write_file(dir / "summary.json", [&](auto& out, auto&&) {
    fmt::format_to(std::back_inserter(out), "{}\n",
                   summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  });
}

void remove_output(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
  if (ec)
    throw OutputError(p.string() + ": cannot remove: " + ec.message());
}

} // namespace kmodsim::sim
