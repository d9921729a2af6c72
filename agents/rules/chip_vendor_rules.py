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


@rule("vendor.financing", "exposure_budget", default=True)
def exposure_budget(financing_share: float, revenue_t12m: float, exposure: float) -> float:
    """B$ the vendor may still commit to its customers this month.

    The vendor keeps its circular exposure (equity in customers, vendor loans, backstops)
    below `financing_share` of its trailing-12-month revenue: the measure Lucent ran at 24 %.
    """
    return max(0.0, financing_share * revenue_t12m - exposure)
