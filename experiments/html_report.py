"""`DIR/report.html`: one self-contained page a person opens to read a results folder.

It holds the manifest (code version, design, seeds, failures), the outcome and severity maps
over the two most influential parameters, the Morris or Sobol charts with their intervals, the
PRIM box (table and figure) with its coverage-density trade-off, the feature scores, fan charts
by outcome when the folder kept series, and the command that reproduces it. Figures are PNG,
embedded as base64 `data:` URLs and also written to `DIR/figures/`; the page has no script,
font or stylesheet from anywhere else, so it opens offline and makes no outside request.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.design import MORRIS_LEVELS
from experiments.sensitivity import P_COLLAPSE, Analysis, top_parameters

FIGURE_DPI = 110
LABELS = {
    P_COLLAPSE: "P(collapse)",
    "capital_lost_at_cost": "capital lost at cost (B$)",
    "first_default_step": "month of first default (horizon if none)",
    "time_to_collapse": "month of collapse (horizon if none)",
    "vendor_revenue_drawdown": "vendor revenue drawdown",
    "vendor_equity_drawdown": "vendor equity drawdown",
    "cascade_size": "default cascade size",
    "n_defaults": "number of defaults",
}


def label(measure: str) -> str:
    return LABELS.get(measure, measure.replace("_", " "))


# ---------------------------------------------------------------------------- figures


def morris_figure(table: pd.DataFrame, measure: str, top: int) -> Figure:
    """mu* with its bootstrap interval (bars, top parameters) and mu* against sigma (all)."""
    part = table[table["measure"] == measure].sort_values("mu_star", ascending=False)
    head = part.head(top).iloc[::-1]
    fig = Figure(figsize=(12, max(3.2, 0.32 * len(head) + 1.2)))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    ax.barh(head["parameter"], head["mu_star"], xerr=head["mu_star_conf"], color="#4c72b0", alpha=0.85,
            error_kw={"ecolor": "black", "capsize": 3, "lw": 1})
    ax.set_xlabel("mu* (mean |elementary effect|), 95 % bootstrap interval")
    ax.set_title(f"Morris: {label(measure)}")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax2.errorbar(part["mu_star"], part["sigma"], xerr=part["mu_star_conf"], yerr=part["sigma_conf"], fmt="o", ms=3,
                 color="#dd8452", ecolor="grey", elinewidth=0.6, alpha=0.8)
    for _, r in part.head(min(6, top)).iterrows():
        ax2.annotate(r["parameter"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax2.set_xlabel("mu*")
    ax2.set_ylabel("sigma (interactions, non-linearity)")
    ax2.set_title("importance against spread")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sobol_figure(table: pd.DataFrame, measure: str, top: int) -> Figure:
    part = table[table["measure"] == measure].sort_values("ST", ascending=False).head(top).iloc[::-1]
    fig = Figure(figsize=(9, max(3.0, 0.36 * len(part) + 1.2)))
    ax = fig.add_subplot()
    y = np.arange(len(part))
    ax.barh(y + 0.2, part["ST"], height=0.4, xerr=part["ST_conf"], label="total (ST)", color="#c44e52", alpha=0.85,
            error_kw={"capsize": 3, "lw": 1})
    ax.barh(y - 0.2, part["S1"], height=0.4, xerr=part["S1_conf"], label="first order (S1)", color="#4c72b0", alpha=0.85,
            error_kw={"capsize": 3, "lw": 1})
    ax.set_yticks(y, part["parameter"], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("Sobol index, 95 % bootstrap interval")
    ax.set_title(f"Sobol: {label(measure)}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def binned_mean(x: np.ndarray, y: np.ndarray, v: np.ndarray, w: np.ndarray, bins: int = 8) -> pd.DataFrame:
    """Weighted mean of v over a bins x bins grid of (x, y); rows = y (top = highest), columns = x.

    A parameter with few distinct values (a grid's levels, an integer) keeps its own values.
    """
    def cells(values: np.ndarray) -> np.ndarray:
        uniq = np.unique(values[np.isfinite(values)])
        if len(uniq) <= bins:
            return values
        edges = np.linspace(uniq.min(), uniq.max(), bins + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        return centres[np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)]

    frame = pd.DataFrame({"x": cells(x), "y": cells(y), "vw": v * w, "w": w})
    frame = frame[np.isfinite(frame["vw"]) & (frame["w"] > 0)]
    sums = frame.groupby(["y", "x"])[["vw", "w"]].sum()
    grid = (sums["vw"] / sums["w"]).unstack("x")
    return grid.sort_index(ascending=False).sort_index(axis=1)


def map_figure(grid: pd.DataFrame, x_label: str, y_label: str, measure: str) -> Figure:
    import seaborn as sns

    fig = Figure(figsize=(6.4, 5.0))
    ax = fig.add_subplot()
    bounded = measure == P_COLLAPSE or measure.endswith("drawdown")
    sns.heatmap(grid, ax=ax, cmap="rocket_r" if bounded else "viridis", vmin=0 if bounded else None, vmax=1 if bounded else None,
                annot=grid.size <= 81, fmt=".2g", annot_kws={"size": 7}, cbar_kws={"label": label(measure)},
                xticklabels=[f"{v:.3g}" for v in grid.columns], yticklabels=[f"{v:.3g}" for v in grid.index])
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(f"{label(measure)} (mean over the other parameters)", fontsize=10)
    fig.tight_layout()
    return fig


def tradeoff_figure(trajectory: pd.DataFrame, chosen: int) -> Figure:
    fig = Figure(figsize=(6.4, 4.6))
    ax = fig.add_subplot()
    points = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=22)
    fig.colorbar(points, ax=ax, label="restricted dimensions")
    row = trajectory.iloc[chosen]
    ax.scatter([row["coverage"]], [row["density"]], s=160, facecolors="none", edgecolors="crimson", lw=2, label="chosen box")
    ax.set_xlabel("coverage (share of all collapses inside the box)")
    ax.set_ylabel("density (share of runs in the box that collapse)")
    ax.set_title("PRIM peeling trajectory")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def box_figure(box: pd.DataFrame) -> Figure:
    """Each restricted dimension: the box's range within the sampled range (normalised to 0..1)."""
    fig = Figure(figsize=(8, max(2.2, 0.5 * len(box) + 1.0)))
    ax = fig.add_subplot()
    for i, (_, r) in enumerate(box.iloc[::-1].iterrows()):
        span = (r["full_high"] - r["full_low"]) or 1.0
        lo, hi = (r["low"] - r["full_low"]) / span, (r["high"] - r["full_low"]) / span
        ax.plot([0, 1], [i, i], color="lightgrey", lw=8, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color="#c44e52", lw=8, solid_capstyle="butt")
        ax.text(lo, i + 0.28, f"{r['low']:.3g}", ha="center", fontsize=7)
        ax.text(hi, i + 0.28, f"{r['high']:.3g}", ha="center", fontsize=7)
    ax.set_yticks(range(len(box)), box["parameter"].iloc[::-1], fontsize=8)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.7, len(box) - 0.3)
    ax.set_xlabel("position within the sampled range (grey); the box (red)")
    ax.set_title("PRIM box for collapse: restricted dimensions")
    fig.tight_layout()
    return fig


