#!/usr/bin/env python3
"""Writes the seed corpus of the config fuzzers (fuzz_config, fuzz_config_sim) into
fuzz/corpus/config/ (or the folder given as the only argument): the shipped scenario and the
end-to-end test configs in the multi-file input format of fuzz/config_input.hpp, with file
references rewritten to the fixed names, plus hand-written inputs with anchors, aliases, merge
keys, duplicate keys, inline sections, overlays and --set lines. See docs/fuzzing.md.

    fuzz/make-config-seeds.py [OUT_DIR]
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXED = {"machine": "machine.yaml", "kernel": "kernel.yaml", "workload": "workload.yaml",
         "calibration": "calibration.yaml"}


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def rewrite_refs(scenario):
    """`machine: ../machines/x.yaml` -> `machine: machine.yaml`; `{file: x, ...}` likewise."""
    def plain(m):
        return f"{m.group(1)}: {FIXED[m.group(1)]}"
    scenario = re.sub(r"^(machine|kernel|workload|calibration): *([^{\s#][^\s#]*)", plain, scenario, flags=re.M)

    def overlay(m):
        return f"{m.group(1)}: {{file: {FIXED[m.group(1)]}"
    return re.sub(r"^(machine|kernel|workload|calibration): *\{ *file: *[^,}\s]+", overlay, scenario, flags=re.M)


def make(scenario, machine=None, kernel=None, workload=None, calibration=None, sets=()):
    out = scenario if scenario.endswith("\n") else scenario + "\n"
    for name, text in (("machine.yaml", machine), ("kernel.yaml", kernel), ("workload.yaml", workload),
                       ("calibration.yaml", calibration)):
        if text is not None:
            out += f"--- file: {name}\n" + text + ("" if text.endswith("\n") else "\n")
    if sets:
        out += "--- set\n" + "".join(s + "\n" for s in sets)
    return out


def seeds():
    desk = rewrite_refs(read("configs/scenarios/desktop-2009.yaml"))
    mach = read("configs/machines/turion-tl56-2009.yaml")
    k28 = read("configs/kernels/linux-2.6.28.yaml")
    k29 = read("configs/kernels/linux-2.6.29-rusty.yaml")
    small = read("configs/workloads/desktop-2009-small.yaml")
    deb = read("configs/workloads/debian-6.1-desktop-2009.yaml")
    cal = read("configs/calibrations/turion-2009-derived.yaml")
    e = lambda n: read(f"tests/e2e/configs/{n}.yaml")
    base = rewrite_refs(e("base"))
    emach, ecal = e("machine"), e("calib")

    yield "desktop-2009", make(desk, mach, k28, small, cal)
    yield "desktop-2009-rusty", make(desk, mach, k29, small, cal)
    yield "desktop-2009-debian", make(desk, mach, k28, deb, cal)
    yield "desktop-2009-sets", make(desk, mach, k28, small, cal, [
        "machine.cores=4", "machine.scheduler.model=processor_sharing", "kernel.mutex.adaptive_spin=true",
        "variability.cost_cv=0.1", "variability.shuffle_uevents=true", "seed=7"])
    yield "desktop-2009-set-kernel-file", make(desk, mach, k28, small, cal, ["kernel=kernel.yaml", "machine.cores=8"])

    yield "e2e-coarse", make(base, emach, e("coarse"), e("two"), ecal)
    yield "e2e-fine", make(base, emach, e("fine"), e("two"), ecal, ["machine.cores=2"])
    yield "e2e-chain", make(base, emach, e("coarse"), e("chain"), ecal)
    yield "e2e-dup-fine", make(base, emach, e("fine"), e("dup"), ecal, ["machine.cores=2"])
    yield "e2e-handoff", make(base, emach, e("fine"), e("two"), ecal, [
        "machine.cores=2", "kernel.mutex.wakeup_us=5", "kernel.mutex.handoff=true"])
    yield "e2e-time-slice", make(base, emach, e("coarse"), e("two"), ecal, [
        "machine.scheduler.model=time_slice", "machine.scheduler.slice_ms=0.5"])
    yield "e2e-deadlock", make(rewrite_refs(e("deadlock")), emach, e("bad-order-kernel"), None, ecal)
    yield "e2e-lhp", make(rewrite_refs(e("lhp")), emach, e("lhp-kernel"), e("two"), ecal)
    yield "e2e-lhp-ps", make(rewrite_refs(e("lhp")), emach, e("lhp-kernel"), e("two"), ecal, [
        "machine.scheduler.model=processor_sharing"])
    yield "e2e-set-by-name", make(base, emach, e("coarse"), e("chain"), ecal, [
        "workload.modules.b.init.wait_ms=4", "workload.modules.c.undef_symbols=3",
        "kernel.init_module.load_module.lock=none", "userspace.udev.children_max=1"])
    # The kernel eras' mechanisms (issue 11): duplicates per CPU, add_unformed, idempotent,
    # binary lookup, the module area, named locks and the lazy purge, compressed modules, and
    # modprobe's kmod check
    for era in ("seed", "3.0", "3.8", "6.4", "vmalloc"):
        yield f"e2e-era-{era}", make(base, emach, e(f"era-{era}"), e("dup"), ecal, ["machine.cores=2"])
    yield "e2e-percpu", make(base, emach, e("fine"), e("percpu"), ecal, ["machine.cores=4"])
    yield "e2e-locks", make(base, emach, e("era-locks"), e("two"), ecal, ["machine.cores=2"])
    yield "e2e-locks-nested", make(base, emach, e("era-locks-nested"), e("sizes"), ecal, ["machine.cores=2"])
    yield "e2e-decompress", make(base, emach, e("era-decompress"), e("compressed"), ecal, [
        "machine.module_area_mb=0.4"])
    yield "e2e-kmod-check", make(base, emach, e("coarse"), e("dup"), ecal, [
        "userspace.modprobe.loaded_check=kmod", "userspace.modprobe.check_us=10"])

    # Everything inline in scenario.yaml (the shape `kmodsim config` emits), no other file.
    yield "inline-all", make("""schema_version: 1
