// The importer's resource caps (docs/import.md, "Limits") and the memory budget its worker
// threads share.
//
// Three caps bound what one import can make the process allocate, whatever the input:
//
//   kDefaultMaxFileBytes    any single input file as stored on disk (a .ko, .ko.xz, modules.dep,
//                           a boot list, ...): 256 MiB. The biggest real modules (amdgpu.ko,
//                           ~20-40 MiB uncompressed) and the biggest text files (modules.alias,
//                           System.map: a few MiB) are far below it.
//   kDefaultMaxModuleBytes  one module after decompression: 512 MiB. Checked while the decoder
//                           runs: the stream is stopped as soon as it would pass the cap, and
//                           nothing is allocated from a size the file declares.
//   kDefaultMaxTotalBytes   module data held in memory at once by all the reading threads
//                           together (compressed bytes, decompression buffers): 2 GiB. A thread
//                           reserves budget before each allocation and gives it back when it is
//                           done with the module; see MemoryBudget.
//
// ImportOptions carries one field per cap (max_file_bytes, max_module_bytes, max_total_bytes),
// defaulting to these values; a breach is an ImportError naming the file and the cap.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace kmodsim::import {

inline constexpr std::uint64_t kDefaultMaxFileBytes = std::uint64_t{256} << 20;   // 256 MiB
inline constexpr std::uint64_t kDefaultMaxModuleBytes = std::uint64_t{512} << 20; // 512 MiB
inline constexpr std::uint64_t kDefaultMaxTotalBytes = std::uint64_t{2} << 30;    // 2 GiB

/// Bytes of module data that the reading threads may hold at once (the total cap).
///
/// Protocol (deadlock-free; see BudgetReservation): a thread opens a reservation before it
/// reads a module and closes it when done with the module. Starting a reservation may wait;
/// growing one never waits: if the budget is short, grow() throws BudgetShortage while other
/// threads hold budget, and the thread then drops what it has and starts again with an
/// *exclusive* reservation, which waits until no other thread holds any budget (and lets no
/// new one start meanwhile). A module that needs more than the whole budget on its own is an
/// ImportError. So threads that hold budget never wait, and the budget is never exceeded.
class MemoryBudget {
public:
  explicit MemoryBudget(std::uint64_t total_bytes) : total_(total_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  std::uint64_t total() const { return total_; }
  std::uint64_t used() const;
  /// The most bytes held at once so far (never more than total()).
  std::uint64_t peak() const;

private:
  friend class BudgetReservation;
  void start(bool exclusive);
  void finish(bool exclusive, std::uint64_t held);
  /// Adds `bytes` to a reservation holding `held`; see BudgetReservation::grow.
  void grow(std::uint64_t held, std::uint64_t bytes, bool exclusive, const std::string& source);
  void shrink(std::uint64_t bytes);

  const std::uint64_t total_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t used_ = 0;
  std::uint64_t peak_ = 0;
  unsigned holders_ = 0;
  unsigned exclusive_waiting_ = 0;
  bool exclusive_held_ = false;
};

/// Thrown by BudgetReservation::grow() of a non-exclusive reservation when other threads hold
/// the budget that is missing: drop everything and retry with an exclusive reservation. Not an
/// ImportError: it never leaves the importer.
struct BudgetShortage {};

/// One thread's share of a MemoryBudget, released on destruction (RAII).
class BudgetReservation {
public:
  /// Waits until the reservation may start: a normal one while no exclusive reservation is
  /// held or waited for; an exclusive one until no other reservation holds budget.
  BudgetReservation(MemoryBudget& budget, bool exclusive);
  ~BudgetReservation();
  BudgetReservation(const BudgetReservation&) = delete;
  BudgetReservation& operator=(const BudgetReservation&) = delete;

  /// Reserves `bytes` more before they are allocated. Never waits. Throws ImportError naming
  /// `source` and the budget if this reservation alone would exceed it (it is exclusive, or no
  /// other reservation holds anything), else BudgetShortage if the budget is short.
  void grow(std::uint64_t bytes, const std::string& source);
  /// Gives back `bytes` (at most what is held) after they were freed.
  void shrink(std::uint64_t bytes);
  std::uint64_t held() const { return held_; }
  bool exclusive() const { return exclusive_; }

private:
  MemoryBudget& budget_;
  const bool exclusive_;
  std::uint64_t held_ = 0;
};

} // namespace kmodsim::import
