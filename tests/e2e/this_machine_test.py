#!/usr/bin/python3
"""End to end: `kmodsim import --this-machine --root DIR` on a fabricated machine root.

  this_machine_test.py KMODSIM FIXTURE_OBJ_DIR E2E_DIR

The root (built here from the ELF fixtures compiled by tests/import) and what it must give:

  lib/modules/6.1.0-e2e   fx_a; fx_b <- fx_a (.ko.xz); fx_c <- fx_b fx_a; fx_d (.ko.gz);
                          modules.alias.bin (written here in libkmod's index format, as depmod
                          does): the Intel PCI pattern -> fx_a [priority 0] and fx_d [1], the
                          Logitech USB pattern -> fx_b [2]
  sys/devices             pci0000:00/0000:00:19.0 Intel PCI -> fx_a and fx_d (two uevents)
                          .../usb1/1-1/1-1:1.0 USB -> fx_b; platform/none: platform:none -> null
                          platform/empty: an empty modalias (skipped)
  proc/modules            fx_c, fx_b, fx_a loaded; fx_c is no device's and no dependency ->
                          "boot-list:fx_c"
  proc/kallsyms           2 __ksymtab_ entries of vmlinux (+ one of a module) -> kernel_exports 2
  cpu/online "0-1", MemTotal 2048000 kB -> cores 2, ram_mb 2000

Then: the workload and the machine file load in a scenario (`kmodsim validate`), run (4
modules loaded), a second import is byte-identical, an existing output is not overwritten
without --force; and the bad inputs exit 2 with one line naming the path.
"""
import gzip
import json
import lzma
import os
import struct
import sys
import tempfile

import yaml

import cli_check  # noqa: E402  (tests/e2e, the script's own folder)
from cli_check import expect_error, fail, fixture_obj, write  # noqa: E402

KMODSIM, OBJ, E2E = sys.argv[1:4]
REL = "6.1.0-e2e"
INTEL = "pci:v00008086d0000100Esv00008086sd00001376bc02sc00i00"
USB = "usb:v046DpC52Bd2101dc00dsc00dp00ic03isc01ip02in00"


def obj(name):
    return fixture_obj(OBJ, name)


def kmod_index(entries):
    """libkmod's index format (libkmod-index.c, version 2.1): one trie node per character,
    children before their parent, as depmod writes it."""
    root = {"children": {}, "values": []}
    for key, value, priority in entries:
        node = root
        for ch in key:
            node = node["children"].setdefault(ord(ch), {"children": {}, "values": []})
        node["values"].append((priority, value))
    out = bytearray(struct.pack(">III", 0xB007F457, 0x00020001, 0))

    def put(node):
        kids = node["children"]
        words = []
        if kids:
            first, last = min(kids), max(kids)
            words = [put(kids[c]) if c in kids else 0 for c in range(first, last + 1)]
        word = len(out)
        if kids:
            out.extend(bytes([first, last]) + b"".join(struct.pack(">I", w) for w in words))
            word |= 0x20000000
        if node["values"]:
            out.extend(struct.pack(">I", len(node["values"])))
            for priority, value in node["values"]:
                out.extend(struct.pack(">I", priority) + value.encode() + b"\0")
            word |= 0x40000000
        return word

    struct.pack_into(">I", out, 8, put(root))
    return bytes(out)


def build_root(r):
    m = f"{r}/lib/modules/{REL}"
    write(f"{m}/kernel/fx/fx_a.ko", obj("fx_a"))
    write(f"{m}/kernel/fx/fx-b.ko.xz", lzma.compress(obj("fx_b"), check=lzma.CHECK_CRC32))
    write(f"{m}/kernel/fx/fx_c.ko", obj("fx_c"))
    write(f"{m}/kernel/fx/fx_d.ko.gz", gzip.compress(obj("fx_a"), mtime=0))
    write(f"{m}/modules.dep", "kernel/fx/fx_a.ko:\nkernel/fx/fx-b.ko.xz: kernel/fx/fx_a.ko\n"
                              "kernel/fx/fx_c.ko: kernel/fx/fx-b.ko.xz kernel/fx/fx_a.ko\n"
                              "kernel/fx/fx_d.ko.gz:\n")
    write(f"{m}/modules.alias.bin", kmod_index([
        ("pci:v00008086d0000100Esv*sd*bc*sc*i*", "fx_a", 0),
        ("pci:v00008086d0000100Esv*sd*bc*sc*i*", "fx_d", 1),
        ("usb:v046DpC52Bd*dc*dsc*dp*ic*isc*ip*in*", "fx_b", 2)]))
    d = f"{r}/sys/devices"
    write(f"{d}/pci0000:00/0000:00:19.0/modalias", INTEL + "\n")
    write(f"{d}/pci0000:00/0000:00:1d.0/usb1/1-1/1-1:1.0/modalias", USB + "\n")
    write(f"{d}/platform/empty/modalias", "")
    write(f"{d}/platform/none/modalias", "platform:none\n")
    os.symlink("../..", f"{d}/platform/loop")
    write(f"{d}/system/cpu/online", "0-1\n")
    write(f"{r}/proc/sys/kernel/osrelease", REL + "\n")
    write(f"{r}/proc/modules", "fx_c 16384 0 - Live 0x0000000000000000\n"
                               "fx_b 12288 1 fx_c, Live 0x0000000000000000\n"
                               "fx_a 12288 2 fx_b,fx_c, Live 0x0000000000000000\n")
    write(f"{r}/proc/kallsyms", "ffffffff81000000 T _text\nffffffff82000000 r __ksymtab_printk\n"
                                "ffffffff82000010 r __ksymtab_kfree\n"
                                "0000000000000000 r __ksymtab_fx_a_func\t[fx_a]\n")
    write(f"{r}/proc/meminfo", "MemTotal:        2048000 kB\nMemFree:          1024 kB\n")


