// The SimGrid layer: platform, the udevd and modprobe actors, and the interpreter of the
// kernel's init_module pipeline. The modprobe actor reads like the code path it models.
#include "simulation.hpp"

#include "cpu.hpp"
#include "disk.hpp"
#include "kmutex.hpp"
#include "task.hpp"

#include <kmodsim/analytic.hpp>
#include <kmodsim/program.hpp>

#include <fmt/format.h>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <algorithm>
#include <malloc.h>
#include <cmath>
#include <deque>
#include <functional>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) // clang's spelling of __SANITIZE_ADDRESS__
#define KMODSIM_HAS_ASAN 1
#endif
#endif
#ifndef KMODSIM_HAS_ASAN
#define KMODSIM_HAS_ASAN 0
#endif

XBT_LOG_NEW_CATEGORY(kmodsim, "kmodsim: boot-time module loading");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(actors, kmodsim, "udevd and modprobe actors");

namespace s4u = simgrid::s4u;

namespace kmodsim::sim {
namespace {

/// The SimGrid platform: every process an actor, the CPU model and module_mutex of the machine.
class Sim : public Platform {
public:
  Sim(const Scenario& s, Results& r, const SimOptions& opt) : sc_(s), opt_(opt), res_(r) {}

  void run();

  // Platform
  double now() override { return s4u::Engine::get_clock(); }
  Proc& new_proc(const std::string& /*name*/, long /*uevent*/) override {
    tasks_.emplace_back(*rt_);
    Task& t = tasks_.back();
    return t;
  }
  void spawn(Proc& /*p*/, std::function<void()> body) override { start(std::move(body)); }
  void cpu_wake(Proc& p) override { cpu_->wake(task(p)); }
  void cpu_block(Proc& p) override { cpu_->block(task(p)); }
  void cpu_run(Proc& p, double us, Mode mode) override { cpu_->run(task(p), us, mode); }
  void preempt_point(Proc& p) override { cpu_->preempt_point(task(p)); }
  void lock(Proc& p, std::size_t id) override { locks_[id]->lock(task(p)); }
  void unlock(Proc& p, std::size_t id) override { locks_[id]->unlock(task(p)); }
  void sleep_for(Proc& /*p*/, double seconds) override { rt_->sleep_for(seconds); }
  void disk_read(Proc& /*p*/, std::uint64_t bytes) override { disk_->read(static_cast<double>(bytes)); }
  bool wait(Proc& p, double timeout_s) override {
    if (timeout_s > 0)
      return !task(p).wake().acquire_timeout(timeout_s); // acquire_timeout: true on timeout
    task(p).wake().acquire();
    return true;
  }
  void post(Proc& p) override { task(p).wake().release(); }
  // udevd's children_max slots: a count, and a semaphore only for those who wait for one (a
  // semaphore per slot cost two simcalls per modprobe, taken or not)
  bool slot_would_block() override { return free_slots_ == 0; }
  void slot_acquire() override {
    if (free_slots_ > 0) {
      --free_slots_;
      return;
    }
    ++slot_waiters_;
    slot_wait_->acquire(); // slot_release hands its slot over with the token
  }
  void slot_release() override {
    if (slot_waiters_ > 0) {
      --slot_waiters_;
      slot_wait_->release();
    } else {
      ++free_slots_;
    }
  }
  bool debug_enabled() override { return XBT_LOG_ISENABLED(actors, xbt_log_priority_verbose); }
  void debug(const std::string& msg) override { XBT_VERB("%s", msg.c_str()); }

private:
  static Task& task(Proc& p) { return static_cast<Task&>(p); } // this platform makes only Tasks
  Recorder& rec() { return res_.rec; }
  /// Runs an actor's body; an exception (a model bug, a runaway duration) ends the whole run
  /// cleanly instead of aborting the process (SimGrid aborts on an exception leaving an actor).
  template <class F> void guarded(F&& body);
  std::string error_; ///< the first error raised inside an actor
  void start(std::function<void()> body); ///< a process running `body`, guarded

