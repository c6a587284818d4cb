// kmodsim replay (replay.hpp): the boot program on OS threads and real cores.
#include "replay.hpp"

#include <kmodsim/analytic.hpp>

#include <fmt/format.h>

#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace kmodsim::sim {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool tl_holding = false; ///< this thread's process holds module_mutex

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// The busy loop: n rounds of a multiply-add the compiler cannot drop.
std::uint64_t spin(std::uint64_t n, std::uint64_t x) {
  for (std::uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    asm volatile("" : "+r"(x));
  }
  return x;
}

/// Rounds of spin() per microsecond of this core's CPU time: the fastest of several timed
/// batches of about 10 ms (the one least disturbed).
double calibrate_spin() {
  std::uint64_t n = 1 << 16, x = 1;
  double per_us = 0;
  for (int i = 0; i < 40 && per_us == 0; ++i) { // grow the batch to about 10 ms
    const double t0 = thread_cpu_s();
    x = spin(n, x);
    const double dt = thread_cpu_s() - t0;
    if (dt > 0.01)
      per_us = static_cast<double>(n) / (dt * 1e6);
    else
      n *= 2;
  }
  for (int i = 0; i < 7; ++i) {
    const double t0 = thread_cpu_s();
    x = spin(n, x);
    const double dt = thread_cpu_s() - t0;
    per_us = std::max(per_us, static_cast<double>(n) / (dt * 1e6));
  }
  asm volatile("" : : "r"(x)); // the result is used
  return per_us;
}

/// Time runnable but not running, from /proc/self/task/<tid>/schedstat (0 when absent).
double runqueue_wait_s() {
  std::ifstream f(fmt::format("/proc/self/task/{}/schedstat", static_cast<long>(::syscall(SYS_gettid))));
  double run_ns = 0, wait_ns = 0;
  if (f >> run_ns >> wait_ns)
    return wait_ns * 1e-9;
  return 0;
}

struct RProc : Proc {
  std::mutex m;
  std::condition_variable cv;
  int tokens = 0; ///< post()s not yet consumed by wait()
};

class Replay : public Platform {
public:
  Replay(const Scenario& s, Results& r, ReplayInfo& info, const ReplayOptions& opt)
      : sc_(s), res_(r), info_(info), opt_(opt), slots_(s.userspace.udev.children_max) {
    locks_.emplace_back().handoff = s.kernel.mutex.handoff;
    for (const auto& l : s.kernel.locks)
      locks_.emplace_back().handoff = l.params.handoff;
  }

  void run();

