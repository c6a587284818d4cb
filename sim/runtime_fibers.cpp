// The fibers engine (runtime.hpp): every process a Boost.Context fiber on a 64 KiB stack of
// its own, run from SimGrid kernel timers. Why: a SimGrid actor costs a simcall (a context
// switch to the engine and back, an activity object, a pass of the engine's models) at every
// timed wait and every semaphore operation; a fiber's wait is a heap push and one switch
// (scripts/bench/simgrid_queue.cpp measured the floors; issue 12).
//
// Order of events: the runtime's queue holds timed wake-ups and timer callbacks by (date,
// arrival order). When SimGrid's clock reaches the earliest date (one kernel timer armed at
// it), the runtime takes every event due: the callbacks first, then the wake-ups (each in
// arrival order), as SimGrid runs its timers before it wakes the actors whose waits ended;
// then it runs the ready fibers first come, first served, each until it blocks; what that
// makes due at the same instant (a zero wait, a release) is taken in the same way before the
// clock moves on. As an actor does at every simcall, a fiber yields at every
// semaphore operation and every spawn: it goes to the back of the ready queue, behind whoever
// its call woke or started. That is the order SimGrid runs actors in (the woken actor runs
// before the one that released it), which the hand-computed e2e tests pin down; a timer's
// callback, which runs outside every fiber, yields nothing.
#include "runtime.hpp"

// Under AddressSanitizer, fibers switch with ucontext and tell ASan about each switch (Boost's
// BOOST_USE_ASAN annotations exist for that implementation only); otherwise the fast fcontext.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMODSIM_FIBERS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(KMODSIM_FIBERS_ASAN)
#define BOOST_USE_ASAN 1
#define BOOST_USE_UCONTEXT 1
#endif
#include <boost/context/fiber.hpp>
#include <simgrid/kernel/Timer.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <sys/mman.h>
#include <deque>
#include <new>
#include <queue>
#include <vector>

#if defined(BOOST_USE_UCONTEXT)
// Debian's libboost_context is built for fcontext, so the ucontext flavour's one out-of-line
// member is missing from it: the running context of this thread, at first the thread itself.
namespace boost::context::detail {
fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local fiber_activation_record thread_record; // getcontext() of the thread
  thread_local fiber_activation_record* running = &thread_record;
  return running;
}
} // namespace boost::context::detail
#endif

namespace kmodsim::sim {
namespace {

namespace bctx = boost::context;

class FiberSem;

struct Fiber {
  bctx::fiber self;          ///< its suspended context; empty while it runs and once it ended
  std::function<void()> body;
  std::uint64_t gen = 0;     ///< bumped at every wake-up: a timed event of an earlier wait is stale
  FiberSem* waiting = nullptr; ///< the semaphore it waits on, while it does
  Fiber* next_waiter = nullptr; ///< behind it in that semaphore's queue
  bool timed_out = false;
};

/// 64 KiB stacks, as the actors engine's (simulation.cpp), carved from 4 MiB mappings and
/// kept for reuse: a process that ends hands its stack to the next one, warm. A mapping's pages
/// are faulted in as touched, so a stack costs what its process used of it; one mapping for 64
/// stacks saves an mmap, a munmap and a TLB flush per process (the 10,000-loader queue: 10,000
/// live at once).
class StackPool {
public:
  static constexpr std::size_t kSize = 64 * 1024;
  static constexpr std::size_t kPerChunk = 64;
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool() {
    for (void* c : chunks_)
      ::munmap(c, kSize * kPerChunk);
  }
  bctx::stack_context allocate() {
    if (free_.empty()) {
      void* c = ::mmap(nullptr, kSize * kPerChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
      if (c == MAP_FAILED)
        throw std::bad_alloc();
      chunks_.push_back(c);
      for (std::size_t i = kPerChunk; i-- > 0;) // the lowest first
        free_.push_back(static_cast<char*>(c) + i * kSize);
    }
    void* p = free_.back();
    free_.pop_back();
    bctx::stack_context sc;
    sc.size = kSize;
    sc.sp = static_cast<char*>(p) + kSize;
    return sc;
  }
  void deallocate(bctx::stack_context& sc) noexcept {
    try {
      free_.push_back(static_cast<char*>(sc.sp) - kSize);
    } catch (...) { // out of memory for the list: the stack stays mapped, unused, until the end
    }
  }

private:
  std::vector<void*> chunks_;
  std::vector<void*> free_;
};

/// What a fiber keeps to give its stack back (Boost.Context copies it into the fiber).
struct PoolAlloc {
  StackPool* pool;
  bctx::stack_context allocate() { return pool->allocate(); }
  void deallocate(bctx::stack_context& sc) noexcept { pool->deallocate(sc); }
};

/// A spare object if there is one, else a new one in `all` (a deque: addresses stay put).
template <class T> T* reuse(std::vector<T*>& spare, std::deque<T>& all) {
  if (spare.empty())
    return &all.emplace_back();
  T* x = spare.back();
  spare.pop_back();
  return x;
}

struct TimerRec {
  std::function<void()> cb;
  bool live = false;
};

struct Event {
  double date;
  std::uint64_t seq;
  Fiber* fiber;      ///< a timed wake-up of this fiber (timer == nullptr)
  std::uint64_t gen; ///< ... valid while fiber->gen is still this
  TimerRec* timer;   ///< or a timer callback
};
struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.date != b.date ? a.date > b.date : a.seq > b.seq;
  }
};

class FiberRuntime final : public Runtime {
public:
  FiberRuntime() = default;
  ~FiberRuntime() override { finish(); }

