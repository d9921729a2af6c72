"""The chip vendor: makes accelerators, sells them by the GW to the modelled clouds and to
buyers outside the chain, and finances its own customers through the deals its scenario states
(equity per GW deployed, warrants, round participation, vendor loans, credit lines, guarantees,
capacity backstops) within an exposure budget."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from agents.base import Firm


@dataclass(slots=True)
class VendorPlan:
    price_per_gw: float  # B$/GW asked this month
    capacity_gw: float  # GW it can ship this month
    financing_budget: float  # B$ of new circular exposure it accepts this month
    opex: float  # B$ of operating costs this month


class ChipVendor(Firm):
    kind = "vendor"

    def __init__(self, model, name, config, rules) -> None:
        super().__init__(model, name, config, rules)
        self.capacity_gw = config.capacity_gw_month
        self.orders_history: deque[float] = deque([config.capacity_gw_month * 0.8] * 3, maxlen=3)
        self.orders_month = 0.0  # GW ordered this month (filled by the chip market)
        # The year before the start: outside sales only until the model adds what the modelled
        # clouds buy (an unreported burn-in from the opening state), so the trailing-12m measures
        # start from what this economy actually produces
        self.seed_history(self.outside_sales_month())
        self.round_tripped_history: deque[float] = deque([0.0] * 12, maxlen=12)
        self.exposure = 0.0  # circular exposure now (B$), updated by the model

    def outside_sales_month(self, months: int = 0, sentiment_change: float = 0.0, spread_change: float = 0.0) -> float:
        """B$ of chips sold this month to buyers outside the modelled chain, `months` after the
        start: their capital spending on its trend, moved by the capital markets that fund it."""
        cfg = self.config
        return self.rules["vendor.outside_sales"](
            cfg.outside_capex, cfg.outside_capex_share, cfg.outside_growth, months, sentiment_change, spread_change,
            cfg.outside_sentiment_elasticity, cfg.outside_spread_elasticity,
        )

    def seed_history(self, monthly_revenue: float) -> None:
        """Trailing history of a steady year at `monthly_revenue` (profit at gross margin less opex)."""
        cfg = self.config
        self.revenue_history.clear()
        self.profit_history.clear()
        self.revenue_history.extend([monthly_revenue] * 12)
        self.profit_history.extend([monthly_revenue * cfg.gross_margin - cfg.opex] * 12)
        self.peak_revenue_t12m = self.revenue_t12m

    def decide(self) -> None:
        cfg = self.config
        recent = sum(self.orders_history) / len(self.orders_history)
        utilisation = recent / self.capacity_gw if self.capacity_gw > 0 else 1.0
        self.capacity_gw = self.rules["vendor.production"](
            self.capacity_gw, recent, cfg.capacity_growth / 12.0
        ) * self.model.export_factor(self.name)
        price = self.rules["vendor.pricing"](cfg.price_per_gw, utilisation)
        revenue_t12m = self.revenue_t12m  # a sum over the history: read once
        budget = self.rules["vendor.financing"](cfg.financing_share, revenue_t12m, self.exposure)
        budget = min(budget, max(0.0, self.books.cash - cfg.financing_cash_floor_months * cfg.opex))
        self.peak_revenue_t12m = max(self.peak_revenue_t12m, revenue_t12m)
        opex = self.rules["vendor.opex"](cfg.opex, revenue_t12m, self.peak_revenue_t12m)
        self.plan = VendorPlan(price_per_gw=price, capacity_gw=self.capacity_gw, financing_budget=budget, opex=opex)

    def close_month(self) -> None:
        super().close_month()
        self.orders_history.append(self.orders_month)
        self.orders_month = 0.0
