#!/usr/bin/python3
"""The 2009 prediction from the outputs of experiments/lkml_2009.py (reads CSV files only).

predict_2009.py DIR   (DIR/sweep/runs.csv, DIR/ablations/runs.csv, DIR/sensitivity/runs.csv: the
                       three `kmodsim sweep`s of experiments/lkml_2009.py)
Writes DIR/prediction.json, DIR/prediction.png (makespan over cores per kernel) and
DIR/tornado.png (each plot also as .svg beside it), and prints the tables.

speedup_pct of one replication = (T_2.6.28 - T_patch) / T_2.6.28 x 100, the same seed (the same
draws of every uncertain input, the same noise and uevent order) under both kernels.
  ci95       2.5th-97.5th percentile of the replications' speedups: the prediction interval,
             covering parameter uncertainty and run-to-run noise;
  mean_ci95  Student-t interval of the mean speedup.
Both are null (and printed "n=1: no interval") with fewer than 2 replications.
A missing file or column, or no finished 2-core run of a kernel: one line `error: <file>: ...`, exit 1.
"""
import argparse
import json
import math
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

plt.rcParams["svg.hashsalt"] = "kmodsim"  # deterministic SVG ids
SVG_METADATA = {"Creator": None, "Date": None}  # no timestamp in the SVGs

OBSERVED_PCT = 10.0  # Kay Sievers, Feb 2009: "~10% improvement" (DOMAIN.md section 1)
BASE, PATCH, CLOSED = "linux-2.6.28", "linux-2.6.29-rusty", "linux-2.6.29-rusty-raceclosed"
RESOLVE = "linux-2.6.29-resolve-one-lock"


BASIC = ["replication", "kernel", "makespan_s", "status"]
SWEEP_NEED = BASIC + ["axis.machine.cores", "failures", "modules_loaded"]
CASES_NEED = BASIC + ["axis.case"]
MIN_N = 2  # replications below which no interval is given


def fail(path, what):
    sys.exit(f"error: {path}: {' '.join(str(what).split())}")


