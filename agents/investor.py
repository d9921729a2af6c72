"""Investors: each forms expectations by its own rule (fundamental, trend, sentiment),
holds shares and loans, funds rounds and lends."""

from __future__ import annotations

import mesa


class Investor(mesa.Agent):
    kind = "investor"

    def __init__(self, model: mesa.Model, name: str, style: str, rules: dict, risk_appetite: float) -> None:
        super().__init__(model)
        self.name = name
        self.style = style  # "fundamental", "trend" or "sentiment"
        self.rules = rules
        self.risk_appetite = risk_appetite  # scales its base weight in these firms
        self.books = None
        self.targets: dict[str, float] = {}  # firm -> target value of holdings (B$)
        self.base_weights: dict[str, float] = {}  # firm -> share of wealth held at the start
        self.defaulted = False

    def decide(self) -> None:
        """Target holdings of every listed firm: the starting weights, tilted by the expectations
        of its style (computed once per style and step by the model)."""
        expected = self.model.expected_returns[self.style]
        wealth = self.books.total_assets
        allocate = self.rules["investor.allocation"]
        targets = {name: allocate(er, self.base_weights.get(name, 0.0)) for name, er in expected.items()}
        total = sum(targets.values())
        scale = min(1.0, 0.95 / total) if total > 0 else 0.0  # never more than 95 % in equity
        self.targets = {name: w * scale * wealth for name, w in targets.items()}
