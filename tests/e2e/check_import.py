#!/usr/bin/python3
"""End-to-end tests of `kmodsim import` on a small module tree built from the ELF fixtures
compiled at build time (tests/import/fixtures/*.c), one case per call:

  check_import.py KMODSIM FIXTURE_OBJ_DIR E2E_DIR CASE

CASE `ok` imports a good tree and checks the workload (it loads, runs, graphs, and a second
import is byte-identical and does not overwrite without --force); every other CASE breaks
one thing and checks that kmodsim exits with status 2 and one `error:` line naming the file
and the line or byte offset.
"""
import gzip
import lzma
import os
import shutil
import struct
import sys
import tempfile

import cli_check  # noqa: E402  (tests/e2e, the script's own folder)
from cli_check import expect_error, fail, fixture_obj, write  # noqa: E402

KMODSIM, OBJ, E2E, CASE = sys.argv[1:5]

DEP = """kernel/drivers/fx/fx_a.ko:
kernel/drivers/fx/fx-b.ko.xz: kernel/drivers/fx/fx_a.ko
kernel/drivers/fx/fx_c.ko: kernel/drivers/fx/fx-b.ko.xz kernel/drivers/fx/fx_a.ko
kernel/drivers/fx/fx_d.ko.gz:
"""
ALIAS = """alias pci:v00008086d0000100Esv*sd*bc*sc*i* fx_d
alias usb:v046Dp*d*dc*dsc*dp*ic*isc*ip*in* fx_b
"""
LSMOD = """Module                  Size  Used by
fx_c                   16384  0
fx_d                   12288  0
"""
UEVENTS = """pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00
usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in00
usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in01
acpi:NOTHING:
"""


def obj(name):
    return fixture_obj(OBJ, name)


def build_tree(d):
    write(f"{d}/modules.dep", DEP)
    write(f"{d}/modules.alias", ALIAS)
    write(f"{d}/lsmod.txt", LSMOD)
    write(f"{d}/uevents.txt", UEVENTS)
    write(f"{d}/kernel/drivers/fx/fx_a.ko", obj("fx_a"))
    write(f"{d}/kernel/drivers/fx/fx-b.ko.xz", lzma.compress(obj("fx_b"), check=lzma.CHECK_CRC32))
    write(f"{d}/kernel/drivers/fx/fx_c.ko", obj("fx_c"))
    write(f"{d}/kernel/drivers/fx/fx_d.ko.gz", gzip.compress(obj("fx_a"), mtime=0))


def run(*args):
    return cli_check.run(KMODSIM, *args)


def import_args(d, out, *extra):
    return ["import", "--modules-dir", d, "-o", out, *extra]


def elf64_shoff(data):
    return struct.unpack_from("<Q", data, 40)[0]


