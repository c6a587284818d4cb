// ELF reader: see elf.hpp. Layout constants follow the System V gABI (ELF-64 Object File
// Format, version 1.5, and the ELF-32 part of the generic ABI).

#include "kmodsim/import/elf.hpp"

#include "kmodsim/import/error.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace kmodsim::import {
namespace {

// Offsets into e_ident and the ELF header.
constexpr std::uint64_t kEiClass = 4;
constexpr std::uint64_t kEiData = 5;
constexpr std::uint64_t kEiVersion = 6;
constexpr std::uint64_t kEiNident = 16;
constexpr std::uint64_t kEType = 16;
constexpr std::uint64_t kEMachine = 18;
constexpr std::uint16_t kEtRel = 1;

// Field offsets that differ between the classes.
struct Layout {
  std::uint64_t ehdr_size;
  std::uint64_t e_shoff, e_shentsize, e_shnum, e_shstrndx;
  unsigned addr; ///< width of an address/offset/xword field (4 or 8)
  std::uint64_t shdr_size;
  // Section header fields.
  std::uint64_t sh_name, sh_type, sh_flags, sh_offset, sh_size, sh_link, sh_info, sh_entsize;
  // Symbol fields.
  std::uint64_t sym_size, st_name, st_info, st_shndx, st_value, st_size;
  std::uint64_t rel_size, rela_size;
};

constexpr Layout kElf32{52, 32, 46, 48, 50, 4, 40, 0, 4, 8, 16, 20, 24, 28, 36,
                        16, 0,  12, 14, 4,  8, 8, 12};
constexpr Layout kElf64{64, 40, 58, 60, 62, 8, 64, 0,  4, 8, 24, 32, 40, 44, 56,
                        24, 0,  4,  6,  8,  16, 16, 24};

const Layout& layout(bool is64) { return is64 ? kElf64 : kElf32; }

/// True if [offset, offset + size) lies within a buffer of `total` bytes (overflow-safe).
bool in_bounds(std::uint64_t offset, std::uint64_t size, std::uint64_t total) {
  return offset <= total && size <= total - offset;
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string section_label(const ElfSection& s) {
  std::string label = "section " + std::to_string(s.index);
  if (!s.name.empty()) label += " (" + std::string(s.name) + ")";
  return label;
}

} // namespace

std::uint64_t ElfObject::read_uint(std::uint64_t offset, unsigned width) const {
  if (!in_bounds(offset, width, data_.size())) {
    throw ImportError::at_offset(source_, offset,
                                 "truncated ELF file: a " + std::to_string(width) +
                                     "-byte field lies past the end of the file (" +
                                     std::to_string(data_.size()) + " bytes)");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data()) + offset;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    const unsigned shift = big_endian_ ? 8U * (width - 1 - i) : 8U * i;
    v |= static_cast<std::uint64_t>(p[i]) << shift;
  }
  return v;
}

