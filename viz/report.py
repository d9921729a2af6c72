"""Static report figures (seaborn) for batch experiments.

They draw the pandas frames they are given and read no files: `experiments.analysis` reads a
results folder and hands over the frames. Figures are built with matplotlib's object API
(`matplotlib.figure.Figure`), so no GUI backend or global pyplot state is involved.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from model.reporters import LUCENT_CIRCULARITY


def collapse_heatmap(
    grid: pd.DataFrame,
    x_label: str,
    y_label: str,
    markers: Sequence[tuple[float, str]] = (),
    title: str = "P(collapse)",
    intervals: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Figure:
    """P(collapse) per cell: `grid` has y values as rows (top = highest) and x values as columns.

    `intervals` (low, high), grids shaped like `grid`, are written under each cell's value.
    `markers` are vertical reference lines at x values (e.g. Lucent's 24 % circularity); a
    seaborn heatmap's axis counts cells, so each marker is placed by interpolating between the
    cell centres.
    """
    fig = Figure(figsize=(8.5, 6.5))
    ax = fig.add_subplot()
    small = grid.shape[0] * grid.shape[1] <= 144
    annot: bool | np.ndarray = small
    if small and intervals is not None:
        low, high = (i.reindex(index=grid.index, columns=grid.columns) for i in intervals)
        annot = np.vectorize(lambda p, lo, hi: "" if np.isnan(p) else f"{p:.1f}\n{lo:.1f}-{hi:.1f}")(grid.to_numpy(dtype=float),
                                                                                                  low.to_numpy(dtype=float), high.to_numpy(dtype=float))
    sns.heatmap(
        grid, ax=ax, vmin=0, vmax=1, cmap="rocket_r", annot=annot, fmt="" if isinstance(annot, np.ndarray) else ".1f",
        annot_kws={"size": 6 if isinstance(annot, np.ndarray) else 7}, cbar_kws={"label": "P(collapse)"},
        xticklabels=[f"{v:.2g}" for v in grid.columns], yticklabels=[f"{v:.2g}" for v in grid.index],
    )
    _mark_columns(ax, grid, markers)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _mark_columns(ax, grid: pd.DataFrame, markers: Sequence[tuple[float, str]]) -> None:
    xs = np.asarray(grid.columns, dtype=float)
    centres = np.arange(len(xs)) + 0.5
    for value, label in markers:
        if len(xs) < 2 or not xs.min() <= value <= xs.max():
            continue
        pos = float(np.interp(value, xs, centres))
        ax.axvline(pos, color="tab:cyan", lw=2, ls="--")
        ax.text(pos + 0.06, grid.shape[0] - 0.15, f"{label} ({value:.0%})", rotation=90, ha="left", va="bottom",
                color="black", fontsize=8, bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5})


def severity_heatmaps(
    panels: Sequence[tuple[str, pd.DataFrame]],
    x_label: str,
    y_label: str,
    markers: Sequence[tuple[float, str]] = (),
) -> Figure:
    """One heatmap per severity measure (title, grid), grids shaped like `collapse_heatmap`'s.

    Blank cells are undefined (e.g. fewer than half the runs defaulted within the horizon).
    """
    fig = Figure(figsize=(7.5 * len(panels), 6.5))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, grid) in zip(axes, panels):
        values = grid.to_numpy(dtype=float)
        small = grid.shape[0] * grid.shape[1] <= 144
        annot = np.vectorize(lambda v: "" if np.isnan(v) else (f"{v:.0f}" if abs(v) >= 10 else f"{v:.2g}"))(values) if small else False
        sns.heatmap(grid, ax=ax, cmap="mako_r", annot=annot, fmt="", annot_kws={"size": 7}, cbar_kws={"label": title},
                    xticklabels=[f"{v:.2g}" for v in grid.columns], yticklabels=[f"{v:.2g}" for v in grid.index])
        _mark_columns(ax, grid, markers)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def fan_chart(
    bands: pd.DataFrame,
    measure_label: str,
    panels: Sequence[tuple[str, str]] = (("collapse", "collapsing runs"), ("stable_growth", "stable-growth runs")),
) -> Figure:
    """Median with 25-75 % and 10-90 % bands over time, one panel per outcome.

    `bands` has columns outcome, step, runs, q10, q25, q50, q75, q90 (one row per outcome and step).
    """
    fig = Figure(figsize=(5 * len(panels), 4.2))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    colours = sns.color_palette("deep", len(panels))
    for ax, (outcome, title), colour in zip(axes, panels, colours):
        part = bands[bands["outcome"] == outcome].sort_values("step")
        if part.empty:
            ax.text(0.5, 0.5, "no such runs among those with kept series", ha="center", va="center", transform=ax.transAxes)
        else:
            step = part["step"].to_numpy(dtype=float)
            ax.fill_between(step, part["q10"], part["q90"], color=colour, alpha=0.2, lw=0, label="10-90 %")
            ax.fill_between(step, part["q25"], part["q75"], color=colour, alpha=0.35, lw=0, label="25-75 %")
            ax.plot(step, part["q50"], color=colour, lw=2, label="median")
            title = f"{title} (n = {int(part['runs'].max())})"
            ax.legend(loc="upper left", fontsize=8)
        ax.set_title(title)
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(measure_label)
    fig.tight_layout()
    return fig


def run_overview(series: pd.DataFrame, defaults: Sequence[dict], title: str = "") -> Figure:
    """One run at a glance: the money loop's health in six panels, defaults marked.

    `series` is a run's time series (chain measures and `measure:firm` columns by step).
    """
    firms = sorted({c.split(":", 1)[1] for c in series.columns if c.startswith("revenue:")})
    panels = [
        ("End market vs compute spend (B$/month)", ["end_market_spend", "compute_spend"]),
        ("Vendor revenue, trailing 12 months (B$/year)", ["vendor_revenue_t12m"]),
        ("Circularity and round-tripped share", ["circularity", "round_tripped_share"]),
        ("Compute (GW)", ["gw_contracted", "gw_built", "gw_powered", "gw_idle"]),
        ("Market value (B$)", [f"market_value:{f}" for f in firms]),
        ("Sentiment and credit spread", ["sentiment", "credit_spread"]),
    ]
    fig = Figure(figsize=(14, 9), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    for ax, (label, columns) in zip(axes, panels):
        frame = series[[c for c in columns if c in series.columns]]
        frame = frame.rename(columns=lambda c: c.split(":", 1)[-1])
        sns.lineplot(data=frame, ax=ax, dashes=False, linewidth=1.2)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("month")
        if "Circularity" in label:
            ax.axhline(LUCENT_CIRCULARITY, color="grey", linestyle=":", linewidth=1)
            ax.text(series.index[0], LUCENT_CIRCULARITY, f" Lucent {LUCENT_CIRCULARITY * 100:.0f} %", fontsize=7, va="bottom", color="grey")
        for d in defaults:
            ax.axvline(d["step"], color="crimson", alpha=0.35, linewidth=1)
        ax.legend(fontsize=7, loc="best")
    if defaults:
        fig.text(0.01, 0.005, "red lines: defaults (" + ", ".join(f"{d['agent']} @ {d['step']}" for d in defaults[:8]) + ")",
                 fontsize=8, color="crimson")
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- paired comparisons


def survival_curves(curves: dict[str, pd.DataFrame], horizon: float, title: str = "time to first default") -> Figure:
    """Kaplan-Meier curves, one per arm: `curves[label]` has columns month, survival (a step function)."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for (label, curve), colour in zip(curves.items(), sns.color_palette("deep", len(curves))):
        month = np.append(curve["month"].to_numpy(dtype=float), horizon)
        surv = np.append(curve["survival"].to_numpy(dtype=float), curve["survival"].iloc[-1])
        ax.step(month, surv, where="post", color=colour, lw=2, label=label)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_xlim(0, horizon)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("month")
    ax.set_ylabel("share of runs with no customer default yet")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def paired_differences(diffs: pd.DataFrame, title: str = "B minus A, same seed") -> Figure:
    """Per measure, the paired differences (one dot per seed) with their box; `diffs` has measure, difference."""
    measures = list(dict.fromkeys(diffs["measure"]))
    fig = Figure(figsize=(3.2 * len(measures), 4.2))
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    for ax, measure in zip(axes, measures):
        values = diffs.loc[diffs["measure"] == measure, "difference"].dropna()
        if len(values):
            ax.boxplot(values, positions=[0], widths=0.4, showfliers=False, patch_artist=True,
                       boxprops={"facecolor": "lightgrey"}, medianprops={"color": "black"})
        sns.stripplot(y=values, ax=ax, color="tab:blue", size=3, alpha=0.6, jitter=0.15)
        ax.axhline(0, color="crimson", lw=1)
        ax.set_title(f"{measure}\nmean {values.mean():.3g}" if len(values) else measure, fontsize=9)
        ax.set_ylabel("B - A (B$)" if ax is axes[0] else "")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def loss_distributions(values: pd.DataFrame, tail: float = 0.1) -> Figure:
    """Per measure, the empirical distribution of each arm with its 90th percentile marked.

    `values` has columns measure, arm, value (one row per run).
    """
    measures = list(dict.fromkeys(values["measure"]))
    fig = Figure(figsize=(3.6 * len(measures), 3.8))
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    arms = list(dict.fromkeys(values["arm"]))
    colours = dict(zip(arms, sns.color_palette("deep", len(arms))))
    for ax, measure in zip(axes, measures):
        part = values[values["measure"] == measure].dropna(subset=["value"])
        for arm in arms:
            v = part.loc[part["arm"] == arm, "value"]
            if v.empty:
                continue
            sns.ecdfplot(x=v, ax=ax, color=colours[arm], label=arm, lw=1.8)
            ax.axvline(v.quantile(1 - tail), color=colours[arm], ls="--", lw=1)
        ax.set_title(f"{measure} (dashed: {1 - tail:.0%} quantile)", fontsize=9)
        ax.set_xlabel("B$")
        ax.set_ylabel("share of runs at or below" if ax is axes[0] else "")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
