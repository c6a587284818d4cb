#include "kmodsim/import/error.hpp"

#include <cstdio>

namespace kmodsim::import {

ImportError ImportError::at_line(const std::string& file, std::size_t line,
                                 const std::string& message) {
  return ImportError(file + ":" + std::to_string(line) + ": " + message);
}

ImportError ImportError::at_offset(const std::string& file, std::uint64_t offset,
                                   const std::string& message) {
  char where[64];
  std::snprintf(where, sizeof where, "byte offset 0x%llx (%llu)",
                static_cast<unsigned long long>(offset), static_cast<unsigned long long>(offset));
  return ImportError(file + ": " + where + ": " + message);
}

ImportError ImportError::in_file(const std::string& file, const std::string& message) {
  return ImportError(file + ": " + message);
}

std::string quote_for_message(std::string_view text, std::size_t max_chars) {
  std::string out = "'";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown == max_chars) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\' && c != '\'') {
      out += c;
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", u);
      out += esc;
    }
    ++shown;
  }
  out += "'";
  return out;
}

} // namespace kmodsim::import
