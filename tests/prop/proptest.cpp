// Property tests over random scenarios (kmodsim/generate.hpp): each case is simulated in a
// forked child (SimGrid's engine cannot be re-created in one process), under a time limit, and
// must satisfy invariants that hold for any input:
//   - the run finishes (no SimulationError, crash, sanitizer report or hang);
//   - accounting: every load attempt has exactly one outcome; nothing loads twice except a
//     counted double_load race; no more modules load than modprobe asked for;
//   - the 2.6.28 big lock, and 3.8+ (a duplicate waits for the first), have no races: every
//     requested module (and its dependencies) loads;
//   - capacity: CPU busy time <= makespan x cores; lock hold <= makespan; hold >= locked work;
//   - bounds: makespan >= lower bound, lock work, CPU work / cores;
//   - conservation: CPU busy = the work the program asked for + spinning; lock hold = locked
//     work + holder preemption + holder off CPU + handoff wake-ups;
//   - run-queue CPU models: never more tasks on a CPU than cores, and the time the timeline
//     shows on CPU equals the CPU busy time (conservation);
//   - determinism: the same case simulated twice gives the same digest (every 5th case);
//   - time_slice: a long preemptible run simulated in one wait (RunQueueCpu::long_run) gives
//     the same run as one wait per slice (SimOptions::slice_by_slice): the same outcomes and
//     counts, the makespan, lock and CPU figures to 1e-9 (relative, or absolute below 1 s) (the
//     clock's rounding differs: one sum instead of one per slice) (time_slice cases of even index);
//   - --engine fibers (cases of odd index): the same invariants, and
//     determinism every 5th; how many runs come out identical to the actors' run, and how many
//     agree with it to 12 digits, is printed (not required: the engines' clocks round
//     differently, and ties then fall otherwise).
// proptest --cases N [--seed S] [--save DIR] BASE.yaml...   (BASE: scenarios whose kernel and
// calibration the generator keeps; cases cycle over them). A failing case is written to DIR as
// a scenario YAML that `kmodsim run` replays.
#include <kmodsim/generate.hpp>
#include <simulation.hpp>

#include <fmt/format.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace kmodsim;

