// The range of the inline 8-bit coverage counters of this executable, for fuzz_config_sim (which
// copies a fork()ed child's counters back into the parent). Compiled WITHOUT coverage
// instrumentation (fuzz/CMakeLists.txt): in an instrumented file, a declaration of
// __start___sancov_cntrs takes the name that SanitizerCoverage wants for its own references,
// which it then renames to an undefined weak symbol, and libFuzzer sees no counters at all.
#include <cstddef>
#include <cstdint>

extern "C" {
extern std::uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
extern std::uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));

std::uint8_t* kmodsim_fuzz_counters(std::size_t* size) {
  std::uint8_t* b = __start___sancov_cntrs;
  std::uint8_t* e = __stop___sancov_cntrs;
  *size = b && e > b ? static_cast<std::size_t>(e - b) : 0;
  return b;
}
}
