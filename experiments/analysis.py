"""Outcomes per parameter point, read from a results folder (never from the runner's memory).

Per point: runs finished and failed, P(collapse) with a Wilson 95 % interval, the shares of the
other outcomes and of falls still pending at the horizon, the median time to collapse (over
collapsing runs), the median drawdowns of the vendor's trailing-12-month revenue and equity
value, and how bad the runs were whatever their label: the share with a customer default, the
median first-default month (runs without one count as later than the horizon, so the median is
undefined when fewer than half default), and the medians of whichever severity measures the
results hold (capital lost at cost, credit losses, exposure at risk at the end, write-offs).
Failed runs are left out of every share and median (they are counted in `failed`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.storage import load_manifest, load_results, load_series
from model.reporters import CIRCULARITY_REFERENCES

Z95 = 1.959963984540054
CIRCULARITY_MARKERS = list(CIRCULARITY_REFERENCES)
FAN_MEASURE = "vendor_revenue_t12m"
_NEEDED = ["point_id", "outcome", "time_to_collapse", "vendor_revenue_drawdown", "vendor_equity_drawdown"]
# Read when present (older results folders, or a simulator without them, simply lack them).
_OPTIONAL = ["collapse_pending", "first_default_step", "steps", "capital_lost_at_cost", "credit_losses",
             "exposure_at_risk_end", "losses_investor", "losses_vendor", "losses_cloud", "losses_lab", "losses_utility"]
SEVERITY_MEDIANS = ("capital_lost_at_cost", "credit_losses", "exposure_at_risk_end", "write_offs")
FAN_CLASSES = (("collapse", "collapsing runs"), ("correction", "corrections"),
               ("collapse_pending", "falls pending at the horizon"), ("stable_growth", "stable-growth runs"))


def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (nan, nan when n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k <= 0 else max(0.0, centre - half)
    hi = 1.0 if k >= n else min(1.0, centre + half)
    return lo, hi


def parameter_names(manifest: dict[str, Any]) -> list[str]:
    return [p["name"] for p in manifest["design"]["parameters"]]


def run_outcomes(directory: str | Path) -> pd.DataFrame:
    """The few columns the analysis needs, one row per run (memory: a handful of columns).

    `write_offs` is the sum of the write-offs by holder (`losses_*`), when the results have them.
    """
    manifest = load_manifest(directory)
    runs = load_results(directory, columns=[*_NEEDED, *_OPTIONAL, *parameter_names(manifest)])
    return add_write_offs(runs)


def add_write_offs(runs: pd.DataFrame) -> pd.DataFrame:
    """`write_offs`: the write-offs by holder (`losses_*`) summed, NaN where a run has none."""
    losses = [c for c in runs.columns if c.startswith("losses_")]
    if losses and "write_offs" not in runs:
        runs["write_offs"] = runs[losses].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=1)
    return runs


def horizon_of(runs: pd.DataFrame) -> float:
    steps = pd.to_numeric(runs["steps"], errors="coerce") if "steps" in runs else pd.Series(dtype=float)
    return float(steps.max()) if steps.notna().any() else float("nan")


def censored_median(first_default: pd.Series) -> float:
    """Median month of the first default, runs without one counting as later than any month.

    Every run is censored at the same horizon, so this is the Kaplan-Meier median: nan when
    fewer than half the runs default within the horizon.
    """
    values = pd.to_numeric(first_default, errors="coerce").to_numpy(dtype=float)
    if len(values) == 0:
        return float("nan")
    ordered = np.sort(np.where(np.isfinite(values), values, np.inf))
    median = float(ordered[math.ceil(len(ordered) / 2) - 1])  # first month the survival share is <= 1/2
    return median if math.isfinite(median) else float("nan")


def point_table(directory: str | Path, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per parameter point (points with no finished run yet are left out)."""
    manifest = load_manifest(directory)
    names = parameter_names(manifest)
    runs = run_outcomes(directory) if runs is None else runs
    if runs.empty:
        return pd.DataFrame(columns=["point_id", *names, "runs", "failed", "p_collapse", "ci_low", "ci_high"])
    for col in _NEEDED:
        if col not in runs:
            runs[col] = np.nan
    ok = runs["status"] == "ok"
    rows = []
    for point_id, group in runs.groupby("point_id", sort=True):
        good = group[ok.loc[group.index]]
        n = len(good)
        outcome = good["outcome"].astype(str)
        k = int((outcome == "collapse").sum())
        lo, hi = wilson_interval(k, n)
        collapsing = good[outcome == "collapse"]
        row = {"point_id": int(point_id)}
        row.update({name: group[name].iloc[0] for name in names if name in group})
        row.update({
            "runs": n,
            "failed": int(len(group) - n),
            "collapses": k,
            "p_collapse": k / n if n else float("nan"),
            "ci_low": lo,
            "ci_high": hi,
            "p_correction": float((outcome == "correction").mean()) if n else float("nan"),
            "p_stable": float((outcome == "stable_growth").mean()) if n else float("nan"),
            "median_time_to_collapse": _median(collapsing["time_to_collapse"]),
            "median_revenue_drawdown": _median(good["vendor_revenue_drawdown"]),
            "median_equity_drawdown": _median(good["vendor_equity_drawdown"]),
        })
        row.update(severity_columns(good))
        rows.append(row)
    return pd.DataFrame(rows)


