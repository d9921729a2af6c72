"""The accounting identities of DESIGN.md, checked every step (always in tests).

A violation raises `InvariantViolation` with the step, the agent, the account and the
difference: it is never absorbed.
"""

from __future__ import annotations

from typing import Any

from model.errors import InvariantViolation
from model.ledger import END_MARKET, EXCHANGE

ABS_TOL = 1e-6  # B$: a thousand dollars
REL_TOL = 1e-9  # of the largest stock involved


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= ABS_TOL + REL_TOL * max(abs(a), abs(b))


def check_invariants(m: Any) -> None:
    # Run every step with checks on, so written for speed: the hot loops inline `_close` as
    # `not abs(a - b) <= tolerance` (a NaN still fails it); account names are built once per call.
    step, ledger, registry = m.steps, m.ledger, m.registry
    sheets = ledger.sheets
    # each agent: assets = liabilities + net worth
    for name, sheet in sheets.items():
        assets, liabilities = sum(sheet.assets.values()), sum(sheet.liabilities.values())
        claims = liabilities + sheet.net_worth
        if not abs(assets - claims) <= ABS_TOL + REL_TOL * max(abs(assets), abs(claims)):
            raise InvariantViolation(step, name, "balance sheet", assets - liabilities - sheet.net_worth,
                                     "assets != liabilities + net worth")
    # each claim: holder's asset = issuer's liability = the loan's outstanding amount
    # and the holder's distress allowance is the loan's, between -face and 0
    live: set[str] = set()  # the accounts of live loans and their allowances
    for loan in m.loans.values():
        account, allowance_account, outstanding, allowance = (loan.account, loan.allowance_account, loan.outstanding,
                                                              loan.allowance)
        live.add(account)
        live.add(allowance_account)
        holder_assets = sheets[loan.holder].assets
        held = holder_assets.get(account, 0.0)
        owed = sheets[loan.issuer].liabilities.get(account, 0.0)
        # `a != b and not _close(a, b)`: equal numbers (the usual case) pass without the call
        if held != outstanding and not _close(held, outstanding):
            raise InvariantViolation(step, loan.holder, account, held - outstanding, "holder's asset != loan outstanding")
        if owed != outstanding and not _close(owed, outstanding):
            raise InvariantViolation(step, loan.issuer, account, owed - outstanding, "issuer's liability != loan outstanding")
        booked = holder_assets.get(allowance_account, 0.0)
        if booked != allowance and not _close(booked, allowance):
            raise InvariantViolation(step, loan.holder, allowance_account, booked - allowance,
                                     "booked allowance != the loan's allowance")
        if allowance > ABS_TOL or allowance < -outstanding - ABS_TOL - REL_TOL * outstanding:
            raise InvariantViolation(step, loan.holder, allowance_account, allowance,
                                     f"allowance outside [-face, 0] (face {outstanding:.6g})")
    # no claim without its contract: every loan account (and allowance) on any sheet belongs to a
    # live loan, every stake to a registry holding; backlog claims on a defaulted lab are settled
    # in its default; a defaulter owes nothing and holds no receivable any more (they went to its estate)
    stake_holders = {f"shares:{issuer}": holdings for issuer, holdings in registry.holdings.items()}
    for name, sheet in sheets.items():
        for side, accounts in (("asset", sheet.assets), ("liability", sheet.liabilities)):
            for account, value in accounts.items():
                if -ABS_TOL <= value <= ABS_TOL:
                    continue
                # most accounts are stakes with shares behind them, or live loans: cleared first
                holders = stake_holders.get(account)
                if holders is not None and holders.get(name, 0.0) != 0.0 or account in live or account == "cash":
                    continue
                if account.startswith(("loan:", "allowance:")) and account not in live:
                    raise InvariantViolation(step, name, account, value, f"{side} for a loan that no longer exists")
                if account.startswith("shares:") and registry.holdings.get(account[7:], {}).get(name, 0.0) == 0.0:
                    raise InvariantViolation(step, name, account, value, "stake on the books with no shares in the registry")
                if account.startswith("backlog:"):
                    raise InvariantViolation(step, name, account, value, "a backlog claim left unsettled after its default")
    for loan in m.loans.values():
        if m.by_name[loan.issuer].defaulted:
            raise InvariantViolation(step, loan.issuer, loan.account, loan.outstanding, "a defaulted firm still has a loan")
        if m.by_name[loan.holder].defaulted:
            raise InvariantViolation(step, loan.holder, loan.account, loan.outstanding,
                                     "a defaulted firm still holds a receivable (it belongs to its estate's creditors)")
    # estates: creditors recovered the pot (or their claims, if less), every claim at the same rate
    for estate in m.estates:
        if estate.step != step:
            continue
        expected = min(estate.pot, estate.claimed)
        if not _close(estate.recovered, expected):
            raise InvariantViolation(step, estate.firm, "estate", estate.recovered - expected,
                                     "recoveries != min(pot, claims)")
        rate = expected / estate.claimed if estate.claimed > 0 else 0.0
        for claim in estate.claims:
            if not _close(claim.recovered, rate * claim.face):
                raise InvariantViolation(step, claim.holder, claim.account, claim.recovered - rate * claim.face,
                                         "claim not paid pro rata")
    # cost basis of stakes: never negative
    if m.invested_at_cost and min(m.invested_at_cost.values()) < -ABS_TOL:
        (holder, issuer), cost = min(m.invested_at_cost.items(), key=lambda item: item[1])
        raise InvariantViolation(step, holder, f"cost:{issuer}", cost, "negative cost basis")
    # money tags: never negative, never more than the cash they sit in
    for name, tags in ledger.tags.items():
        cash = sheets[name].assets["cash"]
        # (0.0 if 0.0 > cash else cash) is max(cash, 0.0) without the call
        if sum(tags) > (0.0 if 0.0 > cash else cash) + ABS_TOL + REL_TOL * abs(cash) or tags and min(tags) < -ABS_TOL:
            raise InvariantViolation(step, name, "cash tags", sum(tags) - max(cash, 0.0), "traced money outside 0..cash")
    # shares held = shares outstanding; every stake marked at the market price
    for issuer, holdings in registry.holdings.items():
        held = sum(holdings.values())
        if not _close(held, registry.outstanding[issuer]):
            raise InvariantViolation(step, issuer, "shares", held - registry.outstanding[issuer], "shares held != shares outstanding")
        price = registry.price[issuer]
        account = f"shares:{issuer}"
        # marking books a stake at shares x price, almost always to the bit: one list comparison
        # clears the issuer (a fresh product is never the same object as a booked NaN), and the
        # tolerance test below runs only when some stake differs
        if [sheets[holder].assets.get(account, 0.0) for holder in holdings] == [shares * price for shares in holdings.values()]:
            continue
        for holder, shares in holdings.items():
            booked = sheets[holder].assets.get(account, 0.0)
            value = shares * price
            if abs(booked - value) > ABS_TOL + REL_TOL * abs(value) + REL_TOL * abs(booked):
                raise InvariantViolation(step, holder, account, booked - value, "stake != shares x price")
    # money: the sum of all cash (outside accounts included) never changes
    total = ledger.total_money()
    if not _close(total, ledger.money_total):
        raise InvariantViolation(step, "(all)", "cash", total - ledger.money_total,
                                 "money changed other than through the end-market and rest-of-world accounts")
    # the end market spends out of its income: it never pays with money it does not have
    end_market_cash = ledger.sheets[END_MARKET].assets["cash"]
    if end_market_cash < -ABS_TOL:
        raise InvariantViolation(step, END_MARKET, "cash", end_market_cash, "the end market spent more than its income and cash")
    exchange = ledger.sheets[EXCHANGE].assets["cash"]
    if not _close(exchange, 0.0):
        raise InvariantViolation(step, EXCHANGE, "cash", exchange, "the exchange did not net to zero")
    # physical stocks: GPUs built = installed + idle + scrapped; power drawn <= capacity
    fleet = sum(c.fleet.gw for c in m.clouds)
    if not _close(m.gw_built, fleet + m.gw_scrapped):
        raise InvariantViolation(step, "(all)", "gpus", m.gw_built - fleet - m.gw_scrapped, "GW built != installed + idle + scrapped")
    for cloud in m.clouds:
        booked, book_value = cloud.books.assets.get("gpus", 0.0), cloud.fleet.book_value  # a sum over vintages
        if not _close(booked, book_value):
            raise InvariantViolation(step, cloud.name, "gpus", booked - book_value, "booked GPUs != fleet book value")
    pue = m.params.power.pue
    for utility in m.utilities:
        drawn = sum(c.powered_fleet_gw() for c in m.clouds if c.utility_name == utility.name and not c.defaulted) * pue
        if drawn > utility.capacity_gw * (1 + REL_TOL) + ABS_TOL:
            raise InvariantViolation(step, utility.name, "capacity", drawn - utility.capacity_gw, "power drawn > capacity")


