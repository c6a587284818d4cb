#!/usr/bin/python3
"""One self-contained HTML page for kmodsim output folders.

report.py DIR [DIR ...] [-o OUT.html] [--replot]

Each DIR is recognised by the files in it:
  prediction   prediction.json, or sweep/runs.csv and ablations/runs.csv
               (experiments/lkml_2009.py, results/lkml-2009)
  sweep        runs.csv with points.csv, spec.yaml or sweep.journal (`kmodsim sweep`)
  comparison   compare.csv (analysis/compare_runs.py)
  boot-compare compare_boot.csv without summary.json (analysis/compare_boot.py -o)
  real boot    summary.json with "source": "dmesg" (`kmodsim trace-import`)
  run          summary.json, timeline.csv, modules.csv (`kmodsim run --out`)
  collection   none of those, but sub-folders that are
A sweep or a collection also gets a section for each sub-folder of a known kind
(results/flagship: its default-* runs and default-compare).

Figures are embedded as base64 PNG (the SVG beside each is linked when it sits in
the folder); nothing is loaded from the network. A missing figure is drawn first,
in-process with the plotting functions of plot_run.py, compare_runs.py,
plot_sweep.py and compare_boot.py (predict_2009.py runs as a subprocess), into
DIR (or a temporary folder when DIR is not writable); --replot redraws them all.
Writes OUT.html (default DIR/report.html, the first DIR) and prints its path.
A missing or malformed input: one line `error: <file>: <what>` on stderr, exit 1.
"""

import argparse
import json
import os
import subprocess
import sys

import pandas as pd

sys.dont_write_bytecode = True  # keep analysis/ free of __pycache__
import kmodsim_io as kio  # noqa: E402
from kmodsim_io import plt  # noqa: E402
import compare_runs  # noqa: E402
import plot_run  # noqa: E402
import plot_sweep  # noqa: E402
from report_html import (  # noqa: E402
    CSS,
    HERE,
    LINKED_ARTEFACTS,
    MAX_SUBSECTIONS,
    MAX_TABLE_ROWS,
    PATCH,
    PERFETTO,
    RUN_HEADLINE,
    Report,
    SORT_JS,
    SWEEP_METRICS,
    VERSION_KEYS,
    details,
    df_table,
    esc,
    fmt,
    kv_table,
    pre_file,
    short,
    table)


# ---------------------------------------------------------------- kinds


def detect(folder):
    """The kind of an output folder, from the files in it (None: unknown)."""
    has = lambda *names: os.path.isfile(os.path.join(folder, *names))  # noqa: E731
    if has("prediction.json") or (has("sweep", "runs.csv") and has("ablations", "runs.csv")):
        return "prediction"
    if has("runs.csv") and (has("points.csv") or has("spec.yaml") or has("sweep.journal")):
        return "sweep"
    if has("compare.csv"):
        return "comparison"
    if has("summary.json"):
        try:
            with open(os.path.join(folder, "summary.json"), encoding="utf-8") as f:
                data = json.load(f)
            if isinstance(data, dict) and data.get("source") == "dmesg":
                return "boot"
        except (OSError, ValueError):
            pass  # read_summary reports it
        return "run"
    if has("compare_boot.csv"):
        return "boot-compare"
    if has("timeline.csv") or has("modules.csv"):
        return "run"  # summary.json missing: reported as such
    if sub_folders(folder):
        return "collection"
    return None


def sub_folders(folder):
    """Immediate sub-folders of a known kind other than collection, sorted by name."""
    out = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not name.startswith("."):
            has = lambda *n: os.path.isfile(os.path.join(path, *n))  # noqa: E731
            if (has("summary.json") or has("compare.csv") or has("compare_boot.csv")
                    or has("prediction.json") or (has("runs.csv") and has("points.csv"))):
                out.append(path)
    return out


def versions_line(pairs):
    items = [f"{esc(k)} <code>{esc(v)}</code>" for k, v in pairs if v not in (None, "")]
    return f"<p class=\"note\">{'; '.join(items)}</p>" if items else ""


