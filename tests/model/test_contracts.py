"""Each deal type alone, with plain numbers: its schedule, its caps, its end."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.contracts import (
    CapacityBackstop,
    EquityForDeployment,
    FinancingCommitment,
    Guarantee,
    Loan,
    LoanBook,
    RoundParticipation,
    ShareRegistry,
    TakeOrPay,
    Warrants,
)

# ----------------------------------------------------------------------------- loans


def loan(outstanding=120.0, rate=0.12, term=12) -> Loan:
    return Loan(id=7, kind="gpu_backed", holder="Bank", issuer="Cloud", outstanding=outstanding, rate=rate,
                term_months=term)


def test_loan_account_names_the_claim_on_both_sheets():
    assert loan().account == "loan:7"


def test_interest_is_monthly_on_the_outstanding():
    assert loan().interest_due() == pytest.approx(120.0 * 0.12 / 12)
    assert loan(outstanding=0.0).interest_due() == 0.0


def test_principal_amortises_evenly_and_never_exceeds_the_outstanding():
    assert loan().principal_due() == pytest.approx(10.0)
    assert loan(term=0).principal_due() == pytest.approx(120.0)  # a zero term is due at once, not divided by zero
    assert loan(outstanding=0.0).principal_due() == 0.0


def test_equal_instalments_repay_the_loan_within_its_term():
    facility = loan(outstanding=120.0, term=12)
    payments = []
    for _ in range(12):
        payments.append(facility.principal_due())
        facility.outstanding -= payments[-1]
        facility.paid_instalment()
    assert payments == pytest.approx([10.0] * 12)
    assert facility.outstanding == pytest.approx(0.0, abs=1e-12)


def test_a_new_draw_restarts_the_term():
    facility = loan(outstanding=120.0, term=12)
    facility.paid_instalment()
    facility.draw(12.0, 0.12)
    assert facility.months_left == 12


def test_draw_blends_the_rate_by_amount():
    facility = loan(outstanding=100.0, rate=0.10)
    facility.draw(100.0, 0.20)
    assert facility.outstanding == 200.0
    assert facility.rate == pytest.approx(0.15)


def test_first_draw_on_an_empty_facility_takes_the_new_rate():
    facility = loan(outstanding=0.0, rate=0.10)
    facility.draw(5.0, 0.08)
    assert facility.rate == pytest.approx(0.08)


def _scan(book: dict, issuer: str) -> list:
    return [l for l in book.values() if l.issuer == issuer]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "pop", "del", "update", "setdefault", "popitem", "clear"]),
                          st.sampled_from(["gpu_backed", "vendor_loan"]), st.sampled_from("ABC"),
                          st.sampled_from("XY")), max_size=40))
def test_loan_book_index_gives_each_issuers_loans_in_the_order_of_a_scan(operations):
    book, plain, ids = LoanBook(), {}, iter(range(1000))
    for op, kind, issuer, holder in operations:
        key = (kind, issuer, holder)
        new = Loan(next(ids), kind, holder, issuer, 1.0, 0.1, 12)
        if op == "set":
            book[key] = plain[key] = new
        elif op == "pop":
            assert book.pop(key, None) is plain.pop(key, None)
        elif op == "del" and key in plain:
            del book[key], plain[key]
        elif op == "update":
            book.update({key: new})
            plain.update({key: new})
        elif op == "setdefault":
            assert book.setdefault(key, new) is plain.setdefault(key, new)
        elif op == "popitem" and plain:
            assert book.popitem() == plain.popitem()
        elif op == "clear":
            book.clear()
            plain.clear()
        assert list(book.items()) == list(plain.items())
    for twin in (book, copy.deepcopy(book), pickle.loads(pickle.dumps(book))):
        for issuer in "ABCD":
            assert [l.id for l in twin.issued_by(issuer)] == [l.id for l in _scan(plain, issuer)]


# ----------------------------------------------------------------------------- take-or-pay


def top(**kw) -> TakeOrPay:
    terms = dict(id=1, lab="Lab", cloud="Cloud", gw=4.5, price_per_gw_month=1.11, start_step=12, end_step=72)
    terms.update(kw)
    return TakeOrPay(**terms)


@pytest.mark.parametrize("step, live", [(11, False), (12, True), (71, True), (72, False)])
def test_take_or_pay_is_live_from_start_to_end_exclusive(step, live):
    assert top().live(step) is live


def test_an_ended_contract_is_never_live():
    assert not top(active=False).live(20)


def test_rent_is_due_on_delivered_gw_only():
    c = top()
    assert c.rent_due() == 0.0
    c.delivered_gw = 2.0
    assert c.rent_due() == pytest.approx(2.22)


def test_committed_value_is_the_remaining_backlog():
    c = top()
    assert c.committed_value(0) == pytest.approx(4.5 * 1.11 * 60)  # before start: the whole contract
    assert c.committed_value(42) == pytest.approx(4.5 * 1.11 * 30)
    assert c.committed_value(72) == 0.0
    assert c.committed_value(500) == 0.0


# ----------------------------------------------------------------------------- equity for deployment


def test_equity_tranche_is_per_gw_up_to_the_cap():
    deal = EquityForDeployment("Nvidia", "OpenAI", per_gw=10.0, cap=100.0)
    assert deal.tranche(2.0) == 20.0
    deal.invested = 95.0
    assert deal.tranche(2.0) == 5.0
    deal.invested = 100.0
    assert deal.tranche(2.0) == 0.0


def test_equity_tranche_is_zero_for_no_deployment_or_an_ended_deal():
    assert EquityForDeployment("V", "L", 10.0, 100.0).tranche(0.0) == 0.0
    assert EquityForDeployment("V", "L", 10.0, 100.0).tranche(-1.0) == 0.0
    assert EquityForDeployment("V", "L", 10.0, 100.0, active=False).tranche(3.0) == 0.0


# ----------------------------------------------------------------------------- warrants


def test_warrants_vest_pro_rata_and_stop_at_full_vesting():
    w = Warrants("AMD", "OpenAI", shares=0.16, gw=6.0)
    assert w.vest(1.5) == pytest.approx(0.04)
    assert w.vest(10.0) == pytest.approx(0.12)  # only the remaining 4.5 GW vest
    assert w.vested_gw == pytest.approx(6.0)
    assert w.vest(1.0) == 0.0


def test_ended_warrants_vest_nothing():
    w = Warrants("AMD", "OpenAI", shares=0.16, gw=6.0, active=False)
    assert w.vest(3.0) == 0.0 and w.vested_gw == 0.0


# ----------------------------------------------------------------------------- capacity backstop


def test_backstop_pays_idle_gw_up_to_the_cap_until_its_end():
    b = CapacityBackstop("Nvidia", "CoreWeave", cap=6.3, price_per_gw_month=1.1, end_step=75)
    assert b.payment(2.0, 10) == pytest.approx(2.2)
    assert b.payment(0.0, 10) == 0.0
    b.paid = 6.0
    assert b.payment(2.0, 10) == pytest.approx(0.3)
    assert b.remaining(10) == pytest.approx(0.3)
    assert b.payment(2.0, 75) == pytest.approx(0.3)  # the end step is still covered
    assert b.payment(2.0, 76) == 0.0
    assert b.remaining(76) == 0.0


def test_ended_backstop_pays_nothing():
    b = CapacityBackstop("V", "C", cap=6.3, price_per_gw_month=1.1, end_step=75, active=False)
    assert b.payment(2.0, 0) == 0.0 and b.remaining(0) == 0.0


# ----------------------------------------------------------------------------- shares


def test_share_registry_issue_and_move_keep_holdings_equal_to_outstanding():
    reg = ShareRegistry()
    reg.list_firm("Lab", 1.0, 500.0)
    reg.issue("Lab", "Nvidia", 0.1)
    assert reg.outstanding["Lab"] == pytest.approx(1.1)
    reg.move("Lab", "Nvidia", "Fund", 0.04)
    assert reg.held("Lab", "Nvidia") == pytest.approx(0.06)
    assert reg.held("Lab", "Fund") == pytest.approx(0.04)
    assert reg.market_value("Lab") == pytest.approx(1.1 * 500.0)


def test_selling_a_whole_stake_removes_the_holder():
    reg = ShareRegistry()
    reg.list_firm("Lab", 1.0, 10.0)
    reg.issue("Lab", "A", 0.5)
    reg.move("Lab", "A", "B", 0.5)
    assert "A" not in reg.holdings["Lab"]
    assert reg.held("Lab", "A") == 0.0


# ----------------------------------------------------------------------------- vendor money on stated terms


def participation(**terms) -> RoundParticipation:
    base = dict(vendor="V", lab="L", share=0.3, per_round_cap=10.0, cap=25.0, min_sentiment=0.0, max_valuation=500.0,
                distressed=False, start_step=0, end_step=24)
    return RoundParticipation(**{**base, **terms})


def test_round_participation_takes_its_share_within_per_round_and_total_caps():
    deal = participation()
    assert deal.offer(20.0, 400.0, 0.5, False, 3) == pytest.approx(6.0)
    assert deal.offer(100.0, 400.0, 0.5, False, 3) == pytest.approx(10.0)
    deal.invested = 20.0
    assert deal.offer(100.0, 400.0, 0.5, False, 3) == pytest.approx(5.0)
    assert deal.remaining(3) == pytest.approx(5.0)


def test_round_participation_only_at_accepted_price_mood_time_and_no_distressed_rounds_unless_stated():
    deal = participation()
    assert deal.offer(20.0, 600.0, 0.5, False, 3) == 0.0  # valuation above what the vendor pays
    assert deal.offer(20.0, 400.0, -0.1, False, 3) == 0.0  # gloomier than its terms
    assert deal.offer(20.0, 400.0, 0.5, False, 30) == 0.0  # after the commitment ends
    assert deal.offer(20.0, 400.0, 0.5, True, 3) == 0.0  # a distressed round
    assert participation(distressed=True).offer(20.0, 400.0, 0.5, True, 3) == pytest.approx(6.0)


def test_guarantee_covers_the_guaranteed_loans_outstanding_up_to_its_cap():
    guaranteed = [loan(outstanding=0.5), loan(outstanding=0.4)]
    deal = Guarantee("V", "Cloud", cap=0.7, loans=guaranteed)
    assert deal.remaining(0) == pytest.approx(0.7)
    guaranteed[0].outstanding = 0.1
    assert deal.remaining(0) == pytest.approx(0.5)
    deal.active = False
    assert deal.remaining(0) == 0.0


def test_credit_line_lends_up_to_the_committed_amount_in_all():
    line = FinancingCommitment("V", "Cloud", committed=2.0, rate=0.1, months=60, drawn=0.5)
    assert line.available() == pytest.approx(1.5)
    line.drawn = 2.0
    assert line.available() == 0.0
    line.drawn, line.active = 0.0, False
    assert line.remaining(0) == 0.0