  const Scenario& sc_;
  const SimOptions& opt_;
  Results& res_;
  std::deque<Task> tasks_; // stable addresses
  s4u::Host* host_ = nullptr;
  std::unique_ptr<PsDisk> disk_;
  std::unique_ptr<CpuModel> cpu_;
  std::vector<std::unique_ptr<KMutex>> locks_; ///< id 0 module_mutex, then kernel.locks
  std::int64_t free_slots_ = 0, slot_waiters_ = 0;
  std::unique_ptr<Sem> slot_wait_;
  std::unique_ptr<Runtime> rt_;
};

template <class F> void Sim::guarded(F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    if (error_.empty())
      error_ = e.what();
    rt_->stop_all(); // every other process; this one returns
  }
}

void Sim::start(std::function<void()> body) {
  rt_->spawn("process", [this, body = std::move(body)] { guarded(body); });
}

void Sim::run() {
  const auto& engine_args = opt_.engine_args;
  // 64 KiB actor stacks without guard pages: 600 random scenarios (tests/prop bases, every
  // era) and debug logging ran on 16 KiB stacks with a guard page, which faults on overflow;
  // 64 KiB keeps 4x that. SimGrid zeroes each stack (guard-size 0): at 100,000 actors the
  // smaller stack halves that cost, and at 10,000 live ones their memory (issue 12). Guard
  // pages would cost an mmap and two mprotects per actor and a mapping each (vm.max_map_count).
  std::vector<std::string> args = {"kmodsim", "--cfg=contexts/factory:raw", "--cfg=contexts/stack-size:64",
                                   "--cfg=contexts/guard-size:0", // group nesting <= 8, validated
                                   "--log=xbt_cfg.thres:warning",
                                   // SimGrid's own deadlock dump goes nowhere: check_finished() reports it
                                   "--log=ker_engine.additivity:no", "--log=ker_engine.app:file:/dev/null",
                                   "--log=root.fmt:%m%n"};
#if defined(__SANITIZE_ADDRESS__) || KMODSIM_HAS_ASAN
  // raw context switches confuse ASan; threads ignore the stack settings (and would say so on
  // stderr, breaking the one-line error contract)
  args = {"kmodsim", "--cfg=contexts/factory:thread", "--log=xbt_cfg.thres:warning", "--log=ker_engine.additivity:no",
          "--log=ker_engine.app:file:/dev/null", "--log=root.fmt:%m%n"};
#endif
#if !(defined(__SANITIZE_ADDRESS__) || KMODSIM_HAS_ASAN)
  // Actor stacks (64 KiB, calloc'd by SimGrid when guard-size is 0) from fresh mmaps: calloc
  // then skips zeroing them, and only the pages an actor touches are faulted in. A stack may
  // also be carved from the heap's top chunk, and is then zeroed whole (16 pages): glibc keeps
  // up to 128 KiB free there (its top pad and trim threshold). With both below the stack size
  // it never fits (the 10,000-loader queue read from TSV: 553 MB and 136,000 page faults
  // before, 196 MB and 44,000 after; from YAML 223 MB, as the heap's layout had spared some).
  // The worker pool keeps its actors, so no stack is mapped again per process. The settings are
  // the process's (issue 12, scripts/bench_scale.py).
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  mallopt(M_TOP_PAD, 32 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024);
#endif
  // threads have no stacks of ours to size: SimGrid would warn that it ignores the settings
  if (std::find(engine_args.begin(), engine_args.end(), "--cfg=contexts/factory:thread") != engine_args.end())
    args.erase(std::remove_if(args.begin(), args.end(),
                              [](const std::string& a) {
                                return a.rfind("--cfg=contexts/stack-size:", 0) == 0 ||
                                       a.rfind("--cfg=contexts/guard-size:", 0) == 0;
                              }),
               args.end());
  args.insert(args.end(), engine_args.begin(), engine_args.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  s4u::Engine e(&argc, argv.data());
  bool deadlock = false;
  s4u::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });

  auto* zone = s4u::create_full_zone("boot");
  host_ = zone->create_host("cpu", sc_.machine.speed * 1e6)->set_core_count(sc_.machine.cores);
  host_->seal();
  zone->seal();

