"""Decision rules of the AI lab: how much compute to contract, when to raise money, what to cut.

Each rule is a pure function of plain numbers; `agents/ai_lab.py` gathers the numbers and
applies the answer.
"""

from __future__ import annotations

import math

from agents.rules import rule


@rule("lab.compute_target", "revenue_outlook", default=True)
def revenue_outlook(
    revenue_month: float,
    revenue_growth: float,
    sentiment: float,
    ambition: float,
    horizon_months: int,
    price_per_gw_month: float,
) -> float:
    """GW the lab wants under contract `horizon_months` ahead.

    It projects its revenue at the trailing growth rate, lifted by optimism and damped by gloom
    by up to half its size (a lab's plans follow the mood of the people funding it), and plans compute spending of `ambition`
    times that projected revenue. Growth is capped at 100 %/year so one good month does not
    produce a plan for the whole grid.
    """
    growth = min(1.0, max(-0.5, revenue_growth + 0.5 * abs(revenue_growth) * sentiment))
    projected = revenue_month * math.exp(math.log1p(growth) * horizon_months / 12.0)
    return max(0.0, ambition * projected / max(price_per_gw_month, 1e-9))


@rule("lab.compute_target", "hold_capacity")
def hold_capacity(
    revenue_month: float,
    revenue_growth: float,
    sentiment: float,
    ambition: float,
    horizon_months: int,
    price_per_gw_month: float,
) -> float:
    """Plans compute for today's revenue only: no growth bet (a control for experiments)."""
    return max(0.0, ambition * revenue_month / max(price_per_gw_month, 1e-9))


@rule("lab.funding", "runway", default=True)
def runway_funding(cash: float, monthly_burn: float, runway_months: int, sentiment: float) -> float:
    """Raise when cash covers fewer than `runway_months` of burn; ask for twice the runway.

    Returns the amount to raise this month (B$), zero when the runway is long enough.
    """
    if monthly_burn <= 0 or cash >= runway_months * monthly_burn:
        return 0.0
    return 2.0 * runway_months * monthly_burn - cash


@rule("lab.funding", "opportunistic")
def opportunistic_funding(cash: float, monthly_burn: float, runway_months: int, sentiment: float) -> float:
    """Raise early and large while sentiment is high; as `runway` otherwise."""
    if sentiment > 0.3 and monthly_burn > 0:
        return max(0.0, 3.0 * runway_months * monthly_burn - cash)
    return runway_funding(cash, monthly_burn, runway_months, sentiment)


@rule("lab.cutback", "stop_new_contracts", default=True)
def stop_new_contracts(cash: float, monthly_burn: float, runway_months: int) -> float:
    """Share of wanted new compute the lab still signs for: none once its runway is half gone.

    Take-or-pay commitments cannot be cut; new ones can.
    """
    if monthly_burn <= 0:
        return 1.0
    runway = cash / monthly_burn
    return max(0.0, min(1.0, (runway - 0.5 * runway_months) / (0.5 * runway_months)))


@rule("lab.cutback", "never")
def never_cut(cash: float, monthly_burn: float, runway_months: int) -> float:
    """Signs for all wanted compute whatever its cash (a reckless lab)."""
    return 1.0


@rule("lab.commitment_capacity", "funded_commitments", default=True)
def funded_commitments(
    cash: float,
    revenue_month: float,
    revenue_growth: float,
    horizon_months: int,
    committed_spending: float,
    deal_funding: float,
    investor_funding: float,
) -> float:
    """B$ of new compute rent the lab can commit to over its planning horizon.

    What it has and expects over `horizon_months` (cash; revenue at its trailing growth, capped
    at 100 %/year and floored at -50 %/year; what its vendor deals will still pay in; one round
    from investors at today's sentiment) less what it already owes over the same months (rent on
    signed contracts, operating costs). Remove vendor money and the lab signs less.
    """
    growth = min(1.0, max(-0.5, revenue_growth))
    monthly = (1.0 + growth) ** (1.0 / 12.0)
    revenue = sum([revenue_month * monthly**k for k in range(1, horizon_months + 1)])
    return max(0.0, cash + revenue + deal_funding + investor_funding - committed_spending)


@rule("lab.commitment_capacity", "unbounded")
def unbounded_commitments(
    cash: float,
    revenue_month: float,
    revenue_growth: float,
    horizon_months: int,
    committed_spending: float,
    deal_funding: float,
    investor_funding: float,
) -> float:
    """Signs whatever its compute target asks, funded or not (the model before issue 9)."""
    return math.inf