def check_totals(m: Any) -> None:
    """The cheap end-of-run check, made even when the per-step checks are off (sweeps).

    Every stock is a finite number, every balance sheet balances, money was neither made nor lost
    and the exchange nets to zero: a run whose books broke somewhere is stopped with the
    difference instead of being stored as a result.
    """
    import math

    step, ledger = m.steps, m.ledger
    for name, sheet in ledger.sheets.items():
        for side, accounts in (("asset", sheet.assets), ("liability", sheet.liabilities)):
            for account, value in accounts.items():
                if not math.isfinite(value):
                    raise InvariantViolation(step, name, account, value, f"{side} is not a finite number")
        assets, liabilities = sheet.total_assets, sheet.total_liabilities
        if not (math.isfinite(sheet.net_worth) and _close(assets, liabilities + sheet.net_worth)):
            raise InvariantViolation(step, name, "balance sheet", assets - liabilities - sheet.net_worth,
                                     "assets != liabilities + net worth at the end of the run")
    total = ledger.total_money()
    if not _close(total, ledger.money_total):
        raise InvariantViolation(step, "(all)", "cash", total - ledger.money_total,
                                 "money changed other than through the end-market and rest-of-world accounts")
    exchange = ledger.sheets[EXCHANGE].assets["cash"]
    if not _close(exchange, 0.0):
        raise InvariantViolation(step, EXCHANGE, "cash", exchange, "the exchange did not net to zero")
