"""A stand-in simulator with the shape of `model.simulate.simulate`, for runner tests.

It is cheap and deterministic in its seed, and it raises when asked to: a vendor
`financing_share` of exactly 0.5 makes the run fail (a 'run that raises'). The scenario's
description can slow runs down or hold them until a file disappears (see `simulate`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class FakeResult:
    summary: dict[str, Any]
    series: pd.DataFrame | None


def simulate(scenario, seed=None, steps=None, keep_series=False, work_s: float = 0.0):
    rng = np.random.default_rng(seed)
    share = next(iter(scenario.vendors.values())).financing_share
    if abs(share - 0.5) < 1e-12:
        raise RuntimeError("fake model refuses financing_share = 0.5")
    growth = scenario.end_market.annual_growth
    steps = steps or scenario.meta.steps
    # the description carries test knobs, `work_s=0.05;hold=/tmp/x`: busy time per run, and a file
    # whose existence holds every run of a financing share above 0.6 (a sweep that is surely still
    # running when the test signals it, whatever the machine's load)
    knobs = dict(item.split("=", 1) for item in scenario.meta.description.split(";") if "=" in item)
    work_s = float(knobs.get("work_s", work_s))
    if "hold" in knobs and share > 0.6:
        deadline = time.monotonic() + 120
        while os.path.exists(knobs["hold"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    if work_s:
        end = time.perf_counter() + work_s
        while time.perf_counter() < end:
            pass
    shocks = rng.normal(growth / 12, 0.05, steps)
    revenue = 100 * np.exp(np.cumsum(shocks - share * 0.03))
    peak = np.maximum.accumulate(revenue)
    dd = float(1 - revenue[-1] / peak.max())
    collapse = dd > 0.3 or rng.random() < share / 2
    summary = {
        "outcome": "collapse" if collapse else ("stable_growth" if dd < 0.05 else "correction"),
        "time_to_collapse": float(rng.integers(10, steps)) if collapse else float("nan"),
        "vendor_revenue_drawdown": dd,
        "vendor_equity_drawdown": float(rng.random()),
        "circularity_peak": share,
        "n_defaults": int(collapse),
        "steps": steps,
        "seed": 0,
    }
    series = None
    if keep_series:
        series = pd.DataFrame({"vendor_revenue_t12m": revenue, "sentiment": np.tanh(shocks)}, index=pd.RangeIndex(steps, name="step"))
    return FakeResult(summary, series)
