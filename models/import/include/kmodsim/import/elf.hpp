// A small, self-contained reader for relocatable ELF objects (kernel modules, .ko) and the
// extraction of the features the load-cost model reads from a module.
//
// The reader handles ELF32 and ELF64 in both byte orders. It never trusts the file: every
// offset and size read from it is checked against the size of the buffer before use, and any
// inconsistency raises an ImportError naming the source and the byte offset of the field (or
// of the data) at fault. It does no memory mapping and no allocation proportional to a size
// read from the file without first checking that size against the buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kmodsim::import {

// A few ELF constants (from the System V gABI), kept here so users need no <elf.h>.
inline constexpr std::uint32_t kShtNull = 0;
inline constexpr std::uint32_t kShtSymtab = 2;
inline constexpr std::uint32_t kShtStrtab = 3;
inline constexpr std::uint32_t kShtRela = 4;
inline constexpr std::uint32_t kShtNobits = 8;
inline constexpr std::uint32_t kShtRel = 9;
inline constexpr std::uint32_t kShtSymtabShndx = 18;
inline constexpr std::uint64_t kShfAlloc = 0x2;
inline constexpr std::uint32_t kShnUndef = 0;
inline constexpr std::uint32_t kShnLoreserve = 0xff00;
inline constexpr std::uint32_t kShnXindex = 0xffff;
inline constexpr std::uint8_t kStbLocal = 0;

/// One section header, decoded to host integers.
struct ElfSection {
  std::uint32_t index = 0;
  std::string_view name; ///< points into the object's buffer (section header string table)
  std::uint32_t type = 0;
  std::uint64_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t entsize = 0;
  std::uint64_t header_offset = 0; ///< file offset of this section's header (for messages)
};

/// One symbol of the symbol table.
struct ElfSymbol {
  std::string_view name; ///< points into the object's buffer (.strtab)
  std::uint8_t bind = 0;
  std::uint8_t type = 0;
  std::uint32_t shndx = 0; ///< section index, SHN_XINDEX already resolved
  std::uint64_t value = 0;
  std::uint64_t size = 0;
};

/// A parsed, validated view of an ELF relocatable object held in memory. The buffer must
/// outlive the object (names and section data are views into it).
class ElfObject {
public:
  /// Parses the ELF header and the section header table, checks that every section's
  /// contents lie inside the buffer and that every section name is a valid string.
  /// Throws ImportError("<source>: byte offset ...: ...") otherwise.
  ElfObject(std::string_view data, std::string source);

  bool is_64bit() const { return is64_; }
  bool is_big_endian() const { return big_endian_; }
  std::uint16_t machine() const { return machine_; }
  const std::string& source() const { return source_; }
  std::uint64_t file_size() const { return data_.size(); }

  const std::vector<ElfSection>& sections() const { return sections_; }
  /// First section with this name, or nullptr.
  const ElfSection* find_section(std::string_view name) const;
  /// The bytes of a section (empty for SHT_NOBITS and SHT_NULL). Bounds were checked at load.
  std::string_view section_data(const ElfSection& section) const;

  /// The symbols of the first SHT_SYMTAB section (index 0, the null symbol, excluded).
  /// Returns an empty vector if there is no symbol table. Validates the table (entry size,
  /// linked string table, name offsets, SHN_XINDEX extension table) and throws ImportError.
  std::vector<ElfSymbol> symbols() const;

  /// Number of relocation entries in an SHT_REL/SHT_RELA section (sh_size / sh_entsize; an
  /// sh_entsize of 0 means the standard entry size for the class). Throws ImportError if the
  /// size is not a multiple of the entry size or the entry size is absurd.
  std::uint64_t relocation_count(const ElfSection& section) const;

private:
  std::uint64_t read_uint(std::uint64_t offset, unsigned width) const;
  std::string_view string_at(const ElfSection& strtab, std::uint64_t name_offset,
                             std::uint64_t field_offset, const char* what) const;

  std::string_view data_;
  std::string source_;
  bool is64_ = false;
  bool big_endian_ = false;
  std::uint16_t machine_ = 0;
  std::vector<ElfSection> sections_;
};

/// What the importer extracts from one module object. Byte counts are raw; the importer turns
/// them into KiB for the Workload.
struct ModuleFeatures {
  std::uint64_t file_bytes = 0;   ///< size of the uncompressed .ko
  std::uint64_t alloc_bytes = 0;  ///< SHF_ALLOC sections that load_module copies (see below)
  std::uint64_t init_bytes = 0;   ///< the part of alloc_bytes in sections named ".init*"
  std::uint64_t percpu_bytes = 0; ///< size of .data..percpu (or the pre-2.6.33 .data.percpu)
  std::int64_t undef_symbols = 0; ///< named, non-local symbols with st_shndx == SHN_UNDEF
  std::int64_t relocations = 0;   ///< entries over all SHT_REL and SHT_RELA sections
  std::int64_t exports = 0;       ///< symbols named __ksymtab_<sym> in the __ksymtab* sections
  std::vector<std::string> undefined_names; ///< sorted, unique
  std::vector<std::string> export_names;    ///< sorted, unique (the <sym> of __ksymtab_<sym>)
  // .modinfo
  bool has_modinfo = false;
  std::string modinfo_name;                 ///< "name=" ("" if absent)
  std::vector<std::string> modinfo_depends; ///< "depends=", split at ',' (empty entries dropped)
  std::vector<std::string> modinfo_aliases; ///< every "alias=" in order
  std::string vermagic;                     ///< "vermagic=" ("" if absent)
};

/// Reads a module object and extracts its features.
///
/// alloc_bytes follows what the kernel's load_module() lays out: the sum of sh_size over
/// sections with SHF_ALLOC, except the three sections whose SHF_ALLOC flag the kernel clears
/// before layout because it does not copy them into the module image: the per-CPU section
/// (.data..percpu, allocated separately, reported in percpu_bytes), .modinfo and __versions.
///
/// exports counts the __ksymtab_<sym> symbols of .symtab that lie in a __ksymtab* section
/// other than __ksymtab_strings (__ksymtab, __ksymtab_gpl, __ksymtab_gpl_future,
/// __ksymtab_unused, __ksymtab_unused_gpl). Every kernel since 2.6 emits one such symbol per
/// EXPORT_SYMBOL*, whatever the layout of struct kernel_symbol (absolute pointers or the
/// PREL32 offsets of 4.19+), so this works where dividing the section size by an entry size
/// would need to know the kernel's configuration, and it gives the names dep_symbols needs.
///
/// A module without a symbol table is rejected, as the kernel does ("module has no symbols
/// (stripped?)").
ModuleFeatures extract_module_features(std::string_view data, const std::string& source);

} // namespace kmodsim::import
