"""Run one scenario to the end and summarise it: the function experiments and the CLI call."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.economy import RoundtripModel
from model.invariants import check_totals
from model.outcomes import classify
from model.scenario import Scenario

SECTORS = ("investor", "vendor", "cloud", "lab", "utility")
# the chain measures `summarize_run` (and `classify`, which it calls) reads
SUMMARY_COLUMNS = ("vendor_revenue_t12m", "vendor_market_value", "organic_coverage", "circularity",
                   "round_tripped_share", "end_market_spend", "gw_built")


@dataclass
class RunResult:
    summary: dict[str, Any]  # flat: outcome, metrics, seed
    series: pd.DataFrame | None  # chain and per-firm measures by step (None unless kept)
    defaults: list[dict[str, Any]]  # {agent, kind, step, cause}
    events: list[dict[str, Any]]


def seed_label(seed: Any) -> str:
    if isinstance(seed, np.random.SeedSequence):
        return f"{seed.entropy}:{'/'.join(map(str, seed.spawn_key))}"
    return str(seed)


def simulate(scenario: Scenario, seed: Any = 0, steps: int | None = None, keep_series: bool = True,
             check_invariants: bool | None = None) -> RunResult:
    """Run `scenario` for `steps` months (the scenario's horizon by default)."""
    model = RoundtripModel(scenario, rng=seed, check_invariants=check_invariants, firm_measures=keep_series)
    if not keep_series:  # a sweep's run: collect only what the summary reads
        model.datacollector.keep_only(SUMMARY_COLUMNS)
    horizon = steps if steps is not None else scenario.meta.steps
    for _ in range(horizon):
        model.step()
    check_totals(model)  # even with the per-step checks off: broken books are never a result
    series = model.datacollector.get_model_vars_dataframe()
    series.index.name = "step"
    summary = summarize_run(model, series)
    summary["steps"] = horizon
    summary["seed"] = seed_label(seed)
    return RunResult(summary, series if keep_series else None, list(model.defaults), list(model.events))


def summarize_run(model: RoundtripModel, series: pd.DataFrame) -> dict[str, Any]:
    summary = classify(series, model.defaults, model.params.outcomes)
    summary["circularity_peak"] = float(series["circularity"].max())
    summary["round_tripped_share_peak"] = float(series["round_tripped_share"].max())
    summary["organic_coverage_start"] = float(series["organic_coverage"].iloc[min(1, len(series) - 1)])
    summary["organic_coverage_end"] = float(series["organic_coverage"].iloc[-1])
    summary["end_market_spend_end"] = float(series["end_market_spend"].iloc[-1])
    summary["vendor_revenue_t12m_peak"] = float(series["vendor_revenue_t12m"].max())
    summary["vendor_revenue_t12m_end"] = float(series["vendor_revenue_t12m"].iloc[-1])
    summary["gw_built_end"] = float(series["gw_built"].iloc[-1])
    for sector in SECTORS:
        summary[f"losses_{sector}"] = float(model.write_offs.get(sector, 0.0))
    summary.update(model.losses.summary(model))  # severity: capital lost at cost by sector, credit losses, GW ...
    summary["defaulted"] = ";".join(f"{d['agent']}@{d['step']}" for d in model.defaults)
    return summary


def fingerprint(result: RunResult) -> str:
    """A hash of everything a run reports, exact to the last bit of every float.

    Speed work must leave results unchanged; the stored digest of baseline seeds 0-9
    (tests/model/test_digest.py) is built from this, so any change to a number, an event or a
    default shows."""
    digest = hashlib.sha256()
    if result.series is not None:
        digest.update(",".join(result.series.columns).encode())
        digest.update(result.series.to_numpy(dtype=np.float64).tobytes())
    # json writes floats with repr, which round-trips exactly
    for part in (result.summary, result.defaults, result.events):
        digest.update(json.dumps(part, sort_keys=True, default=repr).encode())
    return digest.hexdigest()
