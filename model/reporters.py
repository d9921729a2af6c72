"""Measures: Mesa DataCollector reporters, each a named, documented function of the model.

Chain measures are columns named as the functions; per-firm measures are columns named
`measure:firm` (e.g. `revenue:OpenAI`). Money in B$ per month unless said otherwise.
"""

from __future__ import annotations

from typing import Any

import mesa

from model.ledger import END_MARKET, REST_OF_WORLD


# Reference levels of circularity for charts and summaries (docs/calibration.md):
LUCENT_CIRCULARITY = 0.24  # Lucent's circular (vendor) financing as a share of revenue (2000)
NVIDIA_SEED_CIRCULARITY = 0.67  # Nvidia's direct investments as a share of revenue (Tunguz; unsourced)
CIRCULARITY_REFERENCES = ((LUCENT_CIRCULARITY, "Lucent 2000"), (NVIDIA_SEED_CIRCULARITY, "Nvidia 2025, seed claim"))


# ----------------------------------------------------------------------------- chain


def end_market_spend(m: Any) -> float:
    """End-market spending on AI services this month (B$/month): the only organic revenue."""
    return m.end_market.spend


def end_market_cash(m: Any) -> float:
    """The end market's cash (B$): never negative, it spends out of its income."""
    return m.ledger.sheets[END_MARKET].cash


def rest_of_world_net(m: Any) -> float:
    """Cash the rest of the world has received from the modelled economy less what it has paid
    in, since step 0 (B$): the one account without a budget (negative: it has been paying in)."""
    return m.ledger.sheets[REST_OF_WORLD].cash


def compute_spend(m: Any) -> float:
    """Rent paid for compute this month, on contract and spot (B$/month)."""
    return m.compute_spend


def organic_coverage(m: Any) -> float:
    """End-market money reaching the compute chain (labs' AI-services revenue and spot rent
    paid directly) over total compute spending: below 1, someone else pays."""
    return m.organic_revenue / m.compute_spend if m.compute_spend > 0 else 0.0


def gw_contracted(m: Any) -> float:
    """GW under live take-or-pay contracts."""
    return sum(c.contracted_gw_at(m.steps) for c in m.clouds)


def gw_built(m: Any) -> float:
    """GW of GPUs installed in clouds' fleets (powered or not)."""
    return sum(c.fleet.gw for c in m.clouds)


def gw_powered(m: Any) -> float:
    """GW of GPUs with a live grid connection."""
    return sum(c.powered_fleet_gw() for c in m.clouds if not c.defaulted)


def gw_idle(m: Any) -> float:
    """GW of GPUs neither delivering a contract nor sold spot, GPUs waiting for power included."""
    return m.prices.idle_gw + m.prices.stranded_gw


def gpu_spot_price(m: Any) -> float:
    """Spot price of compute (B$ per GW-month)."""
    return m.prices.spot_price


def contract_price(m: Any) -> float:
    """Average price clouds ask for new take-or-pay contracts (B$ per GW-month)."""
    return m.prices.contract_price


def power_price(m: Any) -> float:
    """Average power price across utilities ($/MWh)."""
    prices = m.prices.power_price
    return sum(prices.values()) / len(prices) if prices else 0.0


def credit_spread(m: Any) -> float:
    """Average spread over risk-free asked of the clouds (per year)."""
    spreads = [m.prices.spread.get(c.name, 0.0) for c in m.clouds if not c.defaulted]
    return sum(spreads) / len(spreads) if spreads else 0.0


def sentiment(m: Any) -> float:
    """Investor sentiment, -1 (gloom) to +1 (euphoria)."""
    return m.prices.sentiment


def vendor_revenue(m: Any) -> float:
    """Chip vendors' revenue this month (B$/month)."""
    return sum(v.revenue_history[-1] for v in m.vendors if v.revenue_history)


def vendor_revenue_t12m(m: Any) -> float:
    """Chip vendors' revenue over the trailing 12 months (B$/year): the collapse measure."""
    return sum(v.revenue_t12m for v in m.vendors)


def vendor_market_value(m: Any) -> float:
    """Market value of the chip vendors' equity (B$)."""
    return sum(m.registry.market_value(v.name) for v in m.vendors)


def circularity(m: Any) -> float:
    """Vendors' investments, loans and backstops in their own customers over their
    trailing-12-month revenue (Lucent 2000: 24 %; the seed's Nvidia claim: 67 %)."""
    revenue = vendor_revenue_t12m(m)
    return sum(v.exposure for v in m.vendors) / revenue if revenue > 0 else 0.0


