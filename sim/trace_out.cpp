// trace.json, dmesg.txt, lock_stat.txt (trace_out.hpp).
#include "trace_out.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <tuple>

namespace kmodsim::sim {

namespace {

std::string q(const std::string& s) { return nlohmann::json(s).dump(); }

/// Microseconds rounded to the nanosecond: a child span's rounded ends stay inside its parent's.
double us(double seconds) { return std::round(seconds * 1e9) / 1e3; }

bool on_cpu(State s) {
  return s == State::user || s == State::kernel || s == State::kernel_locked || s == State::lock_spin;
}

constexpr int kMachinePid = 0, kCpuPid = 1, kTaskPid0 = 2;

/// A module name as the kernel prints it (KBUILD_MODNAME, and the C identifier of its init):
/// '_' for every character outside [A-Za-z0-9_]. The kernel turns '-' into '_'; a '-' left in
/// made lines that bootgraph.pl and kmodsim's own dmesg parser misread.
std::string kbuild_name(const std::string& m) {
  std::string out = m;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      c = '_';
  return out;
}

} // namespace

std::string chrome_trace_json(const Recorder& rec, const std::vector<std::string>& modules, const std::string& title,
                              const TraceMachine& machine) {
  std::string out;
  out.reserve(256 + rec.intervals.size() * 200);
  bool first = true;
  auto ev = [&](const std::string& e) {
    out += first ? "\n" : ",\n";
    first = false;
    out += e;
  };
  auto span = [&](int pid, int tid, const std::string& name, const char* cat, double start, double end,
                  const std::string& args) {
    const double ts = us(start), te = us(end);
    ev(fmt::format(R"({{"ph":"X","pid":{},"tid":{},"ts":{:.3f},"dur":{:.3f},"name":{},"cat":"{}","args":{{{}}}}})",
                   pid, tid, ts, te - ts, q(name), cat, args));
  };
  auto meta = [&](int pid, int tid, const char* what, const std::string& name) {
    ev(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"name":{}}}}})", pid, tid, what, q(name)));
  };
  auto sort_index = [&](int pid, int idx) {
    ev(fmt::format(R"({{"ph":"M","pid":{},"tid":0,"name":"process_sort_index","args":{{"sort_index":{}}}}})", pid, idx));
  };
  out += fmt::format(R"({{"displayTimeUnit":"ms","otherData":{{"generator":"kmodsim {}","title":{}}},"traceEvents":[)",
                     KMODSIM_VERSION, q(title));

  // intervals per task, in time order (the recorder closes them in time order)
  std::vector<std::vector<size_t>> by_task(rec.tasks.size());
  for (size_t i = 0; i < rec.intervals.size(); ++i)
    by_task[rec.intervals[i].task].push_back(i);
  std::map<std::pair<std::uint32_t, std::uint32_t>, Outcome> outcome; // (task, module) -> outcome
  for (const auto& l : rec.loads)
    outcome[{l.task, l.module}] = l.outcome;

  meta(kMachinePid, 0, "process_name", "machine (counters)");
  sort_index(kMachinePid, 0);
  bool cpus = false;
  for (const auto& iv : rec.intervals)
    cpus = cpus || (iv.cpu >= 0 && on_cpu(iv.state));
  if (cpus) {
    meta(kCpuPid, 0, "process_name", "CPUs");
    sort_index(kCpuPid, 1);
  }
  for (size_t t = 0; t < rec.tasks.size(); ++t) {
    const TaskInfo& ti = rec.tasks[t];
    const int pid = kTaskPid0 + static_cast<int>(t);
    std::string label = ti.name;
    std::vector<std::string> loaded;
    for (size_t i : by_task[t]) {
      const auto m = rec.intervals[i].module;
      if (m && (loaded.empty() || loaded.back() != modules[m - 1]))
        loaded.push_back(modules[m - 1]);
    }
    if (ti.uevent >= 0)
      label += fmt::format(" (uevent {}{}{})", ti.uevent, loaded.empty() ? "" : ": ", fmt::join(loaded, ", "));
    meta(pid, pid, "process_name", label);
    meta(pid, pid, "thread_name", ti.name);
    sort_index(pid, 2 + static_cast<int>(t));
  }

  // per task: load spans (consecutive intervals of one module) and the state spans inside them
  for (size_t t = 0; t < rec.tasks.size(); ++t) {
    const int pid = kTaskPid0 + static_cast<int>(t);
    const auto& ivs = by_task[t];
    for (size_t a = 0; a < ivs.size();) {
      const auto m = rec.intervals[ivs[a]].module;
      size_t b = a + 1;
      while (m && b < ivs.size() && rec.intervals[ivs[b]].module == m)
        ++b;
      if (m) {
        auto o = outcome.find({static_cast<std::uint32_t>(t), m - 1});
        const std::string oc = o == outcome.end() ? "skipped (already loaded)" : to_string(o->second);
        span(pid, pid, "load " + modules[m - 1], "load", rec.intervals[ivs[a]].start, rec.intervals[ivs[b - 1]].end,
             fmt::format(R"("module":{},"outcome":{})", q(modules[m - 1]), q(oc)));
      }
      for (size_t k = a; k < b; ++k) {
        const Interval& iv = rec.intervals[ivs[k]];
        if (iv.end <= iv.start)
          continue;
        const std::string& step = rec.step_names[iv.step];
        span(pid, pid, step.empty() ? std::string(to_string(iv.state)) : std::string(to_string(iv.state)) + ": " + step,
             to_string(iv.state), iv.start, iv.end,
             fmt::format(R"("step":{},"module":{},"cpu":{})", q(step), q(iv.module ? modules[iv.module - 1] : ""),
                         iv.cpu));
      }
      a = b;
    }
  }

  // per core (run-queue CPU models): who ran there
  if (cpus) {
    int cores = 0;
    for (const auto& iv : rec.intervals)
      cores = std::max(cores, iv.cpu + 1);
    for (int c = 0; c < cores; ++c)
      meta(kCpuPid, c + 1, "thread_name", fmt::format("core {}", c));
    for (const auto& iv : rec.intervals)
      if (iv.cpu >= 0 && on_cpu(iv.state) && iv.end > iv.start)
        span(kCpuPid, iv.cpu + 1, rec.tasks[iv.task].name, "cpu", iv.start, iv.end,
             fmt::format(R"("state":"{}","step":{})", to_string(iv.state), q(rec.step_names[iv.step])));
  }

  // counters: busy cores, runnable tasks, then the waiters (sleeping or spinning) of each lock:
  // module_mutex, then the kernel's named locks (kernel.locks), each from the first change on
  std::vector<std::string> names = {"busy cores", "runnable tasks", "module_mutex waiters"};
  std::vector<const char*> keys = {"cores", "tasks", "waiters"};
  for (const auto& l : machine.locks) {
    names.push_back(l + " waiters");
    keys.push_back("waiters");
  }
  auto waiters = [&](const Interval& iv) { // its counter; -1 for a lock not named (none in a run)
    return iv.lock <= machine.locks.size() ? 2 + static_cast<int>(iv.lock) : -1;
  };
  std::vector<std::tuple<double, int, int>> deltas; // (time, counter, +1/-1)
  for (const auto& iv : rec.intervals) {
    if (iv.end <= iv.start)
      continue;
    const int c = on_cpu(iv.state)                                                      ? 0
                  : (iv.state == State::runnable || iv.state == State::runnable_locked) ? 1
                  : iv.state == State::lock_wait                                        ? waiters(iv)
                                                                                        : -1;
    if (c >= 0) {
      deltas.emplace_back(us(iv.start), c, +1);
      deltas.emplace_back(us(iv.end), c, -1);
    }
    if (iv.state == State::lock_spin && waiters(iv) >= 0) { // a spinner is on a CPU and waiting
      deltas.emplace_back(us(iv.start), waiters(iv), +1);
      deltas.emplace_back(us(iv.end), waiters(iv), -1);
    }
  }
  std::sort(deltas.begin(), deltas.end());
  const int ncounters = static_cast<int>(names.size());
  std::vector<int> level(names.size(), 0), shown(names.size(), -1);
  // Under a fluid model every task with work is on a CPU at a share of a core: beyond the
  // cores, the tasks on a CPU are as many cores busy and the rest in effect runnable.
  const int fluid = machine.fluid_cores;
  auto value = [&](int c) {
    if (fluid <= 0 || c >= 2)
      return level[c];
    return c == 0 ? std::min(level[0], fluid) : level[1] + std::max(0, level[0] - fluid);
  };
  for (size_t i = 0; i < deltas.size();) {
    const double t = std::get<0>(deltas[i]);
    for (; i < deltas.size() && std::get<0>(deltas[i]) == t; ++i)
      level[std::get<1>(deltas[i])] += std::get<2>(deltas[i]);
    for (int c = 0; c < ncounters; ++c)
      if (const int v = value(c); v != shown[c]) {
        ev(fmt::format(R"({{"ph":"C","pid":{},"tid":0,"ts":{:.3f},"name":{},"args":{{"{}":{}}}}})", kMachinePid, t,
                       q(names[c]), keys[c], v));
        shown[c] = v;
      }
  }

  // the module area in use (kernels whose steps take vmalloc space)
  for (const auto& [t, kb] : rec.vmalloc)
    ev(fmt::format(R"x({{"ph":"C","pid":{},"tid":0,"ts":{:.3f},"name":"module area (MB)","args":{{"MB":{:.3f}}}}})x",
                   kMachinePid, us(t), kb / 1024.0));

  // flow arrows: a release of module_mutex to the waiter it woke (or handed the lock to)
  for (size_t k = 0; k < rec.handovers.size(); ++k) {
    const Handover& h = rec.handovers[k];
    const int from = kTaskPid0 + static_cast<int>(h.from), to = kTaskPid0 + static_cast<int>(h.to);
    ev(fmt::format(R"({{"ph":"s","id":{},"pid":{},"tid":{},"ts":{:.3f},"name":"module_mutex","cat":"lock"}})", k + 1,
                   from, from, us(h.released)));
    ev(fmt::format(R"({{"ph":"f","bp":"e","id":{},"pid":{},"tid":{},"ts":{:.3f},"name":"module_mutex","cat":"lock"}})",
                   k + 1, to, to, us(h.acquired)));
  }
  out += "\n]}\n";
  return out;
}

