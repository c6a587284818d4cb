#!/usr/bin/python3
"""Shared helpers for the kmodsim analysis scripts (standard library, pandas,
matplotlib only). Reads the files of one `kmodsim run --out DIR` folder:
summary.json, modules.csv, timeline.csv. Never imports simulator code."""

import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import pandas as pd  # noqa: E402

# Deterministic output: no timestamps or random ids embedded in figures.
plt.rcParams["svg.hashsalt"] = "kmodsim"
SAVE_METADATA = {".png": {"Software": None},
                 ".pdf": {"Creator": None, "Producer": None, "CreationDate": None},
                 ".svg": {"Creator": None, "Date": None}}

TIMELINE_COLUMNS = ["task", "uevent", "module", "step", "state",
                    "start_s", "end_s", "cpu"]
TIMELINE_NUMERIC = ["start_s", "end_s"]
MODULES_COLUMNS = ["module", "task", "uevent", "outcome", "requested_s",
                   "load_start_s", "load_end_s", "init_end_s", "lock_wait_s",
                   "lock_hold_s", "acquisitions", "contentions"]
MODULES_NUMERIC = ["requested_s", "load_start_s", "lock_wait_s",
                   "lock_hold_s", "acquisitions", "contentions"]
TEXT_COLUMNS = ["task", "module", "step", "state", "outcome"]


class DataError(Exception):
    """A problem with one input file; reported as `error: <file>: <what>`."""

    def __init__(self, path, what):
        super().__init__(f"{path}: {what}")
        self.path, self.what = path, what


def run_main(main, status=2):
    """Run main(); turn expected failures into `error: <file>: <what>` and
    exit with `status` (2 for plot_run.py and compare_runs.py, 1 for the
    newer report.py and compare_boot.py)."""
    try:
        main()
    except DataError as e:
        sys.exit(_fail(f"{e.path}: {e.what}", status))
    except OSError as e:
        where = e.filename if e.filename is not None else "?"
        sys.exit(_fail(f"{where}: {e.strerror or e}", status))


def _fail(message, status=2):
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    return status


def flatten(obj, prefix=""):
    """{'lock': {'wait_total_s': 1}} -> {'lock.wait_total_s': 1}."""
    flat = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, sort_keys=True)
        else:
            flat[name] = value
    return flat


