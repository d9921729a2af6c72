"""The outcome of a finished run: collapse (Lucent-style), stable growth, or correction.

DESIGN.md, 'Outcomes of a run'. With the scenario's `[outcomes]` thresholds:

- **collapse**: a default among the vendors' customers (labs, clouds) comes first; after it
  (a) the vendor sector's trailing-12-month revenue is at least `revenue_drawdown` below its
  peak up to that default and stays there for `persistence_months` consecutive months, or
  (b) the vendors' market value is at least `equity_drawdown` below its running peak.
  The collapse is dated when both the default and the fall hold: the first month of the
  persistent revenue fall, or the month of the equity crossing, whichever comes first.
- **stable_growth**: no default at all, vendor revenue within `stable_revenue_band` of its peak
  at the end, and organic coverage higher at the end than at the start;
- **correction**: anything else.

Decisions written down here (and in docs/experiments.md):

- Only months at or after a customer default count. A dip before the first default that
  recovers is not a collapse; a fall that began before the default counts from the default on,
  so the default must still be followed by `persistence_months` months below the threshold.
- The reference is the revenue peak up to *a* customer default that precedes the fall, not
  only the first one: an early small default (one lab failing in year one) must not make the
  year-one revenue the yardstick for a bust ten years later. With one default, or when revenue
  never exceeds its pre-first-default peak, this is exactly "the pre-default peak".
- The equity test has no persistence window: an `equity_drawdown` fall of the vendors' market value after a
  customer default is the Lucent signature by itself.
- A revenue fall that is still below the threshold when the horizon ends, but has not yet
  lasted the window, is *not yet* a collapse: the run is labelled by the other rules
  (correction, since it has a default) and flagged `collapse_pending`. Read it beside the
  severity measures (exposure still at risk at the end): a longer horizon decides it.
- The label is only about the vendor sector (DESIGN.md). A run with many defaults and large
  write-offs whose vendor revenue holds is a correction, not a collapse; how bad it was is
  told by the severity measures reported beside the label (`n_defaults`, `cascade_size`, and
  the losses that `model.simulate` adds), never by the label alone.

The vendors are taken together (their summed revenue and market value), so a scenario with
two vendors collapses when the vendor sector does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

CUSTOMER_KINDS = ("lab", "cloud")


def drawdown_path(values: np.ndarray) -> np.ndarray:
    """Fall from the running peak at each step (0 = at the peak, 1 = wiped out)."""
    peak = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, 1.0 - values / peak, 0.0)


def first_persistent_run(below: np.ndarray, length: int) -> int | None:
    """Index where `below` first holds for `length` consecutive entries (None if never)."""
    if length <= 0 or len(below) < length:
        return None
    counts = np.convolve(below.astype(int), np.ones(length, dtype=int), mode="valid")
    hits = np.flatnonzero(counts == length)
    return int(hits[0]) if len(hits) else None


def trailing_run(below: np.ndarray) -> int:
    """How many entries at the end of `below` are True."""
    misses = np.flatnonzero(~below)
    return len(below) if len(misses) == 0 else len(below) - 1 - int(misses[-1])


def revenue_collapse(steps: np.ndarray, revenue: np.ndarray, default_steps: list[int], thresholds: Any) -> dict[str, Any]:
    """The earliest persistent revenue fall after a customer default, and whether one is pending.

    For every distinct customer-default month d: the reference is the revenue peak up to d,
    the months counted are those from d on, and a fall is `revenue_drawdown` or more below the
    reference. Returns the month the first persistent fall starts (nan if none), whether a fall
    is under way at the horizon but shorter than the window, and the deepest fall seen after a
    default (0 when no default).
    """
    window = thresholds.persistence_months
    start, pending, deepest = math.nan, False, 0.0
    for d in sorted(set(default_steps)):
        after = steps >= d
        if not after.any():
            continue
        reference = float(revenue[steps <= d].max()) if (steps <= d).any() else float(revenue[after][0])
        if reference <= 0:
            continue
        tail = revenue[after]
        deepest = max(deepest, 1.0 - float(tail.min()) / reference)
        below = tail <= (1.0 - thresholds.revenue_drawdown) * reference
        hit = first_persistent_run(below, window)
        if hit is not None:
            start = float(np.fmin(start, steps[after][hit]))
        elif below[-1]:
            pending = True
    return {"start": start, "pending": pending and math.isnan(start), "deepest": deepest}


def classify(series: pd.DataFrame, defaults: list[dict[str, Any]], thresholds: Any) -> dict[str, Any]:
    """Label a run and report its stress measures; `series` holds the chain reporters by step."""
    steps = series.index.to_numpy()
    revenue = series["vendor_revenue_t12m"].to_numpy(dtype=float)
    equity = series["vendor_market_value"].to_numpy(dtype=float)
    coverage = series["organic_coverage"].to_numpy(dtype=float)
    rev_dd, eq_dd = drawdown_path(revenue), drawdown_path(equity)
    customer_steps = [int(d["step"]) for d in defaults if d["kind"] in CUSTOMER_KINDS]
    first_default = min(customer_steps, default=None)

    fall = revenue_collapse(steps, revenue, customer_steps, thresholds)
    equity_crossing = math.nan
    if first_default is not None:
        crossed = (eq_dd >= thresholds.equity_drawdown) & (steps >= first_default)
        if crossed.any():
            equity_crossing = float(steps[np.argmax(crossed)])
    time_to_collapse = float(np.fmin(fall["start"], equity_crossing))  # fmin: nan only if both are

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
        "collapse_pending": bool(outcome != "collapse" and fall["pending"]),
        "first_default_step": float(first_default) if first_default is not None else math.nan,
        "vendor_revenue_drawdown": float(rev_dd.max()),
        "vendor_revenue_fall_after_default": float(fall["deepest"]),
        "vendor_equity_drawdown": float(eq_dd.max()),
        "cascade_size": max(by_step.values(), default=0),
        "n_defaults": len(defaults),
    }
