"""The end market: businesses and consumers paying the labs for AI services.

Its spending is the only organic revenue of the whole chain. It follows a stochastic
logistic adoption path: growth at `annual_growth` while far from the `ceiling`, slowing as
adoption saturates, with persistent (AR(1)) shocks. Where the ceiling sits and how fast it is
approached are the central uncertainties (MIT: 95 % of enterprise pilots show no profit yet).
"""

from __future__ import annotations

import math

import numpy as np


class EndMarket:
    def __init__(self, config) -> None:
        self.spend = config.initial_spend  # B$/month
        self.annual_growth = config.annual_growth
        self.ceiling = config.ceiling
        self.volatility = config.volatility
        self.persistence = config.growth_persistence
        self.shock = 0.0
        self.last_growth = 0.0  # realised monthly log growth

    def trend_growth(self) -> float:
        """Expected monthly log growth at today's adoption level."""
        return math.log1p(self.annual_growth) / 12.0 * (1.0 - self.spend / self.ceiling)

    def advance(self, rng: np.random.Generator) -> None:
        sigma = self.volatility / math.sqrt(12.0)
        self.shock = self.persistence * self.shock + math.sqrt(1 - self.persistence**2) * sigma * rng.standard_normal()
        self.last_growth = self.trend_growth() + self.shock
        self.spend = min(self.ceiling, self.spend * math.exp(self.last_growth))

    def stall(self, annual_growth: float) -> None:
        """A shock: adoption stops growing (or shrinks) from now on."""
        self.annual_growth = annual_growth
