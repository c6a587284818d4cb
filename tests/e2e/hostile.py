#!/usr/bin/python3
"""Hostile-user regressions of the hardening issue: each CASE failed before its fix.

hostile.py KMODSIM E2E_DIR CASE   (CASE from the table at the bottom; `all` runs every one)
Every bad input must end with one stderr line naming the file (and line/key where there is
one) and the expected exit status, never a crash, a hang or a traceback.
"""
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

KMODSIM, E2E = sys.argv[1], sys.argv[2]
CONFIGS = os.path.join(E2E, "configs")
TIMEOUT = 30


def run(args, cwd=None, preexec=None):
    try:
        return subprocess.run([KMODSIM] + args, capture_output=True, text=True, errors="replace",
                              timeout=TIMEOUT, cwd=cwd, preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hang: kmodsim {' '.join(args)} ran past {TIMEOUT} s")


def expect(p, code, *needles):
    err = p.stderr.strip()
    assert p.returncode == code, f"exit {p.returncode}, expected {code}: {err}"
    if code != 0:
        assert err.count("\n") == 0, f"error is not one line:\n{err}"
        for bad in ("terminate called", "Traceback", "yaml-cpp", "filesystem error", "basic_filebuf", "Aborted",
                    "AddressSanitizer", "runtime error:"):
            assert bad not in err, f"foreign error text {bad!r}: {err}"
    for n in needles:
        assert n in err, f"stderr lacks {n!r}: {err}"


def scenario_copy(tmp):
    """A private copy of the e2e configs; returns the scenario path."""
    d = os.path.join(tmp, "cfg")
    shutil.copytree(CONFIGS, d)
    return os.path.join(d, "base.yaml")


def edit(path, old, new):
    text = open(path).read()
    assert old in text, f"{path} lacks {old!r}"
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def validate_set(tmp, setting, code=2, *needles):
    expect(run(["validate", scenario_copy(tmp), "--set", setting]), code, *needles)


# --- finite numbers that broke the engine ------------------------------------------------------
def coef_1e308(tmp):
    validate_set(tmp, "calibration.coefficients.dup_us.value=1e308", 2,
                 "calibration.coefficients.dup_us.value", "plausible range")


def index_1e15(tmp):
    validate_set(tmp, "userspace.modprobe.index_us_per_module=1e15", 2,
                 "--set userspace.modprobe.index_us_per_module=1e15", "plausible range")


def file_kb_1e23_on_a_workload_entry(tmp):  # also: the error names the --set, not two.yaml:1:1
    validate_set(tmp, "workload.modules.a.file_kb=1e23", 2,
                 "--set workload.modules.a.file_kb=1e23: workload.modules.0.file_kb", "plausible range")


def read_mbps_1e_300(tmp):
    validate_set(tmp, "machine.disk.read_mbps=1e-300", 2, "machine.disk.read_mbps", "plausible range")


def wakeup_1e300(tmp):
    validate_set(tmp, "kernel.mutex.wakeup_us=1e300", 2, "kernel.mutex.wakeup_us", "plausible range")


def runaway_guard(tmp):
    out = os.path.join(tmp, "out")
    expect(run(["run", scenario_copy(tmp), "--out", out, "--max-sim-time", "0.0005"]), 1, "--max-sim-time")
    assert not os.path.exists(os.path.join(out, "summary.json")), "a stopped run left a summary.json"


def ci95_must_contain_the_value(tmp):
    validate_set(tmp, "calibration.coefficients.dup_us.ci95=[1,2]", 2,
                 "calibration.coefficients.dup_us.ci95: the interval [1, 2] does not contain the value 100")


def runaway_steps_guard(tmp):  # zero-cost steps repeated without end pass no simulated time
    out = os.path.join(tmp, "out")
    expect(run(["run", scenario_copy(tmp), "--out", out, "--max-steps", "5"]), 1, "step repetitions")


# --- errors that were not kmodsim's -----------------------------------------------------------
def ref_directory(tmp):
    sc = scenario_copy(tmp)
    os.mkdir(os.path.join(tmp, "cfg", "dir.yaml"))
    expect(run(["validate", sc, "--set", "kernel=" + os.path.join(tmp, "cfg", "dir.yaml")]), 2,
           "is a directory, not a regular file")
    edit(sc, "kernel: coarse.yaml", "kernel: dir.yaml")
    expect(run(["validate", sc]), 2, "base.yaml:5:9: kernel: cannot open", "is a directory")


def ref_fifo(tmp):
    sc = scenario_copy(tmp)
    os.mkfifo(os.path.join(tmp, "cfg", "fifo.yaml"))
    edit(sc, "kernel: coarse.yaml", "kernel: fifo.yaml")
    expect(run(["validate", sc]), 2, "base.yaml:5:9: kernel", "is a FIFO")


def non_scalar_key(tmp):
    sc = scenario_copy(tmp)
    with open(os.path.join(tmp, "cfg", "machine.yaml"), "a") as f:
        f.write("? [a, b]\n: 1\n")
    expect(run(["validate", sc]), 2, "machine.yaml:6:", "keys must be plain strings")


def long_file_name(tmp):
    sc = scenario_copy(tmp)
    expect(run(["validate", sc, "--set", "kernel=" + "k" * 300 + ".yaml"]), 2, "kernel", "File name too long")
    expect(run(["validate", "x" * 300 + ".yaml"]), 2, "File name too long")


def invalid_utf8_name(tmp):
    sc = scenario_copy(tmp)
    wl = os.path.join(tmp, "cfg", "two.yaml")
    data = open(wl, "rb").read().replace(b"{name: b,", b"{name: \"b\xff\",")
    open(wl, "wb").write(data)
    for cmd in ("validate", "run"):
        expect(run([cmd, sc, "--out", os.path.join(tmp, "o")] if cmd == "run" else [cmd, sc]), 2,
               "two.yaml:", "UTF-8")


def validate_missing(tmp):
    expect(run(["validate", os.path.join(tmp, "missing.yaml")]), 2, "missing.yaml: cannot open file: no such file")


def missing_required_key_names_line(tmp):
    sc = scenario_copy(tmp)
    m = os.path.join(tmp, "cfg", "machine.yaml")
    edit(m, "cores: 1\n", "")
    expect(run(["validate", sc]), 2, "machine.yaml:1:1: machine: missing required key 'cores'")
    edit(sc, "schema_version: 1\n", "")
    expect(run(["validate", sc]), 2, "base.yaml:2:1: missing required key 'schema_version'")


def duplicate_key(tmp):
    sc = scenario_copy(tmp)
    with open(os.path.join(tmp, "cfg", "machine.yaml"), "a") as f:
        f.write("cores: 2\n")
    expect(run(["validate", sc]), 2, "machine.yaml:6:1: duplicate key 'cores' (first written on line 3)")


# --- run folders ---------------------------------------------------------------------------------
def folder_with_only_temp_files_is_reusable(tmp):
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    open(os.path.join(out, "summary.json.tmp"), "w").write("{")
    expect(run(["run", scenario_copy(tmp), "--out", out, "-q"]), 0)
    assert sorted(os.listdir(out)) == [".kmodsim-run", "config.yaml", "modules.csv", "summary.json", "timeline.csv"], \
        os.listdir(out)


def foreign_summary_json_refused(tmp):
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    for f in ("summary.json", "modules.csv"):
        open(os.path.join(out, f), "w").write("mine")
    expect(run(["run", scenario_copy(tmp), "--out", out]), 1, "not a kmodsim run folder", "refusing")
    assert open(os.path.join(out, "modules.csv")).read() == "mine"


def disk_full(tmp):
    """A full disk (RLIMIT_FSIZE, SIGXFSZ ignored: write() fails with EFBIG as on ENOSPC) is exit 1
    with one line, and the folder does not look complete, also where a complete run was before."""
    sc = os.path.join(os.path.dirname(E2E), "..", "configs", "scenarios", "desktop-2009.yaml")
    out = os.path.join(tmp, "out")
    expect(run(["run", sc, "--out", out, "-q"]), 0)
    assert os.path.exists(os.path.join(out, "summary.json"))

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    expect(run(["run", sc, "--out", out, "-q"], preexec=small_disk), 1, "timeline.csv", "write failed")
    assert not os.path.exists(os.path.join(out, "summary.json")), "an incomplete folder kept a summary.json"
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")], os.listdir(out)
    expect(run(["run", sc, "--out", out, "-q"]), 0)  # and the folder is reusable


def output_path_is_a_file(tmp):
    f = os.path.join(tmp, "file")
    open(f, "w").write("mine")
    expect(run(["run", scenario_copy(tmp), "--out", f]), 1, "exists and is not a directory")
    assert open(f).read() == "mine"


def alias_cycle(tmp):  # `kernel: *top` under a root anchor: a use-after-free, a segfault in release
    d = os.path.dirname(scenario_copy(tmp))
    sc = os.path.join(d, "cycle.yaml")
    with open(sc, "w") as f:
        f.write("&top\nschema_version: 1\nname: cycle\nmachine: machine.yaml\nkernel: *top\n"
                "workload: two.yaml\ncalibration: calib.yaml\n")
    expect(run(["validate", sc]), 2, "cycle.yaml:5:9: an alias to a list or mapping that contains it (a cycle)")


def bad_command_line(tmp):
    expect(run(["run"]), 2, "scenario is required")
    expect(run(["run", scenario_copy(tmp), "--max-sim-time", "-1"]), 2, "--max-sim-time")


CASES = {f.__name__: f for f in [
    coef_1e308, ci95_must_contain_the_value, index_1e15, file_kb_1e23_on_a_workload_entry, read_mbps_1e_300, wakeup_1e300, runaway_guard, runaway_steps_guard,
    ref_directory, ref_fifo, non_scalar_key, long_file_name, invalid_utf8_name, validate_missing,
    missing_required_key_names_line, duplicate_key, folder_with_only_temp_files_is_reusable,
    foreign_summary_json_refused, disk_full, output_path_is_a_file, alias_cycle, bad_command_line]}

if __name__ == "__main__":
    names = list(CASES) if sys.argv[3] == "all" else [sys.argv[3]]
    failed = 0
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                CASES[name](tmp)
                print(f"ok   {name}")
            except AssertionError as e:
                print(f"FAIL {name}: {e}")
                failed += 1
    sys.exit(1 if failed else 0)
