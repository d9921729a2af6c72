"""The AI lab: sells AI services to the end market, rents compute on take-or-pay contracts,
burns cash and raises it from investors (and from the vendors whose chips it uses)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.base import ContractBook, Firm


@dataclass(slots=True)
class LabPlan:
    new_contract_gw: float  # GW to sign for, starting after the clouds' build lead time
    raise_amount: float  # B$ of equity to raise this month


class AILab(Firm):
    kind = "lab"

    def __init__(self, model, name, config, rules) -> None:
        super().__init__(model, name, config, rules)
        self.contracts = ContractBook()  # take-or-pay contracts it rents under
        self.compute_gw = 0.0  # delivered this step
        self.services_revenue = 0.0  # paid by the end market this step
        self.deployed_peak = 0.0  # most GW it has had delivered (deployment deals pay on new peaks)

    def contracted_gw_at(self, step: int) -> float:
        return self.contracts.gw_at(step)

    def committed_rent(self, step: int) -> float:
        return self.contracts.rent_at(step)

    def decide(self) -> None:
        cfg, prices, step = self.config, self.model.prices, self.model.steps
        revenue = self.revenue_history[-1] if self.revenue_history else 0.0
        target_gw = self.rules["lab.compute_target"](
            revenue, self.revenue_growth(), prices.sentiment, cfg.ambition, cfg.horizon_months,
            prices.contract_price,
        )
        start = step + self.model.build_lead_months
        gap = max(0.0, target_gw - self.contracted_gw_at(start))
        # burn on what is delivered now and what starts within a quarter (clouds rarely deliver
        # a whole contract on its first day, so the far book is not funded in advance)
        soon = sum(c.gw_at(c.start_step) * c.price_per_gw_month for c in self.contracts
                   if c.active and step < c.start_step <= step + 3)
        burn = max(self.monthly_burn(), 0.0) + 0.5 * soon
        keep = self.rules["lab.cutback"](self.books.cash, burn, cfg.runway_months)
        raise_amount = self.rules["lab.funding"](self.books.cash, burn, cfg.runway_months, prices.sentiment)
        self.plan = LabPlan(new_contract_gw=gap * keep, raise_amount=raise_amount)
