"""The outcome classifier on hand-built series, with its thresholds as parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.outcomes import classify, drawdown_path
from model.scenario import Outcomes


def series(revenue, equity=None, coverage=None) -> pd.DataFrame:
    n = len(revenue)
    frame = pd.DataFrame({
        "vendor_revenue_t12m": np.asarray(revenue, dtype=float),
        "vendor_market_value": np.asarray(equity if equity is not None else [1000.0] * n, dtype=float),
        "organic_coverage": np.asarray(coverage if coverage is not None else np.linspace(0.3, 0.6, n), dtype=float),
    })
    frame.index.name = "step"
    return frame


def default(agent="CoreWeave", kind="cloud", step=10):
    return {"agent": agent, "kind": kind, "step": step, "cause": "test"}


def thresholds(revenue=0.5, equity=0.8, band=0.2) -> Outcomes:
    return Outcomes(revenue_drawdown=revenue, equity_drawdown=equity, stable_revenue_band=band)


GROWTH = list(np.linspace(100, 200, 25))  # vendor revenue doubling
BUST = [100.0] * 10 + list(np.linspace(100, 20, 11)) + [20.0] * 4  # falls 80 % over steps 10-20


# ----------------------------------------------------------------------------- drawdowns


def test_drawdown_is_the_fall_from_the_running_peak():
    assert drawdown_path(np.array([1.0, 2.0, 1.0, 4.0, 0.0])) == pytest.approx([0.0, 0.0, 0.5, 0.0, 1.0])


def test_drawdown_is_zero_before_anything_positive():
    assert drawdown_path(np.array([0.0, 0.0, 2.0, 1.0])) == pytest.approx([0.0, 0.0, 0.0, 0.5])


# ----------------------------------------------------------------------------- collapse


def test_customer_default_and_revenue_drawdown_is_collapse_dated_at_the_drawdown():
    out = classify(series(BUST), [default(step=12)], thresholds())
    assert out["outcome"] == "collapse"
    rev_dd = drawdown_path(np.array(BUST))
    assert out["time_to_collapse"] == float(np.argmax(rev_dd >= 0.5))  # the first step 50 % down
    assert out["first_default_step"] == 12.0
    assert out["vendor_revenue_drawdown"] == pytest.approx(0.8)


def test_collapse_is_dated_at_the_default_when_the_drawdown_came_first():
    out = classify(series(BUST), [default(step=23)], thresholds())
    assert out["outcome"] == "collapse" and out["time_to_collapse"] == 23.0


def test_collapse_date_does_not_move_later_when_the_drawdown_recurs_after_the_default():
    # 60 % down at step 3, recovered, default at step 5, down again at step 8
    revenue = [100.0, 100.0, 70.0, 40.0, 100.0, 100.0, 100.0, 80.0, 40.0]
    out = classify(series(revenue), [default(step=5)], thresholds())
    assert out["outcome"] == "collapse"
    assert out["time_to_collapse"] == 5.0  # as when the drawdown does not recur:
    assert classify(series(revenue[:8]), [default(step=5)], thresholds())["time_to_collapse"] == 5.0


def test_revenue_threshold_is_a_parameter():
    out = classify(series(BUST), [default()], thresholds(revenue=0.9))
    assert out["outcome"] == "correction"  # 80 % down is not 90 %
    assert math.isnan(out["time_to_collapse"])


def test_a_drawdown_exactly_at_the_threshold_counts():
    out = classify(series([100.0, 100.0, 50.0]), [default(step=1)], thresholds(revenue=0.5))
    assert out["outcome"] == "collapse" and out["time_to_collapse"] == 2.0


def test_equity_drawdown_alone_with_a_default_is_collapse_and_its_threshold_is_a_parameter():
    equity = [1000.0] * 10 + [150.0] * 15  # down 85 %, revenue flat
    flat = [100.0] * 25
    assert classify(series(flat, equity), [default(kind="lab", step=5)], thresholds())["outcome"] == "collapse"
    assert classify(series(flat, equity), [default(kind="lab", step=5)], thresholds(equity=0.9))["outcome"] == "correction"


def test_drawdown_without_a_customer_default_is_a_correction():
    assert classify(series(BUST), [], thresholds())["outcome"] == "correction"
    # a vendor or utility defaulting is not a default among the vendors' customers
    for kind in ("vendor", "utility"):
        out = classify(series(BUST), [default(agent="X", kind=kind)], thresholds())
        assert out["outcome"] == "correction", kind


def test_a_customer_default_without_a_drawdown_is_a_correction():
    assert classify(series(GROWTH), [default()], thresholds())["outcome"] == "correction"


# ----------------------------------------------------------------------------- stable growth


def test_growth_with_rising_coverage_and_no_default_is_stable_growth():
    out = classify(series(GROWTH), [], thresholds())
    assert out["outcome"] == "stable_growth"
    assert out["n_defaults"] == 0 and out["cascade_size"] == 0
    assert math.isnan(out["first_default_step"]) and math.isnan(out["time_to_collapse"])


def test_the_stable_band_is_a_parameter():
    revenue = list(np.linspace(100, 200, 20)) + [170.0] * 5  # ends 15 % below its peak
    assert classify(series(revenue), [], thresholds(band=0.2))["outcome"] == "stable_growth"
    assert classify(series(revenue), [], thresholds(band=0.1))["outcome"] == "correction"


def test_falling_organic_coverage_is_not_stable_growth():
    out = classify(series(GROWTH, coverage=np.linspace(0.6, 0.3, 25)), [], thresholds())
    assert out["outcome"] == "correction"


def test_coverage_is_compared_from_the_first_step_not_the_opening_row():
    """Row 0 is the opening books (no flows yet); the comparison starts at step 1."""
    coverage = [5.0] + list(np.linspace(0.3, 0.6, 24))
    assert classify(series(GROWTH, coverage=coverage), [], thresholds())["outcome"] == "stable_growth"


def test_any_default_rules_out_stable_growth():
    out = classify(series(GROWTH), [default(agent="PJM", kind="utility")], thresholds())
    assert out["outcome"] == "correction"


# ----------------------------------------------------------------------------- stress measures


def test_cascade_size_is_the_most_defaults_in_one_step():
    defaults = [default("A", "lab", 10), default("B", "cloud", 12), default("C", "cloud", 12), default("D", "vendor", 12)]
    out = classify(series(BUST), defaults, thresholds())
    assert out["cascade_size"] == 3 and out["n_defaults"] == 4
    assert out["first_default_step"] == 10.0


def test_a_one_row_series_is_classified_without_error():
    out = classify(series([100.0], coverage=[0.5]), [], thresholds())
    assert out["outcome"] in {"stable_growth", "correction"}


@settings(max_examples=80, deadline=None)
@given(revenue=st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=30),
       t1=st.floats(0.05, 1.0), t2=st.floats(0.05, 1.0), step=st.integers(0, 29))
def test_a_stricter_revenue_threshold_never_turns_a_non_collapse_into_collapse(revenue, t1, t2, step):
    lo, hi = sorted((t1, t2))
    frame = series(revenue)
    at_hi = classify(frame, [default(step=step)], thresholds(revenue=hi, equity=1.0))
    at_lo = classify(frame, [default(step=step)], thresholds(revenue=lo, equity=1.0))
    if at_hi["outcome"] == "collapse":
        assert at_lo["outcome"] == "collapse"
    for out in (at_hi, at_lo):
        assert 0.0 <= out["vendor_revenue_drawdown"] <= 1.0
