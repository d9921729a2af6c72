"""Building the economy at step 0 from a scenario: agents, opening balance sheets, deals.

Opening stocks are booked against net worth (the books before the run begins). Every claim is
opened on two sheets at once: a loan as the holder's asset and the issuer's liability; a share
as a registry entry plus the holder's asset at the opening price.
"""

from __future__ import annotations

from typing import Any

from agents.ai_lab import AILab
from agents.chip_vendor import ChipVendor
from agents.cloud_provider import CloudProvider
from agents.investor import STRATEGIES, Investor
from agents.power_utility import PowerUtility
from model import scenario as sc
from model.contracts import (CapacityBackstop, EquityForDeployment, FinancingCommitment, Guarantee, Loan, RoundParticipation,
                             TakeOrPay, Warrants)
from model.gpus import Fleet
from model.ledger import ASSET, END_MARKET, LIABILITY

BOND_LADDER = (1 / 6, 1 / 2, 5 / 6)  # starting bonds' remaining maturity, as shares of the term: evenly staggered


def build_economy(m: Any) -> None:
    s = m.params
    kinds = ((s.labs, AILab), (s.vendors, ChipVendor), (s.clouds, CloudProvider), (s.utilities, PowerUtility))
    for configs, cls in kinds:
        for name, cfg in configs.items():
            agent = cls(m, name, cfg, m.rules)
            agent.books = m.ledger.open(name)
            m.by_name[name] = agent
            m.ledger.opening_balance(name, "cash", cfg.cash)
            if cfg.other_assets:
                m.ledger.opening_balance(name, "other_assets", cfg.other_assets)
            m.registry.list_firm(name, cfg.shares, cfg.share_price)
    m.ledger.opening_balance(END_MARKET, "cash", m.end_market.buffer)
    _build_utilities_and_clouds(m)
    _build_investors(m)
    for name, agent in list(m.by_name.items()):
        if not isinstance(agent, Investor) and agent.config.debt > 0:
            _open_spread_loan(m, name, agent.config.debt, agent.config.debt_rate)
    _legacy_contracts(m)
    for deal in s.deals:
        _open_deal(m, deal)
    _distribute_shares(m)
    for investor in (a for a in m.by_name.values() if isinstance(a, Investor)):
        wealth = investor.books.total_assets
        investor.base_weights = {
            k[7:]: v / wealth for k, v in investor.books.assets.items() if k.startswith("shares:") and wealth > 0
        }


def _build_utilities_and_clouds(m: Any) -> None:
    s = m.params
    first_utility = next(iter(s.utilities))
    for name, cfg in s.utilities.items():
        m.ledger.opening_balance(name, "generation", cfg.capacity_gw * cfg.build_cost_per_gw)
    for name, cfg in s.clouds.items():
        cloud = m.by_name[name]
        cloud.utility_name = cfg.utility or first_utility
        cloud.vendor_mix = cfg.vendor_mix or {v: 1.0 for v in s.vendors}
        total = sum(cloud.vendor_mix.values()) or 1.0
        cloud.vendor_mix = {v: w / total for v, w in cloud.vendor_mix.items()}
        chip_price = sum(s.vendors[v].price_per_gw * w for v, w in cloud.vendor_mix.items())
        cost = chip_price + s.gpus.shell_cost_per_gw
        book = cfg.fleet_gw * cost * max(0.0, 1.0 - cfg.fleet_age_months / (s.gpus.book_life_years * 12.0))
        cloud.fleet = Fleet()
        cloud.fleet.add(cfg.fleet_gw, cost, cfg.fleet_age_months, book)
        m.ledger.opening_balance(name, "gpus", book)
        m.gw_built += cfg.fleet_gw
        utility = m.by_name[cloud.utility_name]
        utility.connected_gw += cfg.powered_gw
        if utility.connected_gw * s.power.pue > utility.capacity_gw:
            raise sc.ScenarioError(
                f"clouds.{name}.powered_gw: connections ({utility.connected_gw:g} GW x PUE {s.power.pue:g}) exceed "
                f"utilities.{utility.name}.capacity_gw ({utility.capacity_gw:g} GW)"
            )