def artefacts_html(rep, folder, names):
    items = [f"<li>{rep.link(os.path.join(folder, n))}: {esc(what)}</li>"
             for n, what in names if os.path.isfile(os.path.join(folder, n))]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def run_section(rep, folder, level):
    summary_path = os.path.join(folder, "summary.json")
    summary = kio.read_summary(folder)
    timeline = kio.read_timeline(folder)
    modules = kio.read_modules(folder)
    names = ["gantt", "states", "lock"]
    if rep.needs_plot([os.path.join(folder, n + ".png") for n in names],
                      [os.path.join(folder, n) for n in ("summary.json", "timeline.csv", "modules.csv")]):
        fig_dir = rep.figure_dir(folder)
        plot_run.plot_all(summary, timeline, modules, fig_dir, summary_path)
    else:
        fig_dir = folder
    h = f"h{min(level + 2, 6)}"
    parts = []
    head = [(k, summary[k]) for k in RUN_HEADLINE if k in summary]
    parts.append(f"<p><b>{esc(plot_run.run_title(summary))}</b>, seed {esc(summary.get('seed', '?'))}, "
                 f"CPU model {esc(summary.get('scheduler', '?'))}</p>")
    parts.append(kv_table(head))
    parts.append(versions_line([(k, summary.get(k)) for k in VERSION_KEYS]))
    rest = [(k, v) for k, v in summary.items() if k not in RUN_HEADLINE and k not in VERSION_KEYS]
    parts.append(details(f"all of summary.json ({len(summary)} keys)", kv_table(rest)))
    captions = {"gantt": "Task states per task (lanes), with the CPU strip on top",
                "states": "Tasks per state over time (stacked), against the core count",
                "lock": "module_mutex wait and hold per load attempt"}
    parts.append(f"<{h}>Figures</{h}>")
    for n in names:
        parts.append(rep.figure(os.path.join(fig_dir, n + ".png"), f"{n}: {captions[n]}"))
    mods = modules.sort_values(["load_start_s", "module"], kind="mergesort")
    bad = int((mods["outcome"] != "loaded").sum())
    parts.append(f"<{h}>Modules</{h}><p>{len(mods)} load attempts (modules.csv rows), "
                 f"{bad} not <code>loaded</code>. Click a column to sort.</p>")
    parts.append(details(f"modules.csv ({len(mods)} rows)", df_table(mods[kio.MODULES_COLUMNS]),
                         open_=len(mods) <= 150))
    if os.path.isfile(os.path.join(folder, "compare_boot.csv")):
        parts.append(f"<{h}>Compared with a real boot</{h}>")
        parts.append(boot_compare_body(rep, folder))
    parts.append(f"<{h}>Files</{h}>")
    parts.append(files_html(rep, folder, [("summary.json", "summary"),
                                          ("modules.csv", "one row per init_module call"),
                                          ("timeline.csv", "one row per task state interval")]))
    return "".join(parts)


def files_html(rep, folder, own):
    """Links to trace.json (with how to open it), dmesg.txt, lock_stat.txt when present, to
    the folder's own files, and config.yaml folded."""
    parts = [artefacts_html(rep, folder, LINKED_ARTEFACTS + own)]
    if os.path.isfile(os.path.join(folder, "trace.json")):
        parts.append(f"<p class=\"note\">{esc(PERFETTO)}</p>")
    if os.path.isfile(os.path.join(folder, "config.yaml")):
        parts.append(details("scenario: config.yaml (the resolved configuration)",
                             pre_file(os.path.join(folder, "config.yaml"))))
    return "".join(parts)