namespace {

struct Failure {
  std::string what;
};

void check(bool ok, const std::string& what) {
  if (!ok)
    throw Failure{what};
}

/// Modules modprobe will ask for: the targets of the uevents and their dependencies.
std::set<std::string> requested(const Workload& w) {
  std::map<std::string, const Module*> by_name;
  for (const auto& m : w.modules)
    by_name[m.name] = &m;
  std::set<std::string> out;
  for (const auto& u : w.uevents)
    if (!u.module.empty()) {
      out.insert(u.module);
      for (const auto& d : by_name[u.module]->deps)
        out.insert(d);
    }
  return out;
}

bool on_cpu(State s) {
  return s == State::user || s == State::kernel || s == State::kernel_locked ||
         s == State::lock_spin;
}

/// Runs one case and checks it; returns a digest of the results (for determinism).
std::string run_case(const Scenario& s, bool slice_by_slice, sim::EngineKind engine) {
  sim::SimOptions opt;
  opt.engine_args = {"--log=root.thres:critical"};
  opt.slice_by_slice = slice_by_slice;
  opt.engine = engine;
  sim::Results r;
  try {
    r = sim::simulate(s, opt);
  } catch (const std::exception& e) {
    throw Failure{std::string("simulate: ") + e.what()};
  }
  const double eps = 1e-9 * std::max(1.0, r.makespan);
  check(std::isfinite(r.makespan) && r.makespan >= 0, "makespan not finite");
  std::int64_t outcomes = 0, double_loads = 0, running = 0;
  std::map<std::uint32_t, int> loaded;
  for (const auto& l : r.rec.loads) {
    outcomes++;
    if (l.outcome == Outcome::loaded)
      loaded[l.module]++;
    if (l.outcome == Outcome::double_load)
      double_loads++;
    if (l.outcome == Outcome::running)
      running++;
  }
  check(running == 0, "a load attempt never ended");
  check(outcomes == r.load_attempts, "load attempts miscounted");
  check(r.load_attempts == r.modules_loaded + r.eexist + double_loads + r.failures, "outcomes do not add up");
  for (const auto& [m, n] : loaded)
    check(n == 1, "module " + s.workload.modules[m].name + " loaded " + std::to_string(n) + " times");
  const auto want = requested(s.workload);
  check(r.modules_loaded <= static_cast<std::int64_t>(want.size()), "more modules loaded than requested");
  // 3.8+ make a duplicate loader wait for the first (add_unformed_module): no races either
  if (s.kernel.name == "linux-2.6.28" || s.kernel.name == "linux-3.8" || s.kernel.name == "linux-4.10" ||
      s.kernel.name == "linux-6.4")
    check(r.failures == 0 && r.modules_loaded == static_cast<std::int64_t>(want.size()),
          fmt::format("big lock: {} of {} requested modules loaded, {} failures", r.modules_loaded, want.size(),
                      r.failures));
  check(r.cpu_busy_s <= r.makespan * s.machine.cores + eps, "CPU busy time exceeds makespan x cores");
  check(r.lock_hold_total <= r.makespan + eps, "lock held longer than the run");
  // SimGrid ends each activity within its timing precision (1e-9 s) of the exact instant: over
  // thousands of tiny holds (binary-search lookups) the sums may differ by that much per hold
  const double eps_hold = eps + 1e-9 * static_cast<double>(r.lock_acquisitions);
  check(r.lock_hold_total + eps_hold >= r.locked_work_s, "lock hold shorter than the work done under it");
  check(r.lock_wait_max <= r.makespan + eps, "a lock wait longer than the run");
  // bounds: the makespan respects each (simulate() also refuses a run below their maximum)
  check(r.makespan + eps + 1e-5 * r.lower_bound_s >= r.lower_bound_s, "makespan below the lower bound");
  check(r.makespan + eps >= r.locked_work_s * (1 - 1e-5), "makespan below the lock work");
  check(r.makespan * s.machine.cores + eps >= r.cpu_busy_s, "makespan below CPU work / cores");
  // conservation: the CPU was busy exactly with the work asked for plus spinning on the lock
  const double spin = r.cpu_spin_s;
  const double tol = 1e-6 * std::max(1.0, r.cpu_busy_s);
  check(std::fabs(r.cpu_busy_s - (r.program_cpu_work_s + spin)) <= tol,
        fmt::format("CPU busy {:.9f} s != work {:.9f} s + spinning {:.9f} s", r.cpu_busy_s, r.program_cpu_work_s, spin));
  // the lock was held exactly while its holder worked, waited for a CPU (preempted, or queued
  // after a sleep or a hand-over), was off CPU holding it (asleep, waiting for a dependency),
  // or (handoff) was being woken with the lock already its own, or waited for another kernel
  // lock (kernel.locks) nested inside it
  const double residual = r.lock_hold_total - r.locked_work_s - r.holder_preempted_s - r.locked_off_cpu_s -
                          r.handoff_wakeup_s - r.locked_lock_wait_s;
  check(std::fabs(residual) <= eps_hold + 1e-6 * r.lock_hold_total,
        fmt::format("lock hold {:.9f} s != locked work {:.9f} + holder preempted {:.9f} + off CPU {:.9f} + handoff "
                    "wake-ups {:.9f} + waits for other locks {:.9f} s", r.lock_hold_total, r.locked_work_s,
                    r.holder_preempted_s, r.locked_off_cpu_s, r.handoff_wakeup_s, r.locked_lock_wait_s));

  if (s.machine.scheduler.model != SchedulerModel::processor_sharing) {
    std::vector<std::pair<double, int>> ev; // (+1 at start, -1 at end); ends first at equal times
    double on = 0;
    for (const auto& iv : r.rec.intervals)
      if (on_cpu(iv.state) && iv.end > iv.start) {
        ev.emplace_back(iv.start, +1);
        ev.emplace_back(iv.end, -1);
        on += iv.end - iv.start;
      }
    std::sort(ev.begin(), ev.end());
    int busy = 0;
    for (const auto& e : ev) {
      busy += e.second;
      check(busy <= s.machine.cores,
            fmt::format("{} tasks on CPU at t={:.9f} s with {} cores", busy, e.first, s.machine.cores));
    }
    check(std::fabs(on - r.cpu_busy_s) <= 1e-6 * std::max(1.0, r.cpu_busy_s),
          fmt::format("timeline on-CPU time {:.9f} s != CPU busy {:.9f} s", on, r.cpu_busy_s));
  }
  // the full digest, then after '|' the figures long runs must give as slice by slice do
  return fmt::format("{:.12g} {} {} {} {} {} {:.12g} {:.12g} {}|{:.17g} {} {} {} {} {} {} {:.17g} {:.17g}", r.makespan,
                     r.modules_loaded, r.load_attempts, r.eexist, r.failures, r.lock_acquisitions, r.lock_hold_total,
                     r.lock_wait_total, r.rec.intervals.size(), r.makespan, r.modules_loaded, r.load_attempts,
                     r.eexist, r.failures, r.lock_acquisitions, r.lock_contentions, r.lock_hold_total,
                     r.cpu_busy_s);
}

/// The figures after '|' of two digests: integers equal, times within 1e-9 (relative, or
/// absolute below 1 s).
bool same_run(const std::string& a, const std::string& b) {
  std::istringstream x(a.substr(a.find('|') + 1)), y(b.substr(b.find('|') + 1));
  std::string u, v;
  while (x >> u) {
    if (!(y >> v))
      return false;
    if (u.find_first_of(".e") == std::string::npos && v.find_first_of(".e") == std::string::npos) {
      if (u != v)
        return false;
    } else {
      const double p = std::stod(u), q = std::stod(v);
      if (std::fabs(p - q) > 1e-9 * std::max(1.0, std::fabs(p)))
        return false;
    }
  }
  return !(y >> v);
}

/// Runs `run_case` in a child; returns "" on success with the digest in `digest`, else the failure.
std::string in_child(const Scenario& s, std::string& digest, bool slice_by_slice = false,
                     sim::EngineKind engine = sim::EngineKind::actors) {
  int fds[2];
  if (pipe(fds) != 0)
    return "pipe failed";
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0)
    return "fork failed";
  if (pid == 0) {
    close(fds[0]);
    alarm(60);
    std::string msg;
    int code = 0;
    try {
      msg = run_case(s, slice_by_slice, engine);
    } catch (const Failure& f) {
      msg = f.what;
      code = 1;
    }
    const ssize_t n = write(fds[1], msg.data(), msg.size());
    (void)n;
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0)
    msg.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return std::string("child killed by signal ") + strsignal(WTERMSIG(status)) +
           (WTERMSIG(status) == SIGALRM ? " (ran past 60 s)" : "");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return msg.empty() ? "child exited with status " + std::to_string(WEXITSTATUS(status)) : msg;
  digest = msg;
  return "";
}

} // namespace