std::string initcall_dmesg(const Recorder& rec, const std::vector<std::string>& modules) {
  // (time in us, order, line): a `calling` line when the init function starts, an `initcall`
  // line when it returns; a pid per modprobe (task id + 100: udevd and init come first)
  std::vector<std::tuple<long long, size_t, std::string>> lines;
  for (size_t i = 0; i < rec.loads.size(); ++i) {
    const LoadRecord& l = rec.loads[i];
    if (l.load_end < 0 || l.init_end < 0)
      continue;
    const std::string m = kbuild_name(modules[l.module]);
    const long long t0 = std::llround(l.load_end * 1e6), t1 = std::llround(l.init_end * 1e6);
    lines.emplace_back(t0, 2 * i, fmt::format("calling  {}_init+0x0/0x1000 [{}] @ {}", m, m, l.task + 100));
    lines.emplace_back(t1, 2 * i + 1,
                       fmt::format("initcall {}_init+0x0/0x1000 [{}] returned {} after {} usecs", m, m, l.init_ret,
                                   std::llround((l.init_end - l.load_end) * 1e6))); // measured, as the kernel does,
                                                                                    // apart from the printk times
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& [t, order, text] : lines)
    out += fmt::format("[{:5d}.{:06d}] {}\n", t / 1000000, t % 1000000, text);
  return out;
}

