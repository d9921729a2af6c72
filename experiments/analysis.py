"""Outcomes per parameter point, read from a results folder (never from the runner's memory).

Per point: runs finished and failed, P(collapse) with a Wilson 95 % interval, the shares of the
other outcomes, the median time to collapse (over collapsing runs) and the median drawdowns of
the vendor's trailing-12-month revenue and equity value. Failed runs are left out of every
share and median (they are counted in `failed`).
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
    """The few columns the analysis needs, one row per run (memory: a handful of columns)."""
    manifest = load_manifest(directory)
    return load_results(directory, columns=[*_NEEDED, *parameter_names(manifest)])


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
        rows.append(row)
    return pd.DataFrame(rows)


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
    for col in (x, y):
        values = pd.to_numeric(good[col], errors="coerce")
        if values.nunique() > 2 * bins:
            edges = np.linspace(values.min(), values.max(), bins + 1)
            centres = (edges[:-1] + edges[1:]) / 2
            idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
            good[col] = centres[idx]
        else:
            good[col] = values
    grid = good.pivot_table(index=y, columns=x, values="collapse", aggfunc="mean")
    return grid.sort_index(ascending=False).sort_index(axis=1)


def fan_bands(directory: str | Path, runs: pd.DataFrame, measure: str = FAN_MEASURE,
              outcomes: tuple[str, ...] = ("collapse", "correction", "stable_growth")) -> pd.DataFrame:
    """Quantile bands (10/25/50/75/90 %) of `measure` by outcome and step, over the kept series."""
    labels = runs.loc[runs["status"] == "ok", ["run_id", "outcome"]]
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
        grid = collapse_grid(runs, x["name"], y["name"])
        markers = CIRCULARITY_MARKERS if x["path"].endswith("financing_share") else []
        fig = report.collapse_heatmap(grid, x_label=x.get("label") or x["name"], y_label=y.get("label") or y["name"],
                                      markers=markers, title=f"P(collapse): {manifest['experiment']['name']}")
        written["heatmap"] = fig_dir / "p_collapse_heatmap.png"
        fig.savefig(written["heatmap"], dpi=130, bbox_inches="tight")
    bands = fan_bands(directory, runs)
    if not bands.empty:
        fig = report.fan_chart(bands, measure_label="vendor revenue, trailing 12 months (B$/yr)",
                               panels=[("collapse", "collapsing runs"), ("correction", "corrections"), ("stable_growth", "stable-growth runs")])
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
    return shown[order].to_string(index=False, float_format=lambda v: f"{v:.3g}")


def failure_summary(directory: str | Path, top: int = 5) -> list[tuple[str, int]]:
    runs = load_results(directory, columns=["error"], status="failed")
    if runs.empty:
        return []
    first_lines = runs["error"].astype(str).str.split("\n").str[0]
    return list(first_lines.value_counts().head(top).items())


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)
