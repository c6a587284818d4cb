#include "kmodsim/recorder.hpp"

#include <algorithm>

namespace kmodsim {

const char* to_string(State s) {
  static const char* names[] = {"user",      "kernel",    "kernel_locked", "runnable", "runnable_locked", "lock_wait",
                                "lock_spin", "io",        "sleep",         "dep_wait", "slot_wait",       "none"};
  return names[static_cast<int>(s)];
}

const char* to_string(Outcome o) {
  static const char* names[] = {"loaded",           "eexist",        "failed_already_loaded", "failed_unknown_symbol",
                                "failed_duplicate_exports", "failed_dep_timeout", "double_load",    "running", "failed_init", "failed_enomem"};
  return names[static_cast<int>(o)];
}

std::uint32_t Recorder::add_task(std::string name, long uevent, double now) {
  tasks.push_back({std::move(name), uevent, now, -1});
  open_.emplace_back();
  open_.back().since = now;
  return static_cast<std::uint32_t>(tasks.size() - 1);
}

std::uint32_t Recorder::step_id(const std::string& name) {
  auto it = std::find(step_names.begin(), step_names.end(), name);
  if (it != step_names.end())
    return static_cast<std::uint32_t>(it - step_names.begin());
  step_names.push_back(name);
  return static_cast<std::uint32_t>(step_names.size() - 1);
}

void Recorder::set_state(std::uint32_t task, State s, double now, int cpu, std::uint32_t module, std::uint32_t step,
                         std::uint16_t lock) {
  Open& o = open_[task];
  if (o.state == s && o.cpu == cpu && o.module == module && o.step == step && o.lock == lock)
    return; // same interval continues
  if (o.state != State::none && now > o.since) {
    state_time[static_cast<int>(o.state)] += now - o.since;
    if (keep_) {
      // Merge with the previous row of this task when nothing but time changed.
      bool merged = false;
      if (!intervals.empty()) {
        Interval& last = intervals.back();
        if (last.task == task && last.state == o.state && last.cpu == o.cpu && last.module == o.module &&
            last.step == o.step && last.lock == o.lock && last.end == o.since) {
          last.end = now;
          merged = true;
        }
      }
      if (!merged)
        intervals.push_back({task, o.module, o.step, o.state, o.lock, o.cpu, o.since, now});
    }
  }
  o = {s, cpu, module, step, lock, now};
}

void Recorder::end_task(std::uint32_t task, double now) {
  set_state(task, State::none, now, -1, 0, 0);
  tasks[task].end = now;
}

} // namespace kmodsim
