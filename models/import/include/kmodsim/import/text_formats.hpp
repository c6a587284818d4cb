// Parsers for the text files of a module tree and of a running system:
//   modules.dep, modules.softdep, modules.alias (written by depmod),
//   lsmod output and /proc/modules (boot lists), uevent modalias lists,
//   Module.symvers and System.map (exports of vmlinux).
//
// Every parser takes the text and the name to use in messages, so it can be fed from a file,
// a test string or a fuzzer. Lines are numbered from 1; "\r\n" endings are accepted. A
// malformed line raises ImportError("<source>:<line>: ...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kmodsim::import {

/// The module name the kernel uses for a module path or name: the file's basename without
/// ".ko" and a compression suffix (.xz, .zst, .gz), with every '-' turned into '_'.
/// "kernel/drivers/net/e1000e.ko.xz" -> "e1000e", "snd-hda-intel" -> "snd_hda_intel".
std::string normalize_module_name(std::string_view path_or_name);

/// One line of modules.dep: "PATH: DEP_PATH DEP_PATH ...".
struct DepLine {
  std::string path;              ///< as written (relative to the modules directory)
  std::vector<std::string> deps; ///< dependency paths, in the order depmod wrote them
  std::size_t line = 0;
};
std::vector<DepLine> parse_modules_dep(std::string_view text, const std::string& source);

/// One line of modules.softdep: "softdep MODULE pre: A B post: C".
struct SoftDep {
  std::string module;
  std::vector<std::string> pre, post;
  std::vector<std::string> unqualified; ///< names before any "pre:"/"post:" (kmod ignores them)
  std::size_t line = 0;
};
std::vector<SoftDep> parse_modules_softdep(std::string_view text, const std::string& source);

/// One line of modules.alias: "alias PATTERN MODULE".
struct AliasEntry {
  std::string pattern; ///< as written (a glob: *, ?, [...])
  std::string module;
  std::size_t line = 0;
};
std::vector<AliasEntry> parse_modules_alias(std::string_view text, const std::string& source);

/// The normalisation kmod applies to an alias before matching (libkmod's alias_normalize):
/// every '-' outside a [...] bracket expression becomes '_'. Returns false (and leaves `out`
/// unspecified) for an unbalanced bracket, which kmod rejects too.
bool normalize_alias(std::string_view alias, std::string& out);

/// Matches modaliases against the patterns of modules.alias as modprobe does: both sides
/// normalised with normalize_alias, then fnmatch(pattern, modalias, 0).
class AliasMatcher {
public:
  explicit AliasMatcher(std::vector<AliasEntry> entries);
  /// Indices (into entries()) of every entry whose pattern matches, in file order.
  std::vector<std::size_t> match(std::string_view modalias) const;
  const std::vector<AliasEntry>& entries() const { return entries_; }

private:
  std::vector<AliasEntry> entries_;
  std::vector<std::string> normalized_; ///< normalised patterns ("" for invalid ones)
  std::vector<std::size_t> literal_prefix_; ///< length of each pattern's wildcard-free prefix
};

/// A boot list: the modules loaded at the end of a boot, from `lsmod` output (header line
/// "Module Size Used by", then "NAME SIZE USECOUNT [HOLDER,HOLDER]") or from the text of
/// /proc/modules ("NAME SIZE REFCOUNT DEPS STATE ADDRESS [TAINTS]"). The format is told by
/// the first line. Lines starting with '#' and blank lines are skipped (neither tool writes
/// them; they let a hand-written list carry comments).
enum class BootListFormat { lsmod, proc_modules };
struct BootListEntry {
  std::string name; ///< normalised ('-' -> '_')
  std::uint64_t size = 0;
  std::size_t line = 0;
};
struct BootList {
  BootListFormat format = BootListFormat::lsmod;
  std::vector<BootListEntry> modules; ///< in file order; a name listed twice is an error
};
BootList parse_boot_list(std::string_view text, const std::string& source);

/// A uevent list: one modalias per line, as udev sees them in MODALIAS= during coldplug.
/// '#' starts a comment line; blank lines are skipped; a modalias may not contain whitespace.
struct UeventRequest {
  std::string modalias;
  std::size_t line = 0;
};
std::vector<UeventRequest> parse_uevent_list(std::string_view text, const std::string& source);

/// Module.symvers ("CRC<TAB>SYMBOL<TAB>MODULE<TAB>EXPORT_TYPE[<TAB>NAMESPACE]"): the number
/// of symbols whose MODULE column is "vmlinux".
std::int64_t count_symvers_vmlinux_exports(std::string_view text, const std::string& source);

/// System.map ("ADDRESS TYPE NAME"): the number of __ksymtab_<sym> symbols, i.e. of
/// EXPORT_SYMBOL* in vmlinux.
std::int64_t count_system_map_exports(std::string_view text, const std::string& source);

} // namespace kmodsim::import