  void sleep_for(double seconds) override {
    push({now() + seconds, 0, cur_, cur_->gen, nullptr});
    block();
  }
  std::unique_ptr<Sem> make_sem() override;
  TimerHandle* timer_set(double date, std::function<void()> cb) override {
    TimerRec* r = reuse(spare_timers_, timers_);
    r->cb = std::move(cb);
    r->live = true;
    push({std::max(date, now()), 0, nullptr, 0, r});
    return reinterpret_cast<TimerHandle*>(r);
  }
  void timer_remove(TimerHandle* t) override {
    TimerRec* r = reinterpret_cast<TimerRec*>(t);
    r->live = false;
    r->cb = nullptr; // its event is dropped when due; the record is reused then
  }
  void spawn(const std::string& name, std::function<void()> body, bool daemon) override;
  void stop_all() override {
    stopped_ = true;
    ready_.clear();
  }
  void run(simgrid::s4u::Engine& e) override {
    arm();
    e.run();
  }
  void finish() override;

  // for FiberSem
  Fiber* current() const { return cur_; }
  void block() { sched_ = std::move(sched_).resume(); }
  void wake(Fiber* f) {
    f->gen++;
    ready_.push_back(f);
  }
  void wake_at(double date, Fiber* f) { push({date, 0, f, f->gen, nullptr}); }
  /// A simcall's scheduling point: the running fiber (if any) goes behind the ready ones.
  void yield() {
    if (cur_ == nullptr)
      return;
    wake(cur_);
    block();
  }

private:
  void push(Event e) {
    e.seq = seq_++;
    heap_.push(e);
  }
  void arm();          ///< a SimGrid timer at the earliest live event's date
  void fire(double date);
  void dispatch(const Event& e);
  void resume(Fiber* f);

