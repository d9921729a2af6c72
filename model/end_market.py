"""The end market: businesses and consumers paying the labs for AI services.

Its spending is the only organic revenue of the whole chain. What buyers *want* to spend
follows a stochastic logistic adoption path: growth at `annual_growth` while far from the
`ceiling`, slowing as adoption saturates, with persistent (AR(1)) shocks. Where the ceiling
sits and how fast it is approached are the central uncertainties (MIT: 95 % of enterprise
pilots show no profit yet).

What buyers *can* spend is bounded by a budget. The end market is a sector with an income
(paid to it by the rest of the economy, growing at `income_growth`) and a cash buffer; it
spends on AI at most this month's income plus its buffer, and passes the rest of its income
back to the rest of the economy as its other spending. So its cash never goes negative and it
never pays for AI with money it has not earned: the only account in the model without a budget
is the rest of the world, whose net position is reported (`model/reporters.py`).
"""

from __future__ import annotations

import math

import numpy as np


def yearly_variance_factor(rho: float) -> float:
    """Variance of the sum of 12 consecutive values of a stationary AR(1) process with
    persistence `rho` and unit innovations: (12 + 2 sum_k (12 - k) rho^k) / (1 - rho^2)."""
    return (12.0 + 2.0 * sum((12 - k) * rho**k for k in range(1, 12))) / (1.0 - rho * rho)


class EndMarket:
    def __init__(self, config) -> None:
        self.demand = config.initial_spend  # B$/month buyers would spend on AI this month
        self.spend = config.initial_spend  # B$/month they do spend: demand within the budget
        self.annual_growth = config.annual_growth
        self.ceiling = config.ceiling
        self.persistence = config.growth_persistence
        self.income = config.income  # B$/month earned this month
        self.income_growth_month = math.log1p(config.income_growth) / 12.0
        self.buffer = config.cash_months * config.income  # B$ of cash it keeps between months
        self.shock = 0.0
        self.last_growth = 0.0  # realised monthly log growth of demand
        # monthly growth surprises are AR(1) with persistence rho; their innovations are scaled so
        # that a year's surprises add up to `volatility` (the standard deviation of the yearly log
        # change of demand), whatever rho: persistence makes surprises pile up over a year, and
        # without this scaling a stated 20 % a year was about 58 %
        self.innovation_sd = config.volatility / math.sqrt(yearly_variance_factor(config.growth_persistence))

    def trend_growth(self) -> float:
        """Expected monthly log growth of demand at today's adoption level."""
        return math.log1p(self.annual_growth) / 12.0 * (1.0 - self.demand / self.ceiling)

    def advance(self, rng: np.random.Generator, cash: float) -> None:
        """Demand takes its step; income grows; spending is demand within income plus `cash`."""
        self.shock = self.persistence * self.shock + self.innovation_sd * rng.standard_normal()
        self.last_growth = self.trend_growth() + self.shock
        self.demand = min(self.ceiling, self.demand * math.exp(self.last_growth))
        self.income *= math.exp(self.income_growth_month)
        self.spend = min(self.demand, self.income + max(0.0, cash))

    def other_spending(self, cash: float) -> float:
        """B$ passed back to the rest of the economy this month: everything above the buffer."""
        return max(0.0, cash - self.buffer)

    def stall(self, annual_growth: float) -> None:
        """A shock: adoption stops growing (or shrinks) from now on."""
        self.annual_growth = annual_growth
