"""The chip vendor: makes accelerators, sells them by the GW, and finances its own customers
(equity per GW deployed, warrants, vendor loans, capacity backstops) within an exposure budget."""

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
        # Seed revenue history with the year before the start (the trailing-12m measures need it)
        self.revenue_history.extend([config.annual_revenue / 12.0] * 12)
        self.profit_history.extend([config.annual_revenue / 12.0 * (config.gross_margin - 0.2)] * 12)
        self.round_tripped_history: deque[float] = deque([0.0] * 12, maxlen=12)
        self.exposure = 0.0  # circular exposure now (B$), updated by the model
        self.peak_revenue_t12m = self.revenue_t12m

    def decide(self) -> None:
        cfg = self.config
        recent = sum(self.orders_history) / len(self.orders_history)
        utilisation = recent / self.capacity_gw if self.capacity_gw > 0 else 1.0
        self.capacity_gw = self.rules["vendor.production"](
            self.capacity_gw, recent, cfg.capacity_growth / 12.0
        ) * self.model.export_factor(self.name)
        price = self.rules["vendor.pricing"](cfg.price_per_gw, utilisation)
        budget = self.rules["vendor.financing"](cfg.financing_share, self.revenue_t12m, self.exposure)
        budget = min(budget, max(0.0, self.books.cash - 6.0 * cfg.opex))  # never below half a year of opex
        self.peak_revenue_t12m = max(self.peak_revenue_t12m, self.revenue_t12m)
        opex = self.rules["vendor.opex"](cfg.opex, self.revenue_t12m, self.peak_revenue_t12m)
        self.plan = VendorPlan(price_per_gw=price, capacity_gw=self.capacity_gw, financing_budget=budget, opex=opex)

    def close_month(self) -> None:
        super().close_month()
        self.orders_history.append(self.orders_month)
        self.orders_month = 0.0
