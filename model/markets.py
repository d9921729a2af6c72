"""The markets of the trade phase, cleared in a fixed order:

    power -> compute (contracts, then spot) -> chips -> credit -> equity (new issues, then
    secondary trading)

Each clearing function reads the agents' plans, applies the pricing rules of
`agents/rules/market_rules.py`, and books every payment through the ledger.
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any

import numpy as np

from model.contracts import (EquityForDeployment, FinancingCommitment, Guarantee, PowerRequest, RoundParticipation,
                             Warrants)
from model.ledger import ASSET, END_MARKET, LIABILITY, NET_WORTH, REST_OF_WORLD
from model.losses import record_secondary_trades
from model.setup import add_contract, get_facility



# ----------------------------------------------------------------------------- power


def clear_power(m: Any) -> None:
    """Utilities price by scarcity, grow generation, and connect requests whose wait is over."""
    step, power = m.steps, m.params.power
    for cloud in m.clouds:
        if cloud.defaulted or cloud.plan.power_request_gw <= 0:
            continue
        utility = m.by_name[cloud.utility_name]
        promised = utility.connected_gw + sum([r.gw for r in utility.queue])
        # spare capacity connects after the short wait; anything beyond needs new generation
        spare = utility.capacity_gw / power.pue - promised
        lead = power.spare_lead_months if cloud.plan.power_request_gw <= spare else power.lead_time_months
        request = PowerRequest(cloud.name, cloud.utility_name, cloud.plan.power_request_gw, step, step + lead)
        m.power_requests.append(request)
        m.by_name[cloud.utility_name].queue.append(request)
        cloud.queued_gw += request.gw
    for utility in m.utilities:
        if utility.defaulted:
            continue
        m.prices.power_price[utility.name] = utility.plan.price_mwh
        gw = min(utility.plan.expansion_gw, max(0.0, utility.books.cash) / max(utility.config.build_cost_per_gw, 1e-9))
        if gw > 0:
            m.ledger.transfer(utility.name, REST_OF_WORLD, gw * utility.config.build_cost_per_gw, "construction",
                              payer_side=(ASSET, "generation"))
            utility.pipeline.append((step + power.lead_time_months, gw))
        utility.capacity_gw += sum([g for ready, g in utility.pipeline if ready <= step])
        utility.pipeline = [(ready, g) for ready, g in utility.pipeline if ready > step]
        waiting = []
        for request in utility.queue:  # first come, first served
            cloud = m.by_name[request.cloud]
            fits = (utility.connected_gw + request.gw) * power.pue <= utility.capacity_gw
            if cloud.defaulted:
                continue
            if request.ready_step <= step and fits:
                utility.connected_gw += request.gw
                cloud.connected_gw += request.gw
                cloud.queued_gw -= request.gw
                m.power_requests.remove(request)
            else:
                waiting.append(request)
        utility.queue = waiting


# ----------------------------------------------------------------------------- compute


def clear_compute(m: Any) -> None:
    """Deliver live contracts from powered fleets, sign new contracts, then sell idle capacity spot."""
    step, by_name = m.steps, m.by_name
    for lab in m.labs:
        lab.compute_gw = 0.0
    for cloud in m.clouds:
        capacity = 0.0 if cloud.defaulted else cloud.powered_fleet_gw()
        due = cloud.contracted_gw_at(step)
        share = min(1.0, capacity / due) if due > 0 else 0.0  # short of capacity, every tenant gets the same share
        for contract in cloud.contracts:
            if contract.start_step > step:
                continue  # not started: it has delivered nothing yet and its delivered_gw is still 0.0
            delivered = contract.delivered_gw = contract.gw_at(step) * share
            if delivered:
                by_name[contract.lab].compute_gw += delivered
        cloud.spot_capacity_gw = max(0.0, capacity - due * share)
    _sign_contracts(m, step)
    _sell_spot(m)


def _sign_contracts(m: Any, step: int) -> None:
    clouds = [c for c in m.clouds if not c.defaulted]
    if not clouds:
        return
    start = step + m.build_lead_months
    # a cloud signs no more than its balance sheet can credibly build (CoreWeave: 2.9 GW
    # contracted on 0.59 GW active)
    longest = max(lab.config.contract_months for lab in m.labs)
    room = {c.name: max(0.0, c.config.max_backlog_ratio * c.fleet.gw - c.contracted_gw_peak(step, start + longest))
            for c in clouds}
    for lab in m.labs:
        gw = 0.0 if lab.defaulted else lab.plan.new_contract_gw
        end = start + lab.config.contract_months
        total_room = sum(room.values())
        if gw <= 1e-6 or total_room <= 1e-6:
            continue
        signed = 0.0
        for cloud in clouds:
            part = min(room[cloud.name], gw * room[cloud.name] / total_room)
            if part > 1e-6:
                add_contract(m, lab.name, cloud.name, part, cloud.plan.contract_price, start, end)
                room[cloud.name] -= part
                signed += part
        if signed > 1e-6:
            m.log_event("deal", lab.name, f"signed {signed:.2f} GW of take-or-pay compute from month {start}")


def _sell_spot(m: Any) -> None:
    """The end market rents idle capacity directly (enterprises, smaller labs) at the spot price."""
    budget = m.end_market.spend * m.params.end_market.spot_share
    supply = sum(c.spot_capacity_gw for c in m.clouds)
    price = m.prices.spot_price
    sold = min(supply, budget / price) if price > 0 else 0.0
    for cloud in m.clouds:
        cloud.spot_sold_gw = sold * cloud.spot_capacity_gw / supply if supply > 0 else 0.0


# ----------------------------------------------------------------------------- chips


def clear_chips(m: Any) -> None:
    """Clouds buy chips from vendors (rationed by capacity), partly on vendor loans: those the
    vendor offers at a purchase (`vendor_loan_share`) and draws on its credit lines (deals)."""
    orders: dict[str, list[tuple[Any, float]]] = {v.name: [] for v in m.vendors}
    for cloud in m.clouds:
        if cloud.defaulted or cloud.plan.chip_order_gw <= 0:
            continue
        for vendor, share in cloud.vendor_mix.items():
            if not m.by_name[vendor].defaulted:
                orders[vendor].append((cloud, cloud.plan.chip_order_gw * share))
    shell = m.params.gpus.shell_cost_per_gw
    for vendor in m.vendors:
        wanted = sum(gw for _, gw in orders[vendor.name])
        vendor.orders_month += wanted
        if wanted <= 0 or vendor.defaulted:
            continue
        fill = min(1.0, vendor.plan.capacity_gw / wanted)
        price = vendor.plan.price_per_gw
        for cloud, gw in orders[vendor.name]:
            gw *= fill
            offered = _vendor_loan_offer(vendor, gw * price)
            # the cloud's lines from this vendor, listed once: the vendor's loan below leaves them as they are
            lines = _lines_of(m, cloud.name, vendor)
            line = min(credit_line_room(m, vendor, cloud, lines), max(0.0, vendor.books.cash - offered))  # one till for both
            # what the cloud can pay for now: its cash, the vendor's loan and its credit line together
            gw = min(gw, (max(0.0, cloud.books.cash) + offered + line) / (price + shell))
            if gw <= 1e-9:
                continue
            value = gw * price
            _finance_purchase(m, vendor, cloud, min(offered, value * vendor.config.vendor_loan_share))
            draw_credit_lines(m, cloud, gw * (price + shell) - cloud.books.cash, vendor, lines)
            m.ledger.transfer(cloud.name, vendor.name, value, "chip_sale", payer_side=(ASSET, "gpus"))
            m.ledger.transfer(cloud.name, REST_OF_WORLD, gw * shell, "construction", payer_side=(ASSET, "gpus"))
            m.ledger.transfer(vendor.name, REST_OF_WORLD, value * (1.0 - vendor.config.gross_margin), "cogs")
            cloud.fleet.add(gw, price + shell)
            m.gw_built += gw


def _vendor_loan_offer(vendor: Any, value: float) -> float:
    """B$ the vendor would lend towards a purchase of `value`, within its circular-exposure budget."""
    return max(0.0, min(value * vendor.config.vendor_loan_share, vendor.plan.financing_budget, vendor.books.cash))


def _finance_purchase(m: Any, vendor: Any, cloud: Any, amount: float) -> None:
    """The vendor lends part of the purchase price (tagged as the vendor's money)."""
    if amount <= 1e-9:
        return
    loan = get_facility(m, "vendor_loan", cloud.name, vendor.name, vendor.config.vendor_loan_rate,
                        vendor.config.vendor_loan_months, False)
    lend(m, loan, amount, vendor.config.vendor_loan_rate, source_tag=vendor.name)
    vendor.plan.financing_budget -= amount


def lend(m: Any, loan: Any, amount: float, rate: float, source_tag: str | None = None) -> None:
    loan.draw(amount, rate)
    m.ledger.transfer(loan.holder, loan.issuer, amount, loan.kind, payer_side=(ASSET, loan.account),
                      payee_side=(LIABILITY, loan.account), source_tag=source_tag)


# ----------------------------------------------------------------------------- vendor credit lines and guarantees


def _lines_of(m: Any, borrower: str, vendor: Any = None) -> list:
    return [d for d in m.deals if isinstance(d, FinancingCommitment) and d.borrower == borrower and d.active
            and (vendor is None or d.vendor == vendor.name) and not m.by_name[d.vendor].defaulted]


def credit_line_room(m: Any, vendor: Any, cloud: Any, lines: list | None = None) -> float:
    """B$ the cloud can still draw on the vendor's lines now (the vendor must have the cash).
    `lines`: the cloud's lines from the vendor (`_lines_of`), when the caller has them."""
    room = sum(d.available() for d in (_lines_of(m, cloud.name, vendor) if lines is None else lines))
    return min(room, max(0.0, vendor.books.cash))


def draw_credit_lines(m: Any, cloud: Any, short: float, vendor: Any = None, lines: list | None = None) -> float:
    """The cloud draws its vendor credit lines for `short` B$ it lacks; each draw is a vendor
    loan on the line's terms (tagged as the vendor's money). Returns B$ drawn. `lines`: the
    cloud's lines (`_lines_of`), when the caller has them."""
    drawn = 0.0
    for line in _lines_of(m, cloud.name, vendor) if lines is None else lines:
        lender = m.by_name[line.vendor]
        amount = min(short - drawn, line.available(), max(0.0, lender.books.cash))
        if amount <= 1e-9:
            continue
        loan = get_facility(m, "vendor_loan", cloud.name, lender.name, line.rate, line.months, False)
        lend(m, loan, amount, line.rate, source_tag=lender.name)
        line.drawn += amount
        drawn += amount
        m.log_event("deal", cloud.name, f"drew {amount:.2f} B$ on its {lender.name} credit line")
    return drawn


def _draw_for_debt_service(m: Any) -> None:
    """Before settlement, a cloud whose cash will not cover this month's fixed costs (opex,
    power, debt service) draws its vendor credit lines for the difference."""
    for cloud in m.clouds:
        if cloud.defaulted or not _lines_of(m, cloud.name):
            continue
        short = cloud.fixed_costs() - cloud.books.cash
        if short > 1e-9:
            draw_credit_lines(m, cloud, short)


def call_guarantees(m: Any, borrower: Any) -> None:
    """The borrower defaults: each guarantor pays the guaranteed lenders what is outstanding, up
    to the guarantee's cap, and takes over that part of their claim (subrogation), so it
    recovers pro rata with the borrower's other creditors."""
    for deal in m.deals:
        if not isinstance(deal, Guarantee) or deal.borrower != borrower.name or not deal.active:
            continue
        vendor = m.by_name[deal.vendor]
        deal.active = False
        if vendor.defaulted:
            continue
        for loan in [l for l in deal.loans if l.outstanding > 0]:
            pay = min(loan.outstanding, deal.cap - deal.paid, max(0.0, vendor.books.cash))
            if pay <= 1e-9:
                continue
            claim = get_facility(m, "guarantee_claim", borrower.name, vendor.name, loan.rate, loan.term_months, False)
            claim.draw(pay, loan.rate)
            loan.outstanding -= pay
            m.ledger.transfer(vendor.name, loan.holder, pay, "guarantee_call", payer_side=(ASSET, claim.account),
                              payee_side=(ASSET, loan.account))
            m.ledger.post(borrower.name, (LIABILITY, loan.account), (LIABILITY, claim.account), pay)
            deal.paid += pay
            m.log_event("deal", vendor.name, f"paid {pay:.2f} B$ to {loan.holder} under its guarantee of {borrower.name}")
    for line in m.deals:
        if isinstance(line, FinancingCommitment) and line.borrower == borrower.name:
            line.active = False  # nothing more is lent to a defaulter


# ----------------------------------------------------------------------------- credit


def tenant_quality(m: Any, firm: Any, lab_quality: dict[str, float] | None = None) -> float:
    """1 for investment-grade firms; otherwise how well revenue covers what its tenants owe.
    `lab_quality`: the solvent labs' own figures, when the caller has computed them already."""
    if firm.kind in ("vendor", "utility") or (firm.kind == "cloud" and firm.config.investment_grade):
        return 1.0
    if firm.kind == "lab":
        rent = firm.committed_rent(m.steps)
        revenue = firm.revenue_history[-1] if firm.revenue_history else 0.0
        return min(1.0, revenue / rent) if rent > 0 else 1.0
    weights = coverage = 0.0
    step = m.steps
    for c in firm.contracts:
        gw = c.gw_at(step)
        if gw:  # live (a contract not live is due 0 GW, and adding 0 changes neither sum)
            lab = m.by_name[c.lab]
            weights += gw
            if lab.defaulted:
                quality = 0.0
            else:
                quality = lab_quality[lab.name] if lab_quality is not None else tenant_quality(m, lab)
            coverage += gw * quality
    return coverage / weights if weights > 0 else 0.5


def clear_credit(m: Any) -> None:
    """Spreads from risk; clouds short of cash draw their vendor credit lines; investors lend
    to clouds against GPUs, rationing after losses."""
    c = m.params.credit
    _draw_for_debt_service(m)
    spread_rule = m.rules["market.credit_spread"]
    firms = m.active_firms()
    # each lab's quality once, not again for every contract a cloud has with it (nothing changes in between)
    lab_quality = {f.name: tenant_quality(m, f) for f in firms if f.kind == "lab"}
    for firm in firms:
        assets = firm.books.total_assets
        leverage = firm.books.debt() / assets if assets > 0 else 1.5
        quality = lab_quality[firm.name] if firm.kind == "lab" else tenant_quality(m, firm, lab_quality)
        m.prices.spread[firm.name] = spread_rule(
            c.base_spread, leverage, quality, m.default_intensity, m.prices.sentiment,
            c.leverage_spread, c.tenant_spread, c.default_spread, c.sentiment_spread,
        )
    borrowers = [*m.clouds, *m.utilities]
    requests = [(b, b.plan.loan_request) for b in borrowers if not b.defaulted and b.plan.loan_request > 1e-6]
    if not requests:
        return
    investors = list(m.investors)
    held: dict[str, float] = {}
    for loan in m.loans.values():
        held[loan.holder] = held.get(loan.holder, 0.0) + loan.outstanding
    appetite = lending_appetite(m, sum(held.values()))
    # max(0.0, min(cash, limit)) written as conditionals (the same comparisons, the same number):
    # the table is built for every investor each month, and the two calls were half its time
    lending_share = c.lending_share
    room = {}
    for investor in investors:
        books = investor.books
        cash = books.cash
        limit = lending_share * books.total_assets * appetite - held.get(investor.name, 0.0)
        lendable = limit if limit < cash else cash
        room[investor.name] = lendable if lendable > 0.0 else 0.0
    supply = sum(room.values())
    wanted = sum(r for _, r in requests)
    fill = min(1.0, supply / wanted) if wanted > 0 else 0.0
    for cloud, request in requests:
        amount = request * fill
        rate = c.risk_free + m.prices.spread[cloud.name]
        for holder in sorted(room, key=room.get, reverse=True):  # richest lenders first
            if amount <= 1e-9:
                break
            part = min(amount, room[holder])
            if part <= 1e-9:
                break
            secured = cloud.kind == "cloud"
            # GPU-backed loans amortise; a utility's are long-dated bonds against its rate base
            kind, term = ("gpu_backed", c.loan_term_months) if secured else ("corporate", c.bond_term_months)
            loan = get_facility(m, kind, cloud.name, holder, rate, term, secured, bullet=not secured)
            lend(m, loan, part, rate)
            room[holder] -= part
            amount -= part


def lending_appetite(m: Any, loans_held: float) -> float:
    """Share of their lending room lenders use: cut after recent loan losses, moved by the mood
    (also what decides whether maturing bonds roll over, model.settlement)."""
    c = m.params.credit
    recent_losses = sum(m.loan_losses[-12:])
    loss_rate = recent_losses / max(1e-9, loans_held + recent_losses)
    return max(0.0, 1.0 - c.rationing_after_loss * loss_rate) * (0.75 + 0.25 * m.prices.sentiment)


# ----------------------------------------------------------------------------- equity


def clear_equity(m: Any) -> None:
    """New issues (funding rounds, equity-for-deployment tranches, vesting warrants), then trading."""
    _deployment_deals(m)
    for lab in m.labs:
        if not lab.defaulted and lab.plan.raise_amount > 0:
            funding_round(m, lab, lab.plan.raise_amount)
    _secondary_trading(m)


def _delivered_by_cloud(m: Any, lab: Any) -> list[tuple[Any, float]]:
    """(cloud, GW) of each of the lab's contracts that delivered this step, in the book's order."""
    return [(m.by_name[c.cloud], c.delivered_gw) for c in lab.contracts if c.delivered_gw > 0]


def _vendor_share_of(m: Any, lab: Any, vendor: str, delivered: list[tuple[Any, float]] | None = None) -> float:
    """Share of the lab's delivered GW that runs on `vendor`'s chips (`delivered`: the lab's
    `_delivered_by_cloud`, when the caller has it)."""
    if delivered is None:
        delivered = _delivered_by_cloud(m, lab)
    total = sum([gw for _, gw in delivered])
    return sum([cl.vendor_mix.get(vendor, 0.0) * gw for cl, gw in delivered]) / total if total > 0 else 0.0


def _deployment_deals(m: Any) -> None:
    for lab in m.labs:
        if m.steps <= 1:  # the starting compute was deployed before the deals
            lab.deployed_peak = max(lab.deployed_peak, lab.compute_gw)
        new_gw = max(0.0, lab.compute_gw - lab.deployed_peak)
        lab.deployed_peak = max(lab.deployed_peak, lab.compute_gw)
        if new_gw <= 0 or lab.defaulted:
            continue
        vendor_share: dict[str, float] = {}  # by vendor: deliveries do not change while the deals pay
        delivered = None  # the lab's deliveries by cloud, read once for all its vendors
        for deal in m.deals:
            if getattr(deal, "lab", None) != lab.name or not deal.active:
                continue
            vendor = m.by_name[deal.vendor]
            if vendor.defaulted:
                continue
            if deal.vendor not in vendor_share:
                if delivered is None:
                    delivered = _delivered_by_cloud(m, lab)
                vendor_share[deal.vendor] = _vendor_share_of(m, lab, deal.vendor, delivered)
            gw = new_gw * vendor_share[deal.vendor]
            if isinstance(deal, EquityForDeployment):
                amount = min(deal.tranche(gw), vendor.plan.financing_budget, max(0.0, vendor.books.cash))
                if amount > 1e-9:
                    buy_new_shares(m, vendor.name, lab.name, amount, m.registry.price[lab.name], source_tag=vendor.name)
                    deal.invested += amount
                    vendor.plan.financing_budget -= amount
                    m.log_event("deal", vendor.name, f"invested {amount:.2f} B$ in {lab.name} for {gw:.2f} GW deployed")
            elif isinstance(deal, Warrants):
                shares = deal.vest(gw)
                if shares > 0:
                    # new shares for nothing dilute the holders: the firm's value is spread over more shares
                    outstanding = m.registry.outstanding[vendor.name]
                    m.registry.price[vendor.name] *= outstanding / (outstanding + shares)
                    m.registry.issue(vendor.name, lab.name, shares)
                    value = shares * m.registry.price[vendor.name]
                    # the lab gains an asset against net worth; the vendor's books see only dilution
                    m.ledger.post(lab.name, (ASSET, f"shares:{vendor.name}"), (NET_WORTH, ""), value)
                    m.log_event("deal", vendor.name, f"{shares * 1e3:.1f} M warrants vested to {lab.name}")


def buy_new_shares(m: Any, buyer: str, issuer: str, amount: float, price: float, source_tag: str | None = None) -> None:
    shares = amount / price
    m.registry.issue(issuer, buyer, shares)
    m.invested_at_cost[(buyer, issuer)] = m.invested_at_cost.get((buyer, issuer), 0.0) + amount
    m.ledger.transfer(buyer, issuer, amount, "equity", payer_side=(ASSET, f"shares:{issuer}"), source_tag=source_tag)
    # the buyer books its stake at the issue price; marks to market follow in the account phase
    m.ledger.post(buyer, (ASSET, f"shares:{issuer}"), (NET_WORTH, ""), shares * m.registry.price[issuer] - amount)


def round_terms(m: Any, firm: Any, distressed: bool = False) -> tuple[float, float]:
    """Pre-money valuation (B$) and price ($/share) of a round the firm raised now."""
    rounds = m.params.funding_rounds
    revenue = (firm.revenue_history[-1] if firm.revenue_history else 0.0) * 12.0
    multiple = m.params.investors.revenue_multiple * (rounds.lab_multiple_factor if firm.kind == "lab" else 1.0)
    valuation = m.rules["market.round_valuation"](revenue, firm.revenue_growth(), m.prices.sentiment, multiple,
                                                  m.registry.market_value(firm.name), rounds.max_up_round,
                                                  rounds.max_down_round)
    if distressed:
        valuation *= 1.0 - rounds.distressed_haircut
    outstanding = m.registry.outstanding[firm.name]
    return valuation, (valuation / outstanding if valuation > 0 and outstanding > 0 else 0.0)


def _investor_offers(m: Any) -> list[tuple[Any, float]]:
    """What each investor offers this month's rounds: a slice of its cash while the mood holds."""
    rounds = m.params.funding_rounds
    floor = rounds.sentiment_floor
    willingness = rounds.investor_appetite * max(0.0, m.prices.sentiment - floor) / (1.0 - floor)
    return [(i, i.books.cash * willingness * i.risk_appetite) for i in m.investors if i.books.cash > 0]


def funding_round(m: Any, firm: Any, wanted: float, distressed: bool = False) -> float:
    """Sell new shares to the vendors whose round-participation deals cover this round, then to
    investors; returns B$ raised."""
    valuation, price = round_terms(m, firm, distressed)
    if price <= 0:
        return 0.0
    raised = _round_participation(m, firm, wanted, valuation, price, distressed)
    offers = _investor_offers(m)
    available = sum(o for _, o in offers)
    need = min(wanted, m.params.funding_rounds.max_dilution * valuation) - raised
    if available > 0 and need > 0:
        fill = min(1.0, need / available)
        for investor, offer in offers:
            if offer * fill > 1e-9:
                buy_new_shares(m, investor.name, firm.name, offer * fill, price)
        raised += min(need, available)
    if raised > 0:
        m.registry.price[firm.name] = price
        kind = "distressed round" if distressed else "funding round"
        m.log_event("round", firm.name, f"{kind}: raised {raised:.2f} B$ at a {valuation:.0f} B$ pre-money valuation")
    return raised


def _round_participation(m: Any, firm: Any, wanted: float, valuation: float, price: float, distressed: bool) -> float:
    """Vendors buy into the round only as their `round_participation` deals state, within their
    financing budgets and cash."""
    raised = 0.0
    for deal in m.deals:
        if not isinstance(deal, RoundParticipation) or deal.lab != firm.name:
            continue
        vendor = m.by_name[deal.vendor]
        if vendor.defaulted:
            continue
        amount = min(deal.offer(wanted, valuation, m.prices.sentiment, distressed, m.steps),
                     vendor.plan.financing_budget, max(0.0, vendor.books.cash), wanted - raised)
        if amount > 1e-9:
            buy_new_shares(m, vendor.name, firm.name, amount, price, source_tag=vendor.name)
            deal.invested += amount
            vendor.plan.financing_budget -= amount
            raised += amount
            m.log_event("deal", vendor.name, f"put {amount:.2f} B$ into {firm.name}'s round under its participation deal")
    return raised


def update_funding_outlook(m: Any) -> None:
    """What each lab can expect to raise, for the commitments it signs next month: what its
    vendor deals will still pay in (remaining equity-for-deployment and round-participation
    caps) and what one round would raise from investors at today's sentiment."""
    offers = sum([o for _, o in _investor_offers(m)])
    max_dilution = m.params.funding_rounds.max_dilution
    deployment = [d for d in m.deals if isinstance(d, EquityForDeployment)]
    participation = [d for d in m.deals if isinstance(d, RoundParticipation)]
    for lab in m.labs:
        if lab.defaulted:
            continue
        deals = sum(d.cap - d.invested for d in deployment if d.lab == lab.name
                    and d.active and not m.by_name[d.vendor].defaulted)
        deals += sum(d.remaining(m.steps) for d in participation if d.lab == lab.name
                     and not m.by_name[d.vendor].defaulted)
        valuation, _ = round_terms(m, lab)
        lab.deal_funding = max(0.0, deals)
        lab.investor_funding = max(0.0, min(offers, max_dilution * valuation))


class _TradingDesk:
    """What secondary trading needs that changes only when the listed firms do: the investors'
    names, the share accounts and the (investor, firm) keys of the cost basis."""

    def __init__(self, investors: list, listed: list[str]) -> None:
        self.investors, self.listed = investors, listed
        self.names = [i.name for i in investors]
        # every investor's entry in a register at once (a tuple from two names on; KeyError if one has none)
        self.entries = operator.itemgetter(*self.names) if len(self.names) > 1 else None
        self.absent = [0.0] * len(investors)  # a holder missing from a register holds nothing
        self.accounts = [f"shares:{name}" for name in listed]
        self.keys = [(holder, firm) for holder in self.names for firm in listed]  # row-major, as the matrices
        # every pair's cost basis at once (KeyError if one has none)
        self.every_basis = operator.itemgetter(*self.keys) if len(self.keys) > 1 else None

    def holdings(self, registers: dict[str, dict[str, float]]) -> np.ndarray:
        """Every investor's shares in every listed firm, investors x firms in C order (numpy's
        axis sums depend on the layout), read register by register."""
        listed, names = self.listed, self.names
        by_firm = None
        if self.entries is not None:
            try:
                by_firm = [self.entries(registers[f]) for f in listed]
            except KeyError:  # not every investor is on every register
                pass
        if by_firm is None:
            by_firm = [list(map(registers[f].get, names, self.absent)) for f in listed]
        # laid out firm by firm (fromiter: the registers hold floats), then transposed
        return np.fromiter(itertools.chain.from_iterable(by_firm), float,
                           len(listed) * len(names)).reshape(len(listed), len(names)).T.copy()


def _trading_desk(m: Any, investors: list, listed: list[str]) -> _TradingDesk:
    desk = m.trading_desk
    if desk is None or desk.listed != listed or desk.investors != investors:
        desk = m.trading_desk = _TradingDesk(investors, listed)
    return desk


def _secondary_trading(m: Any) -> None:
    """Investors move part of the way towards their target holdings (`trade_speed`); a
    log-linear market maker moves each price by the net demand over the firm's market value,

        p_t+1 = p_t * exp(price_impact * net_demand / market_value),  |log move| <= max_price_move

    (Brock and Hommes 1998). Buy and sell orders are matched pro rata at
    the new price (no investor spends more cash than it has, none sells shares it does not
    hold); each investor's trades settle as one net payment through the exchange account,
    which nets to zero.

    Computed on an investors x firms matrix: one pass instead of a loop per firm and investor.
    The matrices are C-ordered investors x firms: numpy sums along an axis in an order that
    depends on the memory layout, so the layout is part of the result.
    """
    inv = m.params.investors
    registry = m.registry
    prices, outstanding, registers = registry.price, registry.outstanding, registry.holdings
    listed = [f.name for f in m.active_firms() if outstanding[f.name] > 0 and prices[f.name] > 0]
    investors = list(m.investors)
    if not listed or not investors:
        return
    desk = _trading_desk(m, investors, listed)
    names = desk.names
    held = desk.holdings(registers)  # shares, investors x firms
    panel = m.investor_panel
    target = panel.target_table(investors, listed) if panel is not None else None  # B$
    if target is None:
        target = np.array([[i.targets.get(f, 0.0) for f in listed] for i in investors])
    old_price = np.array([prices[f] for f in listed])
    market_value = old_price * np.array([outstanding[f] for f in listed])
    orders = inv.trade_speed * (target - held * old_price)  # B$, + buy, - sell
    net_demand = orders.sum(axis=0)
    # np.clip's bounds, without its Python-level wrapper
    log_move = np.minimum(np.maximum(inv.price_impact * net_demand / market_value, -inv.max_price_move),
                          inv.max_price_move)
    trade_price = old_price * np.exp(log_move)
    shares_ordered = orders / trade_price  # (-a / b is -(a / b) exactly: one division serves buyers and sellers)
    buy = np.where(orders > 0, shares_ordered, 0.0)
    sell = np.where(orders < 0, np.minimum(-shares_ordered, held), 0.0)
    buy_total, sell_total = buy.sum(axis=0), sell.sum(axis=0)
    matched = np.minimum(buy_total, sell_total)
    buy *= np.divide(matched, buy_total, out=np.zeros_like(matched), where=buy_total > 0)
    cash = np.array([max(0.0, i.books.cash) for i in investors])
    spend = (buy * trade_price).sum(axis=1)
    buy *= np.minimum(1.0, np.divide(cash, spend, out=np.ones_like(cash), where=spend > 0))[:, None]
    bought = buy.sum(axis=0)
    sell *= np.divide(bought, sell_total, out=np.zeros_like(bought), where=sell_total > 0)
    shares_delta = buy - sell  # shares per investor and firm
    traded = shares_delta * trade_price  # B$ per investor and firm
    traded_value = traded.tolist()
    for name, price, column in zip(listed, trade_price.tolist(), (held + shares_delta).T.tolist()):
        prices[name] = price
        holdings = registers[name]
        if 0.0 in column:  # a zero is written only over a holding already registered
            for holder, shares in zip(names, column):
                if shares or holder in holdings:
                    holdings[holder] = shares
        else:
            holdings.update(zip(names, column))
    # each investor's trades net into one payment; buyers pay in before sellers are paid out, so
    # sellers receive the buyers' money (and its tags)
    m.ledger.settle_trade_rows(names, "exchange", desk.accounts, traded_value)
    m.ledger.untag_all("exchange")  # what is left is rounding: the exchange ends every month at zero
    record_secondary_trades(m, listed, names, held, shares_delta, trade_price, desk.keys, traded, desk.every_basis)


# ----------------------------------------------------------------------------- prices


def firm_views(m: Any) -> dict[str, dict[str, float]]:
    """What every investor sees of each solvent firm: market value, trailing revenue and
    profit over the months it has reported, the neutral multiple, its share price's return
    over the last three months, the market's sentiment."""
    multiple = m.params.investors.revenue_multiple
    lab_multiple = multiple * m.params.funding_rounds.lab_multiple_factor
    registry, sentiment = m.registry, m.prices.sentiment
    views = {}
    for firm in m.active_firms():
        name = firm.name
        # the return on a share, not the change in market value: new shares issued in a round
        # are not a rise in price
        past = firm.price_history
        recent = (registry.price[name] / past[0] - 1.0) if past and past[0] > 0 else 0.0
        revenue, profit, months = _reported(firm)
        views[name] = {
            "market_value": registry.market_value(name), "revenue_t12m": revenue, "profit_t12m": profit,
            "multiple": lab_multiple if firm.kind == "lab" else multiple,
            "recent_return": recent, "sentiment": sentiment, "months_reported": months,
        }
    return views


def _reported(firm: Any) -> tuple[float, float, int]:
    """Trailing-12-month revenue and profit (B$/year) over the months the firm has reported,
    and how many (a young lab has fewer than 12; a vendor's history is seeded)."""
    revenue, profit = firm.revenue_history, firm.profit_history
    if not revenue:
        return 0.0, 0.0, 0
    return sum(revenue) * 12.0 / len(revenue), sum(profit) * 12.0 / max(len(profit), 1), len(revenue)


def update_prices(m: Any) -> None:
    """Prices every agent will read next step: spot compute, the contract index, chips, collateral."""
    p = m.prices
    clouds = [c for c in m.clouds if not c.defaulted]
    asks = [c.plan.contract_price for c in clouds if c.plan is not None]
    if asks:  # before the first step the opening price set by model.setup stands
        p.contract_price = sum(asks) / len(asks)
    # each cloud's fleet and powered GW read once (not once per sum); every sum keeps its terms and order
    fleets = [c.fleet.gw for c in clouds]
    powered_by_cloud = [c.powered_fleet_gw() for c in clouds]
    fleet = sum(fleets)
    powered = sum(powered_by_cloud)
    step = m.steps
    idle = sum([max(0.0, on - c.contracted_gw_at(step) - c.spot_sold_gw) for c, on in zip(clouds, powered_by_cloud)])
    p.stranded_gw = sum([max(0.0, gw - c.connected_gw) for c, gw in zip(clouds, fleets)])  # waiting for power
    age = sum([c.fleet.average_age_years() * gw for c, gw in zip(clouds, fleets)]) / fleet if fleet > 0 else 0.0
    p.spot_price = m.rules["market.spot_price"](p.contract_price, idle / powered if powered > 0 else 0.0, age,
                                                m.params.gpus.efficiency_gain)
    p.collateral_factor = max(0.1, min(1.2, p.spot_price / p.contract_price)) if p.contract_price > 0 else 1.0
    vendors = [v for v in m.vendors if not v.defaulted and v.plan is not None]
    if vendors:
        p.chip_price = sum(v.plan.price_per_gw for v in vendors) / len(vendors)
    else:
        p.chip_price = sum(v.config.price_per_gw for v in m.vendors) / max(len(m.vendors), 1)
    for u in m.utilities:
        p.power_price.setdefault(u.name, m.params.power.base_price)
    p.idle_gw = idle
    update_funding_outlook(m)
