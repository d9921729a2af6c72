"""The investment strategies' record: what each strategy recommended and how it performed.

Brock and Hommes (1998): a strategy's fitness is the realised return of
the portfolio it recommended last month, with memory,

    U_h,t = sum_j w_h,j,t-1 (p_j,t / p_j,t-1 - 1) + memory * U_h,t-1

(cash earns nothing in this economy, so the cash part of the portfolio adds nothing). The
recommended portfolio of strategy h is what an investor holding the market's base weights
would target under h's expectations (`agents.investor.target_weights`). Investors read the
fitness when they pick their strategy (`investor.strategy_choice`).
"""

from __future__ import annotations

from typing import Any, Callable

from agents.investor import STRATEGIES, target_weights
from agents.rules.investor_rules import strategy_fitness, strategy_shares


class StrategyBook:
    def __init__(self, predisposition: dict[str, float], base_weights: dict[str, float]) -> None:
        total = sum(predisposition.values())  # positive: checked when the investors are built
        self.predisposition = {h: w / total for h, w in predisposition.items()}
        self.base_weights = base_weights  # firm -> share of all investors' wealth held at the start
        self.fitness = {h: 0.0 for h in predisposition}
        self.recommended: dict[str, dict[str, float]] = {h: {} for h in predisposition}
        self.prices: dict[str, float] = {}  # prices at which the recommendations were made

    def shares(self, intensity: float) -> dict[str, float]:
        """The logit probabilities of each strategy at today's fitness."""
        return strategy_shares(self.fitness, self.predisposition, intensity)

    def review(self, prices: dict[str, float], expected: dict[str, dict[str, float]], allocate: Callable[..., float],
               risk_aversion: float, max_equity_share: float, memory: float) -> None:
        """Score last month's recommendations at today's prices, then record this month's.
        A firm that has defaulted since (price 0) returned -100 %."""
        before = self.prices
        for h, weights in self.recommended.items():
            realised = sum([w * (prices.get(firm, 0.0) / before[firm] - 1.0)
                            for firm, w in weights.items() if before.get(firm, 0.0) > 0])
            self.fitness[h] = strategy_fitness(self.fitness[h], realised, memory)
        self.recommended = {h: target_weights(expected[h], self.base_weights, allocate, risk_aversion, max_equity_share)
                            for h in self.recommended}
        self.prices = dict(prices)


def open_strategy_book(m: Any) -> StrategyBook:
    """The record at the start: no fitness yet; the base weights are the investors' holdings
    over their wealth, all investors together (the market portfolio)."""
    inv = m.params.investors
    wealth = sum(i.books.total_assets for i in m.investors)
    held: dict[str, float] = {}
    for investor in m.investors:
        for account, value in investor.books.assets.items():
            if account.startswith("shares:"):
                held[account[7:]] = held.get(account[7:], 0.0) + value
    base = {firm: value / wealth for firm, value in held.items()} if wealth > 0 else {}
    return StrategyBook({h: getattr(inv, h) for h in STRATEGIES}, base)
