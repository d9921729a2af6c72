"""Which inputs decide the outcome: Morris and Sobol indices, PRIM boxes, feature scores.

Everything is read from a results folder (`experiments/storage.py`) by streaming the Parquet
parts one at a time and keeping only the few columns the analysis needs (point, status,
outcome, the severity measures), so the memory for a folder of 100,000 runs is a few arrays
of 100,000 numbers, never the table and never the time series.

- Morris elementary effects for Morris designs (SALib's design and step; the effects are
  computed here step by step, so a failed run costs its two steps, not its whole trajectory):
  mu* (mean absolute effect, the importance), sigma (spread: interactions and non-linearity),
  each with a bootstrap 95 % half-width over the trajectories.
- Sobol first-order and total indices with bootstrap intervals (SALib) for Sobol designs.
- Scenario discovery for any design: PRIM (EMA Workbench) on the collapse indicator, the
  peeling trajectory (coverage against density) and the box it picks, and extra-trees feature
  scores (EMA Workbench, scikit-learn).

The measures are P(collapse) (the per-point share of finished runs whose outcome is
`collapse`) and whichever severity measures the summaries carry (`SEVERITY_MEASURES`). A
month-of-event measure (first default, time to collapse) is empty for runs where the event
never happened; it is counted as the run's horizon (censored), so "later" and "never" rank
together.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from experiments.analysis import Z95
from experiments.storage import load_manifest
from model.errors import ExperimentError

P_COLLAPSE = "p_collapse"
# Severity measures, in the order the report shows them; only those the summaries carry are used.
SEVERITY_MEASURES = (
    "capital_lost_at_cost", "first_default_step", "time_to_collapse", "vendor_revenue_drawdown",
    "vendor_equity_drawdown", "cascade_size", "n_defaults",
)
CENSORED_AT_HORIZON = ("first_default_step", "time_to_collapse")
DISCOVERY_SAMPLE_CAP = 20_000  # runs given to PRIM and the extra trees (a seeded random subset above this)


# ---------------------------------------------------------------------------- reading


@dataclass
class RunTable:
    """Per run: point, status and the measures; per point: the design. Arrays, not frames."""

    manifest: dict[str, Any]
    parameters: list[dict[str, Any]]
    point_id: np.ndarray  # int64 per run (-1 = not on disk)
    ok: np.ndarray  # bool per run
    failed: np.ndarray  # bool per run
    collapse: np.ndarray | None  # float per run (1/0, nan if not ok), None when runs carry no outcome
    measures: dict[str, np.ndarray]  # float per run
    design: pd.DataFrame  # one row per point, point_id order

    @property
    def n_ok(self) -> int:
        return int(self.ok.sum())


def summary_columns(directory: Path) -> list[str]:
    """The columns of the run summaries (the union over the part files' schemas)."""
    names: dict[str, None] = {}
    for path in sorted((directory / "runs").glob("part-*.parquet")):
        names.update(dict.fromkeys(pq.read_schema(path).names))
    return list(names)


def read_runs(directory: str | Path, extra_measures: list[str] = ()) -> RunTable:
    """Stream the run parts, keeping only what the sensitivity analysis needs."""
    directory = Path(directory)
    manifest = load_manifest(directory)
    design_info = manifest["design"]
    n_runs = int(design_info["n_runs"])
    columns = summary_columns(directory)
    if not columns:
        raise ExperimentError(f"{directory}: no finished runs yet; expected runs/part-*.parquet written by `roundtrip sweep`")
    unknown = [m for m in extra_measures if m not in columns]
    if unknown:
        raise ExperimentError(f"{directory}: --measure {unknown[0]}: no such column in the run summaries")
    measures = [m for m in (*SEVERITY_MEASURES, *extra_measures) if m in columns]
    if not measures:
        measures = _numeric_summary_columns(directory, manifest)
    measures = list(dict.fromkeys(measures))
    point_id = np.full(n_runs, -1, dtype=np.int64)
    ok = np.zeros(n_runs, dtype=bool)
    failed = np.zeros(n_runs, dtype=bool)
    collapse = np.full(n_runs, np.nan) if "outcome" in columns else None
    values = {m: np.full(n_runs, np.nan) for m in measures}
    horizon = np.full(n_runs, np.nan)
    wanted = ["run_id", "point_id", "status", "outcome", "steps", *measures]
    for path in sorted((directory / "runs").glob("part-*.parquet")):
        available = set(pq.read_schema(path).names)
        table = pq.read_table(path, columns=[c for c in wanted if c in available])
        ids = table.column("run_id").to_numpy().astype(np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= n_runs):
            raise ExperimentError(f"{path}: damaged: run ids outside 0..{n_runs - 1}")
        good = np.asarray(table.column("status").to_pylist(), dtype=object) == "ok"
        point_id[ids] = table.column("point_id").to_numpy()
        # a later successful record wins; a failure never overwrites a success
        failed[ids[~good]] |= ~ok[ids[~good]]
        ok_ids = ids[good]
        ok[ok_ids], failed[ok_ids] = True, False
        if collapse is not None and "outcome" in available:
            outcome = np.asarray(table.column("outcome").to_pylist(), dtype=object)[good]
            collapse[ok_ids] = (outcome == "collapse").astype(float)
        if "steps" in available:
            horizon[ok_ids] = _floats(table, "steps")[good]
        for m in measures:
            if m in available:
                values[m][ok_ids] = _floats(table, m)[good]
        del table
    for m in CENSORED_AT_HORIZON:
        if m in values:
            never = ok & np.isnan(values[m])
            values[m][never] = horizon[never]
    design = pq.read_table(directory / "design.parquet").to_pandas() if (directory / "design.parquet").is_file() else pd.DataFrame()
    return RunTable(manifest, design_info["parameters"], point_id, ok, failed, collapse, values, design)


def _floats(table: Any, column: str) -> np.ndarray:
    return pd.to_numeric(pd.Series(table.column(column).to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)


def _numeric_summary_columns(directory: Path, manifest: dict[str, Any]) -> list[str]:
    """For a simulator with none of the known measures: every numeric summary column."""
    skip = {"run_id", "point_id", "replication", "seed_root", "seed_spawn_key", "elapsed_s", "steps",
            *(p["name"] for p in manifest["design"]["parameters"])}
    first = sorted((directory / "runs").glob("part-*.parquet"))[0]
    schema = pq.read_schema(first)
    return [f.name for f in schema if f.name not in skip and (str(f.type).startswith(("double", "float", "int")))]


def point_means(runs: RunTable) -> pd.DataFrame:
    """Per point: finished runs, P(collapse) and the mean of each measure over its finished runs."""
    n_points = int(runs.manifest["design"]["n_points"])
    use = runs.ok & (runs.point_id >= 0)
    pid = runs.point_id[use]
    count = np.bincount(pid, minlength=n_points).astype(float)
    out = {"point_id": np.arange(n_points), "runs": count}
    series = {}
    if runs.collapse is not None:
        series[P_COLLAPSE] = runs.collapse
    series.update(runs.measures)
    for name, values in series.items():
        v = values[use]
        finite = np.isfinite(v)
        total = np.bincount(pid[finite], weights=v[finite], minlength=n_points)
        n = np.bincount(pid[finite], minlength=n_points)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return pd.DataFrame(out)


def measure_names(runs: RunTable) -> list[str]:
    return ([P_COLLAPSE] if runs.collapse is not None else []) + list(runs.measures)


# ---------------------------------------------------------------------------- Morris and Sobol


def _problem(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"num_vars": len(parameters), "names": [p["name"] for p in parameters],
            "bounds": [[p["low"], p["high"]] for p in parameters]}


def _design_matrix(directory: Path) -> np.ndarray:
    """The raw sampled design, rebuilt from the experiment file the sweep copied into the folder."""
    from experiments.design import load_experiment, sample_matrix

    experiment = load_experiment(directory / "experiment.toml", check_points=False)
    return sample_matrix(experiment.spec)


def elementary_effects(X: np.ndarray, y: np.ndarray, n_vars: int, delta: float) -> np.ndarray:
    """Morris elementary effects, one per (trajectory, parameter); nan where a step lost a run.

    Each step of a trajectory moves one parameter by +/- delta of its range (SALib's design);
    the effect is the change of y over that step divided by delta, signed by the direction of
    the move. On complete trajectories this is exactly what SALib.analyze.morris computes
    (tests/experiments/test_sensitivity.py checks it); unlike SALib, a step whose two runs both
    finished still counts when another step of its trajectory failed.
    """
    size = n_vars + 1
    n_traj = len(X) // size
    Xt, yt = X[: n_traj * size].reshape(n_traj, size, n_vars), y[: n_traj * size].reshape(n_traj, size)
    dX = np.diff(Xt, axis=1)  # (traj, steps, vars): one non-zero per step
    moved = np.abs(dX).argmax(axis=2)  # (traj, steps)
    sign = np.sign(np.take_along_axis(dX, moved[..., None], axis=2)[..., 0])
    dy = np.diff(yt, axis=1)
    ee = np.full((n_traj, n_vars), np.nan)
    rows = np.repeat(np.arange(n_traj), n_vars)
    ee[rows, moved.ravel()] = (sign * dy / delta).ravel()
    return ee


def morris_indices(directory: str | Path, points: pd.DataFrame, measures: list[str], parameters: list[dict[str, Any]],
                   resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """mu*, mu, sigma with bootstrap 95 % half-widths (over trajectories) per (measure, parameter).

    `effects` says how many elementary effects each index rests on: the trajectories, less the
    steps that lost a run (a failed run, or a point with no finished run yet).
    """
    from SALib.util import _compute_delta

    from experiments.design import MORRIS_LEVELS

    X = _design_matrix(Path(directory))
    names = [p["name"] for p in parameters]
    delta = _compute_delta(MORRIS_LEVELS)
    rng = np.random.default_rng(seed)
    rows = []
    for name in measures:
        y = points.sort_values("point_id")[name].to_numpy(float)
        ee = elementary_effects(X, y, len(names), delta)  # (trajectories, parameters)
        counts = np.isfinite(ee).sum(axis=0)
        if counts.min() < 2:
            continue
        mu_star, mu, sigma = np.nanmean(np.abs(ee), axis=0), np.nanmean(ee, axis=0), np.nanstd(ee, axis=0, ddof=1)
        picks = rng.integers(0, len(ee), size=(resamples, len(ee)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample may miss every effect of a parameter
            boot_mu_star = np.array([np.nanmean(np.abs(ee[idx]), axis=0) for idx in picks])
            boot_sigma = np.array([np.nanstd(ee[idx], axis=0, ddof=1) for idx in picks])
            mu_star_conf, sigma_conf = Z95 * np.nanstd(boot_mu_star, axis=0, ddof=1), Z95 * np.nanstd(boot_sigma, axis=0, ddof=1)
        for i, pname in enumerate(names):
            rows.append({"measure": name, "parameter": pname, "mu_star": float(mu_star[i]), "mu_star_conf": float(mu_star_conf[i]),
                         "mu": float(mu[i]), "sigma": float(sigma[i]), "sigma_conf": float(sigma_conf[i]),
                         "effects": int(counts[i]), "trajectories": int(len(ee))})
    table = pd.DataFrame(rows)
    if not table.empty:
        table["rank"] = table.groupby("measure")["mu_star"].rank(ascending=False, method="first").astype(int)
        table = table.sort_values(["measure", "rank"], key=lambda s: s.map(_measure_order(measures)) if s.name == "measure" else s)
    return table.reset_index(drop=True)


def _measure_order(measures: list[str]) -> dict[str, int]:
    return {m: i for i, m in enumerate(measures)}


def sobol_indices(points: pd.DataFrame, measures: list[str], parameters: list[dict[str, Any]], second_order: bool,
                  resamples: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """S1 and ST with bootstrap 95 % half-widths per (measure, parameter); and what was skipped, why."""
    from SALib.analyze import sobol

    problem = _problem(parameters)
    rows, skipped = [], []
    for name in measures:
        y = points.sort_values("point_id")[name].to_numpy(float)
        if not np.isfinite(y).all():
            skipped.append(f"{name}: {int((~np.isfinite(y)).sum())} points have no finished run (the Sobol estimator needs every point)")
            continue
        if np.ptp(y) == 0:
            skipped.append(f"{name}: the same value at every point (no variance to apportion)")
            continue
        si = sobol.analyze(problem, y, calc_second_order=second_order, num_resamples=resamples, conf_level=0.95,
                           print_to_console=False, seed=seed)
        for i, pname in enumerate(problem["names"]):
            rows.append({"measure": name, "parameter": pname, "S1": float(si["S1"][i]), "S1_conf": float(si["S1_conf"][i]),
                         "ST": float(si["ST"][i]), "ST_conf": float(si["ST_conf"][i])})
    return pd.DataFrame(rows), skipped


# ---------------------------------------------------------------------------- scenario discovery


@dataclass
class Discovery:
    """PRIM's box for the collapse indicator, its peeling trajectory, and feature scores."""

    n_runs: int  # runs given to PRIM (after the cap)
    n_collapse: int
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step
    chosen: int  # index into trajectory
    box: pd.DataFrame  # parameter, low, high, full_low, full_high, quasi_p (restricted dimensions only)
    scores: pd.DataFrame  # parameter, score (extra trees)
    note: str = ""
    stats: dict[str, float] = field(default_factory=dict)


def discovery_sample(runs: RunTable, cap: int = DISCOVERY_SAMPLE_CAP, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Parameter values and collapse flags of the finished runs (a seeded random `cap` of them at most)."""
    if runs.collapse is None:
        raise ValueError("no outcome column")
    idx = np.flatnonzero(runs.ok & np.isfinite(runs.collapse) & (runs.point_id >= 0))
    if len(idx) > cap:
        idx = np.sort(np.random.default_rng(seed).choice(idx, size=cap, replace=False))
    names = [p["name"] for p in runs.parameters]
    design = runs.design.set_index("point_id")
    x = design.loc[runs.point_id[idx], names].reset_index(drop=True)
    for col in x.columns:
        x[col] = pd.to_numeric(x[col], errors="coerce")
    return x, runs.collapse[idx].astype(float)


def _quiet_ema() -> None:
    """Import EMA Workbench without its notice that the optional ipyparallel is missing."""
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import ema_workbench  # noqa: F401
    logging.getLogger("EMA").setLevel(logging.WARNING)


def choose_box(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest box on the peeling trajectory whose coverage is at least `min_coverage`
    (ties: fewer restricted dimensions); the first box if none reaches it."""
    ok = trajectory[trajectory["coverage"] >= min_coverage]
    if ok.empty:
        return 0
    best = ok.sort_values(["density", "res_dim"], ascending=[False, True]).index[0]
    return int(trajectory.index.get_loc(best))


def prim_box(x: pd.DataFrame, y: np.ndarray, min_coverage: float = 0.5, peel_alpha: float = 0.05,
             mass_min: float = 0.05, significance: float = 0.05) -> tuple[pd.DataFrame, int, pd.DataFrame, list[str]]:
    """Run PRIM (EMA Workbench) for y = 1; return (trajectory, chosen index, box table, dropped dimensions).

    The box is the densest on the peeling trajectory with at least `min_coverage`; a restriction
    whose quasi-p value (the chance of doing as well by luck, one-sided binomial test) is above
    `significance` is then dropped (EMA's `drop_restriction`, which adds the wider box to the
    trajectory), so the box names only dimensions that matter.
    """
    _quiet_ema()
    from ema_workbench.analysis import prim
    from ema_workbench.analysis.scenario_discovery_util import _determine_restricted_dims

    def quasi_p(box: Any, i: int) -> dict[str, float]:
        values = box.p_values[i] if i < len(box.p_values) else {}
        return {k: min((v for v in sides if v is not None and v >= 0), default=float("nan")) for k, sides in values.items()}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside EMA Workbench, not ours to fix
        finder = prim.Prim(x.astype(float), y.astype(float), peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
        n_peeled = len(box.box_lims)
        chosen = choose_box(box.peeling_trajectory.reset_index(drop=True), min_coverage)
        dropped = []
        for name in _determine_restricted_dims(box.box_lims[chosen], finder.box_init):
            if quasi_p(box, chosen).get(name, 0.0) > significance:
                box.drop_restriction(name, i=chosen)
                chosen = len(box.box_lims) - 1
                dropped.append(str(name))
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n"]].reset_index(drop=True)
    trajectory["step"] = ["peel/paste"] * n_peeled + [f"drop {d}" for d in dropped]
    lims, qp = box.box_lims[chosen], quasi_p(box, chosen)
    rows = [{"parameter": name, "low": float(lims.loc[0, name]), "high": float(lims.loc[1, name]),
             "full_low": float(finder.box_init.loc[0, name]), "full_high": float(finder.box_init.loc[1, name]),
             "quasi_p": qp.get(name, float("nan"))}
            for name in _determine_restricted_dims(lims, finder.box_init)]
    return trajectory, chosen, pd.DataFrame(rows, columns=["parameter", "low", "high", "full_low", "full_high", "quasi_p"]), dropped


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Extra-trees importance of each parameter for the collapse indicator (EMA Workbench)."""
    _quiet_ema()
    from ema_workbench.analysis.feature_scoring import get_ex_feature_scores
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    scores, _ = get_ex_feature_scores(x.astype(float), y.astype(int), mode=RuleInductionType.CLASSIFICATION,
                                      nr_trees=100, random_state=seed)
    return pd.DataFrame({"parameter": scores.index.astype(str), "score": scores.iloc[:, 0].to_numpy(float)})


def discover(runs: RunTable, min_coverage: float = 0.5, cap: int = DISCOVERY_SAMPLE_CAP, seed: int = 0) -> Discovery | None:
    if runs.collapse is None or runs.n_ok == 0:
        return None
    x, y = discovery_sample(runs, cap=cap, seed=seed)
    varying = [c for c in x.columns if x[c].nunique() > 1]
    x = x[varying]
    k = int(y.sum())
    empty_box = pd.DataFrame(columns=["parameter", "low", "high", "full_low", "full_high", "quasi_p"])
    if k == 0 or k == len(y) or not varying:
        what = "no run collapsed" if k == 0 else "every run collapsed" if k == len(y) else "no parameter varies"
        return Discovery(len(y), k, pd.DataFrame(columns=["coverage", "density", "mass", "res_dim", "n"]), -1, empty_box,
                         pd.DataFrame(columns=["parameter", "score"]), note=f"{what}: nothing to discover")
    trajectory, chosen, box, dropped = prim_box(x, y, min_coverage=min_coverage)
    scores = feature_scores(x, y, seed=seed)
    row = trajectory.iloc[chosen]
    stats = {"coverage": float(row["coverage"]), "density": float(row["density"]), "mass": float(row["mass"]),
             "res_dim": len(box), "base_rate": k / len(y)}
    note = f"{len(y)} finished runs" + (f" (a seeded random {cap} of {runs.n_ok})" if runs.n_ok > cap else "")
    if dropped:
        note += f"; restrictions dropped as not significant (quasi-p > 0.05): {', '.join(dropped)}"
    return Discovery(len(y), k, trajectory, chosen, box, scores, note=note, stats=stats)


# ---------------------------------------------------------------------------- everything


@dataclass
class Analysis:
    directory: Path
    runs: RunTable
    points: pd.DataFrame
    measures: list[str]
    morris: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    skipped: list[str] = field(default_factory=list)
    discovery: Discovery | None = None

    @property
    def method(self) -> str:
        return self.runs.manifest["design"]["method"]


def analyze(directory: str | Path, extra_measures: list[str] = (), min_coverage: float = 0.5,
            resamples: int = 1000, seed: int = 0, cap: int = DISCOVERY_SAMPLE_CAP) -> Analysis:
    """Read a results folder and compute every analysis its design supports."""
    directory = Path(directory)
    runs = read_runs(directory, list(extra_measures))
    if runs.n_ok == 0:
        raise ExperimentError(f"{directory}: no finished runs to analyse ({int(runs.failed.sum())} failed); expected at least one ok run")
    points = point_means(runs)
    measures = [m for m in measure_names(runs) if np.nanstd(points[m].to_numpy(float)) > 0 or m == P_COLLAPSE]
    result = Analysis(directory, runs, points, measures)
    method = result.method
    numeric = all(p.get("low") is not None and p.get("high") is not None for p in runs.parameters)
    if method == "morris" and numeric:
        result.morris = morris_indices(directory, points, measures, runs.parameters, resamples=resamples, seed=seed)
    elif method == "sobol" and numeric:
        second = bool(runs.manifest["design"].get("second_order"))
        result.sobol, result.skipped = sobol_indices(points, measures, runs.parameters, second, resamples=resamples, seed=seed)
    result.discovery = discover(runs, min_coverage=min_coverage, cap=cap, seed=seed)
    return result


def top_parameters(result: Analysis, measure: str = P_COLLAPSE, n: int = 10) -> list[str]:
    """The parameters that matter most for `measure`: by mu* (Morris), ST (Sobol) or feature score."""
    if result.morris is not None and not result.morris.empty and measure in set(result.morris["measure"]):
        part = result.morris[result.morris["measure"] == measure].sort_values("mu_star", ascending=False)
        return part["parameter"].head(n).tolist()
    if result.sobol is not None and not result.sobol.empty and measure in set(result.sobol["measure"]):
        part = result.sobol[result.sobol["measure"] == measure].sort_values("ST", ascending=False)
        return part["parameter"].head(n).tolist()
    if result.discovery is not None and not result.discovery.scores.empty:
        return result.discovery.scores["parameter"].head(n).tolist()
    return [p["name"] for p in result.runs.parameters][:n]


def format_summary(result: Analysis, top: int = 10) -> str:
    """The terminal summary `roundtrip analyze` prints."""
    lines = []
    m = result.runs.manifest
    lines.append(f"{m['experiment']['name']}: {m['design']['method']} design, {m['design']['n_points']} points x "
                 f"{m['design']['replications']} seeds; {result.runs.n_ok} ok, {int(result.runs.failed.sum())} failed runs")
    if result.runs.collapse is not None:
        share = np.nanmean(result.runs.collapse[result.runs.ok])
        lines.append(f"P(collapse) over all finished runs: {share:.3f}")
    if result.morris is not None and not result.morris.empty:
        for measure in result.measures:
            part = result.morris[result.morris["measure"] == measure].head(top)
            if part.empty:
                continue
            lines.append(f"\nMorris, {measure} ({int(part['trajectories'].iloc[0])} trajectories, "
                         f"{int(part['effects'].min())}-{int(part['effects'].max())} effects per parameter): mu* +/- 95% | sigma +/- 95%")
            for _, r in part.iterrows():
                lines.append(f"  {r['rank']:>3}. {r['parameter']:<42} {r['mu_star']:10.4g} +/- {r['mu_star_conf']:<9.3g} "
                             f"{r['sigma']:10.4g} +/- {r['sigma_conf']:.3g}")
    if result.sobol is not None and not result.sobol.empty:
        for measure in result.measures:
            part = result.sobol[result.sobol["measure"] == measure].sort_values("ST", ascending=False).head(top)
            if part.empty:
                continue
            lines.append(f"\nSobol, {measure}: S1 +/- 95% | ST +/- 95%")
            for _, r in part.iterrows():
                lines.append(f"  {r['parameter']:<42} {r['S1']:7.3f} +/- {r['S1_conf']:<6.3f} {r['ST']:7.3f} +/- {r['ST_conf']:.3f}")
    for note in result.skipped:
        lines.append(f"Sobol skipped for {note}")
    d = result.discovery
    if d is not None:
        if d.chosen < 0:
            lines.append(f"\nScenario discovery: {d.note}")
        else:
            s = d.stats
            lines.append(f"\nPRIM box for collapse (on {d.note}; base rate {s['base_rate']:.3f}): coverage {s['coverage']:.3f}, "
                         f"density {s['density']:.3f}, mass {s['mass']:.3f}, {s['res_dim']} restricted dimensions")
            for _, r in d.box.iterrows():
                lines.append(f"  {r['parameter']:<42} {r['low']:.4g} .. {r['high']:.4g}   (of {r['full_low']:.4g} .. {r['full_high']:.4g}; "
                             f"quasi-p {r['quasi_p']:.2g})")
            lines.append("Feature scores (extra trees): " + ", ".join(
                f"{r['parameter']} {r['score']:.3f}" for _, r in d.scores.head(top).iterrows()))
    return "\n".join(lines)


def write_tables(result: Analysis) -> dict[str, Path]:
    """The analysis as CSV files in the results folder."""
    out: dict[str, Path] = {}
    d = result.directory
    for key, frame in (("morris", result.morris), ("sobol", result.sobol)):
        if frame is not None and not frame.empty:
            out[key] = d / f"sensitivity_{key}.csv"
            frame.to_csv(out[key], index=False)
    if result.discovery is not None and result.discovery.chosen >= 0:
        out["prim_box"] = d / "prim_box.csv"
        result.discovery.box.to_csv(out["prim_box"], index=False)
        out["prim_trajectory"] = d / "prim_trajectory.csv"
        result.discovery.trajectory.assign(chosen=lambda t: t.index == result.discovery.chosen).to_csv(out["prim_trajectory"], index=False)
        out["feature_scores"] = d / "feature_scores.csv"
        result.discovery.scores.to_csv(out["feature_scores"], index=False)
    return out


def spearman_top(a: pd.Series, b: pd.Series, n: int = 10) -> float:
    """Rank correlation of two mu* rankings over the union of their top `n` parameters."""
    names = list(dict.fromkeys([*a.sort_values(ascending=False).index[:n], *b.sort_values(ascending=False).index[:n]]))
    ra, rb = a[names].rank(), b[names].rank()
    if len(names) < 2:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1]) if not math.isclose(ra.std(), 0) else float("nan")
