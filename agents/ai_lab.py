"""The AI lab: sells AI services to the end market, rents compute on take-or-pay contracts,
burns cash and raises it from investors (and from vendors, as far as its deals with them say).
It signs no more new compute than it can fund: cash, expected revenue, what its deals will
still pay in and what one round would raise at today's sentiment."""

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
        self.deal_funding = 0.0  # B$ its vendor deals could still pay in (set by the equity market)
        self.investor_funding = 0.0  # B$ one round would raise from investors now (set by the equity market)

    def contracted_gw_at(self, step: int) -> float:
        return self.contracts.gw_at(step)

    def committed_rent(self, step: int) -> float:
        return self.contracts.rent_at(step)

    def decide(self) -> None:
        cfg, prices, step = self.config, self.model.prices, self.model.steps
        revenue = self.revenue_history[-1] if self.revenue_history else 0.0
        growth = self.revenue_growth()
        target_gw = self.rules["lab.compute_target"](
            revenue, growth, prices.sentiment, cfg.ambition, cfg.horizon_months,
            prices.contract_price,
        )
        start = step + self.model.build_lead_months
        gap = max(0.0, target_gw - self.contracted_gw_at(start))
        # burn on what is delivered now and what starts within `burn_lookahead_months` (clouds
        # rarely deliver a whole contract on its first day, so the far book is not funded in advance)
        soon = sum([c.gw_at(c.start_step) * c.price_per_gw_month for c in self.contracts
                    if c.active and step < c.start_step <= step + cfg.burn_lookahead_months])
        burn = max(self.monthly_burn(), 0.0) + cfg.burn_lookahead_share * soon
        keep = self.rules["lab.cutback"](self.books.cash, burn, cfg.runway_months)
        raise_amount = self.rules["lab.funding"](self.books.cash, burn, cfg.runway_months, prices.sentiment)
        self.plan = LabPlan(new_contract_gw=min(gap * keep, self.fundable_gw(revenue, start, growth)), raise_amount=raise_amount)

    def fundable_gw(self, revenue_month: float, start: int, growth: float | None = None) -> float:
        """GW of new take-or-pay starting at `start` the lab can fund over its planning horizon
        (`growth`: its revenue growth, when the caller has it already)."""
        cfg, step = self.config, self.model.steps
        window = cfg.horizon_months
        owed = self.contracts.rent_over(step, step + window) \
            + window * (cfg.opex + cfg.opex_share * revenue_month)
        capacity = self.rules["lab.commitment_capacity"](
            self.books.cash, revenue_month, self.revenue_growth() if growth is None else growth, window, owed, self.deal_funding, self.investor_funding,
        )
        months = max(1, min(cfg.contract_months, step + window - start))  # the new contract's months inside the window
        return capacity / (max(self.model.prices.contract_price, 1e-9) * months)