def scores_figure(scores: pd.DataFrame, top: int) -> Figure:
    part = scores.head(top).iloc[::-1]
    fig = Figure(figsize=(7, max(2.6, 0.3 * len(part) + 1.0)))
    ax = fig.add_subplot()
    ax.barh(part["parameter"], part["score"], color="#55a868")
    ax.set_xlabel("extra-trees feature score for collapse")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- page


class _Page:
    def __init__(self, fig_dir: Path):
        self.parts: list[str] = []
        self.fig_dir = fig_dir
        self.written: list[Path] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def h(self, level: int, text: str) -> None:
        self.add(f"<h{level}>{html.escape(text)}</h{level}>")

    def p(self, text: str, cls: str = "") -> None:
        self.add(f"<p{f' class={cls!r}' if cls else ''}>{html.escape(text)}</p>")

    def figure(self, fig: Figure, name: str, caption: str) -> None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
        data = buffer.getvalue()
        path = self.fig_dir / f"{name}.png"
        path.write_bytes(data)
        self.written.append(path)
        encoded = base64.b64encode(data).decode("ascii")
        self.add(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
                 f"<figcaption>{html.escape(caption)} <span class=file>({html.escape(str(path.name))})</span></figcaption></figure>")

    def table(self, frame: pd.DataFrame, floats: str = "{:.4g}") -> None:
        def cell(v: Any) -> str:
            if isinstance(v, (float, np.floating)):
                return "" if math.isnan(v) else floats.format(v)
            return html.escape(str(v))

        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
        self.add(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1180px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
table { border-collapse: collapse; font-size: .85em; margin: .6em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
th { background: #f3f3f3; } td { font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; } .file { color: #999; }
code, .repro { font-family: ui-monospace, monospace; background: #f6f6f6; padding: .1em .3em; }
.repro { display: block; padding: .6em; white-space: pre-wrap; }
.note { color: #555; font-size: .9em; }
"""


def write_html_report(result: Analysis, top: int = 10) -> Path:
    """Write DIR/report.html (and the PNGs to DIR/figures/); return the report's path."""
    from experiments.analysis import failure_summary

    directory = result.directory
    manifest = result.runs.manifest
    design = manifest["design"]
    fig_dir = directory / "figures"
    fig_dir.mkdir(exist_ok=True)
    page = _Page(fig_dir)
    name = manifest["experiment"]["name"]
    page.h(1, f"{name}: which assumptions decide the outcome")
    page.add('<p class=repro>Reproduce: roundtrip sweep {d}/experiment.toml --out {d} --workers 1 &amp;&amp; roundtrip analyze {d}</p>'
             .format(d=html.escape(str(directory))))

    # -- manifest
    page.h(2, "Experiment")
    runs = manifest.get("runs", {})
    rows = [
        ("code version", manifest.get("code_version", "?")),
        ("created / updated", f"{manifest.get('created', '?')} / {manifest.get('updated', '?')}"),
        ("experiment hash", manifest["experiment"].get("sha256", "?")),
        ("scenario", f"{design.get('scenario', '?')} (hash {str(manifest['experiment'].get('scenario_sha256', '?'))[:12]})"),
        ("design", f"{design['method']}, {design.get('samples') or ''} samples: {design['n_points']} points x "
                   f"{design['replications']} seeds = {design['n_runs']} runs; {len(design['parameters'])} parameters"),
        ("seeds", f"root seed {manifest['seeds']['root_seed']}; per run: {manifest['seeds']['per_run']}"),
        ("runs", f"{runs.get('ok', 0)} ok, {runs.get('failed', 0)} failed, {runs.get('pending', 0)} pending of {runs.get('total', '?')}"),
        ("simulator", design.get("simulator", "")),
    ]
    page.table(pd.DataFrame(rows, columns=["", ""]))
    failures = failure_summary(directory)
    if failures:
        page.h(3, "Failed runs")
        page.table(pd.DataFrame(failures, columns=["error", "runs"]))
    params = pd.DataFrame([{"parameter": p["name"], "path": p["path"], "low": p.get("low"), "high": p.get("high"),
                            "type": p.get("type", "float")} for p in design["parameters"]])
    page.add("<details><summary>Parameters and their ranges</summary>")
    page.table(params)
    page.add("</details>")

    # -- overall numbers
    page.h(2, "Outcomes")
    means = []
    if result.runs.collapse is not None:
        ok = result.runs.ok
        means.append((label(P_COLLAPSE), float(np.nanmean(result.runs.collapse[ok])), int(ok.sum())))
    for m, values in result.runs.measures.items():
        finite = values[result.runs.ok & np.isfinite(values)]
        if len(finite):
            means.append((label(m), float(finite.mean()), len(finite)))
    page.table(pd.DataFrame(means, columns=["measure", "mean over finished runs", "runs"]))

    # -- sensitivity indices
    if result.morris is not None and not result.morris.empty:
        page.h(2, "Morris elementary effects")
        page.p("mu* ranks the parameters by their mean absolute effect on each measure (one step of "
               f"{MORRIS_LEVELS / (2 * (MORRIS_LEVELS - 1)):.3g} of the range, {MORRIS_LEVELS} levels); sigma is the spread of the effects (interactions or non-linearity). Intervals: "
               "95 % bootstrap over trajectories.", "note")
        for measure in result.measures:
            part = result.morris[result.morris["measure"] == measure]
            if part.empty:
                continue
            page.figure(morris_figure(result.morris, measure, top), f"morris_{measure}", f"Morris indices of {label(measure)}")
            page.table(part.head(top)[["rank", "parameter", "mu_star", "mu_star_conf", "mu", "sigma", "sigma_conf", "effects", "trajectories"]])
    if result.sobol is not None and not result.sobol.empty:
        page.h(2, "Sobol indices")
        page.p("S1: the share of the measure's variance due to the parameter alone; ST: including all its "
               "interactions. Intervals: 95 % bootstrap (SALib).", "note")
        for measure in result.measures:
            part = result.sobol[result.sobol["measure"] == measure]
            if part.empty:
                continue
            page.figure(sobol_figure(result.sobol, measure, top), f"sobol_{measure}", f"Sobol indices of {label(measure)}")
            page.table(part.sort_values("ST", ascending=False).head(top))
    for note in result.skipped:
        page.p(f"Sobol indices skipped for {note}.", "note")

    # -- maps over the two most influential parameters
    lead = top_parameters(result, result.measures[0], n=2) if result.measures else []
    if len(lead) == 2:
        page.h(2, "Outcome and severity maps")
        page.p(f"Over the two most influential parameters for {label(result.measures[0])} ({lead[0]}, {lead[1]}); "
               "each cell averages the finished runs that fall in it, whatever the other parameters.", "note")
        pts = result.points.merge(result.runs.design[["point_id", *lead]], on="point_id")
        x = pd.to_numeric(pts[lead[0]], errors="coerce").to_numpy(float)
        y = pd.to_numeric(pts[lead[1]], errors="coerce").to_numpy(float)
        w = pts["runs"].to_numpy(float)
        page.add('<div style="display:flex;flex-wrap:wrap;gap:1em">')
        for measure in result.measures:
            grid = binned_mean(x, y, pts[measure].to_numpy(float), w)
            if grid.empty:
                continue
            page.figure(map_figure(grid, lead[0], lead[1], measure), f"map_{measure}", f"{label(measure)} over {lead[0]} and {lead[1]}")
        page.add("</div>")

    # -- scenario discovery
    d = result.discovery
    if d is not None:
        page.h(2, "Scenario discovery: where collapse happens")
        if d.chosen < 0:
            page.p(d.note)
        else:
            s = d.stats
            page.p(f"PRIM (EMA Workbench) on the collapse indicator of {d.note}; base rate {s['base_rate']:.3f}. "
                   f"The box shown is the densest on the peeling trajectory that still holds at least the chosen share "
                   f"of all collapses: coverage {s['coverage']:.3f}, density {s['density']:.3f}, mass {s['mass']:.3f}, "
                   f"{s['res_dim']} restricted dimensions.")
            page.table(d.box)
            if not d.box.empty:
                page.figure(box_figure(d.box), "prim_box", "PRIM box: the restricted dimensions within their sampled ranges")
            page.figure(tradeoff_figure(d.trajectory, d.chosen), "prim_tradeoff", "PRIM coverage-density trade-off")
            page.h(3, "Feature scores")
            page.figure(scores_figure(d.scores, top), "feature_scores", "Extra-trees feature scores for collapse")

    # -- fan charts
    _fan_section(page, result)

    page.add(f"<p class=note>Written by <code>roundtrip analyze</code>; figures also in {html.escape(str(fig_dir))}/.</p>")
    text = ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(name)}: sensitivity report</title><style>{STYLE}</style></head><body>"
            + "\n".join(page.parts) + "</body></html>\n")
    out = directory / "report.html"
    out.write_text(text, encoding="utf-8")
    return out


def _fan_section(page: _Page, result: Analysis) -> None:
    """Vendor revenue by outcome over time, when the folder kept series."""
    directory = result.directory
    if result.runs.collapse is None or not any((directory / "series").glob("part-*.parquet")):
        return
    from experiments.analysis import FAN_CLASSES, FAN_MEASURE, fan_bands
    from experiments.storage import load_results
    from viz import report

    # the same classes as the sweep's own fan chart (analysis.write_report), pending falls apart
    labels = load_results(directory, columns=["outcome", "collapse_pending"], status="ok")
    bands = fan_bands(directory, labels)
    if bands.empty:
        return
    page.h(2, "Fan charts by outcome")
    present = set(bands["outcome"])
    fig = report.fan_chart(bands, measure_label=FAN_MEASURE.replace("_", " "),
                           panels=[c for c in FAN_CLASSES if c[0] in present])
    page.figure(fig, "fan_by_outcome", "Vendor revenue (trailing 12 months) by outcome: median, 25-75 % and 10-90 % bands")
