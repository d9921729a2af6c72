"""Decision rules of the power utility: price from scarcity, and how fast to add capacity."""

from __future__ import annotations

from agents.rules import rule


@rule("utility.pricing", "scarcity", default=True)
def scarcity_price(base_price: float, load_gw: float, capacity_gw: float, exponent: float, multiplier: float) -> float:
    """$/MWh: the base price, plus up to `multiplier` times it as load nears capacity
    (the shape of PJM's capacity auctions as the reserve margin thins)."""
    use = min(1.0, load_gw / capacity_gw) if capacity_gw > 0 else 1.0
    return base_price * (1.0 + multiplier * use**exponent)


@rule("utility.expansion", "follow_queue", default=True)
def follow_queue(queued_gw: float, spare_gw: float, max_gw_month: float) -> float:
    """GW of generation to start adding this month: the queue beyond spare capacity, at most
    the yearly build rate allows."""
    return max(0.0, min(queued_gw - spare_gw, max_gw_month))
