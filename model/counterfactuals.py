"""Counterfactual scenarios, each a pure transform of a scenario (written once, here).

`without_vendor_money(scenario)`: the same economy with every channel of vendor money into
customers closed, and nothing else changed. The bundled `no-circularity.toml` is this
transform of `baseline.toml` (a test checks it); the live page builds its twin from it.
"""

from __future__ import annotations

from model import scenario as sc

VENDOR_DEALS = (sc.EquityForDeployment, sc.Warrants, sc.CapacityBackstop, sc.VendorLoanDeal, sc.Guarantee,
                sc.FinancingCommitment, sc.RoundParticipation)


def without_vendor_money(scenario: sc.Scenario) -> sc.Scenario:
    """`scenario` without vendor money: every vendor deal removed (equity for deployment,
    warrants, backstops, guarantees, credit lines, round participation, vendors' stakes in other
    firms), vendors' `financing_share` and `vendor_loan_share` set to 0. A vendor loan drawn at
    the start becomes ordinary investor debt of the same amount (the borrower's `debt`, at its
    own `debt_rate`), as do the drawn part of a credit line and a guaranteed loan (investors'
    money, now unguaranteed). Take-or-pay contracts and stakes held by non-vendors are kept."""
    data = scenario.model_dump()
    vendors = set(scenario.vendors)
    deals = []
    for raw, deal in zip(data["deals"], scenario.deals):
        if isinstance(deal, sc.VendorLoanDeal):
            _add_debt(data, deal.borrower, deal.amount)
        elif isinstance(deal, sc.FinancingCommitment):
            _add_debt(data, deal.borrower, deal.drawn)
        elif isinstance(deal, sc.Guarantee):
            _add_debt(data, deal.borrower, deal.amount)
        if isinstance(deal, VENDOR_DEALS) or (isinstance(deal, sc.EquityStake) and deal.holder in vendors):
            continue
        deals.append(raw)
    data["deals"] = deals
    for vendor in data["vendors"].values():
        vendor["financing_share"] = 0.0
        vendor["vendor_loan_share"] = 0.0
    return sc.validate_scenario(data, f"without_vendor_money({scenario.meta.name})")


def _add_debt(data: dict, borrower: str, amount: float) -> None:
    for kind in ("labs", "vendors", "clouds", "utilities"):
        if borrower in data[kind]:
            data[kind][borrower]["debt"] = data[kind][borrower]["debt"] + amount
            return
