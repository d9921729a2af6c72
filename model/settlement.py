"""The settle phase: every payment due goes through the ledger; who cannot pay defaults.

Order within the phase:
1. the end market pays the labs for AI services and the clouds for spot rent (organic revenue);
2. every obligation due this month is listed (rent, power, operating costs, debt service,
   backstop payments);
3. a clearing vector is found Eisenberg-Noe style: each firm pays what it owes or everything
   it has, counting what its own debtors pay it; a firm that would fall short first tries to
   raise money (selling stakes, a distressed round);
4. payments are made pro rata to the clearing vector; firms still short default;
5. a default clears the firm's debts pro rata, ends its contracts, zeroes its equity, dumps
   its GPUs at a discount; the losses and the lower collateral marks can push others over
   (loan-to-value covenants), so this repeats until no new default.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from model.ledger import ASSET, END_MARKET, LIABILITY, NET_WORTH, REST_OF_WORLD
from model.accounting import mark_stake
from model.contracts import CapacityBackstop
from model.markets import call_guarantees
from model.setup import end_contract

ENERGY_HOURS = 730.0  # hours in a month
FIRE_SALE_PRICE = 0.9  # stakes sold in distress fetch 90 % of the market price


@dataclass(slots=True)
class Obligation:
    debtor: str
    creditor: str
    amount: float
    kind: str
    payer_side: tuple = (NET_WORTH, "")
    payee_side: tuple = (NET_WORTH, "")
    loan: Any = None
    principal: float = 0.0
    source_tag: str | None = None
    deal: Any = None  # a capacity backstop, whose cap counts what was actually paid


def settle(m: Any) -> None:
    _organic_revenue(m)
    obligations = _obligations(m)
    ratios = _clear(m, obligations)
    for name, ratio in list(ratios.items()):
        if ratio < 1.0 - 1e-9 and _emergency_funding(m, name, obligations):
            ratios = _clear(m, obligations)
    _pay(m, obligations, ratios)
    for name, ratio in ratios.items():
        if ratio < 1.0 - 1e-9:
            default(m, m.by_name[name], f"could not pay {100 * (1 - ratio):.0f} % of what was due")
    while _covenant_breaches(m):
        pass
    m.missed_payments.clear()


# ----------------------------------------------------------------------------- receipts


def _organic_revenue(m: Any) -> None:
    ledger, spend = m.ledger, m.end_market.spend
    labs = [lab for lab in m.labs if not lab.defaulted]
    pulls = [m.rules["market.lab_share"](lab.config.revenue_share, lab.compute_gw) for lab in labs]
    total = sum(pulls)
    spot_budget = spend * m.params.end_market.spot_share
    lab_budget = spend - spot_budget
    for lab, pull in zip(labs, pulls):
        revenue = min(lab_budget * pull / total if total > 0 else 0.0,
                      lab.compute_gw * lab.config.max_revenue_per_gw_month)
        ledger.transfer(END_MARKET, lab.name, revenue, "ai_services")
        lab.services_revenue = revenue  # this month's sales, for the costs that scale with them
    _outside_sales(m)
    for cloud in m.clouds:
        if cloud.defaulted:
            continue
        ledger.transfer(END_MARKET, cloud.name, cloud.spot_sold_gw * m.prices.spot_price, "spot_rent")
        ledger.transfer(END_MARKET, cloud.name, cloud.config.other_revenue, "other_revenue")


def _outside_sales(m: Any) -> None:
    """Vendors' sales to buyers outside the modelled chain, paid from the rest of the world:
    their own driver (the rest of the industry's capital spending), never the AI end market.
    It is financed in the same capital markets: it moves with sentiment and with the spread an
    unlevered investment-grade buyer pays (recent defaults, gloom), against their opening levels."""
    c, s = m.params.credit, m.params.sentiment
    spread_rule = m.rules["market.credit_spread"]

    def market_spread(default_intensity: float, sentiment: float) -> float:
        return spread_rule(c.base_spread, 0.0, 1.0, default_intensity, sentiment, c.leverage_spread, c.tenant_spread,
                           c.default_spread, c.sentiment_spread)

    spread_change = market_spread(m.default_intensity, m.prices.sentiment) - market_spread(0.0, s.initial)
    sentiment_change = m.prices.sentiment - s.initial
    for vendor in m.vendors:
        if not vendor.defaulted:
            outside = vendor.outside_sales_month(m.steps, sentiment_change, spread_change)
            m.ledger.transfer(REST_OF_WORLD, vendor.name, outside, "outside_sales")
            m.ledger.transfer(vendor.name, REST_OF_WORLD, outside * (1.0 - vendor.config.gross_margin), "cogs")


# ----------------------------------------------------------------------------- obligations


def _obligations(m: Any) -> list[Obligation]:
    step, s = m.steps, m.params
    due: list[Obligation] = []
    for lab in m.labs:
        if lab.defaulted:
            continue
        if lab.name not in m.missed_payments:
            for c in lab.contracts:
                if c.live(step) and c.delivered_gw > 0:
                    due.append(Obligation(lab.name, c.cloud, c.rent_due(), "compute_rent"))
        due.append(Obligation(lab.name, REST_OF_WORLD, lab.config.opex + lab.config.opex_share * lab.services_revenue,
                              "opex"))
    for cloud in m.clouds:
        if cloud.defaulted:
            continue
        billed_gw = max(cloud.powered_fleet_gw(), s.power.min_take * cloud.connected_gw)
        price = m.prices.power_price.get(cloud.utility_name, s.power.base_price)
        bill = billed_gw * s.power.pue * ENERGY_HOURS * price / 1e6
        seller = REST_OF_WORLD if m.by_name[cloud.utility_name].defaulted else cloud.utility_name
        due.append(Obligation(cloud.name, seller, bill, "power"))
        due.append(Obligation(cloud.name, REST_OF_WORLD, cloud.config.opex + s.gpus.opex_per_gw_month * cloud.fleet.gw, "opex"))
        cloud.power_bill = bill
    for deal in m.deals:
        if isinstance(deal, CapacityBackstop) and not m.by_name[deal.vendor].defaulted and not m.by_name[deal.cloud].defaulted:
            cloud = m.by_name[deal.cloud]
            pay = deal.payment(max(0.0, cloud.spot_capacity_gw - cloud.spot_sold_gw), step)
            if pay > 0:
                due.append(Obligation(deal.vendor, deal.cloud, pay, "backstop", source_tag=deal.vendor, deal=deal))
    for vendor in m.vendors:
        if not vendor.defaulted:
            due.append(Obligation(vendor.name, REST_OF_WORLD, vendor.plan.opex, "opex"))
    for utility in m.utilities:
        if utility.defaulted:
            continue
        sales = sum(c.power_bill for c in m.clouds if c.utility_name == utility.name and not c.defaulted)
        due.append(Obligation(utility.name, REST_OF_WORLD, utility.config.opex + s.power.fuel_cost_share * sales, "fuel"))
        utility.load_gw = sum(c.powered_fleet_gw() for c in m.clouds if c.utility_name == utility.name and not c.defaulted) * s.power.pue
    for loan in m.loans.values():
        if m.by_name[loan.issuer].defaulted:
            continue
        interest, principal = loan.interest_due(), loan.principal_due()
        due.append(Obligation(loan.issuer, loan.holder, interest + principal, "debt_service", loan=loan,
                              principal=principal))
    return due


# ----------------------------------------------------------------------------- clearing


def _clear(m: Any, obligations: list[Obligation]) -> dict[str, float]:
    """Eisenberg-Noe clearing: the share of its obligations each firm can pay, given what its
    debtors pay it. Starts from full payment and lowers payments until consistent."""
    owed: dict[str, float] = defaultdict(float)
    for o in obligations:
        owed[o.debtor] += o.amount
    cash = {name: m.by_name[name].books.cash for name in owed}
    ratio = {name: 1.0 for name in owed}
    for _ in range(50):
        incoming: dict[str, float] = defaultdict(float)
        for o in obligations:
            incoming[o.creditor] += o.amount * ratio[o.debtor]
        changed = False
        for name, total in owed.items():
            if total <= 0:
                continue
            can = max(0.0, cash[name] + incoming[name]) / total
            new = min(1.0, can)
            if new < ratio[name] - 1e-12:
                ratio[name] = new
                changed = True
        if not changed:
            break
    return ratio


def _emergency_funding(m: Any, name: str, obligations: list[Obligation]) -> bool:
    """A firm about to fall short sells the stakes it holds, then tries a distressed round."""
    from model.markets import funding_round

    firm = m.by_name[name]
    due = sum(o.amount for o in obligations if o.debtor == name)
    short = due - firm.books.cash
    if short <= 0:
        return False
    raised = sell_stakes(m, firm, short)
    if raised < short and firm.kind in ("lab", "cloud"):
        raised += funding_round(m, firm, short - raised, distressed=True)
    return raised > 0


def sell_stakes(m: Any, firm: Any, wanted: float) -> float:
    """Sell shares the firm holds to the investors with most cash, at 90 % of market."""
    raised = 0.0
    buyers = sorted(m.investors, key=lambda i: -i.books.cash)
    for issuer, holdings in m.registry.holdings.items():
        market_price = m.registry.price[issuer]
        price = market_price * FIRE_SALE_PRICE
        account = f"shares:{issuer}"
        if holdings.get(firm.name, 0.0) > 0:
            mark_stake(m, firm.name, issuer)  # prices moved since the last marks: sell from today's
        for buyer in buyers:
            held = holdings.get(firm.name, 0.0)
            if held <= 0 or price <= 0 or m.by_name[issuer].defaulted or raised >= wanted:
                break
            shares = min(held, (wanted - raised) / price, max(0.0, buyer.books.cash) / price)
            if shares <= 0:
                continue
            cost = m.invested_at_cost.get((firm.name, issuer))
            if cost:
                m.invested_at_cost[(firm.name, issuer)] = cost * (1.0 - shares / held)
            m.registry.move(issuer, firm.name, buyer.name, shares)
            # the seller's stake leaves its books at market; the discount is its loss
            m.ledger.post(firm.name, (NET_WORTH, ""), (ASSET, account), shares * (market_price - price))
            m.ledger.transfer(buyer.name, firm.name, shares * price, "stake_sale",
                              payer_side=(ASSET, account), payee_side=(ASSET, account))
            raised += shares * price
    return raised


def _pay(m: Any, obligations: list[Obligation], ratios: dict[str, float]) -> None:
    for o in obligations:
        ratio = ratios[o.debtor]
        if o.amount * ratio <= 0:
            continue
        if o.loan is not None:  # a short debtor pays interest and principal in the same proportion
            principal = o.principal * ratio
            o.loan.outstanding -= principal
            o.loan.paid_instalment()
            m.ledger.service_debt(o.debtor, o.creditor, (o.amount - o.principal) * ratio, principal, o.loan.account)
        else:
            m.ledger.transfer(o.debtor, o.creditor, o.amount * ratio, o.kind, o.payer_side, o.payee_side,
                              source_tag=o.source_tag)
            if o.deal is not None:
                o.deal.paid += o.amount * ratio


# ----------------------------------------------------------------------------- default


def default(m: Any, firm: Any, cause: str) -> None:
    """Clear a firm that cannot pay: everything DESIGN.md's settle phase lists, in one step."""
    if firm.defaulted:
        return
    firm.defaulted = True
    firm.default_step = m.steps
    firm.default_cause = cause
    m.new_defaults += 1
    m.default_intensity += 1.0
    m.defaults.append({"agent": firm.name, "kind": firm.kind, "step": m.steps, "cause": cause})
    m.log_event("default", firm.name, f"{firm.kind} defaults: {cause}")
    if firm.kind == "cloud":
        _fire_sale(m, firm)
    sell_stakes(m, firm, float("inf"))
    call_guarantees(m, firm)  # vendor guarantors pay the guaranteed lenders and take over their claim
    _pay_out_creditors(m, firm)
    _forgive_loans_held(m, firm)
    for contract in list(getattr(firm, "contracts", ())):
        end_contract(m, contract)
    for deal in m.deals:
        if firm.name in (getattr(deal, "lab", None), getattr(deal, "cloud", None), deal.vendor):
            deal.active = False
    _wipe_equity(m, firm)


def _fire_sale(m: Any, cloud: Any) -> None:
    """The defaulter's GPUs are dumped at a discount: surviving clouds with cash buy what they
    can, the rest leaves the economy; spot prices and new chip orders fall with the glut."""
    value = cloud.fleet.economic_value(m.prices.collateral_factor, m.economic_life_months)
    price_total = value * (1.0 - m.params.gpus.fire_sale_discount)
    book = cloud.fleet.book_value
    m.ledger.post(cloud.name, (NET_WORTH, ""), (ASSET, "gpus"), book - price_total)  # the loss on sale
    cloud.fleet.rebook(price_total)  # the fleet is now booked at what it fetches
    gw = cloud.fleet.gw
    buyers = [c for c in m.clouds if not c.defaulted and c.books.cash > 0]
    left = 1.0
    for buyer in buyers:
        if price_total <= 0 or left <= 0:
            break
        share = min(left, 0.5 * buyer.books.cash / price_total)
        if share <= 1e-9:
            continue
        taken = cloud.fleet.take(share / left)
        pay = price_total * share
        buyer.fleet.absorb(taken, pay)
        m.ledger.transfer(buyer.name, cloud.name, pay, "fire_sale", payer_side=(ASSET, "gpus"), payee_side=(ASSET, "gpus"))
        left -= share
    if cloud.fleet.vintages:
        rest = cloud.fleet.book_value
        m.gw_scrapped += cloud.fleet.gw
        cloud.fleet.vintages = []
        cloud.fleet._changed()
        m.ledger.transfer(REST_OF_WORLD, cloud.name, rest, "fire_sale", payer_side=(NET_WORTH, ""), payee_side=(ASSET, "gpus"))
    m.log_event("fire_sale", cloud.name, f"{gw:.2f} GW of GPUs dumped for {price_total:.1f} B$ (economic value {value:.1f})")
    utility = m.by_name[cloud.utility_name]
    utility.connected_gw -= cloud.connected_gw
    cloud.connected_gw = 0.0
    for r in list(m.power_requests):
        if r.cloud == cloud.name:
            m.power_requests.remove(r)
            if r in utility.queue:
                utility.queue.remove(r)


def _pay_out_creditors(m: Any, firm: Any) -> None:
    """Pay every debt claim pro rata from what is left; holders write off the rest."""
    loans = [l for l in m.loans.values() if l.issuer == firm.name]
    total = sum(l.outstanding for l in loans)
    pot = max(0.0, firm.books.cash)
    for loan in loans:
        paid = min(loan.outstanding, pot * loan.outstanding / total) if total > 0 else 0.0
        m.ledger.transfer(firm.name, loan.holder, paid, "recovery", (LIABILITY, loan.account), (ASSET, loan.account))
        loan.outstanding -= paid
        write_off_loan(m, loan)


def write_off_loan(m: Any, loan: Any) -> None:
    lost = loan.outstanding
    if lost > 0:
        m.ledger.post(loan.holder, (NET_WORTH, ""), (ASSET, loan.account), lost)
        m.ledger.post(loan.issuer, (LIABILITY, loan.account), (NET_WORTH, ""), lost)
        sector = m.by_name[loan.holder].kind
        m.write_offs[sector] = m.write_offs.get(sector, 0.0) + lost
        m.loan_losses.append(lost)
        m.log_event("write_off", loan.holder, f"wrote off {lost:.2f} B$ of {loan.kind.replace('_', ' ')} to {loan.issuer}")
    loan.outstanding = 0.0
    m.loans.pop((loan.kind, loan.issuer, loan.holder), None)


def _forgive_loans_held(m: Any, firm: Any) -> None:
    for loan in [l for l in m.loans.values() if l.holder == firm.name]:
        write_off_loan(m, loan)


def _wipe_equity(m: Any, firm: Any) -> None:
    """Its equity goes to zero: every holder writes the stake off the same step."""
    holdings = m.registry.holdings[firm.name]
    for holder, shares in list(holdings.items()):
        sheet = m.ledger.sheets[holder]
        marked = sheet.assets.get(f"shares:{firm.name}", 0.0)
        m.ledger.post(holder, (NET_WORTH, ""), (ASSET, f"shares:{firm.name}"), marked)
        sector = m.by_name[holder].kind
        m.write_offs[sector] = m.write_offs.get(sector, 0.0) + marked
    holdings.clear()
    for key in [k for k in m.invested_at_cost if k[1] == firm.name]:
        del m.invested_at_cost[key]
    m.registry.outstanding[firm.name] = 0.0
    m.registry.price[firm.name] = 0.0


def _covenant_breaches(m: Any) -> bool:
    """Loan-to-value covenants: a cloud above the limit repays the excess or defaults."""
    new_default = False
    max_ltv = m.params.credit.max_ltv
    for cloud in m.clouds:
        if cloud.defaulted:
            continue
        secured = [l for l in m.debts_of(cloud.name) if l.collateralised and l.outstanding > 0]
        debt = sum(l.outstanding for l in secured)
        if debt <= 0:
            continue
        collateral = cloud.fleet.economic_value(m.prices.collateral_factor, m.economic_life_months)
        excess = debt - max_ltv * collateral
        if excess <= 1e-9:
            continue
        pay = min(excess, max(0.0, cloud.books.cash))
        for loan in secured:
            part = pay * loan.outstanding / debt
            loan.outstanding -= part
            m.ledger.transfer(cloud.name, loan.holder, part, "principal", (LIABILITY, loan.account), (ASSET, loan.account))
        if pay < excess - 1e-9:
            default(m, cloud, f"loan-to-value covenant breached ({debt / max(collateral, 1e-9):.0%} against {max_ltv:.0%})")
            new_default = True
    return new_default
