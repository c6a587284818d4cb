// The actors engine: every process a SimGrid actor (runtime.hpp).
#include "runtime.hpp"

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <deque>
#include <stdexcept>
#include <vector>

namespace s4u = simgrid::s4u;

namespace kmodsim::sim {

const char* engine_name(EngineKind k) { return k == EngineKind::fibers ? "fibers" : "actors"; }

EngineKind engine_from_name(const std::string& name) {
  return name == engine_name(EngineKind::fibers) ? EngineKind::fibers : EngineKind::actors;
}

namespace {

class ActorSem final : public Sem {
public:
  ActorSem() : s_(s4u::Semaphore::create(0)) {}
  void acquire() override { s_->acquire(); }
  bool acquire_timeout(double seconds) override { return s_->acquire_timeout(seconds); }
  void release() override { s_->release(); }

private:
  s4u::SemaphorePtr s_;
};

class ActorRuntime final : public Runtime {
public:
  explicit ActorRuntime(s4u::Host* host) : host_(host) {}
  void sleep_for(double seconds) override { s4u::this_actor::sleep_for(seconds); }
  std::unique_ptr<Sem> make_sem() override { return std::make_unique<ActorSem>(); }
  TimerHandle* timer_set(double date, std::function<void()> cb) override {
    // A timer's callback runs in the engine's context, where a release is a plain call; setting
    // one from actor code is sound because kmodsim runs its actors one at a time.
    return reinterpret_cast<TimerHandle*>(simgrid::kernel::timer::Timer::set(date, std::move(cb)));
  }
  void timer_remove(TimerHandle* t) override { reinterpret_cast<simgrid::kernel::timer::Timer*>(t)->remove(); }
  void spawn(const std::string& name, std::function<void()> body, bool daemon) override;
  void expect(std::size_t to_come) override { to_come_ = to_come; }
  void stop_all() override { s4u::Actor::kill_all(); } // every other actor; the caller returns
  void run(s4u::Engine& e) override { e.run(); }

private:
  /// A pool of actors that run the processes' bodies (issue 12): creating and ending a SimGrid
  /// actor costs ~10 us (its stack zeroed, its context built and torn down), more than the
  /// whole simulation of a short modprobe. A process spawned at t starts at t either way: on a
  /// new actor, or on an idle one woken by a semaphore, both in the next scheduling round. A
  /// worker stays idle only while more processes are still to come than workers wait idle
  /// (udevd spawns one per uevent); otherwise it ends, as the process's own actor did (the
  /// 10,000-loader queue spawns all before any ends: idle workers would only hold memory).
  struct Worker {
    s4u::SemaphorePtr go; ///< created when the worker first waits idle
    std::function<void()> body;
    bool quit = false;
  };
  void work(Worker& w);
  void quit_idle_workers();
  s4u::Host* host_;
  std::deque<Worker> workers_; // stable addresses
  std::vector<Worker*> idle_;
  std::size_t running_ = 0; // bodies started and not yet returned (udevd's included)
  std::size_t to_come_ = 0; // processes still to be spawned
};

void ActorRuntime::spawn(const std::string& name, std::function<void()> body, bool daemon) {
  if (daemon) {
    s4u::Actor::create(name, host_, std::move(body))->daemonize();
    return;
  }
  running_++;
  if (to_come_ > 0)
    to_come_--;
  if (!idle_.empty()) {
    Worker* w = idle_.back(); // last idle first: its stack is the warmest
    idle_.pop_back();
    w->body = std::move(body);
    w->go->release();
    return;
  }
  Worker& w = workers_.emplace_back();
  w.body = std::move(body);
  s4u::Actor::create("worker-" + std::to_string(workers_.size()), host_, [this, &w] { work(w); });
}

void ActorRuntime::work(Worker& w) {
  while (true) {
    w.body();
    w.body = nullptr;
    if (--running_ == 0) { // nobody is left who could spawn a process: the run is over
      quit_idle_workers();
      return;
    }
    if (idle_.size() >= to_come_) // enough idle workers for every process still to come
      return;
    if (!w.go)
      w.go = s4u::Semaphore::create(0);
    idle_.push_back(&w);
    w.go->acquire();
    if (w.quit)
      return;
  }
}

void ActorRuntime::quit_idle_workers() {
  for (Worker* w : idle_) {
    w->quit = true;
    w->go->release();
  }
  idle_.clear();
}

} // namespace

std::unique_ptr<Runtime> make_fiber_runtime(); // runtime_fibers.cpp

std::unique_ptr<Runtime> Runtime::create(EngineKind k, s4u::Host* host) {
  if (k == EngineKind::fibers)
    return make_fiber_runtime();
  return std::make_unique<ActorRuntime>(host);
}

} // namespace kmodsim::sim