def _build_investors(m: Any) -> None:
    inv = m.params.investors
    weights = [getattr(inv, strategy) for strategy in STRATEGIES]
    total = sum(weights)
    if total <= 0:
        raise sc.ScenarioError("investors: the predispositions fundamental + trend + sentiment must be positive")
    counts = [round(inv.count * w / total) for w in weights]
    counts[0] += inv.count - sum(counts)
    draws = m.rng_for("investors")
    appetites = draws.lognormal(0.0, 0.3, size=inv.count)
    wealth_shares = draws.dirichlet([5.0] * inv.count)
    i = 0
    for strategy, count in zip(STRATEGIES, counts):  # each starts with the strategy it is predisposed to
        for _ in range(count):
            name = f"investor_{i:03d}"
            agent = Investor(m, name, strategy, m.rules, float(appetites[i]), inv)
            agent.books = m.ledger.open(name)
            m.by_name[name] = agent
            m.ledger.opening_balance(name, "cash", inv.wealth * float(wealth_shares[i]))
            i += 1


def investors_by_cash(m: Any) -> list:
    return sorted((a for a in m.by_name.values() if isinstance(a, Investor)), key=lambda a: -a.books.cash)


def _open_spread_loan(m: Any, issuer: str, amount: float, rate: float) -> None:
    """Starting debt: bonds held by the three richest investors in equal parts, a ladder whose
    tranches mature at 1/6, 1/2 and 5/6 of the bond term (then roll over or are repaid)."""
    term = m.params.credit.bond_term_months
    for holder, share in zip(investors_by_cash(m)[:3], BOND_LADDER):
        loan = open_loan(m, "corporate", issuer, holder.name, amount / 3.0, rate, term, bullet=True)
        loan.months_left = max(1, round(term * share))


def open_loan(m: Any, kind: str, issuer: str, holder: str, amount: float, rate: float, term: int,
              collateralised: bool = False, bullet: bool = False) -> Loan:
    """A loan existing at step 0: on the holder's sheet and the issuer's, no cash moves."""
    loan = get_facility(m, kind, issuer, holder, rate, term, collateralised, bullet)
    loan.draw(amount, rate)
    m.ledger.opening_balance(holder, loan.account, amount, ASSET)
    m.ledger.opening_balance(issuer, loan.account, amount, LIABILITY)
    return loan


def get_facility(m: Any, kind: str, issuer: str, holder: str, rate: float, term: int, collateralised: bool,
                 bullet: bool = False) -> Loan:
    key = (kind, issuer, holder)
    loan = m.loans.get(key)
    if loan is None:
        loan = Loan(next(m.loan_ids), kind, holder, issuer, 0.0, rate, term, collateralised, bullet=bullet)
        m.loans[key] = loan
    return loan


def _legacy_contracts(m: Any) -> None:
    """The labs' starting compute sits on contracts with the clouds, split by fleet size."""
    s = m.params
    clouds = [m.by_name[n] for n in s.clouds]
    fleet_total = sum(c.fleet.gw for c in clouds) or 1.0
    price = m.prices.contract_price = reference_contract_price(m)
    for i, (name, lab_cfg) in enumerate(s.labs.items()):
        if lab_cfg.compute_gw <= 0:
            continue
        for cloud in clouds:
            gw = lab_cfg.compute_gw * cloud.fleet.gw / fleet_total
            if gw > 0:
                end = s.gpus.legacy_contract_months - 6 * (i % 3)
                add_contract(m, name, cloud.name, gw, price, 0, end)


def reference_contract_price(m: Any) -> float:
    """Cost-based price of a GW-month at the start: what the clouds' own pricing rule asks."""
    s = m.params
    chip = sum(v.price_per_gw for v in s.vendors.values()) / len(s.vendors)
    power = s.power.pue * 730.0 * s.power.base_price / 1e6
    return m.rules["cloud.contract_price"](
        chip, s.gpus.shell_cost_per_gw, s.gpus.economic_life_years * 12.0, s.gpus.opex_per_gw_month + power,
        s.credit.risk_free + s.credit.base_spread + s.credit.tenant_spread / 2, 0.0,
    )


def add_contract(m: Any, lab: str, cloud: str, gw: float, price: float, start: int, end: int, ramp: int = 0) -> TakeOrPay:
    contract = TakeOrPay(next(m.contract_ids), lab, cloud, gw, price, start, end, ramp)
    m.by_name[lab].contracts.add(contract)
    m.by_name[cloud].contracts.add(contract)
    return contract


