"""The outcome of a finished run: collapse (Lucent-style), stable growth, or correction.

- collapse: a default among the vendors' customers (labs, clouds), and the vendors'
  trailing-12-month revenue falling at least `revenue_drawdown` from its peak, or their
  market value at least `equity_drawdown` from its peak;
- stable_growth: no default, vendor revenue within `stable_revenue_band` of its peak at the
  end, and organic coverage higher at the end than at the start;
- correction: anything else.

The vendors are taken together (their summed revenue and market value), so a scenario with
two vendors collapses when the vendor sector does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def drawdown_path(values: np.ndarray) -> np.ndarray:
    """Fall from the running peak at each step (0 = at the peak, 1 = wiped out)."""
    peak = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, 1.0 - values / peak, 0.0)


def classify(series: pd.DataFrame, defaults: list[dict[str, Any]], thresholds: Any) -> dict[str, Any]:
    """Label a run and report its stress measures; `series` holds the chain reporters by step."""
    revenue = series["vendor_revenue_t12m"].to_numpy(dtype=float)
    equity = series["vendor_market_value"].to_numpy(dtype=float)
    coverage = series["organic_coverage"].to_numpy(dtype=float)
    rev_dd, eq_dd = drawdown_path(revenue), drawdown_path(equity)
    customer_defaults = [d for d in defaults if d["kind"] in ("lab", "cloud")]
    first_default = min((d["step"] for d in customer_defaults), default=None)
    time_to_collapse = math.nan
    if first_default is not None:
        crossed = (rev_dd >= thresholds.revenue_drawdown) | (eq_dd >= thresholds.equity_drawdown)
        steps = series.index.to_numpy()
        # collapse is dated when both have happened: the default and the drawdown
        if crossed[steps <= first_default].any():
            time_to_collapse = float(first_default)
        elif crossed.any():
            time_to_collapse = float(steps[np.argmax(crossed)])
    if not math.isnan(time_to_collapse):
        outcome = "collapse"
    elif not defaults and revenue[-1] >= (1.0 - thresholds.stable_revenue_band) * revenue.max() \
            and coverage[-1] > coverage[min(1, len(coverage) - 1)]:
        outcome = "stable_growth"
    else:
        outcome = "correction"
    by_step: dict[int, int] = {}
    for d in defaults:
        by_step[d["step"]] = by_step.get(d["step"], 0) + 1
    return {
        "outcome": outcome,
        "time_to_collapse": time_to_collapse,
        "first_default_step": float(first_default) if first_default is not None else math.nan,
        "vendor_revenue_drawdown": float(rev_dd.max()),
        "vendor_equity_drawdown": float(eq_dd.max()),
        "cascade_size": max(by_step.values(), default=0),
        "n_defaults": len(defaults),
    }
