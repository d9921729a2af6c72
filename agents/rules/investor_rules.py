"""Decision rules of investors: expectations of each kind, and how expectations become portfolios.

Expectations are expected returns over the next year (a fraction, 0.1 = 10 %).
"""

from __future__ import annotations

import math

from agents.rules import rule


@rule("investor.expectation.fundamental", "revenue_multiple", default=True)
def fundamental(market_value: float, revenue_t12m: float, profit_t12m: float, multiple: float,
                recent_return: float, sentiment: float) -> float:
    """Expects the price to close a third of the gap to `multiple` times trailing revenue
    (profit-making firms earn a premium) within a year."""
    if market_value <= 0:
        return 0.0
    value = multiple * revenue_t12m * (1.2 if profit_t12m > 0 else 0.8)
    return max(-0.9, min(1.0, (value / market_value - 1.0) / 3.0))


@rule("investor.expectation.trend", "momentum", default=True)
def momentum(market_value: float, revenue_t12m: float, profit_t12m: float, multiple: float,
             recent_return: float, sentiment: float) -> float:
    """Extrapolates the last three months' return to a year, damped by half."""
    return max(-0.9, min(1.5, 0.5 * (math.expm1(4.0 * math.log1p(max(recent_return, -0.99))))))


@rule("investor.expectation.sentiment", "mood", default=True)
def mood(market_value: float, revenue_t12m: float, profit_t12m: float, multiple: float,
         recent_return: float, sentiment: float) -> float:
    """Expects the market's mood: +30 % a year in euphoria, -30 % in gloom."""
    return 0.3 * sentiment


@rule("investor.allocation", "tilt", default=True)
def tilt(expected_return: float, base_weight: float, risk_aversion: float = 4.0) -> float:
    """Target portfolio weight: the base weight tilted by expected return, never short."""
    return max(0.0, base_weight * (1.0 + risk_aversion * expected_return))
