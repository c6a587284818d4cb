#include "kmutex.hpp"


#include <xbt/log.h>

#include <algorithm>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(mutex, kmodsim, "module_mutex model");

namespace kmodsim::sim {

namespace {
double clock() { return Runtime::now(); }

} // namespace

KMutex::KMutex(CpuModel& cpu, Recorder& rec, const Kernel::Mutex& params, std::string name, std::uint16_t id)
    : cpu_(cpu), rec_(rec), params_(params), name_(std::move(name)), id_(id), primary_(id == 0) {}

LoadRecord* KMutex::load_of(const Task& t) { // the loads' lock columns are module_mutex's
  return primary_ && t.load >= 0 ? &rec_.loads[static_cast<size_t>(t.load)] : nullptr;
}

void KMutex::wake_cpu(Task& t, bool holding) {
  if (holding)
    stats_.waited_holding_primary_s += clock() - waiting_since_[t.id];
  cpu_.wake(t);
}

std::string KMutex::owner_name() const { return owner_ ? rec_.tasks[owner_->id].name : std::string("nobody"); }

std::string KMutex::describe(const Proc& waiter) const {
  const bool spin = waiter.id < spinning_.size() && spinning_[waiter.id];
  return name_ + (spin ? " (spinning, held by " : " (held by ") + owner_name() + ")";
}

void KMutex::acquired(Task& t, double t0, double at) {
  LoadRecord* load = load_of(t);
  owner_ = &t;
  if (primary_)
    t.holds_lock = true;
  hold_since_ = at;
  const double wait = at - t0;
  stats_.wait_total += wait;
  stats_.wait_max = std::max(stats_.wait_max, wait);
  if (load)
    load->lock_wait += wait;
}

void KMutex::lock(Task& t) {
  // Everything below up to the first blocking call runs atomically with respect to the other
  // actors (SimGrid runs one actor at a time and switches only at simcalls), so the owner and
  // the queue are always consistent.
  const double t0 = clock();
  stats_.acquisitions++;
  LoadRecord* load = load_of(t);
  if (load)
    load->acquisitions++;
  if (granted_at_.size() <= t.id) {
    granted_at_.resize(t.id + 1);
    woken_.resize(t.id + 1);
    woken_by_.resize(t.id + 1);
    spinning_.resize(t.id + 1);
    waiting_since_.resize(t.id + 1);
  }
  waiting_since_[t.id] = t0;
  // Free: with handoff an unlock never leaves the lock free while someone is queued.
  if (owner_ == nullptr && (waiters_.empty() || !params_.handoff)) {
    acquired(t, t0, t0);
    return;
  }
  stats_.contentions++;
  if (stats_.contentions_by_step[t.step]++ == 0)
    stats_.contention_order.push_back(t.step); // lock_stat lists its contention points as first seen
  if (load)
    load->contentions++;
  if (params_.handoff)
    lock_handoff(t, t0);
  else
    lock_steal(t, t0);
}

void KMutex::lock_handoff(Task& t, double t0) {
  const bool holding = !primary_ && t.holds_lock; // a module_mutex holder waits for this lock
  const bool spin = params_.adaptive_spin && owner_ && owner_->on_cpu;
  waiters_.push_back(&t); // unlock() makes the head the owner and releases its t.wake once
  spinning_[t.id] = spin;
  if (spin) {
    t.waiting_on = this;
    cpu_.spin_begin(t, id_); // a simcall: the hand-over may already happen here; the token waits
    t.wake().acquire();
    cpu_.spin_end(t);
    if (holding)
      stats_.waited_holding_primary_s += clock() - t0;
  } else {
    t.waiting_on = this;
    cpu_.block(t);
    rec_.set_state(t.id, State::lock_wait, t0, t.core, t.module, t.step, id_);
    t.wake().acquire(); // at the hand-over plus the wake-up latency (unlock: post_at)
  }
  t.waiting_on = nullptr;
  // unlock() already made us the owner at granted_at_
  if (primary_)
    t.holds_lock = true;
  const double wait = granted_at_[t.id] - t0;
  LoadRecord* load = load_of(t); // re-read: the records may have moved while we slept
  stats_.wait_total += wait;
  stats_.wait_max = std::max(stats_.wait_max, wait);
  contended_wait(wait);
  if (load)
    load->lock_wait += wait;
  if (!spin) { // the wake-up latency (now over), then a CPU, while already owning the lock
    if (params_.wakeup_us > 0) {
      rec_.set_state(t.id, State::runnable_locked, granted_at_[t.id], t.core, t.module, t.step);
      stats_.handoff_wakeup_s += params_.wakeup_us * 1e-6;
    }
    wake_cpu(t, holding);
  }
  handed_over(t);
}

void KMutex::handed_over(const Task& t) {
  Waker& w = woken_by_[t.id];
  if (w.from >= 0 && primary_ && rec_.keeps_intervals())
    rec_.handovers.push_back({static_cast<std::uint32_t>(w.from), t.id, w.at, clock()});
  w.from = -1;
}

void KMutex::lock_steal(Task& t, double t0) {
  // The wake-up protocol (set_current_state() before schedule() in the kernel): woken_[id] is 0
  // while unlock() may post a wake-up to this task and 1 once it has posted one. It is cleared
  // before the first simcall that can let another actor run (block, spin_begin), so an unlock
  // at any later instant posts exactly one token on t.wake, and every token is consumed here.
  // A task that is awake (woken_ = 1) is not woken twice, as wake_up_process() on a running
  // task is a no-op. Taking the lock (owner_ = &t) happens in the same atomic step as the
  // check that it is free.
  const bool holding = !primary_ && t.holds_lock; // a module_mutex holder waits for this lock
  const bool spin = params_.adaptive_spin && owner_ && owner_->on_cpu;
  waiters_.push_back(&t); // keeps its place until it gets the lock
  spinning_[t.id] = spin;
  if (spin) { // spin on our CPU until the lock is free (the 2.6.30 spinner)
    t.waiting_on = this;
    woken_[t.id] = 0;
    cpu_.spin_begin(t, id_);
    while (owner_ != nullptr) {
      t.wake().acquire(); // an unlock woke us (spinners are queued like sleepers)
      woken_[t.id] = 0;
    }
    const bool pending = woken_[t.id] != 0; // woken while we were not waiting yet
    take(t, t0);
    if (pending)
      t.wake().acquire(); // consume it: nobody else uses that token
    cpu_.spin_end(t);
    if (holding)
      stats_.waited_holding_primary_s += clock() - t0;
    return;
  }
  while (true) {
    t.waiting_on = this;
    woken_[t.id] = 0;
    waiting_since_[t.id] = clock();
    cpu_.block(t);
    rec_.set_state(t.id, State::lock_wait, clock(), t.core, t.module, t.step, id_);
    t.wake().acquire(); // unlock() sets woken_ = 1 and posts one token, due after the wake-up latency
    if (params_.wakeup_us > 0) // runnable since the wake-up
      rec_.set_state(t.id, State::runnable, woken_by_[t.id].at, t.core, t.module, t.step);
    wake_cpu(t, holding);
    if (owner_ == nullptr)
      break; // retry succeeds
    XBT_VERB("%s: woken but %s was taken by %s; sleeps again", rec_.tasks[t.id].name.c_str(), name_.c_str(),
              owner_name().c_str());
  }
  take(t, t0);
}

/// Stealing discipline: the lock is free; take it and leave the queue, in one atomic step.
void KMutex::take(Task& t, double t0) {
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &t));
  t.waiting_on = nullptr;
  acquired(t, t0, clock());
  contended_wait(clock() - t0);
  handed_over(t);
}

