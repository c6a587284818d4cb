// ImportError: the one exception type of the module-tree importer.
//
// Every message names the file the problem is in and where in it: a 1-based line for text
// files ("modules.dep:12: ...") or a byte offset for binary ones ("e1000.ko: byte offset
// 0x1c0 (448): ..."), so a user can go and look.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kmodsim::import {

class ImportError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;

  /// "FILE:LINE: MESSAGE"
  static ImportError at_line(const std::string& file, std::size_t line, const std::string& message);
  /// "FILE: byte offset 0xHEX (DEC): MESSAGE"
  static ImportError at_offset(const std::string& file, std::uint64_t offset,
                               const std::string& message);
  /// "FILE: MESSAGE" (for problems that concern the file as a whole, e.g. it is missing)
  static ImportError in_file(const std::string& file, const std::string& message);
};

/// Quotes a piece of untrusted input for an error message: at most `max_chars` characters,
/// non-printable bytes written as \xNN, the whole in single quotes.
std::string quote_for_message(std::string_view text, std::size_t max_chars = 80);

} // namespace kmodsim::import
