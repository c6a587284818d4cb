// The boot program: what udevd and every modprobe do, step by step, and the interpreter of the
// kernel's init_module pipeline. It is written once, against the Platform interface, and runs
// on two platforms: the simulator (sim/: SimGrid actors, modelled CPUs and module_mutex) and
// the replay (sim/replay: OS threads, busy loops, a real mutex). The program reads like the
// code path it models; everything that takes time goes through the platform.
//
// Concurrency contract: the platform runs the program code of one process at a time between
// two platform calls (SimGrid actors are cooperative; the replay holds a program lock that
// every blocking platform call releases). The program state (KernelState, the recorder, the
// counters) therefore needs no locking of its own.
#pragma once

#include "kmodsim/config.hpp"
#include "kmodsim/depgraph.hpp"
#include "kmodsim/kernel_state.hpp"
#include "kmodsim/recorder.hpp"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace kmodsim {

/// A run that could not go on (a duration past the time guard, too many steps, a model bug).
class ProgramError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class Mode { user, kernel };

struct Proc;

/// Something a process can block on whose description changes while it waits (a lock: its
/// owner). Described only when a deadlock report is written, so that a wait builds no text.
struct WaitTarget {
  virtual ~WaitTarget() = default;
  virtual std::string describe(const Proc& waiter) const = 0;
};

/// One process of the boot (udevd or a modprobe) as the program sees it; a platform derives
/// its own process type from it.
struct Proc {
  virtual ~Proc() = default;
  std::uint32_t id = 0;     ///< recorder task id
  bool holds_lock = false;  ///< owns module_mutex
  int preempt_off = 0;      ///< nesting depth of preempt_disable()
  std::uint32_t module = 0; ///< recorder module id (index + 1) being loaded, 0 = none
  std::uint32_t step = 0;   ///< recorder step id
  long load = -1;           ///< index of the current LoadRecord, -1 = none
  std::string waiting_for;  ///< for deadlock reports (a fixed text)
  const WaitTarget* waiting_on = nullptr; ///< for deadlock reports, instead of waiting_for
  /// What this process waits on, as a deadlock report says it.
  std::string waits_on() const {
    if (waiting_on)
      return waiting_on->describe(*this);
    return waiting_for.empty() ? std::string("a CPU or an event") : waiting_for;
  }
  bool finished = false;
};

/// What the program needs from the machine it runs on.
class Platform {
public:
  virtual ~Platform() = default;
  /// Seconds since the start of the boot.
  virtual double now() = 0;
  /// A new process, recorded under `name`; it runs nothing until spawned.
  virtual Proc& new_proc(const std::string& name, long uevent) = 0;
  /// Starts `body` as the process `p` (udevd's fork + exec of a modprobe).
  virtual void spawn(Proc& p, std::function<void()> body) = 0;
  /// The process becomes runnable and returns once it runs (start, end of a wait).
  virtual void cpu_wake(Proc& p) = 0;
  /// The process leaves its CPU because it is about to block.
  virtual void cpu_block(Proc& p) = 0;
  /// Runs `us` microseconds of CPU work at the reference speed.
  virtual void cpu_run(Proc& p, double us, Mode mode) = 0;
  /// A voluntary preemption point (cond_resched, might_sleep) in kernel code.
  virtual void preempt_point(Proc& p) = 0;
  /// A kernel lock: id 0 is module_mutex (Proc::holds_lock), id i >= 1 the kernel's locks[i - 1].
  virtual void lock(Proc& p, std::size_t id) = 0;
  virtual void unlock(Proc& p, std::size_t id) = 0;
  /// Off-CPU time (the caller has left the CPU).
  virtual void sleep_for(Proc& p, double seconds) = 0;
  /// Reads `bytes` from the disk (the caller has left the CPU).
  virtual void disk_read(Proc& p, std::uint64_t bytes) = 0;
  /// Sleeps on the process's private wake-up token: true when woken by post(), false after
  /// `timeout_s` (<= 0: no timeout).
  virtual bool wait(Proc& p, double timeout_s) = 0;
  virtual void post(Proc& p) = 0;
  /// udevd's children_max slots.
  virtual bool slot_would_block() = 0;
  virtual void slot_acquire() = 0;
  virtual void slot_release() = 0;
  /// Debug log (the simulator's kmodsim.actors category); the message is built only if enabled.
  virtual bool debug_enabled() { return false; }
  virtual void debug(const std::string& /*msg*/) {}
};

