"""Mechanism tests: outcomes emerge from deal terms and demand, over many seeds.

Nothing in the model branches on a scenario's name or a wanted outcome; these tests change
only parameters (vendor financing, the end market) and count what comes out.
"""

from __future__ import annotations

import pytest

from model.scenario import load_scenario
from model.simulate import simulate

SEEDS = range(20)
CALM_END_MARKET = {"end_market.volatility": 0.05}


def outcomes(overrides: dict) -> list[dict]:
    scenario = load_scenario("baseline", {**CALM_END_MARKET, **overrides})
    return [simulate(scenario, seed=seed, keep_series=False, check_invariants=False).summary for seed in SEEDS]


@pytest.fixture(scope="module")
def no_deals_strong_growth() -> list[dict]:
    return outcomes({"deals": [], "vendors.*.financing_share": 0.0, "vendors.*.vendor_loan_share": 0.0,
                     "end_market.annual_growth": 1.0, "end_market.ceiling": 150.0})


@pytest.fixture(scope="module")
def heavy_deals_stalled_market() -> list[dict]:
    return outcomes({"vendors.*.financing_share": 1.5, "vendors.*.vendor_loan_share": 0.5,
                     "end_market.annual_growth": 0.0})


def test_no_vendor_deals_and_strong_growth_never_collapse(no_deals_strong_growth):
    labels = [s["outcome"] for s in no_deals_strong_growth]
    assert "collapse" not in labels, labels
    # and the vendors' revenue holds up: no run loses half of it
    assert max(s["vendor_revenue_drawdown"] for s in no_deals_strong_growth) < 0.5


def test_heavy_vendor_deals_and_stalled_market_mostly_collapse(heavy_deals_stalled_market):
    lucent_style = [
        s for s in heavy_deals_stalled_market
        if s["outcome"] == "collapse"
        and s["first_default_step"] <= s["time_to_collapse"]  # a customer defaults first ...
        and s["vendor_revenue_drawdown"] > 0.5  # ... and the vendor's revenue halves
    ]
    assert len(lucent_style) > len(SEEDS) / 2, [(s["outcome"], s["defaulted"]) for s in heavy_deals_stalled_market]


def test_circular_financing_raises_the_circularity_measure(no_deals_strong_growth, heavy_deals_stalled_market):
    assert max(s["circularity_peak"] for s in no_deals_strong_growth) < 0.2
    assert min(s["circularity_peak"] for s in heavy_deals_stalled_market) > 0.5
    assert max(s["round_tripped_share_peak"] for s in no_deals_strong_growth) < 1e-9
    assert min(s["round_tripped_share_peak"] for s in heavy_deals_stalled_market) > 0.01
