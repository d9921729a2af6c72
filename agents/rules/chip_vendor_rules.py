"""Decision rules of the chip vendor: production capacity, price, and circular financing."""

from __future__ import annotations

from agents.rules import rule


@rule("vendor.production", "follow_orders", default=True)
def follow_orders(capacity: float, recent_orders: float, max_growth_month: float) -> float:
    """Next month's capacity (GW/month): towards 1.25x recent orders, growing at most
    `max_growth_month` and shrinking at most 5 % a month (fabs are not idled overnight)."""
    target = 1.25 * recent_orders
    return max(capacity * 0.95, min(capacity * (1.0 + max_growth_month), max(target, 0.05)))


@rule("vendor.pricing", "scarcity_markup", default=True)
def scarcity_markup(list_price: float, utilisation: float) -> float:
    """Price per GW: list price, up to 15 % more when order books exceed capacity, down to
    25 % less when fabs run empty."""
    return list_price * min(1.15, max(0.75, 1.0 + 0.3 * (utilisation - 0.9)))


@rule("vendor.pricing", "fixed_price")
def fixed_price(list_price: float, utilisation: float) -> float:
    """The list price whatever the demand."""
    return list_price


@rule("vendor.opex", "cut_with_revenue", default=True)
def cut_with_revenue(base_opex: float, revenue_t12m: float, peak_revenue_t12m: float) -> float:
    """Operating costs (B$/month): the base level, cut in step with revenue once revenue falls
    below its peak, to no less than 40 % (Lucent cut its staff by more than half, 2001-02)."""
    if peak_revenue_t12m <= 0:
        return base_opex
    return base_opex * max(0.4, min(1.0, revenue_t12m / peak_revenue_t12m))


@rule("vendor.opex", "fixed_costs")
def fixed_costs(base_opex: float, revenue_t12m: float, peak_revenue_t12m: float) -> float:
    """Operating costs that never adjust (a vendor that does not restructure)."""
    return base_opex


@rule("vendor.financing", "exposure_budget", default=True)
def exposure_budget(financing_share: float, revenue_t12m: float, exposure: float) -> float:
    """B$ the vendor may still commit to its customers this month.

    The vendor keeps its circular exposure (equity in customers, vendor loans, backstops)
    below `financing_share` of its trailing-12-month revenue: the measure Lucent ran at 24 %.
    """
    return max(0.0, financing_share * revenue_t12m - exposure)


@rule("vendor.outside_sales", "capital_markets_capex", default=True)
def capital_markets_capex(
    outside_capex: float,
    capex_share: float,
    trend_growth: float,
    months: int,
    sentiment_change: float,
    spread_change: float,
    sentiment_elasticity: float,
    spread_elasticity: float,
) -> float:
    """B$ of chips sold this month to buyers outside the modelled chain.

    The rest of the industry's capital spending (B$/year at the start) grows on its trend; it is
    financed by the same capital markets as the modelled clouds, so it rises with sentiment
    above its initial level and falls as credit spreads widen. The vendor sells `capex_share`
    of it. Never below zero.
    """
    trend = _outside_trend(outside_capex, capex_share, trend_growth, months)
    return trend * max(0.0, 1.0 + sentiment_elasticity * sentiment_change - spread_elasticity * spread_change)


@rule("vendor.outside_sales", "exogenous_trend")
def exogenous_trend(
    outside_capex: float,
    capex_share: float,
    trend_growth: float,
    months: int,
    sentiment_change: float,
    spread_change: float,
    sentiment_elasticity: float,
    spread_elasticity: float,
) -> float:
    """Outside sales on their trend whatever the capital markets do (a control for experiments)."""
    return _outside_trend(outside_capex, capex_share, trend_growth, months)


def _outside_trend(outside_capex: float, capex_share: float, trend_growth: float, months: int) -> float:
    """B$ a month: the vendor's share of the rest of the industry's capex, grown on its trend."""
    return outside_capex * capex_share / 12.0 * (1.0 + trend_growth) ** (months / 12.0)
