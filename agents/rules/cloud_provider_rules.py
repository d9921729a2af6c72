"""Decision rules of the cloud provider: what to build and buy, how to finance it, what to charge."""

from __future__ import annotations

import math

from agents.rules import rule


@rule("cloud.capex", "build_to_contract", default=True)
def build_to_contract(contracted_gw_ahead: float, fleet_gw: float, spot_buffer: float, affordable_gw: float) -> float:
    """GW of chips to order now: enough for the contracts starting within the build lead time
    plus a spot buffer, no more than the cloud can pay for."""
    wanted = contracted_gw_ahead * (1.0 + spot_buffer) - fleet_gw
    return max(0.0, min(wanted, affordable_gw))


@rule("cloud.capex", "speculative")
def speculative_build(contracted_gw_ahead: float, fleet_gw: float, spot_buffer: float, affordable_gw: float) -> float:
    """Builds ahead of contracts: twice the spot buffer, betting that tenants will come."""
    wanted = contracted_gw_ahead * (1.0 + 2.0 * spot_buffer + 0.2) - fleet_gw
    return max(0.0, min(wanted, affordable_gw))


@rule("cloud.financing", "borrow_to_ltv", default=True)
def borrow_to_ltv(cash_needed: float, collateral_value: float, secured_debt: float, max_ltv: float) -> float:
    """GPU-backed borrowing asked for (B$): what is needed, up to 90 % of the covenant's room."""
    room = 0.9 * max_ltv * collateral_value - secured_debt
    return max(0.0, min(cash_needed, room))


@rule("cloud.financing", "equity_only")
def equity_only(cash_needed: float, collateral_value: float, secured_debt: float, max_ltv: float) -> float:
    """Never borrows against GPUs."""
    return 0.0


@rule("cloud.contract_price", "cost_plus", default=True)
def cost_plus(chip_price_per_gw: float, shell_cost_per_gw: float, economic_life_months: float,
              running_cost_per_gw_month: float, funding_rate: float, spot_price: float) -> float:
    """B$ per GW-month asked for a new take-or-pay contract.

    Capital cost recovered over the GPUs' economic life at the cloud's funding rate (an
    annuity), plus running costs; never below 80 % of spot.
    """
    capital = chip_price_per_gw + shell_cost_per_gw
    r = funding_rate / 12.0
    n = max(economic_life_months, 1.0)
    # 1 - (1 + r)^-n written with expm1/log1p so a tiny rate tends to straight-line, not 0/0
    annuity = capital * r / -math.expm1(-n * math.log1p(r)) if r > 0 else capital / n
    return max(annuity + running_cost_per_gw_month, 0.8 * spot_price)


@rule("cloud.power_request", "ahead_of_contracts", default=True)
def ahead_of_contracts(contracted_gw_peak: float, connected_gw: float, queued_gw: float) -> float:
    """GW of new grid connection to request: the peak contracted load not yet connected or queued,
    with 10 % headroom."""
    return max(0.0, 1.1 * contracted_gw_peak - connected_gw - queued_gw)
