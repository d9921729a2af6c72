"""Credit and default mechanics (issue 9): bonds mature and roll over or fall due; a defaulter's
receivables go to its estate; a lab's take-or-pay backlog is a claim on its estate; loans are
marked to their borrower's credit before default; fire sales move compute prices.

Each test plants the event on a freshly built baseline economy (step 0 or 1) and checks the
books with `check_invariants`, so it is cheap and exact.
"""

from __future__ import annotations

import math

import pytest

from model import accounting, settlement
from model.economy import RoundtripModel
from model.errors import InvariantViolation
from model.invariants import check_invariants
from model.ledger import REST_OF_WORLD
from model.scenario import load_scenario


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def drain_cash(m, name, keep=0.0):
    """Spend a firm's cash down to `keep` through the ledger (as if on operating costs)."""
    m.ledger.transfer(name, REST_OF_WORLD, m.by_name[name].books.cash - keep, "opex")


def check(m):
    """The identities after a planted default: stakes sold in distress are booked at the sale
    price until the account phase marks them, so mark first, as the step would."""
    accounting.mark_to_market(m)
    check_invariants(m)


def debt_owed(m, name):
    return sum(loan.outstanding for loan in m.debts_of(name))


# ----------------------------------------------------------------------------- maturities


def test_starting_bonds_mature_on_a_staggered_ladder(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    term = baseline.credit.bond_term_months
    bonds = [loan for loan in m.loans.values() if loan.kind == "corporate" and loan.issuer == "Oracle"]
    assert len(bonds) == 3 and all(loan.bullet for loan in bonds)
    assert sorted(loan.months_left for loan in bonds) == [round(term / 6), round(term / 2), round(5 * term / 6)]
    assert all(loan.principal_due() == 0.0 for loan in bonds)  # interest only until maturity


def test_a_maturing_bond_rolls_over_at_the_prevailing_spread(baseline):
    m = RoundtripModel(baseline, rng=0, overrides={"credit.bond_term_months": 12}, check_invariants=True)
    first = min((loan for loan in m.loans.values() if loan.kind == "corporate" and loan.issuer == "Microsoft"),
                key=lambda loan: loan.months_left)
    assert first.months_left == 2
    face, opening_rate = first.outstanding, first.rate
    m.step()
    m.step()  # matures in month 2: Microsoft's lenders have room, so it rolls over in full
    assert first.outstanding == pytest.approx(face)
    assert first.months_left == 12
    assert first.rate == pytest.approx(m.params.credit.risk_free + m.prices.spread["Microsoft"])
    assert first.rate != pytest.approx(opening_rate)


def test_a_bond_nobody_refinances_falls_due_and_a_firm_that_cannot_pay_it_defaults(baseline):
    """Lenders with no room (lending_share 0) roll nothing over: xAI's first bond tranche falls
    due at month 1, more than its cash, and xAI defaults for that reason."""
    m = RoundtripModel(baseline, rng=0, overrides={"credit.bond_term_months": 6, "credit.lending_share": 0.0,
                                                   "labs.xAI.debt": 12.5,  # the bundled xAI owes nothing
                                                   # and no investor joins a distressed round to bail it out
                                                   "funding_rounds.sentiment_floor": 0.99},
                       check_invariants=True)
    drain_cash(m, "xAI", keep=0.5)
    m.step()
    xai = m.by_name["xAI"]
    assert xai.defaulted and xai.default_step == 1
    assert xai.default_cause.startswith("failed rollover")
    assert any(e["kind"] == "refinancing" and e["agent"] == "xAI" for e in m.events)


# ----------------------------------------------------------------------------- estates


def test_a_defaulters_receivables_go_to_its_creditors_not_to_its_debtors(baseline):
    """Nvidia (given bonds and no cash) defaults holding a 2 B$ vendor loan to CoreWeave: the
    loan is assigned to Nvidia's bondholders pro rata; CoreWeave still owes all of it."""
    m = RoundtripModel(baseline, rng=0, overrides={"vendors.Nvidia.debt": 50.0}, check_invariants=True)
    drain_cash(m, "Nvidia")
    coreweave_debt = debt_owed(m, "CoreWeave")
    bondholders = {loan.holder: loan.outstanding for loan in m.debts_of("Nvidia")}
    vendor_loan = m.loans[("vendor_loan", "CoreWeave", "Nvidia")].outstanding
    settlement.default(m, m.by_name["Nvidia"], "planted")
    check(m)
    assert debt_owed(m, "CoreWeave") == pytest.approx(coreweave_debt)  # nothing forgiven
    assigned = {loan.holder: loan.outstanding for loan in m.debts_of("CoreWeave") if loan.kind == "vendor_loan"}
    assert set(assigned) == set(bondholders)
    assert sum(assigned.values()) == pytest.approx(vendor_loan)
    total = sum(bondholders.values())
    for holder, face in bondholders.items():
        assert assigned[holder] == pytest.approx(vendor_loan * face / total)
    estate = m.estates[-1]
    assert estate.recovered == pytest.approx(min(estate.pot, estate.claimed))


def test_a_defaulter_without_creditors_passes_its_receivables_to_its_shareholders(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    coreweave_debt = debt_owed(m, "CoreWeave")
    holders = dict(m.registry.holdings["Nvidia"])
    settlement.default(m, m.by_name["Nvidia"], "planted")
    check(m)
    assert debt_owed(m, "CoreWeave") == pytest.approx(coreweave_debt)
    new_holders = {loan.holder for loan in m.debts_of("CoreWeave") if loan.kind == "vendor_loan"}
    assert new_holders and new_holders <= set(holders)


def test_a_labs_take_or_pay_backlog_is_a_claim_paid_pro_rata_with_its_lenders(baseline):
    # a lab with lenders (the bundled xAI owes nothing: its GPU vehicle holds the debt)
    m = RoundtripModel(baseline, rng=0, overrides={"labs.xAI.debt": 12.5}, check_invariants=True)
    lab = m.by_name["xAI"]
    drain_cash(m, "xAI", keep=3.0)
    share = m.params.credit.backlog_claim_share
    backlog = {}
    for contract in lab.contracts:
        if contract.active:
            backlog[contract.cloud] = backlog.get(contract.cloud, 0.0) + share * contract.committed_value(m.steps)
    cash_before = {cloud: m.by_name[cloud].books.cash for cloud in backlog}
    settlement.default(m, lab, "planted")
    check(m)
    estate = m.estates[-1]
    claims = {c.holder: c for c in estate.claims if c.loan is None}
    assert set(claims) == set(backlog) and backlog
    rate = estate.recovered / estate.claimed
    assert 0 < rate < 1
    assert estate.recovered == pytest.approx(3.0)  # all the cash, no receivables
    for cloud, amount in backlog.items():
        assert claims[cloud].face == pytest.approx(amount)
        assert m.by_name[cloud].books.cash - cash_before[cloud] == pytest.approx(rate * amount)
    assert {c.holder for c in estate.claims if c.loan is not None}  # the lenders share the same pot
    for claim in estate.claims:
        assert claim.recovered == pytest.approx(rate * claim.face)
    assert m.losses.backlog_claims == pytest.approx(sum(backlog.values()))


def test_an_unpaid_claim_left_on_the_books_is_caught(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    m.ledger.post("Oracle", ("asset", "backlog:OpenAI:Oracle"), ("nw", ""), 1.0)
    with pytest.raises(InvariantViolation, match="backlog claim"):
        check_invariants(m)


def test_pro_rata_broken_in_an_estate_is_caught(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    settlement.default(m, m.by_name["xAI"], "planted")
    estate = m.estates[-1]
    estate.claims[0].recovered += 0.5
    estate.claims[1].recovered -= 0.5
    with pytest.raises(InvariantViolation, match="pro rata"):
        check_invariants(m)


# ----------------------------------------------------------------------------- distress marks


def test_loans_are_marked_down_with_their_borrowers_equity_loss_before_default(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    loans = m.debts_of("CoreWeave")
    faces = {loan.id: loan.outstanding for loan in loans}
    worth = {loan.holder: m.ledger.sheets[loan.holder].net_worth for loan in loans}
    liability = m.ledger.sheets["CoreWeave"].total_liabilities
    m.registry.price["CoreWeave"] *= 0.5  # the market halves CoreWeave's equity
    accounting.mark_to_market(m)
    marked = {holder: m.ledger.sheets[holder].net_worth for holder in worth}
    accounting.mark_loans_to_credit(m)
    check_invariants(m)
    lgd = m.params.credit.distress_loss_given_default
    for loan in loans:
        assert loan.allowance == pytest.approx(-lgd * 0.5 * faces[loan.id])
        assert loan.outstanding == faces[loan.id]  # face unchanged
    for holder in worth:
        expected = sum(-lgd * 0.5 * l.outstanding for l in loans if l.holder == holder)
        assert m.ledger.sheets[holder].net_worth - marked[holder] == pytest.approx(expected)
    assert m.ledger.sheets["CoreWeave"].total_liabilities == pytest.approx(liability)


def test_an_allowance_that_disagrees_with_its_loan_is_caught(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    loan = next(iter(m.loans.values()))
    sheet = m.ledger.sheets[loan.holder]
    sheet.assets[loan.allowance_account] = -0.3
    sheet.net_worth -= 0.3
    with pytest.raises(InvariantViolation, match="allowance"):
        check_invariants(m)


def test_an_allowance_below_minus_face_is_caught(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    loan = next(iter(m.loans.values()))
    loan.allowance = -2 * loan.outstanding - 1.0
    sheet = m.ledger.sheets[loan.holder]
    sheet.assets[loan.allowance_account] = loan.allowance
    sheet.net_worth += loan.allowance
    with pytest.raises(InvariantViolation, match=r"\[-face, 0\]"):
        check_invariants(m)


# ----------------------------------------------------------------------------- fire sales


def test_a_fire_sale_lowers_the_spot_price_and_every_clouds_collateral(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    m.step()
    spot, factor = m.prices.spot_price, m.prices.collateral_factor
    fleet = sum(c.fleet.gw for c in m.clouds)
    sold = m.by_name["CoreWeave"].fleet.gw
    settlement.default(m, m.by_name["CoreWeave"], "planted")
    check(m)
    impact = math.exp(-sold / (m.params.gpus.fire_sale_depth * fleet))
    assert m.prices.spot_price == pytest.approx(spot * impact)
    assert m.prices.collateral_factor == pytest.approx(factor * impact)
    # the impact fades: after a month's account phase it is persistence x what it was
    before = m.fire_sale_impact
    accounting._fire_sale_price_impact(m)
    assert m.fire_sale_impact == pytest.approx(before * m.params.gpus.fire_sale_impact_persistence)


def test_fire_sold_gpus_that_survivors_can_pay_for_are_bought_not_scrapped(baseline):
    m = RoundtripModel(baseline, rng=0, check_invariants=True)
    microsoft_gw = m.by_name["Microsoft"].fleet.gw
    sold = m.by_name["CoreWeave"].fleet.gw
    settlement.default(m, m.by_name["CoreWeave"], "planted")
    check(m)
    assert m.losses.scrapped_gw == pytest.approx(0.0)
    assert sum(c.fleet.gw for c in m.clouds if c.name != "CoreWeave") == pytest.approx(
        microsoft_gw + sold + m.by_name["Oracle"].fleet.gw)


def test_only_gpus_nobody_buys_are_scrapped(baseline):
    m = RoundtripModel(baseline, rng=0, overrides={"gpus.fire_sale_buyer_cash_share": 0.0}, check_invariants=True)
    sold = m.by_name["CoreWeave"].fleet.gw
    settlement.default(m, m.by_name["CoreWeave"], "planted")
    check(m)
    assert m.losses.scrapped_gw == pytest.approx(sold)