def boot_section(rep, folder, level):
    """A real boot imported from dmesg: summary, Gantt of the inits, inits table."""
    summary = kio.read_summary(folder)
    timeline = kio.read_timeline(folder)
    inits = kio.read_inits(folder)
    png = os.path.join(folder, "gantt.png")
    source = summary.get("file") or summary.get("dmesg") or folder
    title = f"real boot ({os.path.basename(str(source))})"
    if rep.needs_plot([png], [os.path.join(folder, "timeline.csv"), os.path.join(folder, "summary.json")]):
        makespan = kio.summary_number(summary, "makespan_s",
                                      os.path.join(folder, "summary.json"), required=False)
        png = plot_run.plot_gantt(timeline, title, makespan, None,
                                  os.path.join(rep.figure_dir(folder), "gantt.png"), boot=True)[0]
    h = f"h{min(level + 2, 6)}"
    parts = [kv_table(list(summary.items())),
             rep.figure(png, "gantt: module init functions per task (pid) from the dmesg, "
                             "each from its `calling` to its `returned` line; top: inits "
                             "running at once")]
    inits = inits.assign(duration_s=inits["init_end_s"] - inits["load_end_s"])
    cols = [c for c in ("module", "task", "outcome", "load_end_s", "init_end_s", "duration_s")
            if c in inits.columns]
    parts.append(f"<{h}>Module inits</{h}><p>{len(inits)} inits; median duration "
                 f"{fmt(float(inits['duration_s'].median()) if len(inits) else float('nan'))} s. "
                 f"load_end_s is the <code>calling</code> time, init_end_s the "
                 f"<code>initcall ... returned</code> time.</p>")
    parts.append(details(f"modules.csv ({len(inits)} inits)", df_table(inits[cols]),
                         open_=len(inits) <= 150))
    parts.append(f"<{h}>Files</{h}>")
    parts.append(files_html(rep, folder, [("summary.json", "summary"),
                                          ("modules.csv", "one row per init"),
                                          ("timeline.csv", "one row per init")]))
    return "".join(parts)


def boot_compare_body(rep, folder):
    import compare_boot
    csv_path = os.path.join(folder, "compare_boot.csv")
    try:
        df = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise kio.DataError(csv_path, f"malformed CSV: {str(e).strip()}") from None
    parts = []
    txt = os.path.join(folder, "compare_boot.txt")
    if os.path.isfile(txt):
        with open(txt, encoding="utf-8", errors="replace") as f:
            parts.append(f"<p>{esc(f.read().strip())}</p>")
    png = os.path.join(folder, "compare_boot.png")
    meta = os.path.join(folder, "compare_boot.json")
    if rep.needs_plot([png], [csv_path]) and os.path.isfile(meta):
        with open(meta, encoding="utf-8") as f:
            m = json.load(f)
        _, paths = compare_boot.compare(m["sim_dir"], m["real_dir"], rep.figure_dir(folder),
                                        m.get("align", "first"))
        png = paths[0]
    if os.path.isfile(png):
        parts.append(rep.figure(png, "simulated vs real module inits (top) and the "
                                     "distribution of init durations (bottom)"))
    parts.append(details(f"compare_boot.csv ({len(df)} modules)", df_table(df)))
    return "".join(parts)


def comparison_section(rep, folder, level):
    csv_path = os.path.join(folder, "compare.csv")
    try:
        df = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise kio.DataError(csv_path, f"malformed CSV: {str(e).strip()}") from None
    need = ["run_dir", "run_label", "speedup_vs_first"] + compare_runs.TABLE_METRICS
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise kio.DataError(csv_path, f"missing column(s) {', '.join(missing)}")
    png = os.path.join(folder, "compare.png")
    if rep.needs_plot([png], [csv_path]):
        png = compare_runs.plot_compare(df, os.path.join(rep.figure_dir(folder), "compare.png"))[0]
    cols = ["run_label", "makespan_s", "speedup_vs_first"] + compare_runs.TABLE_METRICS[1:]
    parts = [f"<p>{len(df)} runs; the first one is the speedup baseline "
             f"(speedup = its makespan / this makespan).</p>",
             df_table(df[cols]), rep.figure(png, "makespan and module_mutex hold/wait totals per run")]
    rows = [[r["run_label"], r["run_dir"]] + [r.get(k, "") for k in VERSION_KEYS if k in df.columns]
            for r in df.to_dict("records")]
    parts.append(details("run folders and versions",
                         table(["run", "folder"] + [k for k in VERSION_KEYS if k in df.columns], rows)))
    parts.append(details("all of compare.csv", df_table(df)))
    return "".join(parts)


def sweep_versions(runs_csv):
    try:
        df = pd.read_csv(runs_csv, usecols=lambda c: c in VERSION_KEYS[:2] + ["status"])
    except (OSError, ValueError):
        return ""
    pairs = [(k, ", ".join(sorted(set(map(str, df[k].dropna()))))) for k in VERSION_KEYS[:2]
             if k in df.columns]
    return versions_line(pairs)