def severity_columns(good: pd.DataFrame) -> dict[str, float]:
    """How bad a point's finished runs were, from whichever severity columns exist."""
    n = len(good)
    out: dict[str, float] = {}
    if "collapse_pending" in good:
        out["p_collapse_pending"] = float(pd.to_numeric(good["collapse_pending"], errors="coerce").fillna(0).astype(bool).mean()) if n else float("nan")
    if "first_default_step" in good:
        first = pd.to_numeric(good["first_default_step"], errors="coerce")
        out["p_default"] = float(first.notna().mean()) if n else float("nan")
        out["median_first_default"] = censored_median(first)
    for measure in SEVERITY_MEDIANS:
        if measure in good:
            out[f"median_{measure}"] = _median(good[measure])
    return out


def _median(values: pd.Series) -> float:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.median()) if len(values) else float("nan")


def collapse_grid(runs: pd.DataFrame, x: str, y: str, bins: int = 10) -> pd.DataFrame:
    """P(collapse) over two parameters: rows = y (descending), columns = x.

    A grid's own levels are the cells; sampled designs (LHS, Sobol) are binned into `bins`
    equal-width intervals labelled by their centres. Other parameters are pooled.
    """
    good = runs[runs["status"] == "ok"].copy()
    good["collapse"] = (good["outcome"].astype(str) == "collapse").astype(float)
    return measure_grid(good, x, y, "collapse", "mean", bins)