/// Per-run counters the program keeps beside the recorder.
struct ProgramCounters {
  std::int64_t modprobe_runs = 0, already_loaded_skips = 0;
  double locked_work_s = 0; ///< CPU work done while holding module_mutex
  double cpu_work_s = 0;    ///< all CPU work asked of the platform (seconds at the machine's speed)
  double locked_off_cpu_s = 0; ///< off CPU (asleep, waiting for a dependency) while holding module_mutex
  double vmalloc_kb = 0, vmalloc_peak_kb = 0; ///< the module area in use, and its peak
  std::int64_t enomem = 0;                     ///< loads refused for want of module area
  double vmap_lazy_kb = 0;       ///< module area freed since the last lazy purge
  std::int64_t vmap_purges = 0;  ///< lazy purges run (effect vmap_purge)
};

class BootProgram {
public:
  /// `max_sim_time_s`, `max_steps`: the runaway guards (SimOptions).
  BootProgram(const Scenario& s, Platform& p, Recorder& rec, double max_sim_time_s, std::int64_t max_steps);

  /// udevd: replays the uevents (in a seed-dependent order when asked), one modprobe each, at
  /// most children_max at once. The platform runs it as its first process's body.
  void udevd();

  const KernelState& kernel_state() const { return ks_; }
  const ProgramCounters& counters() const { return cnt_; }
  /// Per process: the uncontended time it needed (for the lower bound of the makespan).
  const std::vector<double>& demand() const { return demand_; }
  /// Every process created so far.
  const std::vector<Proc*>& procs() const { return procs_; }

  /// "" when every process finished; else who is stuck waiting on what (a deadlock report).
  std::string unfinished() const;

  /// A duration about to reach the platform (microseconds of reference CPU): finite and
  /// ending before the run's time guard, else ProgramError.
  double checked_us(double us, const char* what);

private:
  void modprobe(Proc& t, size_t ev);
  bool already_loaded(Proc& t, size_t m);
  void read_ko(Proc& t, size_t m);
  Outcome init_module(Proc& t, size_t m, long ev);
  struct LoadCtx;
  Outcome exec_steps(Proc& t, const std::vector<Step>& steps, LoadCtx& c);
  Outcome exec_leaf(Proc& t, const Step& s, std::int64_t rep, LoadCtx& c);
  bool wait_until_live(Proc& t, size_t owner);
  bool wait_until_live(Proc& t, size_t owner, bool unlocked);
  void wait_finished(Proc& t, size_t m, const std::string& what);
  void wake_all(std::vector<Proc*>& waiters);
  void vm_release(LoadCtx& c, const std::string& step);
  /// vmap_purge: due when the lazily freed area passes lazy_max_pages(); the caller claims it
  bool purge_due();
  void off_cpu(Proc& t, State st, double seconds);
  /// CPU work through the platform, counted.
  void cpu(Proc& t, double us, Mode mode);
  void finish(Proc& t);
  Proc& new_proc(const std::string& name, long ev);
  Features features(size_t m) const;
  std::uint32_t step_id(const Step& s);
  double checked_s(double s, const char* what) { return checked_us(s * 1e6, what) * 1e-6; }

  const Scenario& sc_;
  const Workload& w_;
  Platform& plat_;
  Recorder& rec_;
  double max_sim_time_s_;
  std::int64_t max_steps_, steps_run_ = 0;
  KernelState ks_;
  DepGraph graph_;
  std::vector<std::vector<size_t>> load_order_; ///< per module, what modprobe loads
  std::vector<std::vector<Proc*>> live_waiters_;
  std::vector<std::vector<Proc*>> finish_waiters_; ///< per module: loaders waiting for a load of it to end
  std::unordered_map<std::string, size_t> index_;
  std::unordered_map<const Step*, std::uint32_t> step_ids_;
  std::vector<Proc*> procs_;
  std::vector<double> demand_;
  ProgramCounters cnt_;
  std::uint32_t step_startup_ = 0, step_check_ = 0, step_read_ = 0, step_event_ = 0, step_spawn_ = 0;
};

} // namespace kmodsim
