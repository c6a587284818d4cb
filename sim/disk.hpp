// The disk: one device whose read bandwidth the reads in flight share equally (processor
// sharing), with exact completion times. It replaces one SimGrid I/O action per read, whose
// model updated every read in flight at every step of the simulation (issue 12: the growth
// past linear at 100,000+ reads). Virtual time: V grows at rate / n while n reads are in
// flight, so a read of b bytes that starts at V0 ends when V reaches V0 + b, whatever arrives
// meanwhile; the reads in flight sit in a heap by that end, and one daemon actor sleeps until
// the first of them (or the next arrival) and wakes the readers that are done.
#pragma once

#include "runtime.hpp"

#include <cstdint>
#include <queue>
#include <vector>

namespace kmodsim::sim {

class PsDisk {
public:
  /// `bytes_per_s` > 0. Starts the server, a daemon process of `rt`.
  PsDisk(double bytes_per_s, Runtime& rt);
  /// Blocks the calling process until `bytes` are read.
  void read(double bytes);
  /// Reads completed so far.
  std::int64_t reads() const { return reads_; }

private:
  struct Job {
    double v_end = 0;
    std::uint64_t seq = 0; ///< arrival order: equal ends complete first come, first served
    Sem* done = nullptr;
    bool operator>(const Job& o) const { return v_end != o.v_end ? v_end > o.v_end : seq > o.seq; }
  };
  void advance(); ///< brings the virtual time to now
  void server();

  Runtime& rt_;
  double rate_;
  double v_ = 0, last_ = 0;
  std::uint64_t seq_ = 0;
  std::int64_t reads_ = 0;
  std::priority_queue<Job, std::vector<Job>, std::greater<Job>> jobs_;
  std::unique_ptr<Sem> kick_; ///< an arrival: the server recomputes its next wake-up
};

} // namespace kmodsim::sim