void KMutex::post_at(Sem& sem, double date) {
  // One token on `sem` at `date` (>= now), from the runtime's timers: the waker goes on at
  // once, and the woken task needs no timed wait of its own for its wake-up latency (two
  // simcalls fewer per wake-up with actors; issue 12).
  cpu_.runtime().timer_set(date, [&sem] { sem.release(); }); // Tasks outlive the run
}

void KMutex::wake(Task& w, double now) {
  if (spinning_[w.id] || params_.wakeup_us <= 0)
    w.wake().release(); // a spinner sees the lock free at once
  else
    post_at(w.wake(), now + params_.wakeup_us * 1e-6);
}

void KMutex::unlock(Task& t) {
  const double now = clock();
  const double hold = now - hold_since_;
  stats_.hold_total += hold;
  stats_.hold_max = std::max(stats_.hold_max, hold);
  stats_.hold_min = releases_++ ? std::min(stats_.hold_min, hold) : hold;
  if (LoadRecord* load = load_of(t))
    load->lock_hold += hold;
  if (primary_)
    t.holds_lock = false;
  owner_ = nullptr;
  if (params_.handoff) {
    if (!waiters_.empty()) { // ownership passes to the first waiter, who is then woken
      owner_ = waiters_.front();
      waiters_.pop_front();
      granted_at_[owner_->id] = now;
      woken_by_[owner_->id] = {static_cast<long>(t.id), now};
      hold_since_ = now;
      wake(*owner_, now);
    }
    return;
  }
  if (!waiters_.empty()) { // wake_up_process(first waiter); a pending wake-up is not doubled
    Task* w = waiters_.front();
    if (!woken_[w->id]) {
      woken_[w->id] = 1;
      woken_by_[w->id] = {static_cast<long>(t.id), now};
      wake(*w, now);
    }
  }
}

} // namespace kmodsim::sim