ElfObject::ElfObject(std::string_view data, std::string source)
    : data_(data), source_(std::move(source)) {
  const std::uint64_t total = data_.size();
  if (total < kEiNident) {
    throw ImportError::at_offset(source_, 0,
                                 "truncated ELF file: " + std::to_string(total) +
                                     " bytes, shorter than the 16-byte ELF identification");
  }
  if (std::memcmp(data_.data(), "\x7f" "ELF", 4) != 0) {
    throw ImportError::at_offset(source_, 0, "not an ELF file (bad magic number)");
  }
  const auto cls = static_cast<unsigned char>(data_[kEiClass]);
  if (cls != 1 && cls != 2) {
    throw ImportError::at_offset(source_, kEiClass,
                                 "invalid ELF class " + std::to_string(cls) + " (expected 1 or 2)");
  }
  is64_ = cls == 2;
  const auto enc = static_cast<unsigned char>(data_[kEiData]);
  if (enc != 1 && enc != 2) {
    throw ImportError::at_offset(source_, kEiData,
                                 "invalid ELF data encoding " + std::to_string(enc) +
                                     " (expected 1 or 2)");
  }
  big_endian_ = enc == 2;
  if (static_cast<unsigned char>(data_[kEiVersion]) != 1) {
    throw ImportError::at_offset(source_, kEiVersion, "unsupported ELF version");
  }
  const Layout& L = layout(is64_);
  if (total < L.ehdr_size) {
    throw ImportError::at_offset(source_, total,
                                 "truncated ELF header: file has " + std::to_string(total) +
                                     " bytes, the header needs " + std::to_string(L.ehdr_size));
  }
  const auto e_type = read_uint(kEType, 2);
  if (e_type != kEtRel) {
    throw ImportError::at_offset(source_, kEType,
                                 "not a relocatable object (e_type " + std::to_string(e_type) +
                                     ", a kernel module has 1 = ET_REL)");
  }
  machine_ = static_cast<std::uint16_t>(read_uint(kEMachine, 2));

  const std::uint64_t shoff = read_uint(L.e_shoff, L.addr);
  const std::uint64_t shentsize = read_uint(L.e_shentsize, 2);
  std::uint64_t shnum = read_uint(L.e_shnum, 2);
  std::uint64_t shstrndx = read_uint(L.e_shstrndx, 2);
  if (shoff == 0) {
    throw ImportError::at_offset(source_, L.e_shoff, "ELF file has no section header table");
  }
  if (shentsize != L.shdr_size) {
    throw ImportError::at_offset(source_, L.e_shentsize,
                                 "section header entry size " + std::to_string(shentsize) +
                                     ", expected " + std::to_string(L.shdr_size));
  }
  if (!in_bounds(shoff, L.shdr_size, total)) {
    throw ImportError::at_offset(source_, L.e_shoff,
                                 "section header table offset " + hex(shoff) +
                                     " lies past the end of the file (" + std::to_string(total) +
                                     " bytes): truncated file or corrupt ELF header");
  }
  // Extended numbering: with 0 in e_shnum / SHN_XINDEX in e_shstrndx the real values are in
  // sh_size / sh_link of section 0.
  if (shnum == 0) shnum = read_uint(shoff + L.sh_size, L.addr);
  if (shstrndx == kShnXindex) shstrndx = read_uint(shoff + L.sh_link, 4);
  if (shnum == 0) {
    throw ImportError::at_offset(source_, L.e_shnum, "ELF file has no sections");
  }
  if (shnum > (total - shoff) / L.shdr_size) {
    throw ImportError::at_offset(source_, L.e_shnum,
                                 "section header table (" + std::to_string(shnum) +
                                     " entries at " + hex(shoff) +
                                     ") extends past the end of the file (" +
                                     std::to_string(total) + " bytes)");
  }
  if (shstrndx == 0 || shstrndx >= shnum) {
    throw ImportError::at_offset(source_, L.e_shstrndx,
                                 "section name string table index " + std::to_string(shstrndx) +
                                     " is not a valid section (" + std::to_string(shnum) +
                                     " sections)");
  }

  // Decode every header and check its contents against the file.
  sections_.reserve(static_cast<std::size_t>(shnum));
  for (std::uint64_t i = 0; i < shnum; ++i) {
    const std::uint64_t h = shoff + i * L.shdr_size;
    ElfSection s;
    s.index = static_cast<std::uint32_t>(i);
    s.header_offset = h;
    s.type = static_cast<std::uint32_t>(read_uint(h + L.sh_type, 4));
    s.flags = read_uint(h + L.sh_flags, L.addr);
    s.offset = read_uint(h + L.sh_offset, L.addr);
    s.size = read_uint(h + L.sh_size, L.addr);
    s.link = static_cast<std::uint32_t>(read_uint(h + L.sh_link, 4));
    s.info = static_cast<std::uint32_t>(read_uint(h + L.sh_info, 4));
    s.entsize = read_uint(h + L.sh_entsize, L.addr);
    if (i != 0 && s.type != kShtNobits && s.type != kShtNull && !in_bounds(s.offset, s.size, total)) {
      throw ImportError::at_offset(source_, h + L.sh_offset,
                                   "section " + std::to_string(i) + ": contents (offset " +
                                       hex(s.offset) + ", size " + hex(s.size) +
                                       ") extend past the end of the file (" +
                                       std::to_string(total) + " bytes)");
    }
    sections_.push_back(s);
  }
  const ElfSection& shstrtab = sections_[static_cast<std::size_t>(shstrndx)];
  if (shstrtab.type != kShtStrtab) {
    throw ImportError::at_offset(source_, shstrtab.header_offset + L.sh_type,
                                 "section name string table (section " +
                                     std::to_string(shstrndx) + ") is not of type SHT_STRTAB");
  }
  for (ElfSection& s : sections_) {
    if (s.index == 0) continue;
    const std::uint64_t h = s.header_offset;
    s.name = string_at(shstrtab, read_uint(h + L.sh_name, 4), h + L.sh_name, "section name");
  }
}