  StackPool pool_; // first: destroyed after every fiber
  bctx::fiber sched_; ///< inside a fiber: the scheduler's context to switch back to
  Fiber* cur_ = nullptr;
  std::deque<Fiber> fibers_; // stable addresses
  std::vector<Fiber*> spare_; // ended; reused by spawn
  std::deque<Fiber*> ready_;
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::vector<Event> due_; ///< fire(): the events of one date
  std::deque<TimerRec> timers_;
  std::vector<TimerRec*> spare_timers_;
  std::uint64_t seq_ = 0;
  bool stopped_ = false;
};

class FiberSem final : public Sem {
public:
  explicit FiberSem(FiberRuntime& rt) : rt_(rt) {}
  void acquire() override {
    if (value_ > 0) {
      --value_;
      rt_.yield();
      return;
    }
    wait();
  }
  bool acquire_timeout(double seconds) override {
    if (value_ > 0) {
      --value_;
      rt_.yield();
      return false;
    }
    rt_.wake_at(Runtime::now() + seconds, rt_.current());
    return wait();
  }
  void release() override {
    if (head_ == nullptr) {
      ++value_;
    } else {
      Fiber* f = head_;
      unlink(nullptr, f);
      rt_.wake(f); // its timeout, if any, is stale from now on
    }
    rt_.yield();
  }
  /// A waiter's timeout came first.
  void time_out(Fiber* f) {
    Fiber* before = nullptr;
    for (Fiber* w = head_; w != f; w = w->next_waiter)
      before = w;
    unlink(before, f);
    f->timed_out = true;
  }

private:
  bool wait() {
    Fiber* f = rt_.current();
    f->waiting = this;
    f->timed_out = false;
    f->next_waiter = nullptr;
    (tail_ != nullptr ? tail_->next_waiter : head_) = f;
    tail_ = f;
    rt_.block();
    return f->timed_out;
  }
  void unlink(Fiber* before, Fiber* f) {
    (before != nullptr ? before->next_waiter : head_) = f->next_waiter;
    if (tail_ == f)
      tail_ = before;
    f->next_waiter = nullptr;
    f->waiting = nullptr;
  }
  FiberRuntime& rt_;
  long value_ = 0;
  /// Waiters, first come first served, linked through the fibers (a fiber waits on one
  /// semaphore at a time): no allocation, where a std::deque allocated 576 bytes per semaphore
  /// and most of them (Task's) never hold more than one waiter.
  Fiber* head_ = nullptr;
  Fiber* tail_ = nullptr;
};

std::unique_ptr<Sem> FiberRuntime::make_sem() { return std::make_unique<FiberSem>(*this); }

void FiberRuntime::spawn(const std::string& /*name*/, std::function<void()> body, bool /*daemon*/) {
  // a daemon needs nothing special: the run ends when nothing is ready or due, and finish()
  // unwinds whoever still waits
  Fiber* f = reuse(spare_, fibers_);
  f->body = std::move(body);
  f->self = bctx::fiber(std::allocator_arg, PoolAlloc{&pool_}, [this, f](bctx::fiber&& sched) {
    sched_ = std::move(sched);
    f->body(); // the platform's bodies catch their exceptions (Sim::guarded)
    f->body = nullptr;
    return std::move(sched_);
  });
  f->gen++;
  ready_.push_back(f);
  yield();
}

void FiberRuntime::resume(Fiber* f) {
  cur_ = f;
  f->self = std::move(f->self).resume();
  cur_ = nullptr;
  if (!f->self) // it ended: its stack went back to the pool
    spare_.push_back(f);
}

void FiberRuntime::dispatch(const Event& e) {
  if (e.timer != nullptr) {
    TimerRec* r = e.timer;
    if (r->live) {
      r->live = false;
      auto cb = std::move(r->cb);
      r->cb = nullptr;
      cb();
    }
    spare_timers_.push_back(r);
    return;
  }
  Fiber* f = e.fiber;
  if (f->gen != e.gen)
    return; // woken otherwise since (a semaphore's token came before its timeout)
  if (f->waiting != nullptr)
    f->waiting->time_out(f);
  wake(f);
}

void FiberRuntime::fire(double date) {
  const double now = std::max(date, Runtime::now()); // SimGrid's clock is within an ulp of the date
  do {
    // SimGrid's order at one date: the timers' callbacks first, then the actors whose timed
    // waits ended (its engine runs Timer::execute_all before it wakes them)
    due_.clear();
    while (!heap_.empty() && heap_.top().date <= now) {
      due_.push_back(heap_.top());
      heap_.pop();
    }
    for (const Event& e : due_)
      if (e.timer != nullptr)
        dispatch(e);
    for (const Event& e : due_)
      if (e.timer == nullptr)
        dispatch(e);
    while (!ready_.empty() && !stopped_) {
      Fiber* f = ready_.front();
      ready_.pop_front();
      resume(f);
    }
  } while (!stopped_ && !heap_.empty() && heap_.top().date <= now);
  arm();
}

void FiberRuntime::arm() {
  if (stopped_)
    return;
  // drop stale heads: a timeout that lost to a token, a removed timer
  while (!heap_.empty()) {
    const Event& e = heap_.top();
    if (e.timer != nullptr ? e.timer->live : e.fiber->gen == e.gen)
      break;
    if (e.timer != nullptr)
      spare_timers_.push_back(e.timer);
    heap_.pop();
  }
  if (!ready_.empty()) { // spawned before run()
    simgrid::kernel::timer::Timer::set(Runtime::now(), [this] { fire(Runtime::now()); });
    return;
  }
  if (heap_.empty())
    return; // nothing due: the run is over (whoever still waits is stuck, or a daemon)
  const double date = heap_.top().date;
  simgrid::kernel::timer::Timer::set(date, [this, date] { fire(date); });
}

void FiberRuntime::finish() {
  stopped_ = true;
  ready_.clear();
  // Destroying a suspended fiber unwinds its stack (Boost.Context throws forced_unwind at its
  // switch point), so the objects on it are destroyed and its stack goes back to the pool.
  for (Fiber& f : fibers_)
    if (f.self) {
      bctx::fiber gone = std::move(f.self);
      (void)gone;
    }
}

} // namespace

std::unique_ptr<Runtime> make_fiber_runtime() { return std::make_unique<FiberRuntime>(); }

} // namespace kmodsim::sim