def points_table(points_csv):
    """points.csv (long: one row per point and metric) as one row per point with the axes and
    mean [ci95] of the main metrics."""
    try:
        p = pd.read_csv(points_csv)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise kio.DataError(points_csv, f"malformed CSV: {str(e).strip()}") from None
    need = ["point", "metric", "n", "mean", "ci95_lo", "ci95_hi"]
    missing = [c for c in need if c not in p.columns]
    if missing:
        raise kio.DataError(points_csv, f"missing column(s) {', '.join(missing)}")
    axes = [c for c in p.columns if c.startswith("axis.")]
    metrics = [m for m in SWEEP_METRICS if m in set(p["metric"])]
    header = ["point"] + [a[len("axis."):] for a in axes] + ["n"] + metrics
    rows, titles = [], []
    for point, g in p.groupby("point", sort=True):
        first = g.iloc[0]
        by = g.set_index("metric")
        row = [point] + [short(first[a]) for a in axes]
        title = [None] + [fmt(first[a]) for a in axes]
        row.append(int(first["n"]) if first["n"] == first["n"] else "")
        title.append(None)
        for m in metrics:
            r = by.loc[m]
            if isinstance(r, pd.DataFrame):
                r = r.iloc[0]
            text = fmt(float(r["mean"]))
            if r["n"] > 1 and r["ci95_lo"] == r["ci95_lo"]:
                text += f" [{fmt(float(r['ci95_lo']))}, {fmt(float(r['ci95_hi']))}]"
            row.append(text)
            title.append(None)
        rows.append(row)
        titles.append(title)
    return (f"<p>{len(rows)} points; each cell: mean over the replications [95% confidence "
            f"interval of the mean, with replications].</p>"
            + table(header, rows, sortable=True, titles=titles), len(p))


def sweep_section(rep, folder, level):
    runs_csv = os.path.join(folder, "runs.csv")
    h = f"h{min(level + 2, 6)}"
    parts = []
    try:
        raw = pd.read_csv(runs_csv)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise kio.DataError(runs_csv, f"malformed CSV: {str(e).strip()}") from None
    if "status" in raw.columns:
        counts = raw["status"].value_counts()
        parts.append("<p>" + ", ".join(f"{esc(n)} runs <code>{esc(s)}</code>"
                                       for s, n in counts.items()) + ".</p>")
    parts.append(sweep_versions(runs_csv))
    png = os.path.join(folder, "sweep.png")
    can_plot = all(c in raw.columns for c in plot_sweep.NEEDED)
    if can_plot:
        df = plot_sweep.read_runs(runs_csv)
        if rep.needs_plot([png], [runs_csv]):
            png = plot_sweep.plot(df, rep.figure_dir(folder))[0]
        extras = plot_sweep.extra_axes(df)
        lines = "one line per kernel" + "".join(f" and {a[len('axis.'):]}" for a in extras)
        parts.append(rep.figure(png, f"makespan vs cores, {lines}, one panel per CPU model "
                                     "(band: 95% confidence interval of the mean over the replications "
                                     "of each point, with replications)"))
        sp, base = plot_sweep.speedups(df)
        if len(sp):
            parts.append(f"<{h}>Speedup over {esc(base)}</{h}>")
            parts.append("<p class=\"note\">Paired by replication (the same seed): n counts the "
                         "replications where both kernels finished.</p>")
            show = sp[["scheduler", "cores"] + extras + ["kernel", "n", "makespan_s", "baseline_makespan_s",
                                                         "speedup", "gain_pct", "modules_loaded", "failures"]]
            parts.append(df_table(show))
    else:
        parts.append("<p class=\"note\">runs.csv lacks the columns of the sweep plot "
                     f"({esc(', '.join(plot_sweep.NEEDED))}).</p>")
    points_csv = os.path.join(folder, "points.csv")
    if os.path.isfile(points_csv):
        parts.append(f"<{h}>Points</{h}>")
        body, n_rows = points_table(points_csv)
        parts.append(body)
        if n_rows <= MAX_TABLE_ROWS:
            parts.append(details(f"all of points.csv ({n_rows} rows: every metric)",
                                 df_table(pd.read_csv(points_csv))))
    parts.append(artefacts_html(rep, folder, [("runs.csv", "one row per run"),
                                              ("points.csv", "per point and metric: n, mean, sd, 95% CI"),
                                              ("speedup.csv", "speedup table"),
                                              ("sweep.journal", "the sweep's journal")]))
    if os.path.isfile(os.path.join(folder, "spec.yaml")):
        parts.append(details("spec.yaml (the sweep, resolved)", pre_file(os.path.join(folder, "spec.yaml"))))
    return "".join(parts)