std::string_view ElfObject::string_at(const ElfSection& strtab, std::uint64_t name_offset,
                                      std::uint64_t field_offset, const char* what) const {
  if (name_offset >= strtab.size) {
    throw ImportError::at_offset(source_, field_offset,
                                 std::string(what) + " offset " + hex(name_offset) +
                                     " lies outside its string table (" + section_label(strtab) +
                                     ", " + std::to_string(strtab.size) + " bytes)");
  }
  const std::string_view table = section_data(strtab);
  const std::size_t begin = static_cast<std::size_t>(name_offset);
  const std::size_t end = table.find('\0', begin);
  if (end == std::string_view::npos) {
    throw ImportError::at_offset(source_, strtab.offset + name_offset,
                                 std::string(what) + " is not NUL-terminated within " +
                                     section_label(strtab));
  }
  return table.substr(begin, end - begin);
}

const ElfSection* ElfObject::find_section(std::string_view name) const {
  for (const ElfSection& s : sections_) {
    if (s.index != 0 && s.name == name) return &s;
  }
  return nullptr;
}

std::string_view ElfObject::section_data(const ElfSection& section) const {
  if (section.type == kShtNobits || section.type == kShtNull) return {};
  // Bounds were validated in the constructor for every section but 0.
  if (!in_bounds(section.offset, section.size, data_.size())) return {};
  return data_.substr(static_cast<std::size_t>(section.offset),
                      static_cast<std::size_t>(section.size));
}

std::vector<ElfSymbol> ElfObject::symbols() const {
  const Layout& L = layout(is64_);
  const ElfSection* symtab = nullptr;
  for (const ElfSection& s : sections_) {
    if (s.type == kShtSymtab) {
      symtab = &s;
      break;
    }
  }
  std::vector<ElfSymbol> out;
  if (symtab == nullptr) return out;
  if (symtab->entsize != L.sym_size) {
    throw ImportError::at_offset(source_, symtab->header_offset + L.sh_entsize,
                                 section_label(*symtab) + ": symbol entry size " +
                                     std::to_string(symtab->entsize) + ", expected " +
                                     std::to_string(L.sym_size));
  }
  if (symtab->size % L.sym_size != 0) {
    throw ImportError::at_offset(source_, symtab->header_offset + L.sh_size,
                                 section_label(*symtab) + ": size " + std::to_string(symtab->size) +
                                     " is not a multiple of the symbol size " +
                                     std::to_string(L.sym_size));
  }
  if (symtab->link == 0 || symtab->link >= sections_.size() ||
      sections_[symtab->link].type != kShtStrtab) {
    throw ImportError::at_offset(source_, symtab->header_offset + L.sh_link,
                                 section_label(*symtab) + ": sh_link " +
                                     std::to_string(symtab->link) +
                                     " does not name a string table");
  }
  const ElfSection& strtab = sections_[symtab->link];
  // The SHN_XINDEX extension table, if any, is linked to the symbol table.
  const ElfSection* xindex = nullptr;
  for (const ElfSection& s : sections_) {
    if (s.type == kShtSymtabShndx && s.link == symtab->index) {
      xindex = &s;
      break;
    }
  }
  const std::uint64_t count = symtab->size / L.sym_size;
  out.reserve(static_cast<std::size_t>(count > 0 ? count - 1 : 0));
  for (std::uint64_t i = 1; i < count; ++i) {
    const std::uint64_t e = symtab->offset + i * L.sym_size;
    ElfSymbol sym;
    const std::uint64_t info = read_uint(e + L.st_info, 1);
    sym.bind = static_cast<std::uint8_t>(info >> 4);
    sym.type = static_cast<std::uint8_t>(info & 0xf);
    sym.shndx = static_cast<std::uint32_t>(read_uint(e + L.st_shndx, 2));
    sym.value = read_uint(e + L.st_value, L.addr);
    sym.size = read_uint(e + L.st_size, L.addr);
    sym.name = string_at(strtab, read_uint(e + L.st_name, 4), e + L.st_name, "symbol name");
    if (sym.shndx == kShnXindex) {
      if (xindex == nullptr || !in_bounds(i * 4, 4, xindex->size)) {
        throw ImportError::at_offset(source_, e + L.st_shndx,
                                     "symbol " + std::to_string(i) +
                                         " uses SHN_XINDEX but there is no SHT_SYMTAB_SHNDX entry "
                                         "for it");
      }
      sym.shndx = static_cast<std::uint32_t>(read_uint(xindex->offset + i * 4, 4));
    }
    out.push_back(sym);
  }
  return out;
}

