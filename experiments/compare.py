"""Paired comparison of two scenarios on common seeds (`roundtrip compare A B`).

The comparison is an ordinary experiment, so it runs, resumes and records failures like any
sweep: its base scenario is A, its design is a `list` of two points (arms) and its seeds are
paired (`paired_seeds = true`: replication r of both arms draws from one seed, so both see the
same demand path, REVIEW.md question 2). Arm 0 is A (its `meta` renamed to the arm's label);
arm 1 replaces every top-level section in which B differs from A (`deals`, `vendors`, ...). The generated experiment file is
data and is kept in the results folder, so `experiments.runner.rerun` reproduces any run.

The statistics read the results folder (never the runner's memory) and use well-kept
libraries rather than hand-written tests:

- every numeric severity measure: paired mean difference B - A over the pairs where both
  runs finished (and, for `first_default_step`, both defaulted), with a 95 % t interval
  (`scipy.stats.ttest_1samp` on the differences); 90th percentile and expected shortfall at
  10 % (mean of the worst tenth) in each arm;
- P(collapse) in each arm with Wilson intervals, and McNemar's exact test on the pairs
  (`statsmodels.stats.contingency_tables.mcnemar(exact=True)`);
- time to first default: Kaplan-Meier survival in each arm, censored at the horizon
  (`scipy.stats.ecdf` on `CensoredData`), medians, and the log-rank test (`scipy.stats.logrank`).
  (lifelines pins pandas < 3, which this project uses; scipy has both estimators.)
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis import add_write_offs, wilson_interval
from experiments.storage import load_manifest, load_results

# The severity measures of DESIGN.md (computed by model/simulate.py), then the older numeric keys.
SEVERITY_MEASURES = (
    "capital_lost_at_cost", "credit_losses", "equity_lost_at_market", "vendor_exposure_lost",
    "stranded_gw_peak", "scrapped_gw", "build_out_gw_peak", "first_default_step", "exposure_at_risk_end",
)
OTHER_MEASURES = (
    "write_offs", "n_defaults", "cascade_size", "vendor_revenue_drawdown", "vendor_revenue_fall_after_default",
    "vendor_equity_drawdown", "circularity_peak", "round_tripped_share_peak", "vendor_revenue_t12m_end", "gw_built_end",
)
# Money lost, B$: the measures whose tails and distributions the figures show.
LOSS_MEASURES = ("capital_lost_at_cost", "credit_losses", "equity_lost_at_market", "vendor_exposure_lost",
                 "exposure_at_risk_end", "write_offs")
TAIL = 0.10  # expected shortfall over the worst 10 %, beside the 90th percentile
ARM_A, ARM_B = 0, 1


# ----------------------------------------------------------------------------- the experiment


def scenario_patch(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The top-level sections of scenario dump `b` that differ from `a` (B = A with these replaced)."""
    return {key: b[key] for key in b if b[key] != a.get(key)}


def arm_label(ref: str, sets: list[str]) -> str:
    name = Path(ref).stem if ref.endswith(".toml") else ref
    return " ".join([name, *(f"--set {s}" for s in sets)])


def experiment_name(label_a: str, label_b: str) -> str:
    raw = f"compare_{label_a}_vs_{label_b}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", raw).strip("-")[:120]