def collapse_interval_grids(runs: pd.DataFrame, x: str, y: str, bins: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Wilson 95 % interval of P(collapse) per cell, as two grids shaped like `collapse_grid`."""
    good = runs[runs["status"] == "ok"].copy()
    good["collapse"] = (good["outcome"].astype(str) == "collapse").astype(float)
    low = measure_grid(good, x, y, "collapse", lambda v: wilson_interval(v.sum(), len(v))[0], bins)
    high = measure_grid(good, x, y, "collapse", lambda v: wilson_interval(v.sum(), len(v))[1], bins)
    return low, high


def measure_grid(good: pd.DataFrame, x: str, y: str, value: str, aggfunc: Any, bins: int = 10) -> pd.DataFrame:
    """`aggfunc` of column `value` per cell of two parameters (binned when sampled), y descending."""
    good = good.copy()
    for col in (x, y):
        values = pd.to_numeric(good[col], errors="coerce")
        if values.nunique() > 2 * bins:
            edges = np.linspace(values.min(), values.max(), bins + 1)
            centres = (edges[:-1] + edges[1:]) / 2
            idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
            good[col] = centres[idx]
        else:
            good[col] = values
    grid = good.pivot_table(index=y, columns=x, values=value, aggfunc=aggfunc, dropna=False)
    return grid.sort_index(ascending=False).sort_index(axis=1)


def severity_grids(runs: pd.DataFrame, x: str, y: str, bins: int = 10) -> list[tuple[str, str, pd.DataFrame]]:
    """(key, title, grid) for each severity map the results allow: capital lost, first default month."""
    good = runs[runs["status"] == "ok"].copy()
    grids = []
    for measure, title in (("capital_lost_at_cost", "median capital lost at cost (B$)"),
                           ("write_offs", "median write-offs, all holders (B$)")):
        if measure in good and pd.to_numeric(good[measure], errors="coerce").notna().any():
            good[measure] = pd.to_numeric(good[measure], errors="coerce")
            grids.append((measure, title, measure_grid(good, x, y, measure, "median", bins)))
            break  # capital lost at cost when the model reports it; write-offs (marked) otherwise
    if "first_default_step" in good:
        horizon = horizon_of(good)
        grids.append(("first_default_step", f"median first-default month (blank: under half default by month {horizon:.0f})",
                      measure_grid(good, x, y, "first_default_step", censored_median, bins)))
    return grids


def fan_class(runs: pd.DataFrame) -> pd.Series:
    """The outcome, with corrections whose revenue fall is still under way at the horizon apart."""
    label = runs["outcome"].astype(str)
    if "collapse_pending" in runs:
        pending = pd.to_numeric(runs["collapse_pending"], errors="coerce").fillna(0).astype(bool)
        label = label.where(~(pending & (label == "correction")), "collapse_pending")
    return label


def fan_bands(directory: str | Path, runs: pd.DataFrame, measure: str = FAN_MEASURE,
              outcomes: tuple[str, ...] = tuple(c for c, _ in FAN_CLASSES)) -> pd.DataFrame:
    """Quantile bands (10/25/50/75/90 %) of `measure` by class (`fan_class`) and step, over the kept series."""
    ok = runs[runs["status"] == "ok"]
    labels = pd.DataFrame({"run_id": ok["run_id"], "outcome": fan_class(ok)})
    labels = labels[labels["outcome"].isin(outcomes)]
    series = load_series(directory, run_ids=labels["run_id"], columns=[measure])
    if series.empty or measure not in series:
        return pd.DataFrame(columns=["outcome", "step", "runs", "q10", "q25", "q50", "q75", "q90"])
    series = series.merge(labels, on="run_id")
    grouped = series.groupby(["outcome", "step"])[measure]
    bands = grouped.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack()
    bands.columns = ["q10", "q25", "q50", "q75", "q90"]
    bands["runs"] = grouped.size()
    return bands.reset_index()


def sobol_indices(directory: str | Path, runs: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """First-order and total Sobol indices of P(collapse) per point, for Sobol designs."""
    manifest = load_manifest(directory)
    design = manifest["design"]
    if design["method"] != "sobol":
        return None
    from SALib.analyze import sobol

    table = point_table(directory, runs)
    if len(table) != design["n_points"] or table["runs"].min() == 0:
        return None  # incomplete: the estimator needs every point
    problem = {"num_vars": len(design["parameters"]), "names": parameter_names(manifest),
               "bounds": [[p["low"], p["high"]] for p in design["parameters"]]}
    si = sobol.analyze(problem, table.sort_values("point_id")["p_collapse"].to_numpy(),
                       calc_second_order=design.get("second_order", False) or False, print_to_console=False)
    return pd.DataFrame({"parameter": problem["names"], "S1": si["S1"], "S1_conf": si["S1_conf"],
                         "ST": si["ST"], "ST_conf": si["ST_conf"]})


def write_report(directory: str | Path, figures: bool = True) -> dict[str, Path]:
    """Write points.csv and, when there is something to draw, the figures; return their paths."""
    directory = Path(directory)
    manifest = load_manifest(directory)
    params = manifest["design"]["parameters"]
    runs = run_outcomes(directory)
    written: dict[str, Path] = {}
    table = point_table(directory, runs)
    written["points"] = directory / "points.csv"
    table.to_csv(written["points"], index=False)
    indices = sobol_indices(directory, runs)
    if indices is not None:
        written["sobol"] = directory / "sobol_indices.csv"
        indices.to_csv(written["sobol"], index=False)
    if not figures or runs.empty or "outcome" not in runs:
        return written
    from viz import report

    fig_dir = directory / "figures"
    fig_dir.mkdir(exist_ok=True)
    if len(params) >= 2:
        x, y = params[0], params[1]
        labels = {"x_label": x.get("label") or x["name"], "y_label": y.get("label") or y["name"]}
        grid = collapse_grid(runs, x["name"], y["name"])
        low, high = collapse_interval_grids(runs, x["name"], y["name"])
        markers = CIRCULARITY_MARKERS if x["path"].endswith("financing_share") else []
        fig = report.collapse_heatmap(grid, **labels, markers=markers, intervals=(low, high),
                                      title=f"P(collapse) [Wilson 95 %]: {manifest['experiment']['name']}")
        written["heatmap"] = fig_dir / "p_collapse_heatmap.png"
        fig.savefig(written["heatmap"], dpi=130, bbox_inches="tight")
        grids = severity_grids(runs, x["name"], y["name"])
        if grids:
            fig = report.severity_heatmaps([(title, g) for _, title, g in grids], **labels, markers=markers)
            written["severity"] = fig_dir / "severity_heatmaps.png"
            fig.savefig(written["severity"], dpi=130, bbox_inches="tight")
    bands = fan_bands(directory, runs)
    if not bands.empty:
        present = set(bands["outcome"])  # a class no kept run falls in gets no empty panel
        fig = report.fan_chart(bands, measure_label="vendor revenue, trailing 12 months (B$/yr)",
                               panels=[c for c in FAN_CLASSES if c[0] in present])
        written["fan"] = fig_dir / "vendor_revenue_fan.png"
        fig.savefig(written["fan"], dpi=130, bbox_inches="tight")
    return written


def format_table(table: pd.DataFrame) -> str:
    """The per-point table as aligned text for the terminal."""
    if table.empty:
        return "(no finished runs yet)"
    shown = table.copy()
    shown["P(collapse) [95% CI]"] = [
        f"{p:.2f} [{lo:.2f}, {hi:.2f}]" if not math.isnan(p) else "-"
        for p, lo, hi in zip(shown["p_collapse"], shown["ci_low"], shown["ci_high"])
    ]
    shown = shown.drop(columns=["p_collapse", "ci_low", "ci_high", "collapses"])
    front = [c for c in shown.columns if c not in ("P(collapse) [95% CI]",)]
    order = front[: front.index("failed") + 1] + ["P(collapse) [95% CI]"] + front[front.index("failed") + 1 :]
    for col in shown.columns:  # a table-valued parameter (a compare arm's deals) is JSON text: cut it short
        if shown[col].dtype == object:
            shown[col] = shown[col].map(lambda v: v[:37] + "..." if isinstance(v, str) and len(v) > 40 else v)
    return shown[order].to_string(index=False, float_format=lambda v: f"{v:.3g}")


def failure_summary(directory: str | Path, top: int = 5) -> list[tuple[str, int]]:
    runs = load_results(directory, columns=["error"], status="failed")
    if runs.empty:
        return []
    first_lines = runs["error"].astype(str).str.split("\n").str[0]
    return list(first_lines.value_counts().head(top).items())


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)