def round_tripped_share(m: Any) -> float:
    """Share of vendors' trailing-12-month revenue paid with money the vendors themselves put
    into the chain (traced by money tags, mixed pro rata through every account)."""
    revenue = sum(sum(v.revenue_history) for v in m.vendors)
    tagged = sum(sum(v.round_tripped_history) for v in m.vendors)
    return tagged / revenue if revenue > 0 else 0.0


def defaults(m: Any) -> int:
    """Defaults so far."""
    return len(m.defaults)


def total_market_value(m: Any) -> float:
    """Market value of all firms' equity (B$)."""
    return sum(m.registry.market_value(f.name) for f in m.firms)


CHAIN_REPORTERS = (
    end_market_spend, end_market_cash, rest_of_world_net, compute_spend, organic_coverage, gw_contracted, gw_built, gw_powered, gw_idle,
    gpu_spot_price, contract_price, power_price, credit_spread, sentiment, vendor_revenue, vendor_revenue_t12m,
    vendor_market_value, circularity, round_tripped_share, defaults, total_market_value,
)


# ----------------------------------------------------------------------------- per firm


def revenue(firm: Any) -> float:
    """Revenue this month (B$/month)."""
    return firm.revenue_history[-1] if firm.revenue_history else 0.0


def profit(firm: Any) -> float:
    """Revenue less costs, depreciation included, this month (B$/month)."""
    return firm.profit_history[-1] if firm.profit_history else 0.0


def costs(firm: Any) -> float:
    """Costs this month, depreciation included (B$/month)."""
    return revenue(firm) - profit(firm)


def cash(firm: Any) -> float:
    """Cash (B$)."""
    return firm.books.cash


def debt(firm: Any) -> float:
    """Loans owed (B$)."""
    return firm.books.debt()


def net_worth(firm: Any) -> float:
    """Book net worth (B$)."""
    return firm.books.net_worth


def market_value(firm: Any) -> float:
    """Market value of its equity (B$)."""
    return firm.model.registry.market_value(firm.name)


def leverage(firm: Any) -> float:
    """Debt over total assets."""
    assets = firm.books.total_assets
    return firm.books.debt() / assets if assets > 0 else 0.0


FIRM_REPORTERS = (revenue, costs, profit, cash, debt, net_worth, market_value, leverage)


def _firm_reporter(fn: Any, firm: Any) -> Any:
    return lambda m: fn(firm)


class RoundtripCollector(mesa.DataCollector):
    """Mesa's DataCollector for model reporters that all return plain numbers: it calls each
    reporter once a step and appends the value as it is. (Mesa's own `collect` deep-copies
    every value, which for a float is a no-op costing as much as the reporter.) The columns,
    `model_vars` and `get_model_vars_dataframe()` are Mesa's."""

    def __init__(self, model_reporters: dict[str, Any]) -> None:
        super().__init__(model_reporters=model_reporters)
        # (reporter, its column) in the reporters' order; a list, not bound `append`s, so that a
        # deep copy of the model (the live page's twin, a test's) copies the columns and does not
        # share them
        self._columns = [(reporter, self.model_vars[name]) for name, reporter in self.model_reporters.items()]

    def collect(self, model: Any) -> None:
        self._collection_steps.append(model.time)
        for reporter, column in self._columns:
            column.append(reporter(model))

    def keep_only(self, columns: tuple[str, ...]) -> None:
        """Collect `columns` only from now on and drop the others (with what they collected):
        a run that keeps no series needs only what its summary reads. Reporters only read
        the model, so collecting fewer changes nothing else."""
        self.model_reporters = {name: fn for name, fn in self.model_reporters.items() if name in columns}
        self.model_vars = {name: self.model_vars[name] for name in self.model_reporters}
        self._columns = [(fn, self.model_vars[name]) for name, fn in self.model_reporters.items()]


def make_datacollector(m: Any, firm_measures: bool = True) -> RoundtripCollector:
    model_reporters = {fn.__name__: fn for fn in CHAIN_REPORTERS}
    for firm in m.firms if firm_measures else ():
        for fn in FIRM_REPORTERS:
            model_reporters[f"{fn.__name__}:{firm.name}"] = _firm_reporter(fn, firm)
    return RoundtripCollector(model_reporters)
