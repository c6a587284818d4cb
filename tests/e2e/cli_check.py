"""Helpers the e2e scripts share: run the CLI, fail with what it printed, expect a one-line error,
write a fixture file, read a fixture object."""
import os
import subprocess
import sys


def run(kmodsim, *args, cwd=None):
    return subprocess.run([kmodsim, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def fail(msg, p=None):
    if p is not None:
        msg += f"\n  exit {p.returncode}\n  stdout: {p.stdout!r}\n  stderr: {p.stderr!r}"
    sys.exit("FAIL: " + msg)


def expect_error(p, *parts):
    """Exit status 2 and exactly one 'error:' line on stderr holding every one of `parts`."""
    if p.returncode != 2:
        fail("expected exit status 2", p)
    lines = p.stderr.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("error: "):
        fail("expected exactly one 'error:' line on stderr", p)
    for part in parts:
        if part not in lines[0]:
            fail(f"message lacks {part!r}", p)
    print("ok:", lines[0])


def write(path, data):
    """Writes `data` (bytes or text) to `path`, making its folders."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def fixture_obj(obj_dir, name):
    """The bytes of a fixture module object, OBJ_DIR/NAME.native.o."""
    with open(os.path.join(obj_dir, f"{name}.native.o"), "rb") as f:
        return f.read()
