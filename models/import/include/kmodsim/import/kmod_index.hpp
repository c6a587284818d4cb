// The binary indexes depmod writes for libkmod (modules.alias.bin, modules.dep.bin, ...).
//
// `kmodsim import --this-machine` resolves modaliases with libkmod, which reads these files
// trusting them: a child offset that points back up the trie makes its wildcard search recurse
// for ever, and a node shared by two parents makes it exponential. check_kmod_index() refuses
// such a file first, so that what libkmod reads is a tree as depmod writes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kmodsim::import {

/// Checks that `data` is a kmod index as depmod writes it (libkmod-index.c): magic 0xB007F457,
/// major version 2, a root offset, then nodes, each [prefix NUL] [first last child-offsets]
/// [count (priority value NUL)...], flagged in the offset that points to it. Every node lies
/// inside the file, every child before its parent (depmod writes children first), no node has
/// two parents, child characters are ASCII (first <= last < 128), no path is deeper than 4096
/// nodes. Throws ImportError "SOURCE: byte offset 0xHEX (DEC): ..." otherwise. Returns the
/// number of values (the keys' entries).
std::size_t check_kmod_index(std::string_view data, const std::string& source);

} // namespace kmodsim::import
