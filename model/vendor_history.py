"""The chip vendors' opening revenue history, consistent with the opening chain.

A vendor's trailing-12-month revenue at step 0 is what this economy itself produces: its sales
outside the modelled chain (its own driver, `vendor.outside_sales`) plus what the modelled
clouds buy from it. The latter is measured, not assumed: an unreported burn-in runs a copy of
the opening economy for `vendors.*.opening_history_months` with demand on its trend (no shocks)
and averages each vendor's chip sales. Seeding the history from a reported figure instead (the
vendor's `annual_revenue`) builds a fall into every run whenever the modelled clouds buy less
than the figure implies.

The copy draws from fixed streams, so the run's own random streams are untouched (common
random numbers hold). It keeps the run's investors, whose wealth and appetites are drawn per
seed, so the opening differs slightly between seeds (Nvidia's opening month: 11.7199 to 11.7228
B$ over seeds 1-3) and is the same for two scenarios on the same seed.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any


class _Discard:
    """Stands in for the DataCollector: the burn-in is not reported."""

    def collect(self, model: Any) -> None:
        pass


def seed_vendor_history(m: Any) -> None:
    """Seed each vendor's trailing history with outside sales plus the chain's burn-in purchases."""
    from model.accounting import account
    from model.economy import random_streams

    months = max(v.config.opening_history_months for v in m.vendors)
    # the copy numbers its new loans and contracts apart from the originals' (ids need only be
    # unique within a model), so its id counters are fresh, not copies
    fresh = {id(m.loan_ids): itertools.count(10**9), id(m.contract_ids): itertools.count(10**9)}
    burn = copy.deepcopy(m, fresh)
    burn.check_invariants = False
    burn.datacollector = _Discard()
    burn.streams = random_streams(0)
    # demand on its trend and no scheduled shock: the opening must not know the run's shocks
    # (setting `volatility` once did nothing: the end market draws with `innovation_sd`)
    burn.end_market.innovation_sd = 0.0
    burn.end_market.shock = 0.0
    burn.params = burn.params.model_copy(update={"shocks": []})
    account(burn, opening=True)
    # (the burn-in's vendors start from outside sales only; that moves the chain's purchases
    # little, through their financing budgets, so one pass is enough)
    chain: dict[str, list[float]] = {v.name: [] for v in m.vendors}
    for _ in range(months):
        burn.step()
        sales = dict.fromkeys(chain, 0.0)
        for flow in burn.step_flows:
            if flow.kind == "chip_sale" and flow.payee in sales:
                sales[flow.payee] += flow.amount
        for name, amount in sales.items():
            chain[name].append(amount)
    for vendor in m.vendors:
        bought = chain[vendor.name][: vendor.config.opening_history_months]
        vendor.seed_history(vendor.outside_sales_month() + sum(bought) / len(bought))
