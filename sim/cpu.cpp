#include "cpu.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>

#include <xbt/log.h>

#include <cmath>
#include <limits>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(cpu, kmodsim, "CPU scheduler models");

namespace kmodsim::sim {
namespace {
constexpr double kEps = 1e-9;        // microseconds: below this, work is done
} // namespace

double CpuModel::now() { return simgrid::s4u::Engine::get_clock(); }

void CpuModel::model_bug(const std::string& what) {
  throw ModelBug("model bug in the CPU model at t=" + std::to_string(now()) + " s: " + what);
}

std::unique_ptr<CpuModel> CpuModel::create(const Machine& m, bool kernel_preemptible, simgrid::s4u::Host* host,
                                           Runtime& rt, Recorder& rec, double max_sim_time_s, bool slice_by_slice,
                                           bool own_fluid) {
  const double speed = m.speed * 1e6; // 1 flop = 1 us of work at the reference speed
  switch (m.scheduler.model) {
  case SchedulerModel::processor_sharing:
    if (own_fluid)
      return std::make_unique<FluidCpu>(host, rt, rec, speed, m.cores);
    return std::make_unique<ProcessorSharingCpu>(host, rt, rec, speed, max_sim_time_s);
  case SchedulerModel::time_slice:
    return std::make_unique<RunQueueCpu>(host, rt, rec, speed, m.cores, m.scheduler.effective_slice_ms(m.cores) * 1e3, kernel_preemptible,
                                         !slice_by_slice);
  case SchedulerModel::run_to_block:
    return std::make_unique<RunQueueCpu>(host, rt, rec, speed, m.cores, std::numeric_limits<double>::infinity(), false);
  }
  return nullptr;
}

// --- processor sharing -------------------------------------------------------------------------

void SharedCpu::run(Task& t, double us, Mode mode) {
  if (us <= kEps)
    return;
  record(t, running_state(t, mode));
  const double t0 = now();
  work(t, us);
  const double dedicated = us / speed_;
  busy_s_ += dedicated;
  if (t.holds_lock) // the share of a core the holder did not get while holding the lock
    holder_preempted_s_ += std::max(0.0, (now() - t0) - dedicated);
}

void ProcessorSharingCpu::work(Task& /*t*/, double us) { simgrid::s4u::this_actor::execute(us); }

void ProcessorSharingCpu::spin_begin(Task& t, std::uint16_t lock) {
  record(t, State::lock_spin, lock);
  if (spins_.size() <= t.id)
    spins_.resize(t.id + 1);
  // Never hold a reference into spins_ across a simcall: another actor may resize it meanwhile.
  simgrid::s4u::ExecPtr e = simgrid::s4u::this_actor::exec_init(spin_flops_);
  spins_[t.id] = e;
  e->start();
}

void ProcessorSharingCpu::spin_end(Task& t) {
  simgrid::s4u::ExecPtr e = std::move(spins_[t.id]); // a local: cancel() is a simcall
  spins_[t.id] = nullptr;
  spun((spin_flops_ - e->get_remaining()) / speed_);
  e->cancel();
}

// --- processor sharing, exact, on the runtime (FluidCpu) --------------------------------------------

double FluidCpu::rate() const {
  const double n = static_cast<double>(chunks_.size() + spinners_);
  return n <= cores_ ? speed_ : speed_ * cores_ / n;
}

void FluidCpu::advance() {
  const double t = now();
  if (!chunks_.empty() || spinners_ > 0)
    v_ += (t - last_) * rate();
  last_ = t;
}

void FluidCpu::reschedule() {
  if (timer_ != nullptr) {
    rt_.timer_remove(timer_);
    timer_ = nullptr;
  }
  if (chunks_.empty())
    return; // nobody to end (spinners end by spin_end)
  const double date = now() + std::max(0.0, chunks_.top().v_end - v_) / rate();
  timer_ = rt_.timer_set(date, [this] {
    timer_ = nullptr;
    complete();
  });
}

void FluidCpu::complete() {
  advance();
  // Done: the chunks whose end V has reached, to rounding (the timer fired at the computed
  // instant, so V lands within a few ulps of the end)
  while (!chunks_.empty() && chunks_.top().v_end - v_ <= 1e-12 * std::max(1.0, chunks_.top().v_end)) {
    const Chunk c = chunks_.top();
    chunks_.pop();
    v_ = std::max(v_, c.v_end);
    c.task->cpu_grant().release();
  }
  reschedule();
}

void FluidCpu::work(Task& t, double us) {
  advance();
  chunks_.push({v_ + us, seq_++, &t});
  reschedule();
  t.cpu_grant().acquire(); // complete() releases it when V reaches the chunk's end
}

void FluidCpu::spin_begin(Task& t, std::uint16_t lock) {
  record(t, State::lock_spin, lock);
  if (spin_from_.size() <= t.id)
    spin_from_.resize(t.id + 1);
  advance();
  spin_from_[t.id] = v_; // a spinner has no chunk: it only takes its share until spin_end
  spinners_++;
  reschedule();
}

void FluidCpu::spin_end(Task& t) {
  advance();
  spinners_--;
  spun((v_ - spin_from_[t.id]) / speed_);
  reschedule();
}

// --- run queue (time_slice, run_to_block) ----------------------------------------------------------

void RunQueueCpu::acquire(Task& t, bool /*preempted*/) {
  if (t.core >= 0) // a second wake-up of a running task would leak its core
    model_bug("task " + std::to_string(t.id) + " asks for a core while it holds core " + std::to_string(t.core));
  if (runq_.empty()) {
    for (size_t c = 0; c < owner_.size(); ++c)
      if (owner_[c] == nullptr) {
        owner_[c] = &t;
        t.core = static_cast<int>(c);
        t.on_cpu = true;
        t.slice_left = slice_us_;
        return;
      }
  }
  record(t, t.holds_lock ? State::runnable_locked : State::runnable);
  const double t0 = now();
  if (runq_.empty()) // from now on, every slice end of a running task is a preemption point
    for (Task* r : runners_)
      arm(*r);
  runq_.push_back(&t);
  t.cpu_grant().acquire(); // release() hands us a core
  if (t.core < 0)
    model_bug("task " + std::to_string(t.id) + " resumed without a core");
  if (t.holds_lock) // runnable but not running while holding the lock: preempted, or woken from a
    holder_preempted_s_ += now() - t0; // sleep or a hand-over with the lock held and queued for a core
  t.on_cpu = true;
  t.slice_left = slice_us_;
}

void RunQueueCpu::release(Task& t) {
  const int c = t.core;
  if (c < 0 || static_cast<size_t>(c) >= owner_.size() || owner_[static_cast<size_t>(c)] != &t)
    model_bug("task " + std::to_string(t.id) + " leaves core " + std::to_string(c) + " which it does not hold");
  t.core = -1;
  t.on_cpu = false;
  if (!runq_.empty()) {
    Task* next = runq_.front();
    runq_.pop_front();
    next->core = c;
    owner_[static_cast<size_t>(c)] = next;
    next->cpu_grant().release();
  } else {
    owner_[static_cast<size_t>(c)] = nullptr;
  }
}

void RunQueueCpu::yield(Task& t) {
  XBT_VERB("task %u yields core %d (%zu queued)", t.id, t.core, runq_.size());
  release(t);
  acquire(t, true);
}

void RunQueueCpu::wake(Task& t) { acquire(t, false); }

void RunQueueCpu::block(Task& t) { release(t); }

void RunQueueCpu::exec(Task& t, double us, Mode mode) {
  record(t, running_state(t, mode));
  // The task owns core t.core for the whole chunk (this model hands out cores), so it runs at
  // full speed and the chunk takes exactly us / speed: a timed wait gives the same clock as an
  // Exec on the host without going through SimGrid's sharing solver (~2x faster at 64 cores).
  rt_.sleep_for(us / speed_);
  busy_s_ += us / speed_;
}

void RunQueueCpu::run(Task& t, double us, Mode mode) {
  if (us <= kEps)
    return;
  const bool preemptible = mode == Mode::user || (kernel_preemptible_ && t.preempt_off == 0);
  if (!preemptible || std::isinf(slice_us_)) {
    exec(t, us, mode); // runs to the end; a voluntary kernel checks need_resched at its next preemption point
    t.slice_left -= us;
    return;
  }
  while (us > kEps) {
    if (t.slice_left <= kEps) { // slice over: to the back of the run queue if anyone waits
      if (!runq_.empty())
        yield(t);
      else
        t.slice_left = slice_us_;
    }
    if (long_runs_ && runq_.empty() && us > t.slice_left + kEps) { // through slice ends nobody waits at
      us -= long_run(t, us, mode);
      continue;
    }
    const double chunk = std::min(us, t.slice_left);
    exec(t, chunk, mode);
    us -= chunk;
    t.slice_left -= chunk;
  }
}

double RunQueueCpu::long_run(Task& t, double us, Mode mode) {
  record(t, running_state(t, mode));
  Task::LongRun& lr = t.run;
  lr.start = now();
  lr.first_us = t.slice_left;
  lr.us = us;
  lr.fired = false;
  lr.timer = nullptr;
  lr.runner = static_cast<long>(runners_.size());
  runners_.push_back(&t);
  const bool cut = t.cpu_grant().acquire_timeout(us / speed_) == false; // false: a token came (the timer)
  // leave the long runs (swap with the last)
  runners_[static_cast<size_t>(lr.runner)] = runners_.back();
  runners_[static_cast<size_t>(lr.runner)]->run.runner = lr.runner;
  runners_.pop_back();
  lr.runner = -1;
  double done;
  if (cut) { // at the slice end the timer was set at: the loop checks the run queue there
    done = lr.cut_us;
    t.slice_left = 0;
  } else { // all done; the slice left as the per-slice loop would leave it
    if (lr.timer != nullptr) // armed for a slice end that did not come
      rt_.timer_remove(lr.timer);
    else if (lr.fired)
      t.cpu_grant().acquire(); // a token posted at the very end: consume it
    done = us;
    double w = lr.first_us;
    while (us - w > kEps)
      w += slice_us_;
    t.slice_left = w - us;
  }
  lr.timer = nullptr;
  busy_s_ += done / speed_;
  return done;
}

void RunQueueCpu::arm(Task& r) {
  Task::LongRun& lr = r.run;
  if (lr.timer != nullptr || lr.fired)
    return;
  // the first slice end at or after now (to rounding: the clock is a sum of other durations)
  // that still has work after it
  double w = lr.first_us;
  const double elapsed = (now() - lr.start) * speed_;
  while (w < elapsed - 1e-6)
    w += slice_us_;
  const double date = std::max(now(), lr.start + w / speed_);
  if (lr.us - w <= kEps || !(date < lr.start + lr.us / speed_))
    return; // no slice end before the run's end: nothing to cut
  lr.cut_us = w;
  lr.timer = rt_.timer_set(date, [&r] {
    r.run.timer = nullptr;
    r.run.fired = true;
    r.cpu_grant().release();
  });
}

void RunQueueCpu::preempt_point(Task& t) {
  if (t.preempt_off > 0 || t.slice_left > kEps)
    return;
  if (!runq_.empty())
    yield(t);
  else
    t.slice_left = slice_us_;
}

void RunQueueCpu::spin_begin(Task& t, std::uint16_t lock) {
  record(t, State::lock_spin, lock); // keeps its core: nobody else can use it
  if (spin_since_.size() <= t.id)
    spin_since_.resize(t.id + 1);
  spin_since_[t.id] = now();
}

void RunQueueCpu::spin_end(Task& t) {
  busy_s_ += now() - spin_since_[t.id];
  spin_s_ += now() - spin_since_[t.id];
}

} // namespace kmodsim::sim