def span(pair, n=None):
    """'[lo, hi]' of an interval of prediction.json; null (fewer than 2 replications): no interval."""
    if pair is None:
        return f"n={n}: no interval" if n is not None else "no interval"
    return f"[{fmt(pair[0])}, {fmt(pair[1])}]"


def interval(e):
    """'mean [lo, hi]' (95% of runs) of a prediction.json entry, or the mean and why no interval."""
    if e.get("mean") is None:
        return f"no finished pair (n={e.get('n', 0)})"
    if e.get("ci95") is None:
        return f"{e['mean']:+.2f} (n={e['n']}: no interval)" if "n" in e else f"{e['mean']:+.2f} (no interval)"
    return f"{e['mean']:+.2f} [{e['ci95'][0]:+.2f}, {e['ci95'][1]:+.2f}]"


def plot_ablations(pred, observed, path):
    """Speedup per ablation case: mean, 95% of runs (bar) and the 95% CI of the mean."""
    items = list(pred["ablations"].items())
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(items) + 1.4))
    for i, (name, e) in enumerate(items):
        if e.get("ci95") is not None:  # null below 2 replications: the mean alone
            lo, hi = e["ci95"]
            ax.barh(i, hi - lo, left=lo, height=0.5, color="#9ecae1", linewidth=0)
        if e.get("mean_ci95") is not None:
            mlo, mhi = e["mean_ci95"]
            ax.plot([mlo, mhi], [i, i], color="#08519c", linewidth=3)
        if e.get("mean") is not None:
            ax.plot([e["mean"]], [i], marker="o", color="#08519c")
    ax.axvline(0, color="black", linewidth=0.8)
    if observed is not None:
        ax.axvline(observed, color="#d62728", linestyle="--", linewidth=1,
                   label=f"observed ~{observed:g}%")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([n for n, _ in items], fontsize=8)
    ax.set_ylim(len(items) - 0.5, -0.5)
    ax.set_xlabel("speedup % of the patch over 2.6.28 (2 cores): mean (dot), its 95% CI "
                  "(dark), 95% of runs (light)", fontsize=8)
    ax.set_title("lkml-2009 ablations", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return kio.save_png_svg(fig, path)


def prediction_section(rep, folder, level):
    pred_path = os.path.join(folder, "prediction.json")
    pngs = [os.path.join(folder, n) for n in ("prediction.png", "tornado.png")]
    if rep.replot or not os.path.isfile(pred_path) or not all(map(os.path.isfile, pngs)):
        if not os.access(folder, os.W_OK):
            raise kio.DataError(folder, "prediction.json or its plots are missing and the folder "
                                        "is not writable")
        proc = subprocess.run([sys.executable, os.path.join(HERE, "predict_2009.py"), folder],
                              capture_output=True, text=True)
        lines = proc.stderr.strip().splitlines()
        for line in lines:  # its warnings (failed runs left out) are the reader's to see
            if line.startswith("warning: "):
                print(line, file=sys.stderr)
        if proc.returncode != 0:
            msg = lines[-1] if lines else f"exit status {proc.returncode}"
            if msg.startswith("error: ") and ": " in msg[7:]:  # the input it names: sweep/runs.csv, ...
                path, what = msg[7:].split(": ", 1)
                raise kio.DataError(path, f"{what} (predict_2009.py)")
            raise kio.DataError(os.path.join(folder, "prediction.json"), f"predict_2009.py failed: {msg}")
    try:
        with open(pred_path, encoding="utf-8") as f:
            pred = json.load(f)
    except ValueError as e:
        raise kio.DataError(pred_path, f"malformed JSON: {e}") from None
    if not isinstance(pred, dict):
        raise kio.DataError(pred_path, "top level must be a JSON object")
    h = f"h{min(level + 2, 6)}"
    observed = pred.get("observed_pct")
    headline = {"mean": pred["speedup_pct"], "ci95": pred["ci95"]}
    n2 = pred.get("per_cores", {}).get("2", {}).get("speedup_pct_race_closed", {}).get("n")
    if n2 is not None:
        headline["n"] = n2
    mean_ci = ("no interval of the mean" if pred["mean_ci95"] is None else
               f"the mean in [{pred['mean_ci95'][0]:+.2f}, {pred['mean_ci95'][1]:+.2f}]")
    parts = [f"<p><b>Prediction (2 cores, race closed): speedup {esc(interval(headline))} %"
             f"</b> (mean [95% of runs]; {mean_ci}"
             + (f"; n={n2}" if n2 is not None else "") + "); negative: slower. "
             f"Observed: ~{esc(fmt(observed))} % "
             f"({esc(pred.get('observed_source', ''))}).</p>"]
    if "speedup_pct_as_posted" in pred:
        posted = pred["speedup_pct_as_posted"]
        failed = pred.get("failed_loads_mean", {}).get(PATCH)
        parts.append(f"<p>As posted (race open): {esc(interval(posted))} %"
                     + (f", with {esc(fmt(failed))} failed loads per boot (mean)"
                        if failed is not None else "") + ".</p>")
    parts.append(f"<p class=\"note\">{esc(pred.get('definition', ''))}</p>")
    parts.append(sweep_versions(os.path.join(folder, "sweep", "runs.csv")))
    rows = []
    for cores, entry in pred["per_cores"].items():
        for kernel, e in entry.items():
            if isinstance(e, dict) and "makespan_s" in e:
                m = e["makespan_s"]
                rows.append([cores, kernel, m["mean"], span(m["ci95"], m["n"]), span(m["mean_ci95"], m["n"]), m["n"],
                             e.get("failed_loads_mean"), e.get("modules_loaded_mean")])
    parts.append(f"<{h}>Makespan per core count and kernel</{h}>")
    parts.append(table(["cores", "kernel", "makespan s (mean)", "95% of runs", "95% CI of mean",
                        "n", "failed loads (mean)", "modules loaded (mean)"], rows, sortable=True))
    rows = [[cores, e[name]["mean"], span(e[name]["ci95"], e[name]["n"]), span(e[name]["mean_ci95"], e[name]["n"]),
             e[name]["n"], label]
            for cores, e in pred["per_cores"].items()
            for name, label in (("speedup_pct_race_closed", "race closed"),
                                ("speedup_pct_as_posted", "as posted")) if name in e]
    parts.append(f"<{h}>Speedup % of the patch over 2.6.28</{h}>")
    parts.append(table(["cores", "speedup % (mean)", "95% of runs", "95% CI of mean", "n", "patch"],
                       rows))
    parts.append(rep.figure(pngs[0], "coldplug makespan over cores per kernel: mean and 95% of runs"))
    if pred.get("ablations"):
        parts.append(f"<{h}>Ablations (2 cores)</{h}>")
        rows = [[name, e["mean"], span(e["ci95"], e["n"]), span(e["mean_ci95"], e["n"]), e["n"]]
                for name, e in pred["ablations"].items()]
        parts.append(table(["case", "speedup % (mean)", "95% of runs", "95% CI of mean", "n"], rows))
        png = os.path.join(folder, "ablations.png")
        if rep.needs_plot([png], [pred_path]):
            png = plot_ablations(pred, observed, os.path.join(rep.figure_dir(folder), "ablations.png"))[0]
        parts.append(rep.figure(png, "speedup per ablation case"))
    sens = pred.get("sensitivity")
    if sens:
        parts.append(f"<{h}>Sensitivity (one input at a time, x0.5 and x1.5)</{h}>")
        parts.append(f"<p>Change of the mean speedup, in points, from the reference "
                     f"{esc(fmt(sens['reference_speedup_pct']))} %.</p>")
        parts.append(rep.figure(pngs[1], "tornado: the 12 inputs that move the speedup most"))
        rows = [[t["input"], t["x0.5"], t["x1.5"]] for t in sens["one_at_a_time"]]
        parts.append(details(f"all {len(rows)} inputs", table(["input", "x0.5", "x1.5"], rows,
                                                             sortable=True)))
    links = [(os.path.join(sub, f), f"{sub}/{f}") for sub in ("sweep", "ablations", "sensitivity")
             for f in ("runs.csv", "points.csv", "spec.yaml")]
    items = [f"<li>{rep.link(os.path.join(folder, p), t)}</li>" for p, t in links
             if os.path.isfile(os.path.join(folder, p))]
    items.append(f"<li>{rep.link(pred_path)}</li>")
    parts.append(f"<{h}>Files</{h}><ul>{''.join(items)}</ul>")
    return "".join(parts)


def boot_compare_section(rep, folder, level):
    return boot_compare_body(rep, folder)


SECTIONS = {"run": ("run", run_section), "boot": ("real boot", boot_section),
            "comparison": ("comparison", comparison_section),
            "sweep": ("sweep", sweep_section), "prediction": ("2009 prediction", prediction_section),
            "boot-compare": ("simulated vs real boot", boot_compare_section)}


def main_file(folder, kind):
    return os.path.join(folder, {"run": "summary.json", "boot": "summary.json",
                                 "comparison": "compare.csv", "sweep": "runs.csv",
                                 "prediction": "prediction.json",
                                 "boot-compare": "compare_boot.csv"}.get(kind, ""))


def add_folder(rep, folder, level=1, prefix=""):
    kind = detect(folder)
    if kind is None:
        raise kio.DataError(folder, "not a kmodsim output folder (no summary.json, runs.csv, "
                                    "compare.csv, compare_boot.csv or prediction.json)")
    anchor = f"s{len(rep.sections)}"
    if kind != "collection":
        label, build = SECTIONS[kind]
        try:
            body = build(rep, folder, level)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise kio.DataError(main_file(folder, kind),
                                f"unexpected content ({type(e).__name__}: {e})") from None
        rep.add(anchor, (level, label, prefix + folder), body)
    else:
        rep.add(anchor, (level, "collection", prefix + folder), "")
    if kind in ("sweep", "collection"):
        subs = sub_folders(folder)
        for sub in subs[:MAX_SUBSECTIONS]:
            add_folder(rep, sub, level + 1)
        if len(subs) > MAX_SUBSECTIONS:
            rep.add(f"s{len(rep.sections)}", (level + 1, "more", folder),
                    f"<p>{len(subs) - MAX_SUBSECTIONS} more sub-folders not shown.</p>")


def render(rep, folders):
    title = "kmodsim report: " + ", ".join(os.path.basename(os.path.normpath(f)) or f for f in folders)
    nav = "".join(f'<li style="margin-left:{(lv - 1) * 1.2}em"><a href="#{a}">{esc(label)}: '
                  f"{esc(path)}</a></li>" for a, (lv, label, path), _ in rep.sections)
    body = []
    for anchor, (level, label, path), content in rep.sections:
        h = f"h{min(level + 1, 6)}"
        body.append(f'<section id="{anchor}"><{h}>{esc(path)} <span class="kind">'
                    f"({esc(label)})</span></{h}>{content}</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1><p class=\"note\">Written by analysis/report.py from the files "
            f"in the folders below; self-contained (figures embedded, no network).</p>"
            f"<nav><ul>{nav}</ul></nav>{''.join(body)}<script>{SORT_JS}</script></body></html>\n")


def main():
    parser = argparse.ArgumentParser(
        description="Write one self-contained HTML report for kmodsim output folders "
                    "(a run, a real boot, a comparison, a sweep, the 2009 prediction, "
                    "or a folder of those).")
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="output folder(s)")
    parser.add_argument("-o", "--out", metavar="OUT.html",
                        help="the page to write (default: DIR/report.html of the first DIR)")
    parser.add_argument("--replot", action="store_true",
                        help="redraw every figure, even those already in the folders")
    args = parser.parse_args()
    for folder in args.dirs:
        if not os.path.isdir(folder):
            raise kio.DataError(folder, "no such folder")
    out = args.out or os.path.join(args.dirs[0], "report.html")
    rep = Report(out, args.replot)
    try:
        for folder in args.dirs:
            add_folder(rep, folder)
        page = render(rep, args.dirs)
    finally:
        if rep.tmp is not None:
            rep.tmp.cleanup()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    print(out)


if __name__ == "__main__":
    kio.run_main(main, status=1)
