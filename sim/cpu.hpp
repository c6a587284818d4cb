// CPU scheduler models, chosen by name (machine.scheduler.model):
//  - processor_sharing: fluid sharing; every runnable task gets an equal share of the C cores,
//    at most one core each. With actors, SimGrid's max-min sharing of one Exec per running
//    task (ProcessorSharingCpu); with fibers, the same shares computed exactly on the runtime
//    (FluidCpu), as the disk does.
//  - time_slice: a FIFO run queue over C cores with round-robin slices. User code leaves its
//    core when its slice ends; kernel code (voluntary preemption) only at the steps'
//    preemption points once its slice has ended; any task leaves when it blocks. A slice end
//    only matters when a task waits for a core: a run through several slices started while
//    none waits is one timed wait, cut at its next slice end when one queues (long_run).
//  - run_to_block: a FIFO run queue over C cores; a task keeps its core until it blocks.
#pragma once

#include <kmodsim/recorder.hpp>
#include "task.hpp"

#include <kmodsim/config.hpp>

#include <simgrid/s4u/Host.hpp>

#include <deque>
#include <memory>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

namespace kmodsim::sim {

/// A broken invariant inside the engine (never a user error): the run stops with exit 1.
class ModelBug : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

class CpuModel {
public:
  CpuModel(simgrid::s4u::Host* host, Runtime& rt, Recorder& rec, double speed)
      : host_(host), rt_(rt), rec_(rec), speed_(speed) {}
  virtual ~CpuModel() = default;

  /// The task becomes runnable and returns once it runs (start of a process, end of a wait).
  virtual void wake(Task& t) = 0;
  /// The task leaves the CPU because it is about to block.
  virtual void block(Task& t) = 0;
  /// Runs `us` microseconds of CPU work (at the reference speed).
  virtual void run(Task& t, double us, Mode mode) = 0;
  /// A voluntary preemption point (cond_resched, might_sleep) in kernel code.
  virtual void preempt_point(Task& t) = 0;
  /// A spinning waiter: burns its CPU until `done()` (called after the blocking wait returns);
  /// `lock`: the lock it spins on, as Interval::lock.
  virtual void spin_begin(Task& t, std::uint16_t lock) = 0;
  virtual void spin_end(Task& t) = 0;
  /// Core-seconds of CPU consumed (work + spinning).
  double busy_s() const { return busy_s_; }
  /// Of it, core-seconds spent spinning on module_mutex.
  double spin_s() const { return spin_s_; }
  /// Time a lock holder was runnable but not running (fluid: the share it did not get).
  double holder_preempted_s() const { return holder_preempted_s_; }
  bool fluid() const { return fluid_; }

  /// Creates the model named by the machine config.
  /// Creates the model named by the machine config; `kernel_preemptible`: kernel code may lose
  /// its CPU at the end of a slice (CONFIG_PREEMPT), not only at preemption points.
  /// `own_fluid`: processor_sharing on FluidCpu (the fibers engine: no actor can Exec), not
  /// SimGrid's sharing of Execs.
  static std::unique_ptr<CpuModel> create(const Machine& m, bool kernel_preemptible, simgrid::s4u::Host* host,
                                          Runtime& rt, Recorder& rec, double max_sim_time_s,
                                          bool slice_by_slice = false, bool own_fluid = false);
  Runtime& runtime() { return rt_; }

protected:
  void record(Task& t, State s, std::uint16_t lock = 0) {
    rec_.set_state(t.id, s, now(), t.core, t.module, t.step, lock);
  }
  static double now();
  /// An invariant of the model broke: throws ModelBug (the actor wrapper ends the run with exit 1).
  [[noreturn]] static void model_bug(const std::string& what);
  State running_state(const Task& t, Mode mode) const {
    return mode == Mode::user ? State::user : (t.holds_lock ? State::kernel_locked : State::kernel);
  }

