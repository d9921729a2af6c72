"""The cloud provider: buys GPUs, powers them, rents them to labs on contract or on the spot
market, and borrows against them."""

from __future__ import annotations

from dataclasses import dataclass

from agents.base import ContractBook, Firm


@dataclass(slots=True)
class CloudPlan:
    chip_order_gw: float  # GW of chips to buy this month
    loan_request: float  # B$ of GPU-backed borrowing asked for
    power_request_gw: float  # GW of grid connection to ask for
    contract_price: float  # B$/GW-month asked for new take-or-pay contracts


class CloudProvider(Firm):
    kind = "cloud"

    def __init__(self, model, name, config, rules) -> None:
        super().__init__(model, name, config, rules)
        self.contracts = ContractBook()  # take-or-pay contracts it delivers under
        self.fleet = None  # a Fleet of GPU vintages, set by the model
        self.connected_gw = config.powered_gw
        self.queued_gw = 0.0
        self.spot_sold_gw = 0.0
        self.spot_capacity_gw = 0.0  # powered GPUs left after contracts this step
        self.power_bill = 0.0  # B$ owed to its utility this step

    def contracted_gw_at(self, step: int) -> float:
        return self.contracts.gw_at(step)

    def contracted_gw_peak(self, first: int, last: int) -> float:
        return self.contracts.peak(first, last)

    def idle_gw(self, step: int) -> float:
        """Installed, powered GPUs not under contract."""
        return max(0.0, self.powered_fleet_gw() - self.contracted_gw_at(step))

    def powered_fleet_gw(self) -> float:
        return min(self.fleet.gw, self.connected_gw)

    def decide(self) -> None:
        cfg, prices, model = self.config, self.model.prices, self.model
        step, lead = model.steps, model.build_lead_months
        ahead = self.contracted_gw_at(step + lead)
        chip_price = prices.chip_price
        capital_per_gw = chip_price + model.params.gpus.shell_cost_per_gw
        # read more than once below; nothing changes them in between
        running_cost = model.running_cost_per_gw_month(self.name)
        fixed_costs = self.fixed_costs(running_cost)
        fleet_gw = self.fleet.gw
        affordable = max(0.0, self.books.cash - cfg.order_cash_buffer_months * fixed_costs) / capital_per_gw * (1 + model.vendor_loan_share)
        powerable = max(0.0, model.powered_gw_by(self, step + lead) - fleet_gw)  # no chips without power
        order = self.rules["cloud.capex"](ahead, fleet_gw, cfg.spot_buffer, min(affordable, powerable))
        wanted = self.rules["cloud.capex"](ahead, fleet_gw, cfg.spot_buffer, powerable)
        secured = model.secured_debt(self.name)
        collateral = self.fleet.economic_value(prices.collateral_factor, model.economic_life_months)
        # borrow for what it wants to build, not only what it can afford today
        need = max(0.0, (wanted - order) * capital_per_gw + cfg.loan_cash_buffer_months * fixed_costs
                   - (self.books.cash - order * capital_per_gw))
        loan = self.rules["cloud.financing"](need, collateral, secured, model.params.credit.max_ltv)
        power = self.rules["cloud.power_request"](
            self.contracted_gw_peak(step, step + model.params.power.lead_time_months + 12),
            self.connected_gw, self.queued_gw,
        )
        price = self.rules["cloud.contract_price"](
            chip_price, model.params.gpus.shell_cost_per_gw, model.economic_life_months,
            running_cost, prices.risk_free + prices.spread.get(self.name, 0.05),
            prices.spot_price,
        )
        self.plan = CloudPlan(chip_order_gw=order, loan_request=loan, power_request_gw=power, contract_price=price)

    def fixed_costs(self, running_cost_per_gw: float | None = None) -> float:
        """Monthly costs it owes whatever happens: opex, power, debt service (estimated).
        `running_cost_per_gw`: the model's running cost per GW-month, when the caller has it."""
        if running_cost_per_gw is None:
            running_cost_per_gw = self.model.running_cost_per_gw_month(self.name)
        return self.config.opex + running_cost_per_gw * self.fleet.gw + self.model.debt_service_estimate(self.name)
