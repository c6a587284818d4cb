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
"""
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


def read_runs(path):
    """A sweep's runs.csv, its finished runs only; a missing or malformed file is a one-line error."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as e:
        sys.exit(f"error: {path}: {e}")
    need = {"replication", "kernel", "makespan_s", "status"}
    if not need <= set(df.columns):
        sys.exit(f"error: {path}: not a kmodsim sweep's runs.csv (missing {', '.join(sorted(need - set(df.columns)))})")
    bad = df[df.status != "ok"]
    if len(bad):
        print(f"warning: {path}: {len(bad)} failed runs left out", file=sys.stderr)
    return df[df.status == "ok"]


def summarize(pct):
    pct = pd.Series(pct).dropna()
    n = len(pct)
    m = float(pct.mean())
    sd = float(pct.std(ddof=1)) if n > 1 else float("nan")
    t = stats.t.ppf(0.975, n - 1) if n > 1 else float("nan")
    return {"mean": round(m, 3), "ci95": [round(float(pct.quantile(0.025)), 3), round(float(pct.quantile(0.975)), 3)],
            "mean_ci95": [round(m - t * sd / math.sqrt(n), 3), round(m + t * sd / math.sqrt(n), 3)], "n": n}


def speedups(df, key_cols, base, other):
    a = df[df.kernel == base].set_index(key_cols)["makespan_s"]
    b = df[df.kernel == other].set_index(key_cols)["makespan_s"]
    j = pd.concat([a.rename("base"), b.rename("other")], axis=1).dropna()
    return (j.base - j.other) / j.base * 100.0


def main():
    d = sys.argv[1]
    runs = read_runs(os.path.join(d, "sweep", "runs.csv"))
    runs = runs.rename(columns={"axis.machine.cores": "c"})
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
    pred["speedup_pct"] = two["speedup_pct_race_closed"]["mean"]
    pred["ci95"] = two["speedup_pct_race_closed"]["ci95"]
    pred["mean_ci95"] = two["speedup_pct_race_closed"]["mean_ci95"]
    pred["speedup_pct_as_posted"] = two["speedup_pct_as_posted"]
    pred["baseline_makespan_s"] = two[BASE]["makespan_s"]["mean"]
    pred["fine_makespan_s"] = two[CLOSED]["makespan_s"]["mean"]
    pred["fine_as_posted_makespan_s"] = two[PATCH]["makespan_s"]["mean"]
    pred["failed_loads_mean"] = {k: two[k]["failed_loads_mean"] for k in (BASE, PATCH, CLOSED)}

    # ablations
    ab = read_runs(os.path.join(d, "ablations", "runs.csv"))
    pred["ablations"] = {}
    for name, g in ab.groupby("axis.case", sort=False):
        pred["ablations"][name] = summarize(speedups(g, ["replication"], BASE, CLOSED))
    if RESOLVE in set(ab.kernel):  # the patch with one lock hold around the resolve loop, against 2.6.28
        pred["ablations"]["resolve_one_lock"] = summarize(
            speedups(ab[ab["axis.case"] == "baseline"], ["replication"], BASE, RESOLVE))
    # sensitivity: change of the mean speedup (race closed, 2 cores, point values) per input
    se = read_runs(os.path.join(d, "sensitivity", "runs.csv"))
    case = se["axis.case"].astype(str)
    se = se.assign(input=case.map(lambda c: c.rsplit("*", 1)[0]),
                   factor=case.map(lambda c: float(c.rsplit("*", 1)[1]) if "*" in c else 1.0))
    ref = speedups(se[se.input == "none"], ["replication"], BASE, CLOSED).mean()
    tor = []
    for name, g in se[se.input != "none"].groupby("input"):
        lo = speedups(g[g.factor == 0.5], ["replication"], BASE, CLOSED).mean()
        hi = speedups(g[g.factor == 1.5], ["replication"], BASE, CLOSED).mean()
        tor.append((name, lo - ref, hi - ref, max(abs(lo - ref), abs(hi - ref))))
    tor.sort(key=lambda t: -t[3])
    pred["sensitivity"] = {"reference_speedup_pct": round(float(ref), 3),
                           "one_at_a_time": [{"input": n, "x0.5": round(float(a), 3), "x1.5": round(float(b), 3)}
                                             for n, a, b, _ in tor]}
    with open(os.path.join(d, "prediction.json"), "w") as f:
        json.dump(pred, f, indent=2)

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
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(top) + 1.2))
    for i, (n, a, b, _) in enumerate(top):
        ax.barh(i, a, color="tab:blue")
        ax.barh(i, b, color="tab:orange")
    ax.set_yticks(range(len(top)))
    ax.set_yticklabels([n.replace("calibration.coefficients.", "").replace(".value", "") for n, *_ in top], fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(f"change of the speedup (points) from {ref:.2f}%: x0.5 (blue), x1.5 (orange)")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "tornado.png"), dpi=120)
    fig.savefig(os.path.join(d, "tornado.svg"), metadata=SVG_METADATA)

    print("\n".join(lines))
    p = pred
    print(f"\nPREDICTION (2 cores, race closed): speedup {p['speedup_pct']:+.1f}% (negative: slower), 95% of runs "
          f"in [{p['ci95'][0]:+.1f}, {p['ci95'][1]:+.1f}]% (mean in [{p['mean_ci95'][0]:+.1f}, {p['mean_ci95'][1]:+.1f}]); "
          f"observed ~{OBSERVED_PCT:+.0f}%")
    q = p["speedup_pct_as_posted"]
    print(f"as posted (race open): {q['mean']:+.1f}% [{q['ci95'][0]:+.1f}, {q['ci95'][1]:+.1f}], with "
          f"{p['failed_loads_mean'][PATCH]:.1f} failed loads per boot")
    for c in ("1", "4"):
        e = p["per_cores"][c]["speedup_pct_race_closed"]
        print(f"{c} cores (race closed): {e['mean']:.1f}% [{e['ci95'][0]:.1f}, {e['ci95'][1]:.1f}]")
    print("ablations (2 cores, speedup %):")
    for n, e in p["ablations"].items():
        print(f"  {n:18} {e['mean']:6.1f}  [{e['ci95'][0]:.1f}, {e['ci95'][1]:.1f}]")
    print("sensitivity, top 5 (points of speedup at x0.5 / x1.5):")
    for t in p["sensitivity"]["one_at_a_time"][:5]:
        print(f"  {t['input']:55} {t['x0.5']:+6.2f} {t['x1.5']:+6.2f}")
    print(f"outputs in {d}/ (prediction.json, prediction.png/.svg, tornado.png/.svg)")


if __name__ == "__main__":
    main()
