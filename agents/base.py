"""What every firm shares: a name, its books, its decision rules, its recent income, its fate.

Agents decide; the model executes. A firm reads its own balance sheet (`self.books`, handed
over by the model) and last step's prices (`self.model.prices`) and returns a plan; markets
and settlement in `model/` carry plans out. Nothing here imports `model/`.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import mesa
import numpy as np


class ContractBook:
    """The take-or-pay contracts a lab or cloud is party to, with the GW under contract month
    by month kept as a schedule, so "how much is contracted at step t" costs one look-up."""

    def __init__(self) -> None:
        self.contracts: list = []
        self.gw_by_step = np.zeros(256)
        self.rent_by_step = np.zeros(256)  # B$ due per month if every contract is delivered

    def __iter__(self):
        return iter(self.contracts)

    def add(self, contract) -> None:
        if contract.end_step > len(self.gw_by_step):
            size = max(contract.end_step, 2 * len(self.gw_by_step))
            self.gw_by_step = np.concatenate([self.gw_by_step, np.zeros(size - len(self.gw_by_step))])
            self.rent_by_step = np.concatenate([self.rent_by_step, np.zeros(size - len(self.rent_by_step))])
        months = slice(contract.start_step, contract.end_step)
        # a contract without a ramp is the same GW every month: add the number, not an array of it
        gw = contract.gw if contract.ramp_months <= 0 else contract.schedule(contract.start_step)
        self.gw_by_step[months] += gw
        self.rent_by_step[months] += gw * contract.price_per_gw_month
        self.contracts.append(contract)

    def end(self, contract, step: int) -> None:
        """Take an ended contract's remaining months off the schedule."""
        first = max(step, contract.start_step)
        gw = contract.schedule(first)
        self.gw_by_step[first : contract.end_step] -= gw
        self.rent_by_step[first : contract.end_step] -= gw * contract.price_per_gw_month

    def gw_at(self, step: int) -> float:
        return float(self.gw_by_step[step]) if 0 <= step < len(self.gw_by_step) else 0.0

    def rent_at(self, step: int) -> float:
        return float(self.rent_by_step[step]) if 0 <= step < len(self.rent_by_step) else 0.0

    def rent_over(self, first: int, stop: int) -> float:
        """B$ due over months `first` to `stop` (exclusive): the same left-to-right sum as adding
        `rent_at` month by month (months past the schedule add 0.0, which changes no sum)."""
        return sum(self.rent_by_step[max(first, 0) : max(stop, 0)].tolist())

    def peak(self, first: int, last: int) -> float:
        # Python's max over a short list is faster than numpy's (the schedule holds no NaN)
        return max(self.gw_by_step[max(first, 0) : last + 1].tolist(), default=0.0)

    def prune(self, step: int) -> None:
        """Forget contracts that are over: they no longer bill or deliver."""
        self.contracts = [c for c in self.contracts if c.active and c.end_step > step]


class Firm(mesa.Agent):
    """A firm of the compute economy. Subclasses set `kind` and implement `decide()`."""

    kind = "firm"

    def __init__(self, model: mesa.Model, name: str, config: Any, rules: dict[str, Any]) -> None:
        super().__init__(model)
        self.name = name
        self.config = config
        self.rules = rules
        self.books: Any = None  # the firm's BalanceSheet, set by the model's ledger
        self.plan: Any = None
        self.defaulted = False
        self.default_step: int | None = None
        self.default_cause = ""
        self.revenue_month = 0.0
        self.costs_month = 0.0
        self.revenue_history: deque[float] = deque(maxlen=12)
        self.profit_history: deque[float] = deque(maxlen=12)
        self.price_history: deque[float] = deque(maxlen=4)  # share price, last four months

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def active(self) -> bool:
        return not self.defaulted

    @property
    def revenue_t12m(self) -> float:
        """Revenue over the last 12 months (annualised while history is shorter)."""
        h = self.revenue_history
        return sum(h) * 12.0 / len(h) if h else 0.0

    @property
    def profit_t12m(self) -> float:
        h = self.profit_history
        return sum(h) * 12.0 / len(h) if h else 0.0

    def revenue_growth(self, months: int = 6) -> float:
        """Annualised growth of monthly revenue over the last `months` months."""
        h = self.revenue_history
        if len(h) <= months or h[-1 - months] <= 0 or h[-1] <= 0:
            return 0.0
        return (h[-1] / h[-1 - months]) ** (12.0 / months) - 1.0

    def close_month(self) -> None:
        """Roll this month's income into the history; called once per step by the model."""
        self.revenue_history.append(self.revenue_month)
        self.profit_history.append(self.revenue_month - self.costs_month)
        self.revenue_month = 0.0
        self.costs_month = 0.0

    def monthly_burn(self) -> float:
        """Average monthly cash loss over the last quarter (0 when profitable)."""
        h = list(self.profit_history)[-3:]
        return max(0.0, -sum(h) / len(h)) if h else 0.0

    def decide(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