def end_contract(m: Any, contract: TakeOrPay) -> None:
    """A contract ends early (a party defaulted): it delivers and bills nothing more."""
    if contract.active:
        m.by_name[contract.lab].contracts.end(contract, m.steps)
        m.by_name[contract.cloud].contracts.end(contract, m.steps)
        contract.active = False
        contract.delivered_gw = 0.0


def _open_deal(m: Any, deal: Any) -> None:
    if isinstance(deal, sc.TakeOrPay):
        add_contract(m, deal.lab, deal.cloud, deal.gw, deal.price_per_gw_month, deal.start_step, deal.start_step + deal.months,
                     deal.ramp_months)
        m.log_event("deal", deal.lab, f"take-or-pay with {deal.cloud}: {deal.gw:g} GW for {deal.months} months")
    elif isinstance(deal, sc.EquityForDeployment):
        m.deals.append(EquityForDeployment(deal.vendor, deal.lab, deal.per_gw, deal.cap))
    elif isinstance(deal, sc.Warrants):
        m.deals.append(Warrants(deal.vendor, deal.lab, deal.shares, deal.gw))
    elif isinstance(deal, sc.CapacityBackstop):
        m.deals.append(CapacityBackstop(deal.vendor, deal.cloud, deal.cap, deal.price_per_gw_month, deal.end_step,
                                        deal.start_step))
    elif isinstance(deal, sc.VendorLoanDeal):
        open_loan(m, "vendor_loan", deal.borrower, deal.vendor, deal.amount, deal.rate, deal.months)
    elif isinstance(deal, sc.EquityStake):
        shares = m.registry.outstanding[deal.issuer] * deal.fraction
        _give_shares(m, deal.issuer, deal.holder, shares)
    elif isinstance(deal, sc.RoundParticipation):
        m.deals.append(RoundParticipation(deal.vendor, deal.lab, deal.share, deal.per_round_cap, deal.cap, deal.min_sentiment,
                                          deal.max_valuation, deal.distressed, deal.start_step, deal.end_step))
    elif isinstance(deal, sc.Guarantee):
        # the guaranteed loan is investors' (kind "guaranteed", apart from the borrower's other
        # debt so the guarantee knows which claims it covers); the vendor's books show nothing yet
        loans = [open_loan(m, "guaranteed", deal.borrower, holder.name, deal.amount / 3.0, deal.rate, deal.months)
                 for holder in investors_by_cash(m)[:3]]
        m.deals.append(Guarantee(deal.vendor, deal.borrower, deal.cap, loans))
    elif isinstance(deal, sc.FinancingCommitment):
        line = FinancingCommitment(deal.vendor, deal.borrower, deal.committed, deal.rate, deal.months, drawn=deal.drawn)
        if deal.drawn > 0:
            open_loan(m, "vendor_loan", deal.borrower, deal.vendor, deal.drawn, deal.rate, deal.months)
        m.deals.append(line)


def _give_shares(m: Any, issuer: str, holder: str, shares: float) -> None:
    m.registry.holdings[issuer][holder] = m.registry.holdings[issuer].get(holder, 0.0) + shares
    m.ledger.opening_balance(holder, f"shares:{issuer}", shares * m.registry.price[issuer])
    # the opening price is every opening holder's cost basis (what it would have paid)
    key = (holder, issuer)
    m.invested_at_cost[key] = m.invested_at_cost.get(key, 0.0) + shares * m.registry.price[issuer]


def _distribute_shares(m: Any) -> None:
    """Shares not held through deals are held by investors in proportion to appetite x wealth."""
    investors = [a for a in m.by_name.values() if isinstance(a, Investor)]
    weights = [a.risk_appetite * a.books.cash for a in investors]
    total = sum(weights)
    for issuer in list(m.registry.outstanding):
        free = m.registry.outstanding[issuer] - sum(m.registry.holdings[issuer].values())
        if free < -1e-9:
            raise sc.ScenarioError(f"deals: equity stakes in {issuer} add up to more than its shares")
        for investor, w in zip(investors, weights):
            _give_shares(m, issuer, investor.name, free * w / total)