  // Platform
  double now() override { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  Proc& new_proc(const std::string& /*name*/, long /*uevent*/) override { return procs_.emplace_back(); }
  void spawn(Proc& /*p*/, std::function<void()> body) override { start_thread(std::move(body)); }
  void cpu_wake(Proc& p) override {
    progress_++;
    res_.rec.set_state(p.id, p.module ? (p.holds_lock ? State::kernel_locked : State::kernel) : State::user, now(),
                       -1, p.module, p.step);
  }
  void cpu_block(Proc& /*p*/) override { progress_++; }
  void cpu_run(Proc& p, double us, Mode mode) override;
  void preempt_point(Proc& /*p*/) override { progress_++; }
  void lock(Proc& p, std::size_t id) override;
  void unlock(Proc& p, std::size_t id) override;
  void sleep_for(Proc& p, double seconds) override;
  void disk_read(Proc& p, std::uint64_t bytes) override;
  bool wait(Proc& p, double timeout_s) override;
  void post(Proc& p) override {
    RProc& t = static_cast<RProc&>(p);
    {
      std::lock_guard<std::mutex> l(t.m);
      t.tokens++;
    }
    t.cv.notify_one();
  }
  bool slot_would_block() override {
    std::lock_guard<std::mutex> l(slot_m_);
    return slots_ == 0;
  }
  void slot_acquire() override;
  void slot_release() override {
    {
      std::lock_guard<std::mutex> l(slot_m_);
      slots_++;
    }
    slot_cv_.notify_one();
  }

private:
  void gil_lock() {
    const auto t0 = Clock::now();
    gil_.lock();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    gil_wait_s_ += dt;
    if (tl_holding) // a replay artefact inside the critical section: it lengthens the hold
      gil_wait_holding_s_ += dt;
  }
  void start_thread(std::function<void()> body);
  void fail(const std::string& msg) {
    std::lock_guard<std::mutex> l(done_m_);
    if (error_.empty())
      error_ = msg;
    done_cv_.notify_all();
  }
  LoadRecord* load_of(const Proc& p) {
    return p.load >= 0 ? &res_.rec.loads[static_cast<size_t>(p.load)] : nullptr;
  }

  const Scenario& sc_;
  Results& res_;
  ReplayInfo& info_;
  const ReplayOptions& opt_;
  Clock::time_point t0_;
  std::mutex gil_; ///< the program lock: held while program code runs
  double gil_wait_s_ = 0, gil_wait_holding_s_ = 0;
  std::deque<RProc> procs_;
  // a kernel lock: a pthread mutex (stealing) or a FIFO ticket lock (handoff; and spinlocks, whose
  // waiters sleep here instead of spinning); module_mutex is id 0
  struct RLock {
    bool handoff = false;
    std::mutex kmu;
    std::mutex tk_m;
    std::condition_variable tk_cv;
    std::uint64_t tk_next = 0, tk_serving = 0;
    double hold_since = 0;
    const Proc* owner = nullptr;
    long released_by = -1; ///< module_mutex: the last unlock's process id, and when
    double released_at = 0;
  };
  std::deque<RLock> locks_;
  // udevd's children_max
  std::mutex slot_m_;
  std::condition_variable slot_cv_;
  long slots_;
  // the disk: processor sharing of read_mbps among the readers in flight
  std::mutex disk_m_;
  std::condition_variable disk_cv_;
  std::vector<double*> readers_; ///< bytes left of each reader in flight
  double disk_last_ = 0;
  // completion, errors, deadlock detection
  std::mutex done_m_;
  std::condition_variable done_cv_;
  std::string error_;
  std::atomic<long> alive_{0}, blocked_{0}; ///< threads running; of them, blocked without a timeout
  std::atomic<std::uint64_t> progress_{0};
  double busy_err_sum_ = 0;
  double sleep_over_sum_ = 0;
  double cpu_s_ = 0, runq_s_ = 0;
  std::uint64_t sink_ = 1;
  std::uint64_t cpu_runs_ = 0;
};

void Replay::start_thread(std::function<void()> body) {
  alive_++;
  info_.threads++;
  std::thread([this, body = std::move(body)] {
    gil_lock();
    try {
      body();
    } catch (const std::exception& e) {
      fail(e.what());
    }
    gil_.unlock();
    const double cpu = thread_cpu_s(), rq = runqueue_wait_s();
    gil_lock();
    cpu_s_ += cpu;
    runq_s_ += rq;
    progress_++;
    gil_.unlock();
    if (--alive_ == 0) {
      std::lock_guard<std::mutex> l(done_m_);
      done_cv_.notify_all();
    }
  }).detach();
}

void Replay::cpu_run(Proc& p, double us, Mode mode) {
  progress_++;
  res_.rec.set_state(p.id, mode == Mode::user ? State::user : p.holds_lock ? State::kernel_locked : State::kernel,
                     now(), -1, p.module, p.step);
  if (us <= 0)
    return;
  const auto n = static_cast<std::uint64_t>(std::llround(us / sc_.machine.speed * info_.iters_per_us));
  const bool sample = (cpu_runs_++ % 64) == 0 && us >= 20;
  std::uint64_t x = sink_;
  gil_.unlock();
  const double c0 = sample ? thread_cpu_s() : 0;
  x = spin(n, x);
  const double c1 = sample ? thread_cpu_s() : 0;
  gil_lock();
  sink_ = x;
  if (sample) {
    busy_err_sum_ += (c1 - c0) / (us / sc_.machine.speed * 1e-6) - 1;
    info_.busy_samples++;
  }
}

void Replay::lock(Proc& p, std::size_t id) {
  progress_++;
  RLock& k = locks_.at(id);
  const bool primary = id == 0; // the figures are module_mutex's
  const double t0 = now();
  if (primary) {
    res_.lock_acquisitions++;
    if (LoadRecord* l = load_of(p))
      l->acquisitions++;
  }
  bool got;
  if (k.handoff) {
    std::lock_guard<std::mutex> l(k.tk_m);
    got = k.tk_next == k.tk_serving;
    if (got)
      k.tk_next++;
  } else {
    got = k.kmu.try_lock();
  }
  if (!got) {
    if (primary) {
      res_.lock_contentions++;
      if (LoadRecord* l = load_of(p))
        l->contentions++;
      res_.rec.set_state(p.id, State::lock_wait, t0, -1, p.module, p.step);
    }
    p.waiting_for = sc_.kernel.lock_name(id) + " (held by " +
                    (k.owner ? res_.rec.tasks[k.owner->id].name : std::string("?")) + ")";
    blocked_++;
    gil_.unlock();
    if (k.handoff) {
      std::unique_lock<std::mutex> l(k.tk_m);
      const std::uint64_t ticket = k.tk_next++;
      k.tk_cv.wait(l, [&] { return k.tk_serving == ticket; });
    } else {
      k.kmu.lock();
    }
    blocked_--;
    gil_lock();
    p.waiting_for.clear();
  }
  const double at = now();
  k.owner = &p;
  k.hold_since = at;
  if (!primary)
    return;
  p.holds_lock = true;
  tl_holding = true;
  if (!got) { // as the simulator counts: the wait of a contended acquisition only (an uncontended
               // one's own overhead is no wait)
    res_.lock_wait_total += at - t0;
    res_.lock_wait_max = std::max(res_.lock_wait_max, at - t0);
    if (LoadRecord* l = load_of(p))
      l->lock_wait += at - t0;
    // the hand-over trace.json draws as an arrow: from the unlock that let this waiter in (the
    // last one before it got the lock; the program lock orders them)
    if (res_.rec.keeps_intervals() && k.released_by >= 0)
      res_.rec.handovers.push_back({static_cast<std::uint32_t>(k.released_by), p.id, k.released_at, at});
  }
  res_.rec.set_state(p.id, State::kernel_locked, at, -1, p.module, p.step);
}

void Replay::unlock(Proc& p, std::size_t id) {
  progress_++;
  RLock& k = locks_.at(id);
  if (id == 0) {
    const double at = now(), hold = at - k.hold_since;
    res_.lock_hold_total += hold;
    res_.lock_hold_max = std::max(res_.lock_hold_max, hold);
    if (LoadRecord* l = load_of(p))
      l->lock_hold += hold;
    p.holds_lock = false;
    tl_holding = false;
    res_.rec.set_state(p.id, p.module ? State::kernel : State::user, at, -1, p.module, p.step);
    k.released_by = static_cast<long>(p.id);
    k.released_at = at;
  }
  k.owner = nullptr;
  if (k.handoff) {
    {
      std::lock_guard<std::mutex> l(k.tk_m);
      k.tk_serving++;
    }
    k.tk_cv.notify_all();
  } else {
    k.kmu.unlock();
  }
}

void Replay::sleep_for(Proc& /*p*/, double seconds) {
  progress_++;
  gil_.unlock();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double over = std::chrono::duration<double>(Clock::now() - t0).count() - seconds;
  gil_lock();
  sleep_over_sum_ += over;
  info_.sleeps++;
  info_.sleep_overshoot_max_us = std::max(info_.sleep_overshoot_max_us, over * 1e6);
}

void Replay::disk_read(Proc& /*p*/, std::uint64_t bytes) {
  progress_++;
  const double rate = sc_.machine.disk.read_mbps * 1e6; // bytes per second, shared by the readers
  gil_.unlock();
  {
    std::unique_lock<std::mutex> l(disk_m_);
    auto advance = [&] { // every reader in flight got rate / n since the last change
      const double t = now();
      if (!readers_.empty()) {
        const double done = (t - disk_last_) * rate / static_cast<double>(readers_.size());
        for (double* left : readers_)
          *left -= done;
      }
      disk_last_ = t;
    };
    advance();
    double left = static_cast<double>(bytes);
    readers_.push_back(&left);
    disk_cv_.notify_all(); // the others now get a smaller share: they recompute their end
    while (true) {
      const double eta = left * static_cast<double>(readers_.size()) / rate;
      if (left <= 0.5)
        break;
      disk_cv_.wait_for(l, std::chrono::duration<double>(eta));
      advance();
    }
    readers_.erase(std::find(readers_.begin(), readers_.end(), &left));
    disk_cv_.notify_all();
  }
  gil_lock();
}

bool Replay::wait(Proc& p, double timeout_s) {
  progress_++;
  RProc& t = static_cast<RProc&>(p);
  const bool forever = timeout_s <= 0;
  if (forever)
    blocked_++;
  gil_.unlock();
  bool woken;
  {
    std::unique_lock<std::mutex> l(t.m);
    if (forever) {
      t.cv.wait(l, [&] { return t.tokens > 0; });
      woken = true;
    } else {
      woken = t.cv.wait_for(l, std::chrono::duration<double>(timeout_s), [&] { return t.tokens > 0; });
    }
    if (woken)
      t.tokens--;
  }
  if (forever)
    blocked_--;
  gil_lock();
  return woken;
}

void Replay::slot_acquire() {
  progress_++;
  blocked_++;
  gil_.unlock();
  {
    std::unique_lock<std::mutex> l(slot_m_);
    slot_cv_.wait(l, [&] { return slots_ > 0; });
    slots_--;
  }
  blocked_--;
  gil_lock();
}

void Replay::run() {
  BootProgram prog(sc_, *this, res_.rec, opt_.max_time_s, opt_.max_steps);
  info_.iters_per_us = calibrate_spin();
  t0_ = Clock::now();
  gil_lock();
  start_thread([&prog] { prog.udevd(); });
  gil_.unlock();
  // Wait for the last thread; a deadlock is every live thread blocked without a timeout and
  // no progress over two looks 100 ms apart.
  std::uint64_t last_progress = ~0ull;
  int still = 0;
  while (true) {
    std::unique_lock<std::mutex> l(done_m_);
    done_cv_.wait_for(l, std::chrono::milliseconds(100));
    if (!error_.empty())
      throw SimulationError(error_);
    if (alive_ == 0)
      break;
    if (now() > opt_.max_time_s)
      throw SimulationError(fmt::format("the replay ran past its time guard of {:g} s (--max-sim-time)",
                                        opt_.max_time_s));
    const std::uint64_t pr = progress_;
    if (blocked_ == alive_ && pr == last_progress) {
      if (++still >= 2) {
        std::lock_guard<std::mutex> g(gil_);
        throw SimulationError("replay deadlocked: " + prog.unfinished());
      }
    } else {
      still = 0;
    }
    last_progress = pr;
  }
  std::lock_guard<std::mutex> g(gil_);
  if (const std::string stuck = prog.unfinished(); !stuck.empty())
    throw SimulationError("replay ended with " + stuck);
  const double chain = tally(res_, prog);
  res_.cpu_busy_s = cpu_s_;
  res_.cpu_work_s = cpu_s_;
  res_.lower_bound_s = makespan_lower_bound(res_.locked_work_s, res_.cpu_work_s, sc_.machine.cores, chain);
  info_.busy_error_mean = info_.busy_samples ? busy_err_sum_ / static_cast<double>(info_.busy_samples) : 0;
  info_.sleep_overshoot_mean_us = info_.sleeps ? sleep_over_sum_ / static_cast<double>(info_.sleeps) * 1e6 : 0;
  info_.program_lock_wait_s = gil_wait_s_;
  info_.program_lock_wait_holding_s = gil_wait_holding_s_;
  info_.runqueue_wait_s = runq_s_;
}

} // namespace

