"""Pricing rules of the markets: credit spreads, funding-round valuations, the spot price of
compute, the end market's split between labs, and the sentiment that runs through them all."""

from __future__ import annotations

import math

from agents.rules import rule


@rule("market.credit_spread", "risk_based", default=True)
def risk_based_spread(base: float, leverage: float, tenant_quality: float, default_intensity: float,
                      sentiment: float, leverage_w: float, tenant_w: float, default_w: float,
                      sentiment_w: float) -> float:
    """Spread over risk-free (per year): base, plus leverage (debt over assets), plus tenant
    risk (1 - quality, quality 1 = investment grade), plus recent defaults, plus pessimism.

    With CoreWeave's numbers (non-investment-grade tenants, high leverage) it spans the
    SOFR + 2.25 % to SOFR + 13 % range of its filings."""
    return (base + leverage_w * min(leverage, 1.5) + tenant_w * (1.0 - tenant_quality)
            + default_w * default_intensity + sentiment_w * max(0.0, -sentiment))


@rule("market.round_valuation", "anchored", default=True)
def anchored_valuation(revenue_annual: float, growth: float, sentiment: float, multiple: float, market_value: float,
                       max_up: float, max_down: float) -> float:
    """Pre-money valuation of a funding round (B$): the revenue-multiple view of
    `revenue_multiple`, but no further from the firm's current market value (its last round or
    its share price) than `max_up` above or `max_down` below it. New money prices a company
    against what it was last worth: OpenAI's rounds went about 157 -> 300 -> 500 B$ in
    2024-25, each at most doubling it. Unanchored, a lab whose revenue growth spiked was repriced
    4x in one round and one with no revenue history yet halved, which moved the whole market
    in the first year of every run."""
    view = round_valuation(revenue_annual, growth, sentiment, multiple, market_value, max_up, max_down)
    if market_value <= 0:
        return view
    return min(market_value * (1.0 + max_up), max(market_value * (1.0 - max_down), view))


@rule("market.round_valuation", "revenue_multiple")
def round_valuation(revenue_annual: float, growth: float, sentiment: float, multiple: float, market_value: float,
                    max_up: float, max_down: float) -> float:
    """Pre-money valuation of a funding round (B$): a revenue multiple that rises with growth
    and sentiment (at euphoria, twice the neutral multiple; at gloom, a third), whatever the
    firm was worth before (the model before the anchoring; `market_value`, `max_up` and
    `max_down` are not used)."""
    m = multiple * (1.0 + max(-0.5, min(2.0, growth))) * math.exp(0.7 * sentiment)
    return max(0.0, revenue_annual * m)


@rule("market.spot_price", "idle_discount", default=True)
def idle_discount(reference_price: float, idle_share: float, fleet_age_years: float, efficiency_gain: float) -> float:
    """B$ per GW-month on the spot market: the contract reference, falling steeply with idle
    capacity (at 30 % idle it is half) and with the fleet's age against newer chips."""
    return reference_price * math.exp(-2.3 * idle_share) * (1.0 - efficiency_gain) ** fleet_age_years


@rule("market.lab_share", "compute_weighted", default=True)
def compute_weighted(base_weight: float, compute_gw: float) -> float:
    """A lab's pull on the end market: its starting weight times the square root of its
    compute (more compute serves more users, with diminishing returns)."""
    return base_weight * math.sqrt(max(compute_gw, 0.0))


@rule("market.sentiment", "adaptive", default=True)
def adaptive_sentiment(previous: float, market_return: float, growth_surprise: float, new_defaults: int,
                       persistence: float, return_w: float, growth_w: float, default_w: float) -> float:
    """Next month's sentiment in [-1, 1]: it persists, rises with market returns and end-market
    growth above trend, and drops by `default_w` (in atanh units) with each default.

    Sentiment lives on (-1, 1) as tanh of a latent mood; the latent mood decays by
    `persistence`, moves with the news impulse, and falls by exactly `default_w` per default."""
    impulse = return_w * market_return + growth_w * growth_surprise
    latent = persistence * math.atanh(max(-0.999, min(0.999, previous))) + (1 - persistence) * 3.0 * impulse
    return math.tanh(latent - default_w * new_defaults)
