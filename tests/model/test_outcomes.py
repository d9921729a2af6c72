"""The outcome classifier on hand-built series, with its thresholds as parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.outcomes import classify, drawdown_path, first_persistent_run, trailing_run
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


def thresholds(revenue=0.5, equity=0.8, band=0.2, window=12) -> Outcomes:
    return Outcomes(revenue_drawdown=revenue, equity_drawdown=equity, stable_revenue_band=band, persistence_months=window)


GROWTH = list(np.linspace(100, 200, 25))  # vendor revenue doubling
# flat at 100 for steps 0-9, down to 20 over steps 10-20 (52 at step 16, 44 at step 17), then 20 to step 36
BUST = [100.0] * 10 + list(np.linspace(100, 20, 11)) + [20.0] * 16
BUST_CROSSES = 17  # first step at or below 50


def fall_then(level_months: int, level: float = 40.0, before: int = 10, after: int = 10) -> list[float]:
    """100 for `before` months, `level` for `level_months`, back to 100 for `after` months."""
    return [100.0] * before + [level] * level_months + [100.0] * after


# ----------------------------------------------------------------------------- helpers


def test_drawdown_is_the_fall_from_the_running_peak():
    assert drawdown_path(np.array([1.0, 2.0, 1.0, 4.0, 0.0])) == pytest.approx([0.0, 0.0, 0.5, 0.0, 1.0])


def test_drawdown_is_zero_before_anything_positive():
    assert drawdown_path(np.array([0.0, 0.0, 2.0, 1.0])) == pytest.approx([0.0, 0.0, 0.0, 0.5])


def test_first_persistent_run_and_trailing_run():
    below = np.array([True, False, True, True, True, False, True, True])
    assert first_persistent_run(below, 3) == 2
    assert first_persistent_run(below, 4) is None
    assert first_persistent_run(below, 1) == 0
    assert trailing_run(below) == 2 and trailing_run(np.array([True, True])) == 2 and trailing_run(np.array([False])) == 0


# ----------------------------------------------------------------------------- collapse by revenue


def test_a_default_then_a_persistent_revenue_fall_is_a_collapse_dated_at_the_fall():
    out = classify(series(BUST), [default(step=12)], thresholds())
    assert out["outcome"] == "collapse"
    assert out["time_to_collapse"] == float(BUST_CROSSES)  # the first month of the persistent fall
    assert out["first_default_step"] == 12.0
    assert out["vendor_revenue_drawdown"] == pytest.approx(0.8)
    assert out["vendor_revenue_fall_after_default"] == pytest.approx(0.8)
    assert out["collapse_pending"] is False


def test_regression_a_trough_before_the_default_is_not_a_collapse():
    """Old rule: any 50 % dip before the first default made the run a collapse dated at the default.

    Here revenue dips 60 % in months 3-8, recovers, a cloud defaults at month 12 and revenue
    then grows eightfold (baseline seed 8 on f1ebbeb looked like this): a correction.
    """
    revenue = [100.0] * 3 + [40.0] * 6 + [100.0] * 4 + list(np.linspace(100, 800, 30))
    out = classify(series(revenue), [default(step=12)], thresholds())
    assert out["outcome"] == "correction"
    assert math.isnan(out["time_to_collapse"])
    assert out["vendor_revenue_drawdown"] == pytest.approx(0.6)  # the dip is still reported
    assert out["vendor_revenue_fall_after_default"] == pytest.approx(0.0)


def test_a_fall_that_began_before_the_default_counts_from_the_default_on():
    revenue = [100.0] * 5 + [30.0] * 30  # down 70 % from month 5
    out = classify(series(revenue), [default(step=10)], thresholds(window=12))
    assert out["outcome"] == "collapse" and out["time_to_collapse"] == 10.0  # when both hold
    # the default must still be followed by a whole window: 24 months after a default at 23 is too short
    late = classify(series(revenue), [default(step=24)], thresholds(window=12))
    assert late["outcome"] == "correction" and late["collapse_pending"] is True


def test_a_fall_that_recovers_within_the_window_is_a_correction():
    out = classify(series(fall_then(11)), [default(step=10)], thresholds(window=12))
    assert out["outcome"] == "correction"
    assert out["collapse_pending"] is False  # it recovered: nothing is pending
    assert out["vendor_revenue_fall_after_default"] == pytest.approx(0.6)


@pytest.mark.parametrize("window", [1, 6, 12, 24])
def test_a_fall_lasting_exactly_the_window_is_a_collapse_and_one_month_less_is_not(window):
    exactly = classify(series(fall_then(window)), [default(step=10)], thresholds(window=window))
    assert exactly["outcome"] == "collapse" and exactly["time_to_collapse"] == 10.0
    if window > 1:
        short = classify(series(fall_then(window - 1)), [default(step=10)], thresholds(window=window))
        assert short["outcome"] == "correction"


def test_persistence_is_consecutive_months():
    # 20 months below the threshold in all, but never 12 in a row
    revenue = [100.0] * 10 + ([40.0] * 10 + [100.0]) * 2
    assert classify(series(revenue), [default(step=10)], thresholds(window=12))["outcome"] == "correction"
    assert classify(series(revenue), [default(step=10)], thresholds(window=10))["outcome"] == "collapse"


def test_a_fall_exactly_at_the_threshold_counts_and_just_above_does_not():
    at = classify(series(fall_then(12, level=50.0)), [default(step=10)], thresholds(revenue=0.5))
    assert at["outcome"] == "collapse"
    above = classify(series(fall_then(12, level=50.01)), [default(step=10)], thresholds(revenue=0.5))
    assert above["outcome"] == "correction"


def test_the_revenue_threshold_is_a_parameter():
    out = classify(series(BUST), [default(step=12)], thresholds(revenue=0.9))
    assert out["outcome"] == "correction"  # 80 % down is not 90 %
    assert math.isnan(out["time_to_collapse"])


def test_a_fall_running_past_the_horizon_before_the_window_ends_is_pending_not_collapse():
    revenue = [100.0] * 20 + [30.0] * 6  # default at 20, six months down when the run ends
    out = classify(series(revenue), [default(step=20)], thresholds(window=12))
    assert out["outcome"] == "correction" and out["collapse_pending"] is True
    assert math.isnan(out["time_to_collapse"])
    # with a window the horizon can see, the same run is a collapse
    assert classify(series(revenue), [default(step=20)], thresholds(window=6))["outcome"] == "collapse"


def test_an_early_small_default_does_not_make_year_one_revenue_the_yardstick():
    """A lab fails at month 2; revenue grows tenfold; a cloud fails at month 30 and revenue
    falls 70 % below its peak for good: measured from the peak before the second default."""
    revenue = list(np.linspace(100, 1000, 30)) + [1000.0] + [300.0] * 15
    defaults = [default("SmallLab", "lab", 2), default("Oracle", "cloud", 30)]
    out = classify(series(revenue), defaults, thresholds())
    assert out["outcome"] == "collapse" and out["time_to_collapse"] == 31.0
    assert out["first_default_step"] == 2.0
    # with only the early default, 300 is three times the pre-default level: not a collapse
    assert classify(series(revenue), defaults[:1], thresholds())["outcome"] == "correction"


# ----------------------------------------------------------------------------- collapse by equity


def test_an_equity_fall_alone_after_a_default_is_a_collapse_dated_at_the_crossing():
    equity = [1000.0] * 10 + list(np.linspace(1000, 150, 8)) + [150.0] * 7  # 85 % down, revenue flat
    flat = [100.0] * 25
    out = classify(series(flat, equity), [default(kind="lab", step=5)], thresholds())
    assert out["outcome"] == "collapse"
    crossing = int(np.argmax(drawdown_path(np.array(equity)) >= 0.8))
    assert out["time_to_collapse"] == float(crossing) and crossing > 5
    assert out["vendor_revenue_fall_after_default"] == 0.0


def test_the_equity_threshold_is_a_parameter_and_exactly_at_it_counts():
    equity = [1000.0] * 10 + [200.0] * 15  # exactly 80 % down
    flat = [100.0] * 25
    assert classify(series(flat, equity), [default(step=5)], thresholds(equity=0.8))["outcome"] == "collapse"
    assert classify(series(flat, equity), [default(step=5)], thresholds(equity=0.81))["outcome"] == "correction"


def test_an_equity_crash_that_recovered_before_the_default_is_not_a_collapse():
    equity = [1000.0] * 5 + [100.0] * 3 + [1000.0] * 17
    flat = [100.0] * 25
    assert classify(series(flat, equity), [default(step=12)], thresholds())["outcome"] == "correction"


def test_an_equity_fall_still_down_at_the_default_is_dated_at_the_default():
    equity = [1000.0] * 5 + [100.0] * 20
    out = classify(series([100.0] * 25, equity), [default(step=12)], thresholds())
    assert out["outcome"] == "collapse" and out["time_to_collapse"] == 12.0


def test_the_collapse_is_dated_at_the_earlier_of_the_revenue_fall_and_the_equity_crossing():
    equity = [1000.0] * 25 + [100.0] * 12  # crosses at 25, after the revenue fall starting at 17
    assert classify(series(BUST, equity), [default(step=12)], thresholds())["time_to_collapse"] == float(BUST_CROSSES)
    equity = [1000.0] * 14 + [100.0] * 23  # crosses at 14, before it
    assert classify(series(BUST, equity), [default(step=12)], thresholds())["time_to_collapse"] == 14.0


# ----------------------------------------------------------------------------- what is not a collapse


def test_a_fall_without_a_customer_default_is_a_correction():
    assert classify(series(BUST), [], thresholds())["outcome"] == "correction"
    # a vendor or utility defaulting is not a default among the vendors' customers
    for kind in ("vendor", "utility"):
        out = classify(series(BUST), [default(agent="X", kind=kind)], thresholds())
        assert out["outcome"] == "correction", kind
        assert math.isnan(out["first_default_step"])


def test_a_customer_default_without_a_fall_is_a_correction():
    assert classify(series(GROWTH), [default()], thresholds())["outcome"] == "correction"


def test_regression_the_worst_losses_are_reported_beside_the_label_not_hidden_by_it():
    """Old finding: baseline seed 0 had five defaults (Microsoft among them) and 8,062 B$
    written off, yet was a 'correction' because vendor revenue held.

    The label stays what DESIGN.md defines: only the vendor sector's fall makes a collapse, so
    a run whose vendor revenue grows through five defaults is a correction. The fix is that the
    label never stands alone: the classifier reports the defaults, the cascade and the first
    default month with it, and `model.simulate` adds the losses (capital lost at cost, credit
    losses, exposure at risk at the end); `compare` and the phase diagram report those beside
    P(collapse).
    """
    defaults = [default("Microsoft", "cloud", 40), default("Oracle", "cloud", 40), default("CoreWeave", "cloud", 41),
                default("OpenAI", "lab", 44), default("xAI", "lab", 60)]
    out = classify(series(list(np.linspace(100, 400, 80))), defaults, thresholds())
    assert out["outcome"] == "correction"
    assert out["n_defaults"] == 5 and out["cascade_size"] == 2 and out["first_default_step"] == 40.0
    assert out["vendor_revenue_fall_after_default"] == 0.0 and out["collapse_pending"] is False


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


def test_the_persistence_window_lives_in_the_scenario():
    assert Outcomes().persistence_months == 12
    with pytest.raises(ValueError):
        Outcomes(persistence_months=0)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=80, deadline=None)
@given(revenue=st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=30),
       t1=st.floats(0.05, 1.0), t2=st.floats(0.05, 1.0), w1=st.integers(1, 12), w2=st.integers(1, 12),
       step=st.integers(0, 29))
def test_stricter_thresholds_never_turn_a_non_collapse_into_collapse(revenue, t1, t2, w1, w2, step):
    lo, hi = sorted((t1, t2))
    short, long = sorted((w1, w2))
    frame = series(revenue)
    strict = classify(frame, [default(step=step)], thresholds(revenue=hi, equity=1.0, window=long))
    loose = classify(frame, [default(step=step)], thresholds(revenue=lo, equity=1.0, window=short))
    if strict["outcome"] == "collapse":
        assert loose["outcome"] == "collapse"
        assert loose["time_to_collapse"] <= strict["time_to_collapse"]
    for out in (strict, loose):
        assert 0.0 <= out["vendor_revenue_drawdown"] <= 1.0
        if out["outcome"] == "collapse":  # never before the default
            assert out["time_to_collapse"] >= out["first_default_step"]
        assert not (out["collapse_pending"] and out["outcome"] == "collapse")