  simgrid::s4u::Host* host_;
  Runtime& rt_;
  Recorder& rec_;
  double speed_; ///< flop/s of one core; 1 flop = 1 us of reference CPU work
  double busy_s_ = 0, spin_s_ = 0;
  double holder_preempted_s_ = 0;
  bool fluid_ = false;
};

/// processor_sharing, what both engines share: every task with work holds an equal share of
/// the cores (at most one each); a run's accounting. Each engine says how a chunk of work gets
/// done at that share (work()).
class SharedCpu : public CpuModel {
public:
  SharedCpu(simgrid::s4u::Host* host, Runtime& rt, Recorder& rec, double speed) : CpuModel(host, rt, rec, speed) {
    fluid_ = true;
  }
  void wake(Task& t) override { t.on_cpu = true; }
  void block(Task& t) override { t.on_cpu = false; }
  void run(Task& t, double us, Mode mode) final;
  void preempt_point(Task&) override {}

protected:
  /// Returns once `t` has done `us` of work at its share of the cores.
  virtual void work(Task& t, double us) = 0;
  /// A spinner burnt `seconds` of one core.
  void spun(double seconds) {
    busy_s_ += seconds;
    spin_s_ += seconds;
  }
};

/// processor_sharing under actors: one SimGrid Exec per chunk of work, shared by SimGrid's
/// max-min solver.
class ProcessorSharingCpu : public SharedCpu {
public:
  /// A spinning waiter is an Exec as long as the whole run may last (the time guard): a longer
  /// one (1e15 flops once) loses the spun amount in double rounding (fuzz_config_sim finding).
  ProcessorSharingCpu(simgrid::s4u::Host* host, Runtime& rt, Recorder& rec, double speed, double max_sim_time_s)
      : SharedCpu(host, rt, rec, speed), spin_flops_(speed * (max_sim_time_s + 1.0)) {}
  void spin_begin(Task& t, std::uint16_t lock) override;
  void spin_end(Task& t) override;

private:
  void work(Task& t, double us) override;
  std::vector<simgrid::s4u::ExecPtr> spins_; // indexed by task id
  double spin_flops_;
};

/// processor_sharing without SimGrid's Execs (the fibers engine): n tasks with work (running or
/// spinning) each progress at min(1, C / n) cores. Virtual work V grows at that rate, so a
/// chunk of w us that starts at V0 ends when V reaches V0 + w, whatever comes and goes meanwhile;
/// the chunks in progress sit in a heap by that end, and one runtime timer is set at the first.
/// A spinner has no chunk: it counts among the n until spin_end, which counts the work it burnt.
class FluidCpu : public SharedCpu {
public:
  FluidCpu(simgrid::s4u::Host* host, Runtime& rt, Recorder& rec, double speed, int cores)
      : SharedCpu(host, rt, rec, speed), cores_(cores) {}
  void spin_begin(Task& t, std::uint16_t lock) override;
  void spin_end(Task& t) override;

private:
  void work(Task& t, double us) override;
  struct Chunk {
    double v_end;       ///< us of work per task at which it ends
    std::uint64_t seq;  ///< arrival order: equal ends complete first come, first served
    Task* task;
    bool operator>(const Chunk& o) const { return v_end != o.v_end ? v_end > o.v_end : seq > o.seq; }
  };
  double rate() const; ///< us of work per second for each task with work
  void advance();      ///< brings V to now
  void reschedule();   ///< the timer at the first end, after a change of the chunks
  void complete();     ///< the timer: the chunks that ended go on
  int cores_;
  double v_ = 0, last_ = 0;
  std::uint64_t seq_ = 0;
  std::size_t spinners_ = 0; ///< tasks spinning on a lock: they take a share, with no end
  std::priority_queue<Chunk, std::vector<Chunk>, std::greater<Chunk>> chunks_;
  std::vector<double> spin_from_; ///< per task id: V when its spin began
  TimerHandle* timer_ = nullptr;
};

class RunQueueCpu : public CpuModel {
public:
  /// slice_us = infinity gives run_to_block.
  /// `long_runs`: a preemptible run through several slices is one timed wait while nobody
  /// queues for a core (long_run); false: one per slice (the same runs, to rounding).
  RunQueueCpu(simgrid::s4u::Host* host, Runtime& rt, Recorder& rec, double speed, int cores, double slice_us,
              bool kernel_preemptible, bool long_runs = true)
      : CpuModel(host, rt, rec, speed), owner_(static_cast<size_t>(cores), nullptr), slice_us_(slice_us),
        kernel_preemptible_(kernel_preemptible), long_runs_(long_runs) {}
  void wake(Task& t) override;
  void block(Task& t) override;
  void run(Task& t, double us, Mode mode) override;
  void preempt_point(Task& t) override;
  void spin_begin(Task& t, std::uint16_t lock) override;
  void spin_end(Task& t) override;
  size_t queued() const { return runq_.size(); }

private:
  void acquire(Task& t, bool preempted);
  void release(Task& t);
  void yield(Task& t);
  void exec(Task& t, double us, Mode mode);
  /// A preemptible run of `us` (> the slice left) started while the run queue is empty: one
  /// timed wait instead of one per slice. The slice ends at which the old per-slice loop found
  /// the run queue empty changed nothing, so the wait runs through them; when a task queues
  /// for a core, every long run is cut at its next slice end (arm), where the loop goes on as
  /// before. Returns the work done.
  double long_run(Task& t, double us, Mode mode);
  void arm(Task& r); ///< cut r's long run at its next slice end (a kernel timer posts r.cpu_grant)

  std::vector<Task*> owner_;
  std::deque<Task*> runq_;
  double slice_us_;
  bool kernel_preemptible_;
  bool long_runs_;
  std::vector<double> spin_since_; // indexed by task id
  std::vector<Task*> runners_;     // the tasks in a long run
};

} // namespace kmodsim::sim
