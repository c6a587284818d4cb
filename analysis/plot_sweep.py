#!/usr/bin/python3
"""Plots a sweep's runs.csv (kmodsim sweep): makespan vs cores per kernel (one panel per CPU
model; one line per kernel and value of every other axis that varies, e.g. axis.case or
axis.kernel.preemption; with replications, the 95% Student-t confidence band of the mean over
the replications of each point), and the speedup of every kernel over the first one, paired by
replication. Prints the speedup table (markdown). Failed runs are left out, with a warning.

Usage: plot_sweep.py RUNS_CSV [-o OUT_DIR]  (writes sweep.png, sweep.svg and speedup.csv)
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
import pandas as pd  # noqa: E402

import kmodsim_io as kio  # noqa: E402  (Agg backend, deterministic SVG)
from kmodsim_io import plt  # noqa: E402

NEEDED = ["kernel", "cores", "scheduler", "replication", "makespan_s", "modules_loaded", "failures"]
NAMED = ["scheduler", "kernel", "cores"]  # the axes every sweep figure has: panel, line, x
STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "x"]


def read_runs(runs_csv):
    """The finished runs of a sweep's runs.csv; raises kio.DataError when it is missing,
    malformed or lacks a NEEDED column, or when two runs of different points (or two runs of one
    replication) cannot be told apart by the axis.* columns."""
    df = kio.read_sweep_runs(runs_csv, NEEDED, ("cores", "makespan_s", "modules_loaded", "failures"))
    for col in ("cores",):  # whole numbers (floats when a failed run left the column empty)
        if len(df) and (df[col] % 1 == 0).all():
            df[col] = df[col].astype("int64")
    keys = point_keys(df)
    if "point" in df.columns and len(df):
        n = df.groupby(keys, sort=False, dropna=False)["point"].nunique()
        if (n > 1).any():
            raise kio.DataError(runs_csv, f"runs of {int(n.max())} different points share "
                                          f"{', '.join(keys)}: their axis.* columns are missing")
    dup = df.duplicated(keys + ["replication"])
    if dup.any():
        raise kio.DataError(runs_csv, f"run {df.loc[dup.idxmax(), 'run'] if 'run' in df.columns else dup.idxmax()}: "
                                      f"a second run of one point and replication")
    return df


def extra_axes(df):
    """The axis.* columns that vary among runs of one (scheduler, kernel, cores): other axes of
    the sweep (axis.case, axis.kernel.preemption, ...), each value a point of its own."""
    if not len(df):
        return []
    axes = [c for c in df.columns if c.startswith("axis.")]
    g = df.groupby(NAMED, sort=False, dropna=False)
    return [a for a in axes if g[a].nunique(dropna=False).max() > 1]


def point_keys(df):
    """The columns that name one sweep point: scheduler, kernel, cores and the extra axes."""
    return NAMED + extra_axes(df)


def mean_ci(df):
    """Per sweep point (scheduler, kernel, cores and every extra axis): mean makespan, sd,
    count (the replications) and the half-width of the 95% Student-t interval of the mean (NaN
    with one replication)."""
    from scipy import stats  # imported here: report.py need not load scipy for other folders
    keys = point_keys(df)
    g = df.groupby(keys, sort=False, dropna=False)["makespan_s"].agg(["mean", "std", "count"]).reset_index()
    g = g.rename(columns={"mean": "makespan_s"})
    t = g["count"].map(lambda n: stats.t.ppf(0.975, n - 1) if n > 1 else float("nan"))
    g["half"] = t * g["std"] / g["count"].pow(0.5)
    return g


def axis_label(name, value):
    return f"{name[len('axis.'):]}={short_value(value)}"


def short_value(value):
    text = str(value)
    return os.path.basename(text) if "/" in text else text


def plot(df, out_dir):
    """Write OUT_DIR/sweep.png and sweep.svg; return both paths."""
    kernels = list(dict.fromkeys(df["kernel"]))
    scheds = list(dict.fromkeys(df["scheduler"])) or ["(no finished runs)"]
    extras = extra_axes(df)
    g = mean_ci(df)
    lines = list(dict.fromkeys(tuple(r) for r in g[["kernel"] + extras].itertuples(index=False)))
    lines.sort(key=lambda t: kernels.index(t[0]))  # kernel by kernel, extra values in order seen
    combos = list(dict.fromkeys(t[1:] for t in lines))
    fig, axes = plt.subplots(1, len(scheds), figsize=(max(6.5, 4.2 * len(scheds)), 3.6), sharey=True,
                             squeeze=False)
    for ax, s in zip(axes[0], scheds):
        for line_key in lines:
            sel = (g.scheduler == s)
            for col, v in zip(["kernel"] + extras, line_key):
                sel &= (g[col] == v) | (g[col].isna() & pd.isna(v))
            d = g[sel].sort_values("cores")
            if not len(d):
                continue
            label = ", ".join([str(line_key[0])] + [axis_label(a, v) for a, v in zip(extras, line_key[1:])])
            j = combos.index(line_key[1:])  # colour: the kernel; line and marker: the other axes
            line, = ax.plot(d["cores"], d["makespan_s"], label=label,
                            color=f"C{kernels.index(line_key[0]) % 10}", linestyle=STYLES[j % len(STYLES)],
                            marker=MARKERS[j % len(MARKERS)])
            if d["half"].notna().any():  # replications: the 95% CI of the mean
                ax.fill_between(d["cores"], d["makespan_s"] - d["half"], d["makespan_s"] + d["half"],
                                color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_title(s)
        ax.set_xlabel("cores")
        ax.set_xticks(sorted(df["cores"].dropna().unique()))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("makespan (s), mean over replications")
    n = g["count"]
    if len(g) and g["half"].notna().any():
        reps = f"{n.min()}" if n.min() == n.max() else f"{n.min()}-{n.max()}"
        band = f"band: 95% CI of the mean over the replications of a point (Student-t, n={reps})"
    elif len(g):
        band = f"no band: {n.max()} run per point, no interval"
    else:
        band = "no finished runs"
    fig.text(0.01, 0.01, band, fontsize=7, ha="left", va="bottom")
    if kernels:
        if len(lines) > 6:  # outside, right of the last panel
            axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        else:
            axes[0][-1].legend(fontsize=8)
    title = "coldplug makespan by kernel locking, cores and CPU model"
    if extras:
        title += "; one line per " + ", ".join(a[len("axis."):] for a in extras)
    fig.suptitle(title, fontsize=10 if extras else 12)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    png = os.path.join(out_dir, "sweep.png")
    svg = os.path.join(out_dir, "sweep.svg")
    fig.savefig(png, dpi=110, bbox_inches="tight", metadata=kio.SAVE_METADATA[".png"])
    fig.savefig(svg, dpi=110, bbox_inches="tight", metadata=kio.SAVE_METADATA[".svg"])
    plt.close(fig)
    return [png, svg]


def speedups(df):
    """One row per (scheduler, cores, extra axes, kernel other than the first): its makespan
    against the first kernel's, over the replications where both finished (paired by
    replication: the same seed, the same draws); n counts those pairs. makespan_s and
    baseline_makespan_s are the means over the pairs, speedup their ratio, gain_pct
    100 x (baseline - makespan) / baseline."""
    kernels = list(dict.fromkeys(df["kernel"]))
    if not kernels:
        return pd.DataFrame(), "baseline"
    base = kernels[0]
    extras = extra_axes(df)
    rows = []
    for key, d in df.groupby(["scheduler", "cores"] + extras, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        ref_runs = d[d.kernel == base].set_index("replication")
        for k in kernels[1:]:
            dk = d[d.kernel == k].set_index("replication")
            if not len(dk) and not len(ref_runs):
                continue
            both = ref_runs.index.intersection(dk.index)
            pk, pb = dk.loc[both], ref_runs.loc[both]
            m, ref = pk["makespan_s"].mean(), pb["makespan_s"].mean()
            row = dict(zip(["scheduler", "cores"] + extras, key))
            row.update({"kernel": k, "baseline": base, "n": len(both), "makespan_s": m,
                        "baseline_makespan_s": ref, "speedup": ref / m if m > 0 else float("nan"),
                        "gain_pct": 100.0 * (ref - m) / ref if ref > 0 else float("nan"),
                        "modules_loaded": pk["modules_loaded"].mean(), "failures": pk["failures"].mean()})
            rows.append(row)
    return pd.DataFrame(rows), base


def num(v, spec):
    return "-" if pd.isna(v) else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs_csv")
    ap.add_argument("-o", "--out", default=None)
    a = ap.parse_args()
    out = a.out or os.path.dirname(os.path.abspath(a.runs_csv))
    df = read_runs(a.runs_csv)
    if df.attrs.get("failed"):
        print(f"warning: {a.runs_csv}: {df.attrs['failed']} failed runs left out", file=sys.stderr)
    os.makedirs(out, exist_ok=True)
    png, svg = plot(df, out)
    sp, base = speedups(df)
    extras = extra_axes(df)
    csv = os.path.join(out, "speedup.csv")
    sp.to_csv(csv, index=False)
    names = [e[len("axis."):] for e in extras]
    print("| scheduler | cores | " + "".join(f"{n} | " for n in names)
          + f"kernel | n | makespan (s) | {base} (s) | gain | modules loaded | failures |")
    print("|---|---:|" + "---|" * len(names) + "---|---:|---:|---:|---:|---:|---:|")
    for r in sp.to_dict("records"):
        print(f"| {r['scheduler']} | {r['cores']} | " + "".join(f"{short_value(r[e])} | " for e in extras)
              + f"{r['kernel']} | {r['n']} | {num(r['makespan_s'], '.4f')} | "
              f"{num(r['baseline_makespan_s'], '.4f')} | {num(r['gain_pct'], '+.1f')}{'' if pd.isna(r['gain_pct']) else '%'} | "
              f"{num(r['modules_loaded'], '.0f')} | {num(r['failures'], '.0f')} |")
    print(png)
    print(svg)
    print(csv)


if __name__ == "__main__":
    kio.run_main(main)
