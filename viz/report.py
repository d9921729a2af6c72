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
) -> Figure:
    """P(collapse) per cell: `grid` has y values as rows (top = highest) and x values as columns.

    `markers` are vertical reference lines at x values (e.g. Lucent's 24 % circularity); a
    seaborn heatmap's axis counts cells, so each marker is placed by interpolating between the
    cell centres.
    """
    fig = Figure(figsize=(8.5, 6.5))
    ax = fig.add_subplot()
    sns.heatmap(
        grid, ax=ax, vmin=0, vmax=1, cmap="rocket_r", annot=grid.shape[0] * grid.shape[1] <= 144,
        fmt=".1f", annot_kws={"size": 7}, cbar_kws={"label": "P(collapse)"},
        xticklabels=[f"{v:.2g}" for v in grid.columns], yticklabels=[f"{v:.2g}" for v in grid.index],
    )
    xs = np.asarray(grid.columns, dtype=float)
    centres = np.arange(len(xs)) + 0.5
    for value, label in markers:
        if len(xs) < 2 or not xs.min() <= value <= xs.max():
            continue
        pos = float(np.interp(value, xs, centres))
        ax.axvline(pos, color="tab:cyan", lw=2, ls="--")
        ax.text(pos + 0.06, grid.shape[0] - 0.15, f"{label} ({value:.0%})", rotation=90, ha="left", va="bottom",
                color="black", fontsize=8, bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5})
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
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