def run(*args):
    return cli_check.run(KMODSIM, *args)


def check_ok(r, tmp):
    w, m = f"{tmp}/w.yaml", f"{tmp}/m.yaml"
    p = run("import", "--this-machine", "--root", r, "-o", w, "--machine-out", m, "--jobs", "2")
    if p.returncode != 0:
        fail("import --this-machine failed", p)
    for want in ("imported 4 of 4 modules, 5 uevents (1 unmatched, 0 duplicate)",
                 "modaliases: 4 files", "(1 empty, 0 invalid, 0 unreadable, 0 links skipped)",
                 "1 match one module, 1 several (+1 uevents), 1 none, 0 built in",
                 "boot list: 3 modules", "1 requested", f"kernel_exports: 2 (__ksymtab_ entries of vmlinux in {r}/proc/kallsyms)",
                 f"machine: 2 cores ({r}/sys/devices/system/cpu/online), RAM 2000.0 MiB"):
        if want not in p.stdout:
            fail(f"report lacks {want!r}", p)
    wl = yaml.safe_load(open(w))
    got = [(u["device"], u["module"]) for u in wl["uevents"]]
    want = [(INTEL, "fx_a"), (INTEL, "fx_d"), (USB, "fx_b"), ("platform:none", None),
            ("boot-list:fx_c", "fx_c")]
    if got != want:
        fail(f"uevents {got} != {want}")
    if [x["name"] for x in wl["modules"]] != ["fx_a", "fx_b", "fx_c", "fx_d"]:
        fail(f"modules {wl['modules']}")
    if wl["kernel_exports"] != 2 or wl["index_modules"] != 4:
        fail(f"kernel_exports {wl['kernel_exports']}, index_modules {wl['index_modules']}")
    mach = yaml.safe_load(open(m))
    if mach["cores"] != 2 or mach["ram_mb"] != 2000.0 or "speed" in mach:
        fail(f"machine file {mach}")
    if "# kernel_exports: __ksymtab_ entries of vmlinux in" not in open(w).read():
        fail("the workload does not say where kernel_exports comes from")
    # Both files work in a scenario as they are.
    scenario = f"{E2E}/configs/base.yaml"
    sets = ["--set", f"machine={m}", "--set", f"workload={w}"]
    p = run("validate", scenario, *sets)
    if p.returncode != 0 or p.stdout or p.stderr:
        fail("validate of the imported machine and workload", p)
    p = run("run", scenario, *sets, "--out", f"{tmp}/run", "--json")
    if p.returncode != 0:
        fail("run of the imported machine and workload", p)
    summary = json.loads(p.stdout)
    if summary.get("modules_loaded") != 4:
        fail(f"modules_loaded {summary.get('modules_loaded')} != 4", p)
    # Deterministic; nothing overwritten without --force.
    p = run("import", "--this-machine", "--root", r, "-o", f"{tmp}/w2.yaml", "--jobs", "1")
    if p.returncode != 0 or open(f"{tmp}/w2.yaml").read() != open(w).read():
        fail("a second import differs", p)
    text = open(w).read()
    p = run("import", "--this-machine", "--root", r, "-o", w)
    if p.returncode != 1 or "refusing to overwrite" not in p.stderr or open(w).read() != text:
        fail("an existing output was not protected", p)
    print("ok: import --this-machine, validate, run, determinism, overwrite protection")


def check_bad(r, tmp):
    out = f"{tmp}/bad.yaml"
    expect_error(run("import", "--this-machine", "--root", f"{tmp}/nowhere", "-o", out),
                 f"{tmp}/nowhere", "not found")
    expect_error(run("import", "--this-machine", "--root", r, "--modules-dir", r, "-o", out),
                 "--modules-dir")
    expect_error(run("import", "--this-machine", "--root", r, "--uevents", "x", "-o", out), "--uevents")
    write(f"{r}/proc/sys/kernel/osrelease", "6.9.9-gone\n")
    expect_error(run("import", "--this-machine", "--root", r, "-o", out),
                 f"{r}/lib/modules/6.9.9-gone", "not found")
    write(f"{r}/proc/sys/kernel/osrelease", REL + "\n")
    os.rename(f"{r}/lib/modules/{REL}/modules.alias.bin", f"{tmp}/alias.bin")
    expect_error(run("import", "--this-machine", "--root", r, "-o", out),
                 "modules.alias.bin", f"depmod -b {r} {REL}")
    os.rename(f"{tmp}/alias.bin", f"{r}/lib/modules/{REL}/modules.alias.bin")
    os.remove(f"{r}/sys/devices/system/cpu/online")
    expect_error(run("import", "--this-machine", "--root", r, "-o", out, "--machine-out", f"{tmp}/bad-m.yaml"),
                 "number of CPUs is unknown", "cpu/online")
    for f in (out, f"{tmp}/bad-m.yaml"):
        if os.path.exists(f):
            fail(f"a failed import left {f}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        r = f"{tmp}/root"
        build_root(r)
        check_ok(r, tmp)
        check_bad(r, tmp)


if __name__ == "__main__":
    main()
