"""The ledger alone: balance sheets, double entries, non-cash postings and money tags.

Plain numbers, no model: each test books a few entries and checks the identities the
invariant check relies on (assets = liabilities + net worth per sheet, money conserved).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.ledger import (
    ASSET,
    END_MARKET,
    EXCHANGE,
    LIABILITY,
    NET_WORTH,
    REST_OF_WORLD,
    BalanceSheet,
    Ledger,
)

TOL = 1e-9


def make_ledger(vendors: tuple[str, ...] = ()) -> Ledger:
    ledger = Ledger(vendor_tags=vendors)
    for name in ("Lab", "Cloud", *vendors):
        ledger.open(name)
    return ledger


def balanced(ledger: Ledger) -> bool:
    return all(abs(s.imbalance()) < TOL for s in ledger.sheets.values())


# ----------------------------------------------------------------------------- sheets


def test_new_ledger_has_the_outside_accounts_and_the_exchange():
    ledger = Ledger()
    assert set(ledger.sheets) == {END_MARKET, REST_OF_WORLD, EXCHANGE}
    assert ledger.total_money() == 0.0


def test_balance_sheet_stores_net_worth_separately_so_imbalance_is_a_real_check():
    sheet = BalanceSheet("A")
    sheet.assets["cash"] = 5.0
    assert sheet.imbalance() == 5.0  # nothing booked against it
    sheet.net_worth = 5.0
    assert sheet.imbalance() == 0.0


def test_debt_counts_only_loan_accounts():
    sheet = BalanceSheet("A")
    sheet.liabilities.update({"loan:1": 3.0, "loan:7": 2.0, "settlement": 10.0})
    assert sheet.debt() == 5.0


def test_opening_balance_books_against_net_worth_and_counts_money():
    ledger = make_ledger()
    ledger.opening_balance("Lab", "cash", 10.0)
    ledger.opening_balance("Lab", "gpus", 4.0)
    ledger.opening_balance("Lab", "loan:1", 6.0, side=LIABILITY)
    lab = ledger.sheets["Lab"]
    assert lab.cash == 10.0 and lab.assets["gpus"] == 4.0 and lab.liabilities["loan:1"] == 6.0
    assert lab.net_worth == pytest.approx(8.0)
    assert lab.imbalance() == pytest.approx(0.0)
    assert ledger.money_total == 10.0  # only cash is money
    assert ledger.total_money() == 10.0


# ----------------------------------------------------------------------------- transfers


def test_expense_and_revenue_move_net_worth_on_both_sides():
    ledger = make_ledger()
    ledger.opening_balance("Lab", "cash", 10.0)
    ledger.transfer("Lab", "Cloud", 3.0, "compute_rent")
    lab, cloud = ledger.sheets["Lab"], ledger.sheets["Cloud"]
    assert (lab.cash, lab.net_worth) == (7.0, 7.0)
    assert (cloud.cash, cloud.net_worth) == (3.0, 3.0)
    assert balanced(ledger)
    assert ledger.total_money() == ledger.money_total == 10.0
    assert [(f.payer, f.payee, f.kind, f.amount) for f in ledger.flows] == [("Lab", "Cloud", "compute_rent", 3.0)]


def test_loan_draw_is_an_asset_for_the_lender_and_a_liability_for_the_borrower():
    ledger = make_ledger()
    ledger.opening_balance("Lab", "cash", 10.0)
    ledger.transfer("Lab", "Cloud", 4.0, "gpu_backed", payer_side=(ASSET, "loan:1"), payee_side=(LIABILITY, "loan:1"))
    lab, cloud = ledger.sheets["Lab"], ledger.sheets["Cloud"]
    assert lab.assets["loan:1"] == 4.0 and cloud.liabilities["loan:1"] == 4.0
    assert lab.net_worth == 10.0 and cloud.net_worth == 0.0  # borrowing is not income
    # repayment reverses it
    ledger.transfer("Cloud", "Lab", 4.0, "principal", payer_side=(LIABILITY, "loan:1"), payee_side=(ASSET, "loan:1"))
    assert lab.assets["loan:1"] == 0.0 and cloud.liabilities["loan:1"] == 0.0
    assert balanced(ledger)


def test_asset_purchase_swaps_cash_for_the_asset_without_touching_net_worth():
    ledger = make_ledger()
    ledger.opening_balance("Cloud", "cash", 50.0)
    ledger.transfer("Cloud", "Lab", 35.0, "chip_sale", payer_side=(ASSET, "gpus"))
    cloud = ledger.sheets["Cloud"]
    assert cloud.cash == 15.0 and cloud.assets["gpus"] == 35.0 and cloud.net_worth == 50.0
    assert ledger.sheets["Lab"].net_worth == 35.0
    assert balanced(ledger)


@pytest.mark.parametrize("amount", [0.0, -1.0])
def test_zero_or_negative_transfer_is_a_no_op(amount):
    ledger = make_ledger()
    ledger.opening_balance("Lab", "cash", 10.0)
    ledger.transfer("Lab", "Cloud", amount, "compute_rent")
    assert ledger.sheets["Lab"].cash == 10.0 and ledger.sheets["Cloud"].cash == 0.0
    assert ledger.flows == []


def test_post_is_a_single_sheet_entry_that_keeps_the_sheet_balanced():
    ledger = make_ledger()
    ledger.opening_balance("Cloud", "gpus", 10.0)
    ledger.post("Cloud", (NET_WORTH, ""), (ASSET, "gpus"), 2.5)  # depreciation
    cloud = ledger.sheets["Cloud"]
    assert cloud.assets["gpus"] == 7.5 and cloud.net_worth == 7.5
    assert cloud.imbalance() == 0.0
    assert ledger.total_money() == 0.0  # non-cash: no money moved
    ledger.post("Cloud", (NET_WORTH, ""), (ASSET, "gpus"), 0.0)
    assert cloud.assets["gpus"] == 7.5


def test_a_writeoff_of_a_liability_raises_net_worth():
    ledger = make_ledger()
    ledger.opening_balance("Cloud", "loan:3", 5.0, side=LIABILITY)
    ledger.post("Cloud", (LIABILITY, "loan:3"), (NET_WORTH, ""), 5.0)
    cloud = ledger.sheets["Cloud"]
    assert cloud.liabilities["loan:3"] == 0.0 and cloud.net_worth == 0.0
    assert cloud.imbalance() == 0.0


SIDES = st.sampled_from([(NET_WORTH, ""), (ASSET, "x"), (ASSET, "cash_like"), (LIABILITY, "loan:1"), (LIABILITY, "loan:2")])
NAMES = ["A", "B", "C", END_MARKET, REST_OF_WORLD]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), st.floats(0, 100), SIDES, SIDES), max_size=30))
def test_any_sequence_of_transfers_keeps_every_sheet_balanced_and_money_constant(entries):
    ledger = Ledger(vendor_tags=("C",))
    for name in ("A", "B", "C"):
        ledger.open(name)
    for name in NAMES:
        ledger.opening_balance(name, "cash", 50.0)
    for payer, payee, amount, payer_side, payee_side in entries:
        ledger.transfer(payer, payee, amount, "x", payer_side, payee_side)
    for sheet in ledger.sheets.values():
        assert abs(sheet.imbalance()) <= 1e-9 * max(1.0, sheet.total_assets)
    assert ledger.total_money() == pytest.approx(ledger.money_total, abs=1e-9)


# ----------------------------------------------------------------------------- money tags


def test_source_tag_marks_the_whole_injection():
    ledger = make_ledger(("Nvidia",))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.transfer("Nvidia", "Lab", 10.0, "equity", payer_side=(ASSET, "shares:Lab"), source_tag="Nvidia")
    assert ledger.tags["Lab"] == [10.0]
    assert ledger.tags["Nvidia"] == [0.0]


def test_tags_move_pro_rata_with_the_payers_cash():
    ledger = make_ledger(("Nvidia",))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.opening_balance("Lab", "cash", 30.0)  # untagged
    ledger.transfer("Nvidia", "Lab", 10.0, "equity", payer_side=(ASSET, "shares:Lab"), source_tag="Nvidia")
    # Lab holds 40, of which 10 tagged (25 %); paying 20 moves 5 tagged
    ledger.transfer("Lab", "Cloud", 20.0, "compute_rent")
    assert ledger.tags["Lab"] == pytest.approx([5.0])
    assert ledger.tags["Cloud"] == pytest.approx([5.0])


def test_tagged_money_returning_as_a_chip_sale_is_round_tripped_and_loses_its_tag():
    ledger = make_ledger(("Nvidia", "AMD"))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.opening_balance("Cloud", "cash", 10.0)
    ledger.transfer("Nvidia", "Cloud", 10.0, "backstop", source_tag="Nvidia")  # Cloud: 20 cash, 10 tagged
    ledger.transfer("Cloud", "Nvidia", 8.0, "chip_sale", payer_side=(ASSET, "gpus"))
    assert ledger.round_tripped["Nvidia"] == pytest.approx(4.0)  # half of 8
    assert ledger.tags["Nvidia"] == [0.0, 0.0]  # home again: untagged
    assert ledger.tags["Cloud"] == pytest.approx([6.0, 0.0])
    assert "AMD" not in ledger.round_tripped


def test_tagged_money_coming_home_other_than_as_a_sale_is_not_revenue():
    ledger = make_ledger(("Nvidia",))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.transfer("Nvidia", "Cloud", 10.0, "vendor_loan", (ASSET, "loan:1"), (LIABILITY, "loan:1"), source_tag="Nvidia")
    ledger.transfer("Cloud", "Nvidia", 5.0, "principal", (LIABILITY, "loan:1"), (ASSET, "loan:1"))
    assert ledger.round_tripped.get("Nvidia", 0.0) == 0.0
    assert ledger.tags["Cloud"] == pytest.approx([5.0])


def test_money_leaving_the_economy_is_no_longer_traced():
    ledger = make_ledger(("Nvidia",))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.transfer("Nvidia", "Lab", 10.0, "equity", payer_side=(ASSET, "shares:Lab"), source_tag="Nvidia")
    ledger.transfer("Lab", REST_OF_WORLD, 10.0, "opex")
    assert ledger.tags[REST_OF_WORLD] == [0.0]
    assert ledger.tags["Lab"] == [0.0]


def test_a_payer_paying_more_than_its_cash_moves_all_its_tags_not_more():
    ledger = make_ledger(("Nvidia",))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.transfer("Nvidia", "Lab", 4.0, "equity", payer_side=(ASSET, "shares:Lab"), source_tag="Nvidia")
    ledger.transfer("Lab", "Cloud", 6.0, "compute_rent")  # overdraws: share capped at 1
    assert ledger.tags["Lab"] == [0.0]
    assert ledger.tags["Cloud"] == pytest.approx([4.0])


def test_untag_all_clears_one_account():
    ledger = make_ledger(("Nvidia",))
    ledger.opening_balance("Nvidia", "cash", 100.0)
    ledger.transfer("Nvidia", "Lab", 4.0, "equity", payer_side=(ASSET, "shares:Lab"), source_tag="Nvidia")
    ledger.untag_all("Lab")
    assert ledger.tags["Lab"] == [0.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["V", "A", "B"]), st.sampled_from(["V", "A", "B"]), st.floats(0.01, 30),
                          st.booleans()), max_size=25))
def test_tagged_money_never_exceeds_an_accounts_cash(entries):
    """Pro rata mixing: no account carries more vendor money than it has cash (when not overdrawn)."""
    ledger = Ledger(vendor_tags=("V",))
    for name in ("V", "A", "B"):
        ledger.open(name)
        ledger.opening_balance(name, "cash", 100.0)
    for payer, payee, amount, inject in entries:
        amount = min(amount, ledger.sheets[payer].cash)  # never overdraw
        if payer == payee:
            continue
        ledger.transfer(payer, payee, amount, "x", source_tag="V" if inject and payer == "V" else None)
    for name in ("A", "B"):
        assert -1e-9 <= ledger.tags[name][0] <= ledger.sheets[name].cash + 1e-9


# ----------------------------------------------------------------------------- trade settlement


def _trading_ledger(cash: list[float], shares: list[float | None]) -> Ledger:
    """Vendor V (tagged) and investors A, B, C, some holding a tagged share of their cash and a
    stake in X (None: no account for it)."""
    ledger = Ledger(vendor_tags=("V", "W"))
    for name, money, stake in zip(("V", "A", "B", "C"), cash, shares):
        ledger.open(name)
        ledger.opening_balance(name, "cash", money)
        if stake is not None:
            ledger.opening_balance(name, "shares:X", stake)
    for name in ("A", "B", "C"):  # some of each investor's cash is V's money
        ledger.transfer("V", name, 1.0, "equity", source_tag="V")
    ledger.sheets[EXCHANGE].assets["cash"] = 0.0
    return ledger


values = st.one_of(st.just(0.0), st.just(-0.0), st.floats(-20.0, 20.0))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-5.0, 50.0), min_size=4, max_size=4),
       st.lists(st.one_of(st.none(), st.just(0.0), st.just(-0.0), st.floats(0.0, 10.0)), min_size=4, max_size=4),
       st.lists(st.lists(values, min_size=2, max_size=2), min_size=4, max_size=4),
       st.sampled_from([EXCHANGE, REST_OF_WORLD, "V"]))
def test_settling_trade_rows_books_as_one_settle_trades_call_per_holder(cash, shares, rows, counterparty):
    """The batch (payers first, zeros not booked) books the same numbers, bit for bit and in the
    same key order, as one settle_trades call per holder in that order."""
    accounts = ["shares:X", "shares:Y"]
    holders = ["V", "A", "B", "C"]
    if counterparty == "V":
        holders, rows = holders[1:], rows[1:]
    batch, one_by_one = _trading_ledger(cash, shares), _trading_ledger(cash, shares)
    batch.settle_trade_rows(holders, counterparty, accounts, rows)
    nets = [sum(row) for row in rows]
    for k in sorted(range(len(rows)), key=lambda k: -nets[k]):
        values = {a: v for a, v in zip(accounts, rows[k]) if v}
        if values:
            one_by_one.settle_trades(holders[k], counterparty, values)
    for name, sheet in one_by_one.sheets.items():
        other = batch.sheets[name]
        assert repr(list(sheet.assets.items())) == repr(list(other.assets.items()))
        assert repr(list(sheet.liabilities.items())) == repr(list(other.liabilities.items()))
        assert repr(sheet.net_worth) == repr(other.net_worth)
    assert repr(one_by_one.tags) == repr(batch.tags)
    assert repr(one_by_one.round_tripped) == repr(batch.round_tripped)
    assert one_by_one.flows == batch.flows


class SpelledOutLedger(Ledger):
    """`transfer` as the three steps it writes out inline for speed: `_move_tags`, then the
    cash, then `_cap_tags` and `_book` on each sheet. The inline copy must stay this."""

    def transfer(self, payer, payee, amount, kind, payer_side=(NET_WORTH, ""), payee_side=(NET_WORTH, ""),
                 source_tag=None):
        from model.ledger import Flow, _book

        if amount <= 0.0:
            return
        a, b = self.sheets[payer], self.sheets[payee]
        if self.vendor_tags:
            self._move_tags(payer, payee, a.assets["cash"], amount, kind, source_tag)
        a.assets["cash"] -= amount
        b.assets["cash"] += amount
        if self.vendor_tags:
            self._cap_tags(payee, b.assets["cash"])
        _book(a, payer_side, amount, +1)
        _book(b, payee_side, amount, -1)
        self.flows.append(Flow(payer, payee, kind, amount))


TAGGED = ["V", "W", "A", "B", END_MARKET]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TAGGED), st.sampled_from(TAGGED), st.floats(0, 120), SIDES, SIDES,
                          st.sampled_from([None, "V", "W"]), st.sampled_from(["x", "chip_sale"])), max_size=30))
def test_transfer_books_bit_for_bit_what_its_spelled_out_steps_book(entries):
    """Overdrafts, injections, chip sales home and money leaving the economy included."""
    books = []
    for kind in (Ledger, SpelledOutLedger):
        ledger = kind(vendor_tags=("V", "W"))
        for name in ("V", "W", "A", "B"):
            ledger.open(name)
        for name in TAGGED:
            ledger.opening_balance(name, "cash", 50.0)
        for payer, payee, amount, payer_side, payee_side, tag, flow_kind in entries:
            ledger.transfer(payer, payee, amount, flow_kind, payer_side, payee_side, source_tag=tag)
        books.append(({n: (s.assets, s.liabilities, s.net_worth) for n, s in ledger.sheets.items()},
                      ledger.tags, ledger.round_tripped, [(f.payer, f.payee, f.kind, f.amount) for f in ledger.flows]))
    assert repr(books[0]) == repr(books[1])  # repr: -0.0 and 0.0, and key order, count
