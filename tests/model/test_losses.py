"""Severity measures (issue 8 item 2): what they mean, on runs and on planted defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import accounting, settlement
from model.economy import RoundtripModel
from model.invariants import check_invariants
from model.losses import SECTORS, LossBook, record_secondary_trades
from model.scenario import load_scenario
from model.simulate import simulate

SEVERITY_KEYS = ("capital_lost_at_cost", "credit_losses", "equity_lost_at_market", "vendor_exposure_lost",
                 "stranded_gw_peak", "scrapped_gw", "build_out_gw_peak", "exposure_at_risk_end", "first_default_step")


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


@pytest.fixture(scope="module")
def quiet_run(baseline):
    """Calm, strongly growing demand for two years: no default."""
    scenario = baseline.with_overrides({"end_market.volatility": 0.0, "end_market.annual_growth": 1.0})
    return simulate(scenario, seed=0, steps=24, keep_series=False, check_invariants=True)


def test_a_run_without_defaults_loses_no_capital(quiet_run):
    s = quiet_run.summary
    assert not quiet_run.defaults
    assert math.isnan(s["first_default_step"])
    assert s["credit_losses"] == 0.0 and s["capital_lost_at_cost"] == 0.0 and s["scrapped_gw"] == 0.0
    assert all(s[f"capital_lost_{sector}"] == 0.0 for sector in SECTORS)
    assert s["build_out_gw_peak"] > 0.0


def test_run_json_reports_the_severity_keys_with_null_for_no_default(quiet_run):
    from experiments.commands.run import _report

    report = _report(quiet_run, {"series": "", "figure": ""})
    for key in SEVERITY_KEYS:
        assert key in report
    assert report["first_default_step"] is None
    assert set(report["capital_lost_by_sector"]) == set(SECTORS)


def stake_costs(m, issuer):
    """Cost basis of every stake in `issuer`, by the sector that would lose it."""
    out = {}
    for (holder, held_issuer), cost in m.invested_at_cost.items():
        if held_issuer == issuer:
            kind = m.by_name[holder].kind
            sector = "investors" if kind == "investor" else {"vendor": "vendors", "cloud": "clouds", "lab": "labs",
                                                             "utility": "utilities"}[kind]
            out[sector] = out.get(sector, 0.0) + cost
    return out


def test_a_planted_lab_default_shows_the_loss_on_its_shareholders_and_lenders(baseline):
    # a lab that owes bonds (the bundled xAI owes nothing: its GPU vehicle holds the debt)
    indebted = baseline.with_overrides({"labs.xAI.debt": 12.5, "labs.xAI.debt_rate": 0.12})
    m = RoundtripModel(indebted, rng=0, check_invariants=True)
    m.step()
    lab = m.by_name["xAI"]
    costs = stake_costs(m, "xAI")
    owed = {loan.holder: loan.outstanding for loan in m.debts_of("xAI")}
    settlement.default(m, lab, "planted")
    accounting.mark_to_market(m)
    check_invariants(m)
    estate = m.estates[-1]
    recovered = sum(c.recovered for c in estate.claims if c.loan is not None)
    s = m.losses.summary(m)
    unrecovered = sum(owed.values()) - recovered
    assert unrecovered > 0
    assert s["credit_losses"] == pytest.approx(unrecovered)
    assert s["capital_lost_lenders"] == pytest.approx(unrecovered)  # investors hold xAI's bonds
    assert s["capital_lost_investors"] == pytest.approx(costs.get("investors", 0.0))
    assert s["capital_lost_clouds"] == pytest.approx(costs.get("clouds", 0.0))
    assert s["capital_lost_at_cost"] == pytest.approx(sum(s[f"capital_lost_{x}"] for x in SECTORS))


def test_a_planted_cloud_default_shows_the_vendors_lost_exposure(baseline):
    """CoreWeave defaults with no cash: Nvidia loses its stake at cost and its unrecovered vendor loan."""
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    nvidia_stake = m.invested_at_cost[("Nvidia", "CoreWeave")]
    vendor_loan = m.loans[("vendor_loan", "CoreWeave", "Nvidia")].outstanding
    settlement.default(m, m.by_name["CoreWeave"], "planted")
    accounting.mark_to_market(m)
    check_invariants(m)
    estate = m.estates[-1]
    claim = next(c for c in estate.claims if c.holder == "Nvidia")
    s = m.losses.summary(m)
    assert s["capital_lost_vendors"] == pytest.approx(nvidia_stake + vendor_loan - claim.recovered)
    assert s["vendor_exposure_lost"] == pytest.approx(s["capital_lost_vendors"])
    assert s["capital_lost_at_cost"] == pytest.approx(sum(s[f"capital_lost_{x}"] for x in SECTORS))
    assert s["equity_lost_at_market"] > 0


def test_sums_by_sector_equal_the_total_over_runs_with_defaults(baseline):
    scenario = baseline.with_overrides({"end_market.annual_growth": -0.5})
    s = simulate(scenario, seed=1, steps=48, keep_series=False, check_invariants=True).summary
    assert s["n_defaults"] > 0 and s["capital_lost_at_cost"] > 0
    assert s["capital_lost_at_cost"] == pytest.approx(sum(s[f"capital_lost_{x}"] for x in SECTORS))
    assert s["first_default_step"] >= 0


def test_distressed_sales_below_cost_are_capital_lost_and_above_cost_are_not():
    book = LossBook()
    book.distressed_sale("cloud", "lab", cost_sold=10.0, proceeds=7.0)
    book.distressed_sale("vendor", "lab", cost_sold=5.0, proceeds=9.0)
    assert book.capital_lost["clouds"] == 3.0 and book.capital_lost["vendors"] == 0.0
    assert book.vendor_exposure_lost == 0.0


def test_an_investors_loan_loss_is_the_lenders_and_its_stake_loss_the_investors():
    book = LossBook()
    book.loan_written_off("investor", "cloud", 4.0)
    book.stake_wiped("investor", "cloud", cost=6.0, marked=2.0)
    book.loan_written_off("vendor", "cloud", 1.0)
    assert book.capital_lost["lenders"] == 4.0 and book.capital_lost["investors"] == 6.0
    assert book.credit_losses == 5.0 and book.equity_lost_at_market == 2.0 and book.vendor_exposure_lost == 1.0
    assert book.capital_lost_at_cost == 11.0


class _Books:
    def __init__(self):
        self.invested_at_cost = {("a", "X"): 50.0, ("b", "X"): 0.0}


def test_secondary_trades_move_the_cost_basis_at_average_cost():
    m = _Books()
    held = np.array([[10.0], [0.0]])
    delta = np.array([[-4.0], [4.0]])  # a sells 4 of its 10 shares to b at 8 each
    record_secondary_trades(m, ["X"], ["a", "b"], held, delta, np.array([8.0]))
    assert m.invested_at_cost[("a", "X")] == pytest.approx(30.0)  # 6/10 of what a paid
    assert m.invested_at_cost[("b", "X")] == pytest.approx(32.0)  # what b paid