  rt_ = Runtime::create(opt_.engine, host_);
  BootProgram prog(sc_, *this, rec(), opt_.max_sim_time_s, opt_.max_steps);
  cpu_ = CpuModel::create(sc_.machine, sc_.kernel.preemption == Preemption::full, host_, *rt_, rec(),
                          opt_.max_sim_time_s, opt_.slice_by_slice, opt_.engine == EngineKind::fibers);
  locks_.push_back(std::make_unique<KMutex>(*cpu_, rec(), sc_.kernel.mutex));
  for (const auto& l : sc_.kernel.locks) // at most 64 (config): the ids fit Interval::lock
    locks_.push_back(
        std::make_unique<KMutex>(*cpu_, rec(), l.params, l.name, static_cast<std::uint16_t>(locks_.size())));
  free_slots_ = sc_.userspace.udev.children_max;
  slot_wait_ = rt_->make_sem();
  rt_->expect(sc_.workload.uevents.size() + 1); // udevd, and a modprobe per uevent (repeats expanded)
  start([&prog] { prog.udevd(); });
  if (sc_.machine.disk.read_mbps > 0) // after udevd: processes started at one instant run in start order
    disk_ = std::make_unique<PsDisk>(sc_.machine.disk.read_mbps * 1e6, *rt_);
  rt_->run(e);
  rt_->finish(); // unwinds stuck fibers while the program they run exists
  if (!error_.empty())
    throw SimulationError(error_);
  if (deadlock)
    XBT_VERB("SimGrid reported a deadlock");
  if (const std::string stuck = prog.unfinished(); !stuck.empty())
    throw SimulationError("simulation ended with " + stuck);
  const double chain = tally(res_, prog);
  const LockStats& ls = locks_[0]->stats();
  res_.lock_acquisitions = ls.acquisitions;
  res_.lock_contentions = ls.contentions;
  res_.lock_wait_total = ls.wait_total;
  res_.lock_wait_max = ls.wait_max;
  res_.lock_hold_total = ls.hold_total;
  res_.lock_hold_max = ls.hold_max;
  res_.handoff_wakeup_s = ls.handoff_wakeup_s;
  res_.lock_contended_wait_min = ls.contended_wait_min;
  res_.lock_hold_min = ls.hold_min;
  for (const std::uint32_t step : ls.contention_order)
    res_.lock_contention_points.emplace_back(rec().step_names[step], ls.contentions_by_step.at(step));
  for (size_t i = 1; i < locks_.size(); ++i) {
    const LockStats& o = locks_[i]->stats();
    res_.other_locks.push_back({sc_.kernel.locks[i - 1].name, sc_.kernel.locks[i - 1].spinlock, o.acquisitions,
                                o.contentions, o.wait_total, o.wait_max, o.hold_total, o.hold_max});
    res_.locked_lock_wait_s += o.waited_holding_primary_s;
  }
  res_.cpu_busy_s = cpu_->busy_s();
  res_.cpu_spin_s = cpu_->spin_s();
  res_.holder_preempted_s = cpu_->holder_preempted_s();
  res_.cpu_work_s = cpu_->busy_s();
  res_.lower_bound_s = makespan_lower_bound(res_.locked_work_s, res_.cpu_work_s, sc_.machine.cores, chain);
  if (!std::isfinite(res_.makespan))
    throw SimulationError("model bug: the makespan is not finite");
  if (res_.makespan > opt_.max_sim_time_s) // a wait no cost check saw (use_module's timeout)
    throw SimulationError(fmt::format("the run ended at t = {:.6g} s, past the simulated-time guard of {:g} s "
                                      "(--max-sim-time)", res_.makespan, opt_.max_sim_time_s));
  // SimGrid ends an activity within its timing precision (precision/timing, 1e-9 s) of the exact
  // instant, and shares a resource (the disk) with its max-min precision (maxmin/precision,
  // 1e-5 relative): two overlapping reads of 12 KiB ended 11 ns early (fuzz_config_sim). Slack of
  // 1e-5 relative keeps the check far tighter than any model bug it is there to catch.
  if (res_.makespan + 1e-9 + 1e-5 * res_.lower_bound_s < res_.lower_bound_s)
    throw SimulationError(fmt::format("model bug: makespan {:.17g} s is below the analytic lower bound {:.17g} s "
                                      "(lock work {:.17g} s, CPU work {:.17g} s, longest chain {:.17g} s)",
                                      res_.makespan, res_.lower_bound_s, res_.locked_work_s, res_.cpu_work_s, chain));
}

} // namespace

double tally(Results& r, const BootProgram& prog) {
  r.modprobe_runs = prog.counters().modprobe_runs;
  r.already_loaded_skips = prog.counters().already_loaded_skips;
  r.locked_work_s = prog.counters().locked_work_s;
  r.program_cpu_work_s = prog.counters().cpu_work_s;
  r.locked_off_cpu_s = prog.counters().locked_off_cpu_s;
  r.vmalloc_peak_kb = prog.counters().vmalloc_peak_kb;
  r.enomem = prog.counters().enomem;
  r.vmap_purges = prog.counters().vmap_purges;
  for (const TaskInfo& ti : r.rec.tasks)
    r.makespan = std::max(r.makespan, ti.end);
  for (const LoadRecord& l : r.rec.loads) {
    r.load_attempts++;
    switch (l.outcome) {
    case Outcome::loaded:
      r.modules_loaded++;
      break;
    case Outcome::eexist:
      r.eexist++;
      break;
    case Outcome::double_load:
      break;
    default:
      r.failures++;
    }
  }
  r.races = prog.kernel_state().races();
  double chain = 0; // no task can end before its start plus what it needs uncontended
  for (size_t i = 0; i < prog.demand().size(); ++i)
    chain = std::max(chain, r.rec.tasks[i].start + prog.demand()[i]);
  return chain;
}

Results simulate(const Scenario& s, const SimOptions& opt) {
  if (!(opt.max_sim_time_s > 0) || !std::isfinite(opt.max_sim_time_s))
    throw SimulationError("the simulated-time guard must be a positive number of seconds");
  Results r;
  r.engine = engine_name(opt.engine);
  r.rec = Recorder(s.outputs.timeline || s.outputs.trace);
  Sim sim(s, r, opt);
  sim.run();
  return r;
}

} // namespace kmodsim::sim