def case_ok(d, tmp):
    out = f"{tmp}/w.yaml"
    p = run(*import_args(d, out, "--boot-list", f"{d}/lsmod.txt", "--uevents", f"{d}/uevents.txt", "--jobs", "2"))
    if p.returncode != 0:
        fail("import failed", p)
    text = open(out).read()
    for want in ("name: fx_a,", "name: fx_b,", "name: fx_c,", "name: fx_d,", "deps: [fx_b, fx_a]",
                 "module: fx_d", "module: fx_b", "module: null"):
        if want not in text:
            fail(f"workload lacks {want!r}:\n{text}")
    # The workload is usable as it is: it loads, simulates and graphs.
    p = run("run", f"{E2E}/configs/base.yaml", "--set", f"workload={out}", "--out", f"{tmp}/run", "-q")
    if p.returncode != 0:
        fail("the imported workload does not run", p)
    p = run("graph", out)
    if p.returncode != 0 or "critical path" not in p.stdout or "fx_a -> fx_b -> fx_c" not in p.stdout:
        fail("graph of the imported workload", p)
    # Deterministic (one thread vs two), and nothing is overwritten without --force.
    p = run(*import_args(d, f"{tmp}/w2.yaml", "--boot-list", f"{d}/lsmod.txt", "--uevents", f"{d}/uevents.txt",
                         "--jobs", "1"))
    if p.returncode != 0 or open(f"{tmp}/w2.yaml").read() != text:
        fail("a second import differs", p)
    p = run(*import_args(d, out))
    if p.returncode == 0 or "refusing to overwrite" not in p.stderr or open(out).read() != text:
        fail("an existing output was not protected", p)
    p = run(*import_args(d, out, "--force"))
    if p.returncode != 0:
        fail("--force did not overwrite", p)
    print("ok: import, run, graph, determinism, overwrite protection")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = f"{tmp}/lib/modules/6.1.0-fx"
        build_tree(d)
        out = f"{tmp}/w.yaml"
        ko_a = f"{d}/kernel/drivers/fx/fx_a.ko"
        a = obj("fx_a")
        if CASE == "ok":
            case_ok(d, tmp)
        elif CASE == "no_modules_dep":
            os.remove(f"{d}/modules.dep")
            expect_error(run(*import_args(d, out)), "modules.dep", "depmod -b")
        elif CASE == "truncated_elf":
            write(ko_a, a[:40])  # inside the ELF header
            expect_error(run(*import_args(d, out)), "fx_a.ko", "byte offset", "truncated ELF header")
        elif CASE == "truncated_sections":
            write(ko_a, a[:len(a) // 2])  # the section header table is at the end
            expect_error(run(*import_args(d, out)), "fx_a.ko", "byte offset 0x28", "truncated file")
        elif CASE == "wrong_magic":
            write(ko_a, b"\x7fELG" + a[4:])
            expect_error(run(*import_args(d, out)), "fx_a.ko", "byte offset 0x0", "bad magic")
        elif CASE == "section_table_past_end":
            b = bytearray(a)
            struct.pack_into("<Q", b, 40, len(a) + 4096)
            write(ko_a, bytes(b))
            expect_error(run(*import_args(d, out)), "fx_a.ko", "byte offset", "past the end")
        elif CASE == "section_offset_past_end":
            b = bytearray(a)
            struct.pack_into("<Q", b, elf64_shoff(a) + 1 * 64 + 24, len(a) + 4096)  # section 1 sh_offset
            write(ko_a, bytes(b))
            expect_error(run(*import_args(d, out)), "fx_a.ko", "byte offset", "past the end")
        elif CASE == "missing_file":
            os.remove(f"{d}/kernel/drivers/fx/fx_c.ko")
            expect_error(run(*import_args(d, out)), "modules.dep:3:", "fx_c.ko", "not found")
        elif CASE == "unknown_dependency":
            write(f"{d}/modules.dep", DEP.replace("fx-b.ko.xz: kernel/drivers/fx/fx_a.ko",
                                                  "fx-b.ko.xz: kernel/drivers/fx/fx_nowhere.ko"))
            expect_error(run(*import_args(d, out)), "modules.dep:2:", "unknown module 'fx_nowhere'")
        elif CASE == "cycle":
            write(f"{d}/modules.dep", DEP.replace("fx-b.ko.xz: kernel/drivers/fx/fx_a.ko",
                                                  "fx-b.ko.xz: kernel/drivers/fx/fx_c.ko"))
            expect_error(run(*import_args(d, out)), "modules.dep:", "dependency cycle", "fx_b", "fx_c")
        elif CASE == "malformed_lsmod":
            write(f"{d}/lsmod.txt", LSMOD.replace("12288", "twelve"))
            expect_error(run(*import_args(d, out, "--boot-list", f"{d}/lsmod.txt")), "lsmod.txt:3:")
        elif CASE == "empty_boot_list":  # it imported 0 modules, exit 0
            write(f"{d}/lsmod.txt", "")
            expect_error(run(*import_args(d, out, "--boot-list", f"{d}/lsmod.txt")), "lsmod.txt: lists no module")
        elif CASE == "bad_xz":
            write(f"{d}/kernel/drivers/fx/fx-b.ko.xz", b"\xfd7zXZ\x00" + b"\x00" * 40)
            expect_error(run(*import_args(d, out)), "fx-b.ko.xz")
        else:
            sys.exit(f"unknown case {CASE}")
        if CASE != "ok" and os.path.exists(out):
            fail("a failed import left an output file")


if __name__ == "__main__":
    main()
