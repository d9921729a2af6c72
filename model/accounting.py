"""The account phase: depreciation, income, marks to market, circularity measures, next
step's prices and sentiment, the invariant check, and data collection."""

from __future__ import annotations

import math
from typing import Any

from model import markets
from model.contracts import CapacityBackstop, FinancingCommitment, Guarantee
from model.invariants import check_invariants
from model.ledger import ASSET, NET_WORTH

# Which flows are income to the payee and which are costs to the payer (B$ per month).
INCOME_KINDS = frozenset({"ai_services", "compute_rent", "spot_rent", "other_revenue", "chip_sale", "outside_sales",
                          "power", "backstop"})
COST_KINDS = frozenset({"compute_rent", "power", "opex", "cogs", "fuel", "interest", "backstop"})
COMPUTE_SPEND_KINDS = frozenset({"compute_rent", "spot_rent"})
ORGANIC_KINDS = frozenset({"ai_services", "spot_rent"})  # end-market money entering the compute chain
# kind -> (income, cost, compute spend, organic): one look-up per flow instead of four set tests
_FLOW_ROLES = {kind: (kind in INCOME_KINDS, kind in COST_KINDS, kind in COMPUTE_SPEND_KINDS, kind in ORGANIC_KINDS)
               for kind in INCOME_KINDS | COST_KINDS | COMPUTE_SPEND_KINDS | ORGANIC_KINDS}


def account(m: Any, opening: bool = False) -> None:
    """The month's closing. `opening`: the books before step 0 are only marked, checked and
    recorded; no month has passed, so none is closed (closing one there once put a month of
    zero revenue into every firm's history and moved sentiment before anything happened)."""
    if not opening:
        _depreciate(m)
    _book_income(m)
    mark_to_market(m)
    m.losses.observe(m)
    mark_loans_to_credit(m)
    _circularity(m)
    if not opening:
        for firm in m.firms:
            firm.close_month()
            if hasattr(firm, "contracts"):
                firm.contracts.prune(m.steps)
        _update_sentiment(m)
    markets.update_prices(m)
    if not opening:
        _fire_sale_price_impact(m)
        m.default_intensity *= m.params.credit.default_fade  # a default's effect on spreads fades
    if m.check_invariants:
        check_invariants(m)
    m.datacollector.collect(m)


def _depreciate(m: Any) -> None:
    g = m.params.gpus
    for cloud in m.clouds:
        if cloud.defaulted:
            continue
        dep, scrapped_gw, scrapped_value = cloud.fleet.age_one_month(g.book_life_years * 12.0, g.physical_life_years * 12.0)
        m.ledger.post(cloud.name, (NET_WORTH, ""), (ASSET, "gpus"), dep + scrapped_value)
        cloud.costs_month += dep + scrapped_value
        m.gw_scrapped += scrapped_gw


def _book_income(m: Any) -> None:
    firm_named, role_of = m.by_name.get, _FLOW_ROLES.get
    spend = organic = 0.0
    for flow in m.ledger.flows:
        role = role_of(flow.kind)
        if role is None:  # trades, principal, loans, equity, construction ...: neither income nor cost
            continue
        income, cost, compute, organic_money = role
        amount = flow.amount
        if income:
            firm = firm_named(flow.payee)  # one look-up, not a test and a read (no entry is None)
            if firm is not None:
                firm.revenue_month += amount
        if cost:
            firm = firm_named(flow.payer)
            if firm is not None:
                firm.costs_month += amount
        if compute:
            spend += amount
        if organic_money:
            organic += amount
    m.compute_spend = spend
    m.organic_revenue = organic
    m.step_flows = list(m.ledger.flows)


def mark_stake(m: Any, holder: str, issuer: str) -> None:
    """One stake at shares x today's price, the change a revaluation in the holder's net worth."""
    sheet = m.ledger.sheets[holder]
    account = f"shares:{issuer}"
    diff = m.registry.held(issuer, holder) * m.registry.price[issuer] - sheet.assets.get(account, 0.0)
    if diff:
        sheet.assets[account] = sheet.assets.get(account, 0.0) + diff
        sheet.net_worth += diff


def mark_to_market(m: Any) -> None:
    """Every stake at shares x price; the change is a revaluation in the holder's net worth."""
    sheets, registry = m.ledger.sheets, m.registry
    for issuer, holdings in registry.holdings.items():
        price = registry.price[issuer]
        account = f"shares:{issuer}"
        for holder, shares in holdings.items():
            sheet = sheets[holder]
            assets = sheet.assets
            booked = assets.get(account, 0.0)
            diff = shares * price - booked
            if diff:
                assets[account] = booked + diff  # not shares * price: the books move by the diff
                sheet.net_worth += diff