nlohmann::ordered_json ReplayInfo::to_json() const {
  auto r6 = [](double v) { return std::round(v * 1e6) / 1e6; };
  return {{"cpus", cpus},
          {"cpus_online", cpus_online},
          {"threads", threads},
          {"spin_rounds_per_us", r6(iters_per_us)},
          {"busy_loop_error_mean", r6(busy_error_mean)},
          {"busy_loop_samples", busy_samples},
          {"sleep_overshoot_mean_us", r6(sleep_overshoot_mean_us)},
          {"sleep_overshoot_max_us", r6(sleep_overshoot_max_us)},
          {"sleeps", sleeps},
          {"program_lock_wait_s", r6(program_lock_wait_s)},
          {"program_lock_wait_holding_s", r6(program_lock_wait_holding_s)},
          {"runqueue_wait_s", r6(runqueue_wait_s)}};
}

Results replay(const Scenario& s, const ReplayOptions& opt, ReplayInfo& info) {
  // What this machine can replay faithfully
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0)
    throw ReplayRefused("cannot read this process's CPU affinity");
  std::vector<int> allowed;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mask))
      allowed.push_back(c);
  info.cpus_online = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (s.machine.cores > static_cast<int>(allowed.size()))
    throw ReplayRefused(fmt::format("machine.cores = {}, but this process may run on {} core(s) ({} online): a "
                                    "replay needs a real core per simulated core (--cores {} or fewer)",
                                    s.machine.cores, allowed.size(), info.cpus_online, allowed.size()));
  const std::size_t procs = s.workload.uevents.size() + 1;
  rlimit rl{};
  std::size_t cap = opt.max_threads;
  if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    cap = std::min<std::size_t>(cap, rl.rlim_cur / 2);
  if (procs > cap)
    throw ReplayRefused(fmt::format("{} processes (uevents + udevd) are more threads than the replay starts "
                                    "(at most {}: RLIMIT_NPROC and the replay's own cap); replay a smaller workload",
                                    procs, cap));
  cpu_set_t pin;
  CPU_ZERO(&pin);
  for (int i = 0; i < s.machine.cores; ++i) {
    CPU_SET(allowed[static_cast<size_t>(i)], &pin);
    info.cpus.push_back(allowed[static_cast<size_t>(i)]);
  }
  if (sched_setaffinity(0, sizeof pin, &pin) != 0)
    throw ReplayRefused("cannot pin the replay to its cores (sched_setaffinity)");
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); // 1 ns: sleeps end when asked, not up to 50 us late

  // On the heap, and left there when the replay fails: threads may still be blocked on its
  // condition variables (a deadlock) or running (the time guard), and the process is about to
  // exit; destroying them under the threads would hang or crash instead of reporting.
  struct State {
    Results r;
    std::unique_ptr<Replay> rp;
  };
  auto* st = new State;
  st->r.rec = Recorder(s.outputs.timeline || s.outputs.trace);
  st->rp = std::make_unique<Replay>(s, st->r, info, opt);
  st->rp->run(); // throws: *st is deliberately leaked
  sched_setaffinity(0, sizeof mask, &mask);
  Results r = std::move(st->r);
  delete st;
  return r;
}

} // namespace kmodsim::sim
