"""The settle phase: every payment due goes through the ledger; who cannot pay defaults.

Order within the phase:
1. the end market pays the labs for AI services and the clouds for spot rent (organic revenue);
2. maturing bonds roll over with their holders at the prevailing spread as far as lenders'
   appetite allows; the rest falls due now (refinancing risk);
3. every obligation due this month is listed (rent, power, operating costs, debt service,
   backstop payments);
4. a clearing vector is found Eisenberg-Noe style: each firm pays what it owes or everything
   it has, counting what its own debtors pay it; a firm that would fall short first tries to
   raise money (selling stakes, a distressed round);
5. payments are made pro rata to the clearing vector; firms still short default;
6. a default (`default`, a list of named steps) dumps the firm's GPUs into the resale market
   with a price impact that lowers every cloud's collateral, sells its stakes, turns its
   remaining take-or-pay backlog into claims of the clouds, and pays its creditors pro rata
   from its estate: cash, then its own receivables assigned in kind (never forgiven); the
   unrecovered rest is written off and its equity goes to zero. The losses and the lower
   collateral marks can push others over (loan-to-value covenants), so this repeats until no
   new default.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from model.ledger import ASSET, END_MARKET, LIABILITY, NET_WORTH, REST_OF_WORLD
from model.accounting import mark_stake
from model.contracts import CapacityBackstop
from model.markets import call_guarantees
from model.setup import end_contract, get_facility

ENERGY_HOURS = 730.0  # hours in a month


# An obligation is a plain tuple, (debtor, creditor, amount, kind, loan or deal, principal): about
# 80 are built, cleared and paid every month, and a tuple is about a fifth of a dataclass to build.
# `loan` (kind "debt_service") is the loan serviced and `principal` the part of `amount` that
# repays it; `deal` (kind "backstop") is the capacity backstop, whose cap counts what was paid.
DEBT_SERVICE = "debt_service"
BACKSTOP = "backstop"


def settle(m: Any) -> None:
    _organic_revenue(m)
    _roll_over_maturing_bonds(m)
    obligations = _obligations(m)
    ratios = _clear(m, obligations)
    for name, ratio in list(ratios.items()):
        if ratio < 1.0 - 1e-9 and _emergency_funding(m, name, obligations):
            ratios = _clear(m, obligations)
    _pay(m, obligations, ratios)
    for name, ratio in ratios.items():
        if ratio < 1.0 - 1e-9:
            default(m, m.by_name[name], _shortfall_cause(m, name, ratio))
    while _covenant_breaches(m):
        pass
    m.missed_payments.clear()
    m.refinancing_due.clear()


def _shortfall_cause(m: Any, name: str, ratio: float) -> str:
    due = m.refinancing_due.get(name)
    if due:
        matured, rolled = due
        return (f"failed rollover: {matured:.1f} B$ of bonds matured, lenders rolled over {rolled:.1f} B$ and it could "
                f"not pay {100 * (1 - ratio):.0f} % of what was due")
    return f"could not pay {100 * (1 - ratio):.0f} % of what was due"


# ----------------------------------------------------------------------------- refinancing


def _roll_over_maturing_bonds(m: Any) -> None:
    """Bonds maturing this month roll over with their holders at the prevailing rate (risk-free
    plus the credit-spread rule's spread) as far as each holder's lending room allows (the same
    appetite that rations new credit); what is not rolled over falls due now, from cash."""
    maturing = [loan for loan in m.loans.values() if loan.matures_now() and not m.by_name[loan.issuer].defaulted]
    if not maturing:
        return
    from model.markets import lending_appetite

    held: dict[str, float] = defaultdict(float)
    for loan in m.loans.values():
        held[loan.holder] += loan.outstanding
    appetite = lending_appetite(m, sum(held.values()))
    c = m.params.credit
    for loan in maturing:
        holder = m.by_name[loan.holder]
        room = c.lending_share * holder.books.total_assets * appetite - (held[loan.holder] - loan.outstanding)
        rolled = min(loan.outstanding, max(0.0, room))
        matured = loan.outstanding
        loan.roll_over(rolled, c.risk_free + m.prices.spread.get(loan.issuer, c.base_spread))
        held[loan.holder] -= matured - rolled
        if loan.due_now > 1e-9:
            before = m.refinancing_due.get(loan.issuer, (0.0, 0.0))
            m.refinancing_due[loan.issuer] = (before[0] + matured, before[1] + rolled)
            m.log_event("refinancing", loan.issuer, f"{matured:.1f} B$ of bonds matured; {loan.holder} rolled over "
                                                    f"{rolled:.1f} B$, {loan.due_now:.1f} B$ due now")


# ----------------------------------------------------------------------------- receipts


def _organic_revenue(m: Any) -> None:
    ledger, spend = m.ledger, m.end_market.spend
    # the end market is paid its income first and spends out of it (model/end_market.py)
    ledger.transfer(REST_OF_WORLD, END_MARKET, m.end_market.income, "end_market_income")
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
        # revenue of the cloud's business outside AI compute comes from the rest of the economy
        ledger.transfer(REST_OF_WORLD, cloud.name, cloud.config.other_revenue, "other_revenue")
    ledger.transfer(END_MARKET, REST_OF_WORLD, m.end_market.other_spending(ledger.sheets[END_MARKET].cash),
                    "end_market_other_spending")


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


def _obligations(m: Any) -> list[tuple]:
    step, s = m.steps, m.params
    due: list[tuple] = []
    append = due.append
    for lab in m.labs:
        if lab.defaulted:
            continue
        name = lab.name
        if name not in m.missed_payments:
            for c in lab.contracts:
                if c.delivered_gw > 0 and c.live(step):  # most contracts on the book have not started
                    append((name, c.cloud, c.rent_due(), "compute_rent", None, 0.0))
        append((name, REST_OF_WORLD, lab.config.opex + lab.config.opex_share * lab.services_revenue, "opex", None, 0.0))
    for cloud in m.clouds:
        if cloud.defaulted:
            continue
        billed_gw = max(cloud.powered_fleet_gw(), s.power.min_take * cloud.connected_gw)
        price = m.prices.power_price.get(cloud.utility_name, s.power.base_price)
        bill = billed_gw * s.power.pue * ENERGY_HOURS * price / 1e6
        seller = REST_OF_WORLD if m.by_name[cloud.utility_name].defaulted else cloud.utility_name
        append((cloud.name, seller, bill, "power", None, 0.0))
        append((cloud.name, REST_OF_WORLD, cloud.config.opex + s.gpus.opex_per_gw_month * cloud.fleet.gw, "opex", None, 0.0))
        cloud.power_bill = bill
    for deal in m.deals:
        if isinstance(deal, CapacityBackstop) and not m.by_name[deal.vendor].defaulted and not m.by_name[deal.cloud].defaulted:
            cloud = m.by_name[deal.cloud]
            pay = deal.payment(max(0.0, cloud.spot_capacity_gw - cloud.spot_sold_gw), step)
            if pay > 0:
                append((deal.vendor, deal.cloud, pay, BACKSTOP, deal, 0.0))
    for vendor in m.vendors:
        if not vendor.defaulted:
            append((vendor.name, REST_OF_WORLD, vendor.plan.opex, "opex", None, 0.0))
    for utility in m.utilities:
        if utility.defaulted:
            continue
        sales = sum([c.power_bill for c in m.clouds if c.utility_name == utility.name and not c.defaulted])
        append((utility.name, REST_OF_WORLD, utility.config.opex + s.power.fuel_cost_share * sales, "fuel", None, 0.0))
        utility.load_gw = sum([c.powered_fleet_gw() for c in m.clouds if c.utility_name == utility.name and not c.defaulted]) * s.power.pue
    by_name = m.by_name
    for loan in m.loans.values():
        if by_name[loan.issuer].defaulted:
            continue
        interest, principal = loan.interest_due(), loan.principal_due()
        append((loan.issuer, loan.holder, interest + principal, DEBT_SERVICE, loan, principal))
    return due


# ----------------------------------------------------------------------------- clearing


def _clear(m: Any, obligations: list[tuple]) -> dict[str, float]:
    """Eisenberg-Noe clearing: the share of its obligations each firm can pay, given what its
    debtors pay it. Starts from full payment and lowers payments until consistent."""
    owed: dict[str, float] = defaultdict(float)
    incoming: dict[str, float] = defaultdict(float)
    for debtor, creditor, amount, _, _, _ in obligations:  # the first round, at full payment (x * 1.0 == x)
        owed[debtor] += amount
        incoming[creditor] += amount
    by_name = m.by_name
    cash = {name: by_name[name].books.cash for name in owed}
    ratio = {name: 1.0 for name in owed}
    for round_ in range(50):
        if round_:
            incoming = defaultdict(float)
            for debtor, creditor, amount, _, _, _ in obligations:
                incoming[creditor] += amount * ratio[debtor]
        changed = False
        for name, total in owed.items():
            if total <= 0:
                continue
            funds = cash[name] + incoming.get(name, 0.0)
            can = (funds if funds > 0.0 else 0.0) / total  # max(0.0, funds), without the call
            new = can if can < 1.0 else 1.0  # min(1.0, can)
            if new < ratio[name] - 1e-12:
                ratio[name] = new
                changed = True
        if not changed:
            break
    return ratio


def _emergency_funding(m: Any, name: str, obligations: list[tuple]) -> bool:
    """A firm about to fall short sells the stakes it holds, then tries a distressed round."""
    from model.markets import funding_round

    firm = m.by_name[name]
    due = sum([amount for debtor, _, amount, _, _, _ in obligations if debtor == name])
    short = due - firm.books.cash
    if short <= 0:
        return False
    raised = sell_stakes(m, firm, short)
    if raised < short and firm.kind in ("lab", "cloud"):
        raised += funding_round(m, firm, short - raised, distressed=True)
    return raised > 0


def sell_stakes(m: Any, firm: Any, wanted: float) -> float:
    """Sell shares the firm holds to the investors with most cash, at a discount to market
    (`credit.distressed_sale_price`); a price below what the firm paid is capital lost."""
    raised = 0.0
    buyers = sorted(m.investors, key=lambda i: -i.books.cash)
    for issuer, holdings in m.registry.holdings.items():
        market_price = m.registry.price[issuer]
        price = market_price * m.params.credit.distressed_sale_price
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
            cost = m.invested_at_cost.get((firm.name, issuer), 0.0)
            cost_sold = cost * shares / held
            m.invested_at_cost[(firm.name, issuer)] = cost - cost_sold
            m.invested_at_cost[(buyer.name, issuer)] = m.invested_at_cost.get((buyer.name, issuer), 0.0) + shares * price
            m.losses.distressed_sale(firm.kind, m.by_name[issuer].kind, cost_sold, shares * price)
            m.registry.move(issuer, firm.name, buyer.name, shares)
            # the seller's stake leaves its books at market; the discount is its loss
            m.ledger.post(firm.name, (NET_WORTH, ""), (ASSET, account), shares * (market_price - price))
            m.ledger.transfer(buyer.name, firm.name, shares * price, "stake_sale",
                              payer_side=(ASSET, account), payee_side=(ASSET, account))
            raised += shares * price
    return raised


def _pay(m: Any, obligations: list[tuple], ratios: dict[str, float]) -> None:
    transfer, service_debt = m.ledger.transfer, m.ledger.service_debt
    for debtor, creditor, amount, kind, contract, principal in obligations:
        ratio = ratios[debtor]
        paid = amount * ratio
        if paid <= 0:
            continue
        if contract is None:
            transfer(debtor, creditor, paid, kind)
        elif kind == DEBT_SERVICE:  # a short debtor pays interest and principal in the same proportion
            paid_principal = principal * ratio
            contract.outstanding -= paid_principal
            contract.paid_instalment()
            service_debt(debtor, creditor, (amount - principal) * ratio, paid_principal, contract.account)
        else:  # a capacity backstop: the vendor's own money, tagged as such
            transfer(debtor, creditor, paid, kind, source_tag=debtor)
            contract.paid += paid


# ----------------------------------------------------------------------------- default


@dataclass(slots=True)
class Claim:
    """A creditor's claim on a defaulter's estate: a loan it holds, or a cloud's backlog claim.
    The claim sits on two sheets under `account`: the creditor's asset, the defaulter's liability."""

    holder: str
    account: str
    face: float
    loan: Any = None
    recovered: float = 0.0


@dataclass
class Estate:
    """What a defaulter's creditors got: its cash and its receivables (at their marks), paid pro
    rata to their claims. `check_invariants` reads these records."""

    firm: str
    step: int
    pot: float  # B$: cash plus receivables at their marks
    claims: list[Claim] = field(default_factory=list)

    @property
    def claimed(self) -> float:
        return sum(c.face for c in self.claims)

    @property
    def recovered(self) -> float:
        return sum(c.recovered for c in self.claims)


def default(m: Any, firm: Any, cause: str) -> None:
    """Clear a firm that cannot pay: everything DESIGN.md's settle phase lists, in one step."""
    if firm.defaulted:
        return
    _record_default(m, firm, cause)
    if firm.kind == "cloud":
        _fire_sale(m, firm)
    sell_stakes(m, firm, float("inf"))
    call_guarantees(m, firm)  # vendor guarantors pay the guaranteed lenders and take over their claim
    claims = _loan_claims(m, firm) + _backlog_claims(m, firm)
    _end_contracts_and_deals(m, firm)
    _pay_estate(m, firm, claims)
    _wipe_equity(m, firm)


def _record_default(m: Any, firm: Any, cause: str) -> None:
    firm.defaulted = True
    firm.default_step = m.steps
    firm.default_cause = cause
    m.new_defaults += 1
    m.default_intensity += 1.0
    m.defaults.append({"agent": firm.name, "kind": firm.kind, "step": m.steps, "cause": cause})
    m.log_event("default", firm.name, f"{firm.kind} defaults: {cause}")


def _end_contracts_and_deals(m: Any, firm: Any) -> None:
    for contract in list(getattr(firm, "contracts", ())):
        end_contract(m, contract)
    for deal in m.deals:
        if firm.name in (getattr(deal, "lab", None), getattr(deal, "cloud", None), deal.vendor):
            deal.active = False


def _fire_sale(m: Any, cloud: Any) -> None:
    """The defaulter's GPUs are sold into the resale market. Dumping q GW moves the price of
    compute by exp(-q / D), D the market's depth (`gpus.fire_sale_depth` x the installed fleet),
    at once, so every cloud's collateral is marked lower the same step (the margin spiral through
    the loan-to-value covenants); the impact fades month by month (accounting). Surviving clouds
    buy at the impacted price, less the distressed seller's discount, with part of their cash;
    only what nobody buys is scrapped."""
    g = m.params.gpus
    gw = cloud.fleet.gw
    market_gw = sum(c.fleet.gw for c in m.clouds if not c.defaulted or c is cloud)
    impact = gw / (g.fire_sale_depth * market_gw) if market_gw > 0 else 0.0
    m.fire_sale_impact += impact
    m.prices.spot_price *= math.exp(-impact)
    m.prices.collateral_factor *= math.exp(-impact)
    value = cloud.fleet.economic_value(m.prices.collateral_factor, m.economic_life_months)
    price_total = value * (1.0 - g.fire_sale_discount)
    book = cloud.fleet.book_value
    m.ledger.post(cloud.name, (NET_WORTH, ""), (ASSET, "gpus"), book - price_total)  # the loss on sale
    cloud.fleet.rebook(price_total)  # the fleet is now booked at what it fetches
    buyers = [c for c in m.clouds if not c.defaulted and c.books.cash > 0]
    left = 1.0
    for buyer in buyers:
        if price_total <= 0 or left <= 0:
            break
        share = min(left, g.fire_sale_buyer_cash_share * buyer.books.cash / price_total)
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
        m.losses.scrapped_gw += cloud.fleet.gw
        cloud.fleet.clear()
        m.ledger.transfer(REST_OF_WORLD, cloud.name, rest, "fire_sale", payer_side=(NET_WORTH, ""), payee_side=(ASSET, "gpus"))
    m.log_event("fire_sale", cloud.name, f"{gw:.2f} GW of GPUs dumped for {price_total:.1f} B$ (economic value {value:.1f}); "
                                         f"compute prices fall {100 * (1 - math.exp(-impact)):.0f} %")
    utility = m.by_name[cloud.utility_name]
    utility.connected_gw -= cloud.connected_gw
    cloud.connected_gw = 0.0
    for r in list(m.power_requests):
        if r.cloud == cloud.name:
            m.power_requests.remove(r)
            if r in utility.queue:
                utility.queue.remove(r)


def _loan_claims(m: Any, firm: Any) -> list[Claim]:
    return [Claim(l.holder, l.account, l.outstanding, loan=l) for l in m.debts_of(firm.name)]


def _backlog_claims(m: Any, firm: Any) -> list[Claim]:
    """A defaulting lab's remaining take-or-pay payments: the share a court allows
    (`credit.backlog_claim_share`) becomes each cloud's claim on the estate, booked on both
    sheets (the cloud's asset, the lab's liability) before the estate pays out."""
    if firm.kind != "lab":
        return []
    share = m.params.credit.backlog_claim_share
    backlog: dict[str, float] = defaultdict(float)
    for contract in firm.contracts:
        if contract.active and not m.by_name[contract.cloud].defaulted:
            backlog[contract.cloud] += share * contract.committed_value(m.steps)
    claims = []
    for cloud, amount in backlog.items():
        if amount <= 0:
            continue
        account = f"backlog:{firm.name}:{cloud}"
        m.ledger.post(cloud, (ASSET, account), (NET_WORTH, ""), amount)
        m.ledger.post(firm.name, (NET_WORTH, ""), (LIABILITY, account), amount)
        m.losses.backlog_claims += amount
        claims.append(Claim(cloud, account, amount))
        m.log_event("claim", cloud, f"claims {amount:.1f} B$ of {firm.name}'s take-or-pay backlog")
    return claims


def _pay_estate(m: Any, firm: Any, claims: list[Claim]) -> None:
    """Pay every claim pro rata from the estate: the defaulter's cash first, then its own
    receivables (loans it holds) assigned in kind at their marks; the unrecovered rest is
    written off. Receivables worth more than the claims go to the shareholders (residual
    claimants) before the equity is wiped."""
    receivables = [l for l in m.loans.values() if l.holder == firm.name]
    cash = max(0.0, firm.books.cash)
    marked = sum(l.outstanding + l.allowance for l in receivables)
    estate = Estate(firm.name, m.steps, cash + marked, claims)
    total = estate.claimed
    paid = min(cash, total)
    for claim in claims:
        amount = paid * claim.face / total if total > 0 else 0.0
        m.ledger.transfer(firm.name, claim.holder, amount, "recovery", (LIABILITY, claim.account), (ASSET, claim.account))
        claim.recovered += amount
        if claim.loan is not None:
            claim.loan.outstanding -= amount
    unpaid = total - paid
    assigned = min(marked, unpaid)
    if marked > 0:
        opening = [(loan, loan.outstanding, loan.allowance) for loan in receivables]
        for claim in claims:
            fraction = assigned * (claim.face - claim.recovered) / unpaid / marked if unpaid > 0 else 0.0
            for loan, face, allowance in opening:
                value = _assign_receivable(m, loan, face * fraction, allowance * fraction, claim.holder, claim.account)
                claim.recovered += value
                if claim.loan is not None:
                    claim.loan.outstanding -= value
        residual = 1.0 - assigned / marked
        holders = m.registry.holdings[firm.name]
        shares = sum(holders.values())
        for holder, held in list(holders.items()) if residual > 1e-12 and shares > 0 else ():
            for loan, face, allowance in opening:
                _assign_receivable(m, loan, face * residual * held / shares, allowance * residual * held / shares, holder, None)
    for loan in receivables:  # what is left of them (nothing, or rounding) leaves with the estate
        write_off_loan(m, loan)
    for claim in claims:
        if claim.loan is not None:
            write_off_loan(m, claim.loan)
        else:
            _write_off_backlog(m, firm, claim)
    m.estates.append(estate)
    if claims:
        m.log_event("estate", firm.name, f"creditors recovered {estate.recovered:.1f} B$ of {total:.1f} B$ claimed "
                                         f"({estate.recovered / total:.0%})" if total > 0 else "no claims")


def _assign_receivable(m: Any, loan: Any, face: float, allowance: float, to: str, against: str | None) -> float:
    """Hand `face` of a defaulter's loan (with its share `allowance` of the holder's distress
    mark) to `to`, at its mark, against the claim booked under `against` (or, for shareholders,
    as a distribution). The borrower now owes the new holder; every sheet balances. Returns the
    value handed over (face plus allowance)."""
    face = min(face, loan.outstanding)
    if face <= 0:
        return 0.0
    value = face + allowance
    estate_side = (LIABILITY, against) if against else (NET_WORTH, "")
    holder_side = (ASSET, against) if against else (NET_WORTH, "")
    ledger = m.ledger
    # the defaulter: the receivable and its allowance leave, the claim (or its net worth) falls by the value
    ledger.post(loan.holder, estate_side, (ASSET, loan.account), face)
    ledger.post(loan.holder, (ASSET, loan.allowance_account), estate_side, -allowance)
    loan.outstanding -= face
    loan.allowance -= allowance
    if to == loan.issuer:  # the borrower is the creditor: the debt is extinguished, set off against its claim
        ledger.post(to, (LIABILITY, loan.account), holder_side, value)
        ledger.post(to, (LIABILITY, loan.account), (NET_WORTH, ""), face - value)
        return value
    new = get_facility(m, loan.kind, loan.issuer, to, loan.rate, loan.term_months, loan.collateralised, loan.bullet)
    if new.outstanding <= 0:
        new.months_left, new.rate = loan.months_left, loan.rate
    else:
        new.rate = (new.rate * new.outstanding + loan.rate * face) / (new.outstanding + face)
    new.outstanding += face
    new.allowance += allowance
    # the creditor: its claim becomes the receivable at the same mark
    ledger.post(to, (ASSET, new.account), holder_side, face)
    ledger.post(to, holder_side, (ASSET, new.allowance_account), -allowance)
    # the borrower: the same debt, owed to a new holder
    ledger.post(loan.issuer, (LIABILITY, loan.account), (LIABILITY, new.account), face)
    return value


def write_off_loan(m: Any, loan: Any) -> None:
    """The face not recovered is lost to the holder (its allowance, already taken, is released)
    and forgiven to the issuer; the loan is closed."""
    lost = loan.outstanding
    ledger = m.ledger
    if loan.allowance:
        ledger.post(loan.holder, (ASSET, loan.allowance_account), (NET_WORTH, ""), -loan.allowance)
        loan.allowance = 0.0
    if lost > 0:
        ledger.post(loan.holder, (NET_WORTH, ""), (ASSET, loan.account), lost)
        ledger.post(loan.issuer, (LIABILITY, loan.account), (NET_WORTH, ""), lost)
        holder_kind = m.by_name[loan.holder].kind
        m.write_offs[holder_kind] = m.write_offs.get(holder_kind, 0.0) + lost
        m.loan_losses.append(lost)
        m.losses.loan_written_off(holder_kind, m.by_name[loan.issuer].kind, lost)
        m.log_event("write_off", loan.holder, f"wrote off {lost:.2f} B$ of {loan.kind.replace('_', ' ')} to {loan.issuer}")
    loan.outstanding = 0.0
    m.loans.pop((loan.kind, loan.issuer, loan.holder), None)


def _write_off_backlog(m: Any, lab: Any, claim: Claim) -> None:
    """The part of a backlog claim the estate could not pay: gone from both sheets."""
    left = claim.face - claim.recovered
    m.losses.backlog_recovered += claim.recovered
    if left > 0:
        m.ledger.post(claim.holder, (NET_WORTH, ""), (ASSET, claim.account), left)
        m.ledger.post(lab.name, (LIABILITY, claim.account), (NET_WORTH, ""), left)


def _wipe_equity(m: Any, firm: Any) -> None:
    """Its equity goes to zero: every holder writes the stake off the same step, and loses what
    it paid for it."""
    holdings = m.registry.holdings[firm.name]
    for holder, shares in list(holdings.items()):
        sheet = m.ledger.sheets[holder]
        marked = sheet.assets.get(f"shares:{firm.name}", 0.0)
        m.ledger.post(holder, (NET_WORTH, ""), (ASSET, f"shares:{firm.name}"), marked)
        kind = m.by_name[holder].kind
        m.write_offs[kind] = m.write_offs.get(kind, 0.0) + marked
        m.losses.stake_wiped(kind, firm.kind, m.invested_at_cost.get((holder, firm.name), 0.0), marked)
    holdings.clear()
    for key in [k for k in m.invested_at_cost if k[1] == firm.name]:
        del m.invested_at_cost[key]
    m.registry.outstanding[firm.name] = 0.0
    m.registry.price[firm.name] = 0.0


def _covenant_breaches(m: Any) -> bool:
    """Loan-to-value covenants: a cloud above the limit repays the excess or defaults."""
    new_default = False
    max_ltv = m.params.credit.max_ltv
    issued_by = m.loans.issued_by
    for cloud in m.clouds:
        if cloud.defaulted:
            continue
        # a list, not the book's view: a default below closes loans
        secured = [l for l in issued_by(cloud.name) if l.collateralised and l.outstanding > 0]
        debt = sum([l.outstanding for l in secured])
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