def mark_loans_to_credit(m: Any) -> None:
    """DebtRank-style distress marks (Battiston et al. 2012): a holder marks each loan down in
    step with its borrower's relative equity loss h (market value against its peak so far):
    allowance = -LGD x h x face, the change booked against the holder's net worth. The face
    stays on both sheets; the borrower's liability is untouched until it defaults."""
    lgd = m.params.credit.distress_loss_given_default
    peaks = m.losses.equity_peak
    sheets, registry = m.ledger.sheets, m.registry
    loss_by_issuer: dict[str, float] = {}  # h, computed once per borrower
    for loan in m.loans.values():
        issuer = loan.issuer
        h = loss_by_issuer.get(issuer)
        if h is None:
            peak = peaks.get(issuer, 0.0)
            h = min(1.0, max(0.0, 1.0 - registry.market_value(issuer) / peak)) if peak > 0 else 0.0
            loss_by_issuer[issuer] = h
        target = -lgd * h * loan.outstanding
        change = target - loan.allowance
        if change:
            sheet = sheets[loan.holder]
            account = loan.allowance_account
            sheet.assets[account] = sheet.assets.get(account, 0.0) + change
            sheet.net_worth += change
            loan.allowance = target


def _fire_sale_price_impact(m: Any) -> None:
    """Fire sales' price impact on compute (and so on every cloud's collateral), fading."""
    if m.fire_sale_impact > 1e-9:
        factor = math.exp(-m.fire_sale_impact)
        m.prices.spot_price *= factor
        m.prices.collateral_factor *= factor
    m.fire_sale_impact *= m.params.gpus.fire_sale_impact_persistence


def vendor_exposures(m: Any) -> dict[str, float]:
    """Each vendor's investments (at cost), loans, backstops, guarantees and undrawn credit
    lines in its own customers (B$): committed customer financing, Lucent's measure.

    One pass over the claims for all vendors; each vendor's items are summed in the claims'
    order, as a sum per vendor would."""
    customers = {f.name for f in m.firms if f.kind in ("lab", "cloud")}
    stakes: dict[str, list[float]] = {v.name: [] for v in m.vendors}
    loans: dict[str, list[float]] = {v.name: [] for v in m.vendors}
    backstops: dict[str, list[float]] = {v.name: [] for v in m.vendors}
    for (holder, issuer), cost in m.invested_at_cost.items():  # mostly investors' stakes: one test each
        if holder in stakes and issuer in customers:
            stakes[holder].append(cost)
    for loan in m.loans.values():
        if loan.holder in loans:
            loans[loan.holder].append(loan.outstanding)
    for deal in m.deals:
        if isinstance(deal, (CapacityBackstop, Guarantee, FinancingCommitment)):
            backed = backstops.get(deal.vendor)
            if backed is not None:
                backed.append(deal.remaining(m.steps))
    return {name: sum(stakes[name]) + sum(loans[name]) + sum(backstops[name]) for name in stakes}


def _circularity(m: Any) -> None:
    exposures = vendor_exposures(m)
    for vendor in m.vendors:
        vendor.exposure = exposures[vendor.name]
        vendor.round_tripped_history.append(m.ledger.round_tripped.pop(vendor.name, 0.0))


def _update_sentiment(m: Any) -> None:
    market_value = m.registry.market_value
    value = sum([market_value(f.name) for f in m.firms])
    last = value if m.last_market_value is None else m.last_market_value
    market_return = value / last - 1.0 if last > 0 else 0.0
    m.last_market_value = value
    history = m.coverage_history
    history.append((m.end_market.spend, m.compute_spend))
    surprise = 0.0
    (d0, c0), (d1, c1) = history[0], history[-1]
    # no compute spend yet (the opening books, before any trade) is no news: a zero there once
    # read as an infinite rise in compute spending and crashed sentiment in month 3 of every run
    if len(history) == history.maxlen and min(d0, c0, d1, c1) > 0:
        surprise = max(-1.0, min(1.0, 4.0 * ((d1 / d0 - 1.0) - (c1 / c0 - 1.0))))
    s = m.params.sentiment
    m.prices.sentiment = m.rules["market.sentiment"](
        m.prices.sentiment, market_return, surprise, m.new_defaults, s.persistence, s.return_weight, s.growth_weight,
        s.default_weight,
    )
    price = m.registry.price
    for firm in m.firms:
        firm.price_history.append(price[firm.name])