name: inline
seed: 3
machine: {name: m, cores: 2, speed: 1.5, disk: {read_mbps: 40, latency_ms: 1}, scheduler: {model: time_slice, slice_ms: 4}}
kernel:
  name: k
  preemption: full
  mutex: {wakeup_us: 3, adaptive_spin: true, handoff: false}
  use_module_timeout_s: 30
  init_module:
    - {name: find_module, lock: module_mutex, repeat: once, effect: duplicate_check, cost: {constant: 5, loaded_modules: 0.1}}
    - {name: sysfs, effect: sysfs_claim, cost: 2}
    - {name: resolve, lock: module_mutex, repeat: per_undef_symbol, effect: resolve_symbol, cost: {symtab_entries: 0.01}}
    - {name: verify, lock: preempt_off, repeat: per_export, effect: verify_exports, cost: {symtab_entries: 0.01}}
    - {name: percpu, only_if: percpu_kb, repeat: per_cpu, cost: {percpu_kb: 1}, wait: {constant: 10}}
    - {name: add, lock: module_mutex, effect: list_add, cost: 1}
    - {name: init, effect: init}
    - {name: live, effect: live, wait: 5}
userspace:
  udev: {children_max: 3, event_us: 100, spawn_us: 50}
  modprobe: {startup_us: 1000, index_us_per_module: 1, check_us: 10, check_us_per_loaded: 0.5}
variability: {cost_cv: 0.2, init_wait_cv: 0.3, shuffle_uevents: true}
outputs: {timeline: false}
calibration:
  name: c
  reference: r
  coefficients:
    a: {value: 1, unit: us, source: s}
    b: 2
