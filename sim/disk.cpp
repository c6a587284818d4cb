#include "disk.hpp"

#include <algorithm>
#include <cmath>

namespace kmodsim::sim {

PsDisk::PsDisk(double bytes_per_s, Runtime& rt) : rt_(rt), rate_(bytes_per_s), kick_(rt.make_sem()) {
  rt.spawn("disk", [this] { server(); }, /*daemon=*/true);
}

void PsDisk::advance() {
  const double now = Runtime::now();
  if (!jobs_.empty())
    v_ += (now - last_) * rate_ / static_cast<double>(jobs_.size());
  last_ = now;
}

void PsDisk::read(double bytes) {
  if (!(bytes > 0))
    return;
  advance();
  const auto done = rt_.make_sem();
  jobs_.push({v_ + bytes, seq_++, done.get()});
  kick_->release();
  done->acquire();
}

void PsDisk::server() {
  while (true) {
    if (jobs_.empty()) {
      kick_->acquire(); // idle until a read arrives
      continue;
    }
    advance();
    // Done: the reads whose end the virtual time has reached, to rounding (the clock advanced by
    // exactly the computed delay, so V lands within a few ulps of the end)
    while (!jobs_.empty() && jobs_.top().v_end - v_ <= 1e-12 * std::max(1.0, jobs_.top().v_end)) {
      Job j = jobs_.top();
      jobs_.pop();
      v_ = std::max(v_, j.v_end);
      reads_++;
      j.done->release();
    }
    if (jobs_.empty())
      continue;
    const double dt = (jobs_.top().v_end - v_) * static_cast<double>(jobs_.size()) / rate_;
    kick_->acquire_timeout(dt); // an arrival changes the shares: recompute either way
  }
}

} // namespace kmodsim::sim