def read_runs(path, need):
    """A sweep's runs.csv, its finished runs only; a missing or malformed file, a missing column of
    `need` or a finished run with a non-numeric makespan is a one-line error."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        fail(path, e)
    missing = [c for c in need if c not in df.columns]
    if missing:
        fail(path, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                   + (" (not a kmodsim sweep's runs.csv)" if set(missing) & set(BASIC) else ""))
    bad = df[df.status != "ok"]
    if len(bad):
        print(f"warning: {path}: {len(bad)} failed runs left out", file=sys.stderr)
    df = df[df.status == "ok"].copy()
    for col in [c for c in need if c not in ("kernel", "status", "axis.case")]:
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            i = values.isna().idxmax()
            fail(path, f"data row {i + 1} (status ok): column {col} is not a number: {df.at[i, col]!r}")
        df[col] = values
    return df


def rnd(x):
    """x rounded to 3 decimals; None for NaN (strict JSON has no NaN)."""
    return None if x is None or not math.isfinite(x) else round(float(x), 3)


def summarize(pct):
    """mean, ci95 (2.5-97.5 percentiles), mean_ci95 (Student-t) and n of a sample; the intervals
    are None below MIN_N values, the mean None without any."""
    pct = pd.Series(pct, dtype=float).dropna()
    n = len(pct)
    m = float(pct.mean()) if n else float("nan")
    if n < MIN_N:
        return {"mean": rnd(m), "ci95": None, "mean_ci95": None, "n": n}
    half = stats.t.ppf(0.975, n - 1) * float(pct.std(ddof=1)) / math.sqrt(n)
    return {"mean": rnd(m), "ci95": [rnd(pct.quantile(0.025)), rnd(pct.quantile(0.975))],
            "mean_ci95": [rnd(m - half), rnd(m + half)], "n": n}


def show(e, unit="%", spec="+.1f"):
    """'mean% [lo, hi]% (95% of runs, n=N)' of a summarize() result; 'n=1: no interval' below MIN_N."""
    if e["mean"] is None:
        return "n=0: no finished pair"
    if e["ci95"] is None:
        return f"{e['mean']:{spec}}{unit} (n={e['n']}: no interval)"
    return f"{e['mean']:{spec}}{unit} [{e['ci95'][0]:{spec}}, {e['ci95'][1]:{spec}}]{unit} (95% of runs, n={e['n']})"


def speedups(df, key_cols, base, other):
    a = df[df.kernel == base].set_index(key_cols)["makespan_s"]
    b = df[df.kernel == other].set_index(key_cols)["makespan_s"]
    j = pd.concat([a.rename("base"), b.rename("other")], axis=1).dropna()
    return (j.base - j.other) / j.base * 100.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="the output folder of experiments/lkml_2009.py (sweep/, ablations/, sensitivity/)")
    d = ap.parse_args().dir
    sweep_csv = os.path.join(d, "sweep", "runs.csv")
    runs = read_runs(sweep_csv, SWEEP_NEED)
    runs = runs.rename(columns={"axis.machine.cores": "c"})
    if runs.c.dropna().mod(1).eq(0).all():
        runs["c"] = runs.c.astype("int64")
    two = runs[runs.c == 2]
    for k in (BASE, PATCH, CLOSED):
        if not (two.kernel == k).any():
            fail(sweep_csv, f"no finished 2-core run of {k} (the prediction is at 2 cores)")
    pred = {"observed_pct": OBSERVED_PCT, "observed_source": "Kay Sievers via Rusty Russell, LKML Feb 2009 (DOMAIN.md section 1)",
            "definition": "speedup_pct = (T_2.6.28 - T_patch) / T_2.6.28 x 100 per replication (same seed); ci95 = "
                          "2.5-97.5 percentiles over replications (parameter uncertainty + noise)",
            "per_cores": {}}
    lines = ["cores | kernel | makespan s (mean, 95% of runs) | failed loads (mean) | modules loaded (mean)"]
    for c, g in runs.groupby("c"):
        entry = {}
        for k, gk in g.groupby("kernel"):
            entry[k] = {"makespan_s": summarize(gk.makespan_s), "failed_loads_mean": round(float(gk.failures.mean()), 2),
                        "modules_loaded_mean": round(float(gk.modules_loaded.mean()), 2)}
            lines.append(f"{c} | {k} | {gk.makespan_s.mean():.3f} [{gk.makespan_s.quantile(.025):.3f}, "
                         f"{gk.makespan_s.quantile(.975):.3f}] | {gk.failures.mean():.1f} | {gk.modules_loaded.mean():.1f}")
        entry["speedup_pct_as_posted"] = summarize(speedups(g, ["replication"], BASE, PATCH))
        entry["speedup_pct_race_closed"] = summarize(speedups(g, ["replication"], BASE, CLOSED))
        pred["per_cores"][str(c)] = entry
    two = pred["per_cores"]["2"]
    if two["speedup_pct_race_closed"]["n"] == 0:
        fail(sweep_csv, f"no replication where both {BASE} and {CLOSED} finished on 2 cores")
    pred["speedup_pct"] = two["speedup_pct_race_closed"]["mean"]
    pred["ci95"] = two["speedup_pct_race_closed"]["ci95"]
    pred["mean_ci95"] = two["speedup_pct_race_closed"]["mean_ci95"]
    pred["speedup_pct_as_posted"] = two["speedup_pct_as_posted"]
    pred["baseline_makespan_s"] = two[BASE]["makespan_s"]["mean"]
    pred["fine_makespan_s"] = two[CLOSED]["makespan_s"]["mean"]
    pred["fine_as_posted_makespan_s"] = two[PATCH]["makespan_s"]["mean"]
    pred["failed_loads_mean"] = {k: two[k]["failed_loads_mean"] for k in (BASE, PATCH, CLOSED)}

    # ablations
    ab = read_runs(os.path.join(d, "ablations", "runs.csv"), CASES_NEED)
    pred["ablations"] = {}
    for name, g in ab.groupby("axis.case", sort=False):
        pred["ablations"][name] = summarize(speedups(g, ["replication"], BASE, CLOSED))
    if RESOLVE in set(ab.kernel):  # the patch with one lock hold around the resolve loop, against 2.6.28
        pred["ablations"]["resolve_one_lock"] = summarize(
            speedups(ab[ab["axis.case"] == "baseline"], ["replication"], BASE, RESOLVE))
    # sensitivity: change of the mean speedup (race closed, 2 cores, point values) per input
    se = read_runs(os.path.join(d, "sensitivity", "runs.csv"), CASES_NEED)
    case = se["axis.case"].astype(str)
    se = se.assign(input=case.map(lambda c: c.rsplit("*", 1)[0]),
                   factor=case.map(lambda c: float(c.rsplit("*", 1)[1]) if "*" in c else 1.0))
    ref = speedups(se[se.input == "none"], ["replication"], BASE, CLOSED).mean()
    tor = []
    for name, g in se[se.input != "none"].groupby("input"):
        lo = speedups(g[g.factor == 0.5], ["replication"], BASE, CLOSED).mean()
        hi = speedups(g[g.factor == 1.5], ["replication"], BASE, CLOSED).mean()
        tor.append((name, lo - ref, hi - ref, max(abs(lo - ref), abs(hi - ref))))
    tor.sort(key=lambda t: -t[3] if math.isfinite(t[3]) else math.inf)  # NaN (a factor missing): last
    pred["sensitivity"] = {"reference_speedup_pct": rnd(ref),
                           "one_at_a_time": [{"input": n, "x0.5": rnd(a), "x1.5": rnd(b)} for n, a, b, _ in tor]}
    with open(os.path.join(d, "prediction.json"), "w") as f:
        json.dump(pred, f, indent=2, allow_nan=False)

    # plots
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, g in runs.groupby("kernel"):
        s = g.groupby("c").makespan_s
        ax.errorbar(s.mean().index, s.mean(), yerr=[s.mean() - s.quantile(.025), s.quantile(.975) - s.mean()],
                    marker="o", capsize=3, label=k)
    ax.set_xlabel("cores")
    ax.set_ylabel("coldplug makespan (s), mean and 95% of runs")
    ax.set_xticks(sorted(runs.c.unique()))
    ax.legend(fontsize=8)
    ax.set_title("lkml-2009: the big lock vs the seed patch")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "prediction.png"), dpi=120)
    fig.savefig(os.path.join(d, "prediction.svg"), metadata=SVG_METADATA)
    top = tor[:12][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(top) + 1.4))
    for i, (n, a, b, _) in enumerate(top):  # side by side: x0.5 above, x1.5 below (neither hides the other)
        ax.barh(i + 0.2, a if math.isfinite(a) else 0, height=0.4, color="tab:blue", label="x0.5" if i == 0 else None)
        ax.barh(i - 0.2, b if math.isfinite(b) else 0, height=0.4, color="tab:orange", label="x1.5" if i == 0 else None)
    ax.set_yticks(range(len(top)))
    ax.set_yticklabels([n.replace("calibration.coefficients.", "").replace(".value", "") for n, *_ in top], fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    if top:
        ax.legend(title="input scaled by", fontsize=8, title_fontsize=8, loc="lower right")
    ax.set_xlabel(f"change of the mean speedup (points) from {ref:.2f}%")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "tornado.png"), dpi=120)
    fig.savefig(os.path.join(d, "tornado.svg"), metadata=SVG_METADATA)

    print("\n".join(lines))
    p = pred
    e = two["speedup_pct_race_closed"]
    if e["ci95"] is None:
        interval = f"n={e['n']}: no interval"
    else:
        interval = (f"95% of runs in [{e['ci95'][0]:+.1f}, {e['ci95'][1]:+.1f}]% (n={e['n']}; mean in "
                    f"[{e['mean_ci95'][0]:+.1f}, {e['mean_ci95'][1]:+.1f}])")
    print(f"\nPREDICTION (2 cores, race closed): speedup {p['speedup_pct']:+.1f}% (negative: slower), {interval}; "
          f"observed ~{OBSERVED_PCT:+.0f}%")
    print(f"as posted (race open): {show(p['speedup_pct_as_posted'])}, with "
          f"{p['failed_loads_mean'][PATCH]:.1f} failed loads per boot")
    for c, e in p["per_cores"].items():
        if c != "2" and "speedup_pct_race_closed" in e:
            print(f"{c} cores (race closed): {show(e['speedup_pct_race_closed'])}")
    print("ablations (2 cores, speedup %):")
    for n, e in p["ablations"].items():
        print(f"  {n:18} {show(e)}")
    print("sensitivity, top 5 (points of speedup at x0.5 / x1.5):")
    for t in p["sensitivity"]["one_at_a_time"][:5]:
        print(f"  {t['input']:55} " + " ".join("     -" if t[x] is None else f"{t[x]:+6.2f}" for x in ("x0.5", "x1.5")))
    print(f"outputs in {d}/ (prediction.json, prediction.png/.svg, tornado.png/.svg)")


if __name__ == "__main__":
    main()