def comparison_toml(a: str, b: str | None, sets: list[str], seeds: int, steps: int, root_seed: int,
                    simulator: str | None = None) -> tuple[str, str, str]:
    """The experiment file of a paired comparison, and the two arms' labels.

    `b` defaults to `a`; `sets` (dotted `key=value`) apply to arm B only, so `compare baseline
    --set vendors.*.financing_share=0` compares the baseline with its variant.
    """
    import tomli_w

    from model.scenario import load_scenario, parse_assignment, resolve_scenario_path

    b = b or a
    fixed = {"meta.steps": steps, "check_invariants": False}
    scenario_a = load_scenario(a, fixed)
    scenario_b = load_scenario(b, dict(parse_assignment(s) for s in sets)).with_overrides(fixed, source="compare")
    dump_a, dump_b = scenario_a.model_dump(mode="json"), scenario_b.model_dump(mode="json")
    patch = scenario_patch(dump_a, dump_b)
    if scenario_a.with_overrides(patch, source="compare").model_dump(mode="json") != dump_b:
        from model.errors import ExperimentError

        raise ExperimentError(f"compare {a} {b}: replacing the sections {sorted(patch)} of A does not give B; "
                              "expected two scenarios of the same schema")
    label_a, label_b = arm_label(a, []), arm_label(b, sets)
    if label_a == label_b:
        label_a, label_b = f"A: {label_a}", f"B: {label_b}"
    # The arm is the `meta` section, named by its label (meta is descriptive: name, dates, horizon);
    # every other section in which B differs is a parameter of its own. No two paths overlap.
    arm = {"path": "meta", "name": "arm", "values": [dict(dump_a["meta"], name=label_a), dict(dump_b["meta"], name=label_b)]}
    parameters = [arm] + [{"path": key, "name": f"arm_{key}", "values": [dump_a[key], value]}
                          for key, value in patch.items() if key != "meta"]
    ref = a if not Path(a).suffix == ".toml" else str(resolve_scenario_path(a).resolve())
    experiment = {
        "name": experiment_name(label_a, label_b),
        "description": f"paired comparison: {label_a} (arm 0) vs {label_b} (arm 1), {seeds} seeds, {steps} months",
        "scenario": ref,
        "replications": seeds,
        "steps": steps,
        "root_seed": root_seed,
        "paired_seeds": True,
        "check_invariants": False,
    }
    if simulator:
        experiment["simulator"] = simulator
    data = {"experiment": experiment, "design": {"method": "list"}, "parameters": parameters, "keep": {"series": "none"}}
    header = ("# Generated by `roundtrip compare`: arm 0 is the base scenario, arm 1 replaces the sections in\n"
              "# which the second scenario differs. Paired seeds: replication r of both arms uses one seed.\n")
    return header + tomli_w.dumps(data), label_a, label_b


# ----------------------------------------------------------------------------- the statistics


