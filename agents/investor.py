"""Investors: each month an investor picks a strategy (fundamentalist, trend follower,
sentiment follower) by the strategies' recent performance, sets target holdings from that
strategy's expectations, holds shares and loans, funds rounds and lends."""

from __future__ import annotations

from typing import Any, Callable

import mesa

STRATEGIES = ("fundamental", "trend", "sentiment")


def target_weights(expected: dict[str, float], base_weights: dict[str, float], allocate: Callable[..., float],
                   risk_aversion: float, max_equity_share: float) -> dict[str, float]:
    """Portfolio weights (share of wealth per firm): the base weights tilted by expected
    returns through the allocation rule, scaled down so shares never exceed `max_equity_share`
    of wealth. The same function gives an investor's targets and a strategy's recommended
    portfolio, whose return is the strategy's fitness."""
    weights = {name: allocate(er, base_weights.get(name, 0.0), risk_aversion) for name, er in expected.items()}
    total = sum(weights.values())
    scale = min(1.0, max_equity_share / total) if total > 0 else 0.0
    return {name: w * scale for name, w in weights.items()}


class Investor(mesa.Agent):
    kind = "investor"

    def __init__(self, model: mesa.Model, name: str, strategy: str, rules: dict, risk_appetite: float,
                 config: Any) -> None:
        super().__init__(model)
        self.name = name
        self.strategy = strategy  # one of STRATEGIES; may change every month
        self.rules = rules
        self.config = config  # the scenario's [investors] section
        self.risk_appetite = risk_appetite  # scales its offers in funding rounds
        self.books = None
        self.targets: dict[str, float] = {}  # firm -> target value of holdings (B$)
        self.base_weights: dict[str, float] = {}  # firm -> share of wealth held at the start
        self.defaulted = False

    def decide(self) -> None:
        """Pick this month's strategy by the strategies' fitness (one uniform draw from the
        trading stream), then target holdings of every listed firm: the starting weights
        tilted by that strategy's expectations (computed once per strategy and step by the
        model)."""
        m, cfg = self.model, self.config
        book = m.strategies
        self.strategy = self.rules["investor.strategy_choice"](
            self.strategy, book.fitness, book.predisposition, cfg.intensity_of_choice, float(m.rng_for("trading").random()))
        weights = target_weights(m.expected_returns[self.strategy], self.base_weights, self.rules["investor.allocation"],
                                 cfg.risk_aversion, cfg.max_equity_share)
        wealth = self.books.total_assets
        self.targets = {name: w * wealth for name, w in weights.items()}
