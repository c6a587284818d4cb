// MemoryBudget and BudgetReservation (limits.hpp).
#include "kmodsim/import/limits.hpp"

#include "kmodsim/import/error.hpp"

#include <algorithm>

namespace kmodsim::import {

std::uint64_t MemoryBudget::used() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return used_;
}

std::uint64_t MemoryBudget::peak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

void MemoryBudget::start(bool exclusive) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (exclusive) {
    // Wait until every other reservation has finished; none starts while we wait.
    ++exclusive_waiting_;
    changed_.wait(lock, [&] { return !exclusive_held_ && holders_ == 0; });
    --exclusive_waiting_;
    exclusive_held_ = true;
  } else {
    changed_.wait(lock, [&] { return !exclusive_held_ && exclusive_waiting_ == 0; });
  }
  ++holders_;
}

void MemoryBudget::finish(bool exclusive, std::uint64_t held) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    used_ -= std::min(held, used_);
    --holders_;
    if (exclusive) exclusive_held_ = false;
  }
  changed_.notify_all();
}

void MemoryBudget::grow(std::uint64_t held, std::uint64_t bytes, bool exclusive,
                        const std::string& source) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bytes <= total_ - used_) {
    used_ += bytes;
    peak_ = std::max(peak_, used_);
    return;
  }
  // Short. If nobody else holds budget, this module alone is too big: waiting cannot help.
  if (exclusive || used_ == held) {
    throw ImportError::in_file(
        source, "needs more than the memory budget of " + std::to_string(total_) +
                    " bytes that the reading threads share (module data and decoder state: " +
                    std::to_string(held) + " bytes held, " + std::to_string(bytes) +
                    " more needed; ImportOptions::max_total_bytes, docs/import.md)");
  }
  throw BudgetShortage{};
}

void MemoryBudget::shrink(std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  used_ -= std::min(bytes, used_);
}

BudgetReservation::BudgetReservation(MemoryBudget& budget, bool exclusive)
    : budget_(budget), exclusive_(exclusive) {
  budget_.start(exclusive_);
}

BudgetReservation::~BudgetReservation() { budget_.finish(exclusive_, held_); }

void BudgetReservation::grow(std::uint64_t bytes, const std::string& source) {
  budget_.grow(held_, bytes, exclusive_, source);
  held_ += bytes;
}

void BudgetReservation::shrink(std::uint64_t bytes) {
  bytes = std::min(bytes, held_);
  budget_.shrink(bytes);
  held_ -= bytes;
}

} // namespace kmodsim::import