int main(int argc, char** argv) {
  long cases = 200;
  std::uint64_t seed0 = 1;
  std::string save;
  std::vector<std::string> bases;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cases" && i + 1 < argc)
      cases = std::stol(argv[++i]);
    else if (a == "--seed" && i + 1 < argc)
      seed0 = std::stoull(argv[++i]);
    else if (a == "--save" && i + 1 < argc)
      save = argv[++i];
    else
      bases.push_back(a);
  }
  if (bases.empty()) {
    std::cerr << "usage: proptest [--cases N] [--seed S] [--save DIR] BASE.yaml...\n";
    return 2;
  }
  std::vector<Scenario> base;
  for (const auto& b : bases)
    base.push_back(load_scenario(b));
  long failed = 0, fiber_cases = 0, fiber_same = 0, fiber_close = 0;
  for (long i = 0; i < cases; ++i) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(i);
    const Scenario s = random_scenario(base[seed % base.size()], seed);
    std::string d1, d2;
    std::string err = in_child(s, d1);
    if (err.empty() && i % 5 == 0) {
      err = in_child(s, d2);
      if (err.empty() && d1 != d2)
        err = "not deterministic: " + d1 + " vs " + d2;
    }
    if (err.empty() && s.machine.scheduler.model == SchedulerModel::time_slice && i % 2 == 0) {
      err = in_child(s, d2, true);
      if (err.empty() && !same_run(d1, d2))
        err = "long runs differ from slice by slice: " + d1.substr(d1.find('|') + 1) + " vs " + d2.substr(d2.find('|') + 1);
    }
    if (err.empty() && i % 2 == 1) {
      std::string f1, f2;
      err = in_child(s, f1, false, sim::EngineKind::fibers);
      if (err.empty() && i % 5 == 0) {
        err = in_child(s, f2, false, sim::EngineKind::fibers);
        if (err.empty() && f1 != f2)
          err = "fibers: not deterministic: " + f1 + " vs " + f2;
      }
      if (!err.empty()) {
        err = "fibers: " + err;
      } else {
        fiber_cases++;
        fiber_same += f1 == d1;
        fiber_close += f1.substr(0, f1.find('|')) == d1.substr(0, d1.find('|')); // 12 digits
      }
    }
    if (!err.empty()) {
      failed++;
      std::cout << fmt::format("FAIL case seed={} ({} cores, {}, {}, {} modules, {} uevents): {}\n", seed,
                               s.machine.cores, to_string(s.machine.scheduler.model), s.kernel.name,
                               s.workload.modules.size(), s.workload.uevents.size(), err);
      if (!save.empty()) {
        std::ofstream(save + "/case-" + std::to_string(seed) + ".yaml") << to_yaml(s);
      }
    }
  }
  std::cout << fmt::format("{} of {} random scenarios passed (seeds {}..{}); --engine fibers ran {} of them: {} "
                           "with the actors engine's digest, {} with its counts and its times to 12 digits\n",
                           cases - failed, cases, seed0, seed0 + static_cast<std::uint64_t>(cases) - 1, fiber_cases,
                           fiber_same, fiber_close);
  return failed ? 1 : 0;
}
