"""The chip vendors' opening revenue history, consistent with the opening chain.

A vendor's trailing-12-month revenue at step 0 is what this economy itself produces: its sales
outside the modelled chain (its own driver, `vendor.outside_sales`) plus what the modelled
clouds buy from it. The latter is measured, not assumed: an unreported burn-in runs the opening
economy for `vendors.*.opening_history_months` with demand on its trend (no volatility, no
scheduled shock) and averages each vendor's chip sales. Seeding the history from a reported
figure instead (the vendor's `annual_revenue`) builds a fall into every run whenever the
modelled clouds buy less than the figure implies.

The opening is a property of the scenario, not of the run's seed: the burn-in builds its own
economy on a fixed seed (`BURN_IN_SEED`, which fixes its investors' wealth and appetites too),
so every seed of a scenario opens from the same history, and a process that runs many seeds of
one scenario (a sweep's worker, the live page's reset) runs its burn-in once: the result is
kept per scenario (`_chain_purchases`, at most `CACHE_SCENARIOS` of them). The kept numbers are
a pure function of the scenario, so nothing passes from one run to another.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from agents.rules import resolve_all

BURN_IN_SEED = 0
CACHE_SCENARIOS = 256  # a few KB each; a sweep over more points recomputes the oldest

# scenario and rules digest -> (the rule functions, vendor -> B$/month)
_chain_purchases: OrderedDict[str, tuple[tuple, dict[str, float]]] = OrderedDict()


class _Discard:
    """Stands in for the DataCollector: the burn-in is not reported."""

    def collect(self, model: Any) -> None:
        pass


def seed_vendor_history(m: Any) -> None:
    """Seed each vendor's trailing history with outside sales plus the chain's burn-in purchases."""
    bought = chain_purchases(m.params)
    for vendor in m.vendors:
        vendor.seed_history(vendor.outside_sales_month() + bought[vendor.name])


def chain_purchases(scenario: Any) -> dict[str, float]:
    """Each vendor's mean monthly chip sales to the modelled clouds over its opening-history
    months of the calm burn-in of `scenario` (computed once per scenario and process)."""
    # demand on its trend and no scheduled shock: the opening must not know the run's shocks
    calm = scenario.with_overrides({"end_market.volatility": 0.0, "shocks": []})
    # the rules a name resolves to can change in a process (a rule re-registered under its
    # name, a new default), so the key holds the functions as well as the scenario's text
    # (the entry keeps the functions alive, so no other function can take their ids meanwhile)
    funcs = tuple(sorted(resolve_all(calm.rules).items()))
    key = hashlib.sha256((calm.model_dump_json() + repr([(slot, id(f)) for slot, f in funcs])).encode()).hexdigest()
    if key in _chain_purchases:
        _chain_purchases.move_to_end(key)
    else:
        _chain_purchases[key] = (funcs, _burn_in(calm))
        if len(_chain_purchases) > CACHE_SCENARIOS:
            _chain_purchases.popitem(last=False)
    return dict(_chain_purchases[key][1])


def _burn_in(calm: Any) -> dict[str, float]:
    from model.economy import RoundtripModel

    # (the burn-in's vendors open with outside sales only; that moves the chain's purchases
    # little, through their financing budgets, so one pass is enough)
    burn = RoundtripModel(calm, rng=BURN_IN_SEED, check_invariants=False, firm_measures=False, vendor_history=False)
    burn.datacollector = _Discard()
    months = {v.name: v.config.opening_history_months for v in burn.vendors}
    sales: dict[str, list[float]] = {name: [] for name in months}
    for _ in range(max(months.values())):
        burn.step()
        month = dict.fromkeys(sales, 0.0)
        for flow in burn.step_flows:
            if flow.kind == "chip_sale" and flow.payee in month:
                month[flow.payee] += flow.amount
        for name, amount in month.items():
            sales[name].append(amount)
    return {name: sum(sales[name][: months[name]]) / months[name] for name in sales}