workload:
  name: w
  kernel_exports: 1000
  index_modules: 50
  modules:
    - {name: "x", size_kb: 10, init_kb: 2, file_kb: 12, undef_symbols: 5, dep_symbols: 0, relocations: 100, exports: 3, percpu_kb: 1, deps: [], init: {cpu_us: 100, wait_ms: 1}}
    - {name: "y", size_kb: 20, undef_symbols: 4, dep_symbols: 2, exports: 0, deps: ["x"], init: {cpu_us: 50, wait_ms: 0}}
  uevents:
    - {device: "pci:0", module: "y"}
    - {device: "pci:1", module: "x"}
    - {device: "pci:2", module: ~}
""")

    # Overlays: {file: ..., key: value} merged over the files.
    yield "overlay", make("""schema_version: 1
name: overlay
machine: {file: machine.yaml, cores: 3, scheduler: {model: run_to_block}}
kernel: {file: kernel.yaml, preemption: full, mutex: {handoff: true}}
workload: {file: workload.yaml, kernel_exports: 10}
calibration: {file: calibration.yaml, name: renamed}
""", emach, e("fine"), e("chain"), ecal)

    # Anchors and aliases in every file, and YAML merge keys (<<).
    yield "anchors-aliases", make("""schema_version: 1
name: &n anchored
machine: machine.yaml
kernel: kernel.yaml
workload: workload.yaml
calibration: calibration.yaml
userspace:
  udev: &u {children_max: 4, event_us: &t 10, spawn_us: *t}
  modprobe: {startup_us: *t, index_us_per_module: 0, check_us: *t, check_us_per_loaded: 0}
""", """schema_version: 1
name: m
cores: &c 2
scheduler: &s {model: time_slice, slice_ms: *c}
""", """schema_version: 1
name: k
mutex: &m {wakeup_us: 0, adaptive_spin: false, handoff: false}
init_module:
  - &g
    name: load_module
    lock: module_mutex
    steps:
      - &fm {name: find_module, effect: duplicate_check, cost: &cost {constant: dup_us}}
      - {name: resolve_symbol, repeat: per_undef_symbol, effect: resolve_symbol, cost: *cost}
      - {name: list_add_rcu, effect: list_add, cost: *cost}
  - {name: module_init, effect: init, cost: *cost}
  - {name: mark_live, effect: live, wait: *cost}
""", """schema_version: 1
name: w
modules:
  - &a {name: a, size_kb: &sz 10, undef_symbols: 2, init: &i {cpu_us: 5, wait_ms: 1}}
  - {name: b, size_kb: *sz, undef_symbols: 1, deps: [a], init: *i}
  - &m3 {name: c, undef_symbols: 1}
uevents:
  - &e {device: d0, module: b}
  - *e
  - {device: d1, module: c}
""", ecal)
    # YAML merge keys (<<): yaml-cpp reads `<<` as a plain key.
    yield "merge-keys", make("""schema_version: 1
machine: &m {cores: 2}
kernel: kernel.yaml
workload: workload.yaml
calibration: calibration.yaml
""", None, e("coarse"), """schema_version: 1
modules:
  - &d {name: a, size_kb: 10, undef_symbols: 2}
  - {<<: *d, name: b}
  - <<: *d
    name: c
    deps: [a]
uevents:
  - {device: d0, module: c}
""", ecal)
    yield "aliases-no-merge", make("""schema_version: 1
machine: machine.yaml
kernel: kernel.yaml
workload: workload.yaml
calibration: calibration.yaml
""", emach, """schema_version: 1
name: k
init_module:
  - &s {name: find_module, effect: duplicate_check, cost: &c {constant: 4}}
  - {name: list_add_rcu, effect: list_add, cost: *c}
  - {name: module_init, effect: init, cost: *c}
  - {name: mark_live, effect: live, cost: *c}