std::uint64_t ElfObject::relocation_count(const ElfSection& section) const {
  const Layout& L = layout(is64_);
  std::uint64_t entsize = section.entsize;
  if (entsize == 0) entsize = section.type == kShtRela ? L.rela_size : L.rel_size;
  // An entry holds at least r_offset and r_info; reject sizes that cannot be an entry.
  if (entsize < 2ULL * L.addr || entsize > 64) {
    throw ImportError::at_offset(source_, section.header_offset + L.sh_entsize,
                                 section_label(section) + ": implausible relocation entry size " +
                                     std::to_string(entsize));
  }
  if (section.size % entsize != 0) {
    throw ImportError::at_offset(source_, section.header_offset + L.sh_size,
                                 section_label(section) + ": size " +
                                     std::to_string(section.size) +
                                     " is not a multiple of the entry size " +
                                     std::to_string(entsize));
  }
  return section.size / entsize;
}

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool is_percpu_section(std::string_view name) {
  return name == ".data..percpu" || name == ".data.percpu";
}

/// Sections that hold struct kernel_symbol entries (not __ksymtab_strings, which holds names).
bool is_ksymtab_section(std::string_view name) {
  return (starts_with(name, "__ksymtab") || starts_with(name, "___ksymtab")) &&
         name != "__ksymtab_strings";
}

void parse_modinfo(std::string_view data, ModuleFeatures& f) {
  f.has_modinfo = true;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t end = data.find('\0', pos);
    if (end == std::string_view::npos) end = data.size();
    const std::string_view entry = data.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue; // padding or junk: the kernel ignores it too
    const std::string_view key = entry.substr(0, eq);
    const std::string_view value = entry.substr(eq + 1);
    if (key == "name") {
      f.modinfo_name = std::string(value);
    } else if (key == "depends") {
      std::size_t p = 0;
      while (p <= value.size()) {
        std::size_t comma = value.find(',', p);
        if (comma == std::string_view::npos) comma = value.size();
        if (comma > p) f.modinfo_depends.emplace_back(value.substr(p, comma - p));
        p = comma + 1;
      }
    } else if (key == "alias") {
      f.modinfo_aliases.emplace_back(value);
    } else if (key == "vermagic") {
      f.vermagic = std::string(value);
    }
  }
}

} // namespace

ModuleFeatures extract_module_features(std::string_view data, const std::string& source) {
  const ElfObject elf(data, source);
  ModuleFeatures f;
  f.file_bytes = data.size();

  for (const ElfSection& s : elf.sections()) {
    if (s.index == 0) continue;
    if (is_percpu_section(s.name)) {
      f.percpu_bytes += s.size;
    } else if ((s.flags & kShfAlloc) != 0 && s.name != ".modinfo" && s.name != "__versions") {
      f.alloc_bytes += s.size;
      if (starts_with(s.name, ".init")) f.init_bytes += s.size;
    }
    if (s.type == kShtRel || s.type == kShtRela) {
      f.relocations += static_cast<std::int64_t>(elf.relocation_count(s));
    }
    if (s.name == ".modinfo") parse_modinfo(elf.section_data(s), f);
  }

  const std::vector<ElfSymbol> symbols = elf.symbols();
  if (symbols.empty()) {
    throw ImportError::in_file(source, "module has no symbol table (stripped?); the kernel "
                                       "refuses to load such a module");
  }
  const auto& sections = elf.sections();
  for (const ElfSymbol& sym : symbols) {
    if (sym.name.empty()) continue;
    if (sym.shndx == kShnUndef) {
      if (sym.bind != kStbLocal) f.undefined_names.emplace_back(sym.name);
      continue;
    }
    if (sym.shndx < sections.size() && starts_with(sym.name, "__ksymtab_") &&
        is_ksymtab_section(sections[sym.shndx].name)) {
      f.export_names.emplace_back(sym.name.substr(10));
    }
  }
  std::sort(f.undefined_names.begin(), f.undefined_names.end());
  f.undefined_names.erase(std::unique(f.undefined_names.begin(), f.undefined_names.end()),
                          f.undefined_names.end());
  std::sort(f.export_names.begin(), f.export_names.end());
  f.export_names.erase(std::unique(f.export_names.begin(), f.export_names.end()),
                       f.export_names.end());
  f.undef_symbols = static_cast<std::int64_t>(f.undefined_names.size());
  f.exports = static_cast<std::int64_t>(f.export_names.size());
  return f;
}

} // namespace kmodsim::import