def read_summary(run_dir):
    """Return the flattened summary.json of run_dir (dotted keys)."""
    path = os.path.join(run_dir, "summary.json")
    if not os.path.isfile(path):
        raise DataError(path, "file not found (is this a `kmodsim run --out` folder?)")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise DataError(path, f"malformed JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise DataError(path, f"not UTF-8 text: {e}") from None
    if not isinstance(data, dict):
        raise DataError(path, "top level must be a JSON object")
    return flatten(data)


def summary_number(summary, key, path, required=True):
    """A numeric summary value, or None when optional and absent."""
    value = summary.get(key)
    if value is None:
        if required:
            raise DataError(path, f"missing key '{key}'")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(path, f"key '{key}' is not a number: {value!r}")
    return float(value)


def check_field_counts(path):
    """Every line must have as many fields as the header (pandas would silently
    turn an extra leading field into an index, or pad short lines)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            for row in reader:
                if row and len(row) != len(header):
                    raise DataError(path, f"line {reader.line_num}: {len(row)} "
                                          f"fields, header has {len(header)}")
    except (csv.Error, UnicodeDecodeError) as e:
        raise DataError(path, f"malformed CSV: {e}") from None


def read_csv(path, columns, numeric):
    """Read a simulator CSV, checking that columns exist and numeric ones parse."""
    if not os.path.isfile(path):
        raise DataError(path, "file not found")
    check_field_counts(path)
    try:
        df = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS},
                         keep_default_na=False, na_values=[""], index_col=False)
    except pd.errors.EmptyDataError:
        raise DataError(path, "empty file (no CSV header)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise DataError(path, f"malformed CSV: {str(e).strip()}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(missing)}; "
                              f"header has {', '.join(map(str, df.columns))}")
    for col in numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(bad.idxmax()) + 2  # 1-based line number, after the header
            raise DataError(path, f"line {row}: column '{col}' is not a number: "
                                  f"{df[col].iloc[row - 2]!r}")
        df[col] = values.astype(float)
    for col in TEXT_COLUMNS:
        if col in df.columns:
            df[col] = df[col].fillna("")
    return df


def read_timeline(run_dir):
    path = os.path.join(run_dir, "timeline.csv")
    df = read_csv(path, TIMELINE_COLUMNS, TIMELINE_NUMERIC)
    backwards = df["end_s"] < df["start_s"]
    if backwards.any():
        row = int(backwards.idxmax()) + 2
        raise DataError(path, f"line {row}: end_s < start_s")
    if (df["task"] == "").any():
        raise DataError(path, f"line {int((df['task'] == '').idxmax()) + 2}: empty task")
    return df


def read_modules(run_dir):
    path = os.path.join(run_dir, "modules.csv")
    df = read_csv(path, MODULES_COLUMNS, MODULES_NUMERIC)
    # empty when the load failed or ended early (EEXIST): NaN
    df["load_end_s"] = pd.to_numeric(df["load_end_s"], errors="coerce")
    df["init_end_s"] = pd.to_numeric(df["init_end_s"], errors="coerce")
    return df


def read_sweep_runs(runs_csv, needed, numeric, hint="", may_be_empty=()):
    """The finished runs (status ok) of a sweep's runs.csv, with the `numeric` columns as
    numbers; raises DataError when the file is missing, malformed or lacks a `needed` column
    (`hint` follows the list of missing ones), and when a finished run has a `numeric` value that
    is not a number, or is empty outside `may_be_empty` (a metric only some kernels report). The
    number of runs left out (status not ok) is in the result's attrs["failed"]."""
    try:
        df = pd.read_csv(runs_csv, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(runs_csv, str(e).strip()) from None
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(runs_csv, f"missing column(s) {', '.join(missing)}{hint}")
    failed = 0
    if "status" in df.columns:
        ok = df["status"] == "ok"
        failed = int((~ok).sum())
        df = df[ok]
    df = df.copy()
    for col in numeric:
        if col in df.columns:
            values = pd.to_numeric(df[col], errors="coerce")
            bad = values.isna() & (df[col].notna() | (col not in may_be_empty))
            if bad.any():
                i = bad.idxmax()
                text = df.at[i, col]
                raise DataError(runs_csv, f"line {_csv_line(runs_csv, i)}: column '{col}' "
                                          + ("is empty" if pd.isna(text) else f"is not a number: {text!r}"))
            df[col] = values
    df.attrs["failed"] = failed
    return df


def _csv_line(path, row):
    """The 1-based line of a CSV file where data row `row` (0-based) starts; quoted fields may
    span lines (a run's error message)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader, None)
        start = reader.line_num + 1
        for i, _ in enumerate(reader):
            if i == row:
                return start
            start = reader.line_num + 1
    return row + 2


def save(fig, path):
    """Save a figure without timestamps/software tags; return the path."""
    ext = os.path.splitext(path)[1].lower()
    fig.savefig(path, dpi=110, bbox_inches="tight",
                metadata=SAVE_METADATA.get(ext))
    plt.close(fig)
    return path


def save_png_svg(fig, png_path):
    """Save a figure as X.png and X.svg side by side (both deterministic);
    return [png_path, svg_path]."""
    svg_path = os.path.splitext(png_path)[0] + ".svg"
    for path in (png_path, svg_path):
        ext = os.path.splitext(path)[1].lower()
        fig.savefig(path, dpi=110, bbox_inches="tight",
                    metadata=SAVE_METADATA.get(ext))
    plt.close(fig)
    return [png_path, svg_path]


INIT_COLUMNS = ["module", "load_end_s", "init_end_s"]


def read_inits(run_dir):
    """The module inits of a run folder or of a real boot folder written by
    `kmodsim trace-import` (same modules.csv schema, most columns empty).

    Needs only the columns module, load_end_s (the init function starts) and
    init_end_s (it returns); task and outcome are used when present. Returns
    the rows whose init ran (both times present), with numeric times."""
    path = os.path.join(run_dir, "modules.csv")
    df = read_csv(path, INIT_COLUMNS, [])
    for col in ("load_end_s", "init_end_s"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            row = int(bad.idxmax()) + 2
            raise DataError(path, f"line {row}: column '{col}' is not a number: "
                                  f"{df[col].iloc[row - 2]!r}")
        df[col] = values.astype(float)
    for col in ("task", "outcome"):
        if col not in df.columns:
            df[col] = ""
    df = df[df["load_end_s"].notna() & df["init_end_s"].notna()].copy()
    backwards = df["init_end_s"] < df["load_end_s"]
    if backwards.any():
        row = int(backwards[backwards].index[0]) + 2
        raise DataError(path, f"line {row}: init_end_s < load_end_s")
    if (df["module"] == "").any():
        row = int(df.index[df["module"] == ""][0]) + 2
        raise DataError(path, f"line {row}: empty module")
    return df