""", """schema_version: 1
modules:
  - &a {name: a, undef_symbols: 2, init: &i {cpu_us: 5, wait_ms: 1}}
  - {name: b, undef_symbols: 1, dep_symbols: 1, deps: [a], init: *i}
uevents:
  - &e {device: d0, module: a}
  - *e
  - {device: d1, module: b}
""", ecal)
    yield "alias-cycle", make("""schema_version: 1
machine: &m {cores: 1, loop: *m}
kernel: kernel.yaml
workload: &w [*w]
calibration: calibration.yaml
""", None, e("coarse"), None, ecal)

    # Duplicate keys (yaml-cpp keeps both).
    yield "duplicate-keys", make("""schema_version: 1
name: dup
name: dup2
machine: machine.yaml
kernel: kernel.yaml
kernel: kernel.yaml
workload: workload.yaml
calibration: calibration.yaml
""", """schema_version: 1
cores: 1
cores: 4
scheduler: {model: time_slice, model: run_to_block}
""", e("coarse"), """schema_version: 1
modules:
  - {name: a, undef_symbols: 1, undef_symbols: 2}
  - {name: a}
uevents: [{device: d0, module: a}]
""", ecal)

    # Odd but loadable shapes: groups in groups, every repeat, waits, only_if, preempt_off.
    yield "nested-groups", make(base, emach, """schema_version: 1
name: nested
preemption: full
mutex: {wakeup_us: 2, adaptive_spin: true, handoff: true}
use_module_timeout_s: 0.01
init_module:
  - name: outer
    steps:
      - name: g1
        lock: module_mutex
        steps:
          - name: g2
            lock: preempt_off
            steps:
              - {name: find_module, effect: duplicate_check, cost: {constant: dup_us, cpus: 1}}
              - {name: sysfs, effect: sysfs_claim, wait: {constant: 3}}
      - {name: resolve_symbol, repeat: per_undef_symbol, effect: resolve_symbol, lock: module_mutex, cost: {constant: sym_us}}
      - {name: per_cpu, repeat: per_cpu, only_if: cpus, cost: 1}
      - {name: exports, repeat: per_export, effect: verify_exports, cost: {exports: 1}}
  - {name: list_add_rcu, effect: list_add, lock: module_mutex}
  - {name: module_init, effect: init, wait: {init_kb: 1}}
  - {name: mark_live, effect: live}
""", e("chain"), ecal, ["machine.cores=4", "machine.scheduler.model=time_slice", "workload.modules.a.exports=3"])

    # Sections given on the --set lines only, and a replaced section.
    yield "sections-by-set", make("""schema_version: 1
name: by-set
machine: {cores: 1}
kernel: kernel.yaml
workload: {modules: []}
calibration: {}
""", emach, e("coarse"), e("two"), ecal, ["machine=machine.yaml", "workload=workload.yaml", "calibration=calibration.yaml",
                                          "machine.cores=2"])
    # Error paths that must stay ConfigError.
    # (the loader stops at the first bad line: one per seed)
    for i, line in enumerate(["machine.cores", "machine..cores=2", "workload.modules.99.size_kb=1",
                              "workload.modules.zz.size_kb=1", "kernel.init_module.0=x", "machine.cores.deeper=1",
                              "machine.cores=[1, 2", "workload.modules.18446744073709551616.size_kb=1"]):
        yield f"bad-set-{i}", make(base, emach, e("coarse"), e("two"), ecal, [line])
    yield "bad-yaml", make("schema_version: 1\nmachine: [unclosed\n", "cores: {\n", "- a\n- b\n", "\"unterminated\n",
                           "\t tab: x\n")
    yield "empty", ""
    yield "only-scenario", "schema_version: 1\nname: lone\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", "corpus", "config")
    os.makedirs(out, exist_ok=True)
    total = 0
    for name, text in seeds():
        data = text.encode("utf-8")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{out}: {len(os.listdir(out))} files, {total} bytes")


if __name__ == "__main__":
    main()
