"""The power utility: sells energy at a price that rises with scarcity, connects data centres
after a lead time, and adds generation when the queue asks for it."""

from __future__ import annotations

from dataclasses import dataclass

from agents.base import Firm


@dataclass(slots=True)
class UtilityPlan:
    price_mwh: float  # $/MWh this month
    expansion_gw: float  # GW of generation started this month
    loan_request: float  # B$ borrowed to build it


class PowerUtility(Firm):
    kind = "utility"

    def __init__(self, model, name, config, rules) -> None:
        super().__init__(model, name, config, rules)
        self.capacity_gw = config.capacity_gw
        self.connected_gw = 0.0  # connections granted and live, set by the model
        self.queue: list = []  # PowerRequest waiting
        self.pipeline: list[tuple[int, float]] = []  # (ready step, GW) of generation being built
        self.load_gw = 0.0  # drawn last step

    def decide(self) -> None:
        p = self.model.params.power
        price = self.rules["utility.pricing"](p.base_price, self.load_gw, self.capacity_gw, p.scarcity_exponent, p.scarcity_multiplier)
        # in GW of generation: requests are IT load, the grid also feeds the cooling (PUE)
        queued = sum([r.gw for r in self.queue]) * p.pue
        spare = self.capacity_gw + sum([gw for _, gw in self.pipeline]) - self.connected_gw * p.pue
        expansion = self.rules["utility.expansion"](queued, spare, self.config.capacity_growth_gw_year / 12.0)
        cost = expansion * self.config.build_cost_per_gw
        loan = max(0.0, cost + 3.0 * self.config.opex - self.books.cash)
        self.plan = UtilityPlan(price_mwh=price, expansion_gw=expansion, loan_request=loan)
