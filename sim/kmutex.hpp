// module_mutex: a FIFO sleeping mutex on SimGrid synchronisation, in one of two disciplines
// (kernel.mutex.handoff):
//  - handoff: false (Linux 2.6.x-4.9, kernel/mutex.c): unlock frees the lock and wakes the
//    first waiter; the woken task pays the wake-up latency, must get a CPU, then retries. A
//    task that runs meanwhile may take the lock first ("stealing"); the woken waiter keeps its
//    place at the head of the queue and sleeps again.
//  - handoff: true (Linux 4.10+ handoff to a starving waiter, and the semantics of
//    s4u::Mutex): unlock gives ownership to the first waiter, which holds the lock during its
//    wake-up latency and while it waits for a CPU.
// Both disciplines keep the owner and the FIFO queue here and block a waiter on its private
// s4u::Semaphore (Task::wake): the bookkeeping and the hand-over happen in one atomic step of
// actor code, so the queue SimGrid sees can never disagree with the one we record.
// A sleeping waiter leaves its CPU. With adaptive spinning (2.6.30+) a waiter whose owner is
// on a CPU when it arrives spins on its own CPU for the whole wait instead (the owner is not
// re-checked mid-wait: a documented approximation).
#pragma once

#include "cpu.hpp"
#include <kmodsim/recorder.hpp>
#include "task.hpp"

#include <deque>
#include <map>
#include <string>
#include <vector>

namespace kmodsim::sim {

struct LockStats {
  std::int64_t acquisitions = 0, contentions = 0;
  double wait_total = 0, wait_max = 0, hold_total = 0, hold_max = 0;
  double handoff_wakeup_s = 0; ///< handoff: the new owner's wake-up latency, lock held
  double contended_wait_min = 0, hold_min = 0; ///< lock_stat's waittime-min (contended) and holdtime-min
  std::map<std::uint32_t, std::int64_t> contentions_by_step; ///< recorder step id -> contentions there
  std::vector<std::uint32_t> contention_order; ///< those step ids in the order of their first contention
  /// a lock other than module_mutex: time its waiters held module_mutex while they waited for
  /// it (spinning, asleep, or in the wake-up latency; not queued for a core, which the CPU
  /// model counts as the holder preempted)
  double waited_holding_primary_s = 0;
};

class KMutex : public WaitTarget {
public:
  /// `id` 0: module_mutex (primary), whose owner is Proc::holds_lock and whose figures go to
  /// the loads' records, the trace's hand-overs and lock_stat; i: kernel.locks[i - 1], as the
  /// recorder's Interval::lock names the lock a task waits for; `name` for deadlock reports.
  KMutex(CpuModel& cpu, Recorder& rec, const Kernel::Mutex& params, std::string name = "module_mutex",
         std::uint16_t id = 0);
  void lock(Task& t);
  void unlock(Task& t);
  const LockStats& stats() const { return stats_; }
  const Task* owner() const { return owner_; }
  /// "module_mutex (held by modprobe-3)", "(spinning, held by ...)": for deadlock reports.
  std::string describe(const Proc& waiter) const override;

private:
  void lock_handoff(Task& t, double t0);
  void lock_steal(Task& t, double t0);
  void acquired(Task& t, double t0, double at);
  void take(Task& t, double t0);
  LoadRecord* load_of(const Task& t); ///< never cached across a blocking call: loads may grow
  std::string owner_name() const;

  void wake_cpu(Task& t, bool holding); ///< cpu_.wake, the time before it counted as a wait while holding
  CpuModel& cpu_;
  Recorder& rec_;
  Kernel::Mutex params_;
  std::string name_;
  std::uint16_t id_;
  bool primary_;
  std::vector<double> waiting_since_; ///< per task id: since when its current wait is uncounted
  Task* owner_ = nullptr;
  std::deque<Task*> waiters_;
  double hold_since_ = 0;
  std::vector<double> granted_at_; // handoff: when unlock handed the lock over, per task id
  std::vector<char> woken_;        // steal: a wake-up is pending for this task id
  std::vector<char> spinning_;     // this task id waits spinning (adaptive_spin), not asleep
  /// Wakes waiter `w` (unlock at `now`): a sleeper's token arrives after the wake-up latency,
  /// which it spends runnable (the woken task's own timed wait before; the same instants).
  void wake(Task& w, double now);
  void post_at(Sem& sem, double date);
  struct Waker {
    long from = -1;
    double at = 0;
  };
  std::vector<Waker> woken_by_;
  std::int64_t contended_waits_ = 0, releases_ = 0; // the last unlock that woke (or, handoff, granted) this task id
  void contended_wait(double wait) {
    stats_.contended_wait_min = contended_waits_++ ? std::min(stats_.contended_wait_min, wait) : wait;
  }
  void handed_over(const Task& t);
  LockStats stats_;
};

} // namespace kmodsim::sim
