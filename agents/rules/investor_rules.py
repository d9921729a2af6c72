"""Decision rules of investors: the expectations of each strategy, how an investor picks its
strategy, and how expectations become portfolios.

Expectations are expected returns over the next year (a fraction, 0.1 = 10 %). Every
expectation rule receives the same public view of a firm (`model.markets.firm_views`).

Strategy choice follows Brock and Hommes (1998): each strategy's fitness U_h is the realised
return of the portfolio it recommended, with memory; the probability of choosing h is

    n_h = w_h exp(beta U_h) / sum_k w_k exp(beta U_k)

where w_h is the investors' predisposition to h (the scenario's mix of strategies), so with
equal fitness, or beta = 0, the mix is the predispositions.
"""

from __future__ import annotations

import bisect
import math

from agents.rules import rule


@rule("investor.expectation.fundamental", "revenue_multiple", default=True)
def fundamental(market_value: float, revenue_t12m: float, profit_t12m: float, multiple: float,
                recent_return: float, sentiment: float, months_reported: int) -> float:
    """Expects the price to close a third of the gap to `multiple` times trailing revenue
    (profit-making firms earn a premium) within a year. A firm that has reported no month
    yet gives no fundamental signal."""
    if market_value <= 0 or months_reported <= 0:
        return 0.0
    value = multiple * revenue_t12m * (1.2 if profit_t12m > 0 else 0.8)
    return max(-0.9, min(1.0, (value / market_value - 1.0) / 3.0))


@rule("investor.expectation.trend", "momentum", default=True)
def momentum(market_value: float, revenue_t12m: float, profit_t12m: float, multiple: float,
             recent_return: float, sentiment: float, months_reported: int) -> float:
    """Extrapolates the last three months' return to a year, damped by half."""
    return max(-0.9, min(1.5, 0.5 * (math.expm1(4.0 * math.log1p(max(recent_return, -0.99))))))


@rule("investor.expectation.sentiment", "mood", default=True)
def mood(market_value: float, revenue_t12m: float, profit_t12m: float, multiple: float,
         recent_return: float, sentiment: float, months_reported: int) -> float:
    """Expects the market's mood: +30 % a year in euphoria, -30 % in gloom."""
    return 0.3 * sentiment


@rule("investor.allocation", "tilt", default=True)
def tilt(expected_return: float, base_weight: float, risk_aversion: float) -> float:
    """Target portfolio weight: the base weight tilted by expected return, never short."""
    return max(0.0, base_weight * (1.0 + risk_aversion * expected_return))


def strategy_fitness(previous: float, realised_return: float, memory: float) -> float:
    """U_t = realised return of the strategy's portfolio last month + memory x U_t-1."""
    return realised_return + memory * previous


def strategy_shares(fitness: dict[str, float], predisposition: dict[str, float], intensity: float) -> dict[str, float]:
    """Logit shares of the strategies: predisposition x exp(intensity x fitness), normalised.

    A strategy nobody is predisposed to is never chosen; fitness is shifted by its maximum
    before exponentiating, so large intensities do not overflow."""
    top = max(fitness.get(h, 0.0) for h in predisposition)
    weights = {h: w * math.exp(intensity * (fitness.get(h, 0.0) - top)) for h, w in predisposition.items()}
    total = sum(weights.values())
    if total <= 0:
        return {h: 1.0 / len(predisposition) for h in predisposition}
    return {h: w / total for h, w in weights.items()}


@rule("investor.strategy_choice", "logit_switching", default=True)
def logit_switching(current: str, fitness: dict[str, float], predisposition: dict[str, float], intensity: float,
                    draw: float) -> str:
    """Each month the investor picks a strategy with the logit probabilities of
    `strategy_shares`; `draw` is a uniform number in [0, 1) from the trading stream."""
    return pick_strategy(current, strategy_shares(fitness, predisposition, intensity), draw)


def pick_strategy(current: str, shares: dict[str, float], draw: float) -> str:
    """The strategy whose slice of [0, 1) (in the order of `shares`) holds `draw`. Investors
    picking by the same shares in one month share one computation of them."""
    cumulative = 0.0
    chosen = current
    for strategy, share in shares.items():
        if share <= 0:
            continue
        chosen = strategy
        cumulative += share
        if draw < cumulative:
            break
    return chosen


def pick_strategies(current: list[str], shares: dict[str, float], draws: list[float]) -> list[str]:
    """`pick_strategy` for many investors at once: the slices' upper ends are summed once (the
    same additions in the same order), then each draw finds its slice by bisection."""
    strategies, ends = [], []
    cumulative = 0.0
    for strategy, share in shares.items():
        if not share <= 0:  # as pick_strategy: a NaN share is not skipped
            cumulative += share
            strategies.append(strategy)
            ends.append(cumulative)
    if not strategies:
        return list(current)
    if cumulative != cumulative:  # a NaN end: no order to bisect, draw by draw
        return [pick_strategy(c, shares, draw) for c, draw in zip(current, draws)]
    strategies.append(strategies[-1])  # a draw past every end keeps the last slice's strategy
    # the first slice whose end is above the draw (draw < cumulative)
    return [strategies[bisect.bisect_right(ends, draw)] for draw in draws]


@rule("investor.strategy_choice", "fixed_styles")
def fixed_styles(current: str, fitness: dict[str, float], predisposition: dict[str, float], intensity: float,
                 draw: float) -> str:
    """Every investor keeps the strategy it started with, whatever it earns (the model
    before strategy switching)."""
    return current