// The layout is kernel/locking/lockdep_proc.c's (seq_header, seq_stats, seq_line), character for
// character, so that tools written against /proc/lock_stat read the file.
std::string lock_stat_text(const Results& r) {
  constexpr std::size_t kWidth = 40 + 1 + 12 * (14 + 1); // the rules: name, ':', 12 columns
  constexpr std::size_t kPoints = 4;                     // LOCKSTAT_POINTS
  const std::string rule(kWidth, '-');
  std::string out = "lock_stat version 0.4\n" + rule + "\n";
  out += fmt::format("{:>40} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}\n",
                     "class name", "con-bounces", "contentions", "waittime-min", "waittime-max", "waittime-total",
                     "waittime-avg", "acq-bounces", "acquisitions", "holdtime-min", "holdtime-max", "holdtime-total",
                     "holdtime-avg");
  out += rule + "\n\n";
  const double c = static_cast<double>(r.lock_contentions), a = static_cast<double>(r.lock_acquisitions);
  // "%40s:" then "%14lu " and the columns
  out += fmt::format("{:>40}:{:14} {:14} {:14.2f} {:14.2f} {:14.2f} {:14.2f} {:14} {:14} {:14.2f} {:14.2f} {:14.2f} "
                     "{:14.2f}\n",
                     r.lock_class, r.lock_con_bounces, r.lock_contentions, r.lock_contended_wait_min * 1e6,
                     r.lock_wait_max * 1e6, r.lock_wait_total * 1e6, c > 0 ? r.lock_wait_total * 1e6 / c : 0.0,
                     r.lock_acq_bounces, r.lock_acquisitions, r.lock_hold_min * 1e6, r.lock_hold_max * 1e6,
                     r.lock_hold_total * 1e6, a > 0 ? r.lock_hold_total * 1e6 / a : 0.0);
  if (r.lock_contentions == 0 || r.lock_contention_points.empty())
    return out;
  // the contention points (steps), the first LOCKSTAT_POINTS seen: dashes under the name, then
  // "%40s %14lu %29s %pS" each; a blank line, a rule of dots and a blank line close the class
  const std::size_t namelen = std::min<std::size_t>(r.lock_class.size(), 40);
  out += std::string(40 - namelen, ' ') + std::string(namelen, '-') + "\n";
  for (std::size_t i = 0; i < r.lock_contention_points.size() && i < kPoints; ++i) {
    const auto& [step, n] = r.lock_contention_points[i];
    out += fmt::format("{:>40} {:14} {:>29} {}+0x0/0x0\n", r.lock_class, n, "[<0000000000000000>]",
                       step.empty() ? "unknown" : step);
  }
  out += "\n" + std::string(kWidth, '.') + "\n\n";
  return out;
}

} // namespace kmodsim::sim