def _finite(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def paired_frame(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The finished runs of each arm indexed by replication, keeping only complete pairs."""
    manifest = load_manifest(directory)
    runs = load_results(directory)
    ok = runs[runs["status"] == "ok"]
    a = ok[ok["point_id"] == ARM_A].set_index("replication").sort_index()
    b = ok[ok["point_id"] == ARM_B].set_index("replication").sort_index()
    common = a.index.intersection(b.index)
    info = {"failed": int((runs["status"] != "ok").sum()), "runs": int(len(runs)), "manifest": manifest}
    a, b = a.loc[common].copy(), b.loc[common].copy()
    return add_write_offs(a), add_write_offs(b), info


def measures_present(a: pd.DataFrame) -> list[str]:
    sectors = sorted(c for c in a.columns if c.startswith(("losses_", "capital_lost_")) and c != "capital_lost_at_cost")
    names = [m for m in (*SEVERITY_MEASURES, *OTHER_MEASURES, *sectors) if m in a.columns]
    return [m for m in dict.fromkeys(names) if _numeric(a[m])]


def _numeric(column: pd.Series) -> bool:
    """Numbers, or nulls (a key that is null in every run, like `first_default_step` with no
    default); an object-valued key (a dict stored as text) is no measure to difference."""
    if pd.api.types.is_numeric_dtype(column):
        return True
    present = column.dropna()
    return len(present) == 0 or pd.to_numeric(present, errors="coerce").notna().all()


def tail_stats(values: np.ndarray) -> tuple[float | None, float | None]:
    """90th percentile and expected shortfall at 10 % (mean of the worst ceil(10 %) values)."""
    values = np.sort(values[np.isfinite(values)])
    if len(values) == 0:
        return None, None
    worst = values[-max(1, math.ceil(TAIL * len(values))):]
    return float(np.quantile(values, 1 - TAIL)), float(worst.mean())


def paired_difference(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Mean of each arm, mean of B - A and its 95 % t interval, over the pairs with both values."""
    from scipy import stats

    both = np.isfinite(a) & np.isfinite(b)
    a, b = a[both], b[both]
    n = int(both.sum())
    out: dict[str, Any] = {"n_pairs": n, "a_mean": None, "b_mean": None, "diff": None, "ci_low": None, "ci_high": None, "p_value": None}
    if n == 0:
        return out
    d = b - a
    out.update(a_mean=float(a.mean()), b_mean=float(b.mean()), diff=float(d.mean()))
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):
        # no spread (beyond rounding): the difference is known exactly; a scenario against itself gives 0
        out.update(ci_low=float(d.mean()), ci_high=float(d.mean()), p_value=1.0 if d.mean() == 0 else None)
    elif n >= 2:
        test = stats.ttest_1samp(d, 0.0)
        ci = test.confidence_interval(0.95)
        out.update(ci_low=float(ci.low), ci_high=float(ci.high), p_value=float(test.pvalue))
    return out


def collapse_test(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """P(collapse) per arm (Wilson 95 %) and McNemar's exact test on the paired labels."""
    from statsmodels.stats.contingency_tables import mcnemar

    ca, cb = (a.astype(str) == "collapse").to_numpy(), (b.astype(str) == "collapse").to_numpy()
    n = len(ca)
    table = [[int((ca & cb).sum()), int((ca & ~cb).sum())], [int((~ca & cb).sum()), int((~ca & ~cb).sum())]]
    out: dict[str, Any] = {"a": None, "b": None, "mcnemar_p": None, "n_pairs": n, "table": table}
    if n == 0:
        return out
    out.update(a=float(ca.mean()), b=float(cb.mean()), mcnemar_p=float(mcnemar(table, exact=True).pvalue))
    out["a_ci"], out["b_ci"] = wilson_interval(ca.sum(), n), wilson_interval(cb.sum(), n)
    return out


def survival(first_default: np.ndarray, horizon: float) -> tuple[Any, pd.DataFrame]:
    """Kaplan-Meier estimate of time to first default, runs without one censored at the horizon."""
    from scipy import stats

    event = np.isfinite(first_default)
    data = stats.CensoredData(uncensored=first_default[event], right=np.full((~event).sum(), horizon))
    fit = stats.ecdf(data)
    curve = pd.DataFrame({"month": np.concatenate([[0.0], fit.sf.quantiles]),
                          "survival": np.concatenate([[1.0], fit.sf.probabilities])})
    return data, curve


def km_median(curve: pd.DataFrame) -> float | None:
    """The first month the survival curve is at or below one half (None when it never is)."""
    below = curve[curve["survival"] <= 0.5]
    return float(below["month"].iloc[0]) if len(below) else None


def first_default_test(a: pd.DataFrame, b: pd.DataFrame, horizon: float) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    from scipy import stats

    if "first_default_step" not in a or len(a) == 0:
        return {"a_median": None, "b_median": None, "logrank_p": None}, {}
    fa = pd.to_numeric(a["first_default_step"], errors="coerce").to_numpy(dtype=float)
    fb = pd.to_numeric(b["first_default_step"], errors="coerce").to_numpy(dtype=float)
    data_a, curve_a = survival(fa, horizon)
    data_b, curve_b = survival(fb, horizon)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no default in either arm: the statistic is 0/0
        p = stats.logrank(data_a, data_b).pvalue
    out = {"a_median": km_median(curve_a), "b_median": km_median(curve_b), "logrank_p": _finite(p),
           "a_defaulted": int(np.isfinite(fa).sum()), "b_defaulted": int(np.isfinite(fb).sum())}
    return out, {"a": curve_a, "b": curve_b}


def compare_results(directory: str | Path) -> dict[str, Any]:
    """Every statistic of a comparison folder, as plain data (NaN already turned into None)."""
    a, b, info = paired_frame(directory)
    manifest = info["manifest"]
    labels = [meta["name"] for meta in next(p["values"] for p in manifest["design"]["parameters"] if p["name"] == "arm")]
    design = manifest["design"]
    horizon = float(design.get("steps") or design["fixed"].get("meta.steps") or (a["steps"].max() if "steps" in a and len(a) else 0))
    rows = []
    for name in measures_present(a):
        va = pd.to_numeric(a[name], errors="coerce").to_numpy(dtype=float)
        vb = pd.to_numeric(b[name], errors="coerce").to_numpy(dtype=float)
        row = {"measure": name, **paired_difference(va, vb)}
        row["a_p90"], row["a_es10"] = tail_stats(va)
        row["b_p90"], row["b_es10"] = tail_stats(vb)
        rows.append(row)
    collapse = collapse_test(a["outcome"], b["outcome"]) if "outcome" in a else collapse_test(pd.Series([], dtype=str), pd.Series([], dtype=str))
    first_default, curves = first_default_test(a, b, horizon)
    return {
        "a": labels[0], "b": labels[1], "seeds": int(manifest["design"]["replications"]),
        "pairs": int(len(a)), "failed_runs": info["failed"], "horizon": horizon,
        "rows": rows, "p_collapse": collapse, "first_default": first_default, "curves": curves,
        "values": {"a": a, "b": b},
    }


def json_report(result: dict[str, Any]) -> dict[str, Any]:
    """The `--json` object: exactly the documented keys, null where undefined."""
    keys = ("a_mean", "b_mean", "diff", "ci_low", "ci_high")
    return {
        "a": result["a"], "b": result["b"], "seeds": result["seeds"],
        "measures": {row["measure"]: {k: _finite(row[k]) for k in keys} for row in result["rows"]},
        "p_collapse": {k: _finite(result["p_collapse"][k]) for k in ("a", "b", "mcnemar_p")},
        "first_default": {k: _finite(result["first_default"][k]) for k in ("a_median", "b_median", "logrank_p")},
    }


# ----------------------------------------------------------------------------- writing


def comparison_table(result: dict[str, Any]) -> pd.DataFrame:
    columns = ["measure", "n_pairs", "a_mean", "b_mean", "diff", "ci_low", "ci_high", "p_value", "a_p90", "b_p90", "a_es10", "b_es10"]
    return pd.DataFrame(result["rows"], columns=columns)


def _fmt(v: Any) -> str:
    v = _finite(v)
    if v is None:
        return "-"
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def markdown(result: dict[str, Any]) -> str:
    pc, fd = result["p_collapse"], result["first_default"]
    lines = [f"# {result['a']} (A) vs {result['b']} (B)", "",
             f"{result['pairs']} paired seeds of {result['seeds']} ({result['failed_runs']} failed runs left out), "
             f"{result['horizon']:.0f} months; differences are B - A with 95 % t intervals.", ""]
    if pc["a"] is not None:
        lines.append(f"- P(collapse): A {pc['a']:.2f} [{pc['a_ci'][0]:.2f}, {pc['a_ci'][1]:.2f}], "
                     f"B {pc['b']:.2f} [{pc['b_ci'][0]:.2f}, {pc['b_ci'][1]:.2f}]; McNemar exact p = {_fmt(pc['mcnemar_p'])} "
                     f"(pairs: both {pc['table'][0][0]}, A only {pc['table'][0][1]}, B only {pc['table'][1][0]}, neither {pc['table'][1][1]})")
    if "a_defaulted" in fd:
        lines.append(f"- first default (Kaplan-Meier, censored at month {result['horizon']:.0f}): median A {_fmt(fd['a_median'])}, "
                     f"B {_fmt(fd['b_median'])} (runs with a default: A {fd['a_defaulted']}, B {fd['b_defaulted']}); "
                     f"log-rank p = {_fmt(fd['logrank_p'])}")
    lines += ["", "| measure | pairs | A mean | B mean | B - A | 95 % CI | A p90 | B p90 | A ES10 | B ES10 |",
              "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['measure']} | {r['n_pairs']} | {_fmt(r['a_mean'])} | {_fmt(r['b_mean'])} | {_fmt(r['diff'])} | "
                     f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | {_fmt(r['a_p90'])} | {_fmt(r['b_p90'])} | "
                     f"{_fmt(r['a_es10'])} | {_fmt(r['b_es10'])} |")
    return "\n".join(lines) + "\n"


def write_comparison(directory: str | Path, result: dict[str, Any], figures: bool = True) -> dict[str, Path]:
    """comparison.csv, comparison.md, comparison.json and the figures, in `directory`."""
    directory = Path(directory)
    written = {"csv": directory / "comparison.csv", "markdown": directory / "comparison.md", "json": directory / "comparison.json"}
    comparison_table(result).to_csv(written["csv"], index=False)
    written["markdown"].write_text(markdown(result), encoding="utf-8")
    written["json"].write_text(json.dumps(json_report(result), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    if not figures or result["pairs"] == 0:
        return written
    from viz import report

    fig_dir = directory / "figures"
    fig_dir.mkdir(exist_ok=True)
    labels = {"a": result["a"], "b": result["b"]}
    a, b = result["values"]["a"], result["values"]["b"]
    if result["curves"]:
        fig = report.survival_curves({labels[k]: c for k, c in result["curves"].items()}, horizon=result["horizon"],
                                     title=f"time to first default (log-rank p = {_fmt(result['first_default']['logrank_p'])})")
        written["survival"] = fig_dir / "first_default_survival.png"
        fig.savefig(written["survival"], dpi=110, bbox_inches="tight")
    losses = [m for m in LOSS_MEASURES if m in a.columns]
    if losses:
        diffs = pd.concat([pd.DataFrame({"measure": m, "difference": pd.to_numeric(b[m], errors="coerce") - pd.to_numeric(a[m], errors="coerce")})
                           for m in losses], ignore_index=True)
        written["differences"] = fig_dir / "paired_loss_differences.png"
        report.paired_differences(diffs, title=f"{labels['b']} minus {labels['a']}, same seed").savefig(
            written["differences"], dpi=110, bbox_inches="tight")
        values = pd.concat([pd.DataFrame({"measure": m, "arm": labels[k], "value": pd.to_numeric(frame[m], errors="coerce")})
                            for m in losses for k, frame in (("a", a), ("b", b))], ignore_index=True)
        written["distributions"] = fig_dir / "loss_distributions.png"
        report.loss_distributions(values, tail=TAIL).savefig(written["distributions"], dpi=110, bbox_inches="tight")
    return written
