"""The compute economy: a Mesa model whose step is the five phases of DESIGN.md.

    observe -> decide -> trade -> settle -> account

Agents (`agents/`) decide from last step's prices and their own books; the markets
(`model/markets.py`), settlement (`model/settlement.py`) and the ledger (`model/ledger.py`)
carry the decisions out. Nothing here knows which outcome a scenario is meant to produce:
collapse or growth emerges from deal terms, demand, GPU lives, power and credit.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from agents.ai_lab import AILab
from agents.chip_vendor import ChipVendor
from agents.cloud_provider import CloudProvider
from agents.investor import Investor, InvestorPanel
from agents.power_utility import PowerUtility
from agents.rules import resolve_all
from model import accounting, markets, reporters, settlement
from model.investing import open_strategy_book
from model.contracts import LoanBook, ShareRegistry
from model.end_market import EndMarket
from model.ledger import END_MARKET, Ledger
from model.losses import LossBook
from model.scenario import Scenario, load_scenario
from model.setup import build_economy
from model.vendor_history import seed_vendor_history


# Each random process draws from its own stream, spawned from the run's seed (common random
# numbers): two scenarios that differ only in deal terms see the same demand path for the same
# seed, because no other process can consume draws from the end market's stream. Append new
# processes at the end: a stream's index is its identity.
RANDOM_STREAMS = ("end_market", "investors", "shocks", "trading")


def seed_sequence(seed: Any) -> np.random.SeedSequence:
    """The run's root `SeedSequence` from whatever Mesa accepts as `rng` (int, sequence, generator)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    return np.random.SeedSequence(seed)


def random_streams(seed: Any) -> dict[str, np.random.Generator]:
    """One generator per random process, each a fixed child of the run's seed.

    Children are built from the root's entropy and spawn key (not with `spawn()`, which
    counts calls), so the same seed always gives the same streams."""
    root = seed_sequence(seed)
    return {
        name: np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 7919, i))))
        for i, name in enumerate(RANDOM_STREAMS)
    }


@dataclass
class Prices:
    """Last step's prices: what every agent reads when it decides."""

    sentiment: float = 0.0
    spot_price: float = 1.0  # B$/GW-month
    contract_price: float = 1.0  # B$/GW-month, index of clouds' asks
    chip_price: float = 35.0  # B$/GW
    power_price: dict[str, float] = field(default_factory=dict)  # $/MWh by utility
    risk_free: float = 0.04
    spread: dict[str, float] = field(default_factory=dict)  # per year, by borrower
    collateral_factor: float = 1.0  # spot against contract price: marks GPU collateral
    idle_gw: float = 0.0  # powered GPUs neither under contract nor sold spot
    stranded_gw: float = 0.0  # GPUs installed but waiting for power


class RoundtripModel(mesa.Model):
    """One run of the AI compute economy.

    Parameters
    ----------
    scenario: a `Scenario`, or the name or path of a scenario file.
    rng: seed (int, `SeedSequence` or `Generator`); every random process draws from its own
        stream spawned from it (`RANDOM_STREAMS`, `rng_for`).
    overrides: `{"dotted.path": value}` applied to the scenario and validated like the file.
    check_invariants: overrides the scenario's setting (None keeps it).
    firm_measures: collect the per-firm columns (`revenue:OpenAI`, ...) as well as the chain
        measures; sweeps that keep only summaries turn them off to save time.
    vendor_history: seed the vendors' opening history from the burn-in (model/vendor_history.py);
        False opens them with outside sales only, as the burn-in's own economy does.
    """

    def __init__(
        self,
        scenario: Scenario | str = "baseline",
        rng: Any = None,
        overrides: dict[str, Any] | None = None,
        check_invariants: bool | None = None,
        firm_measures: bool = True,
        vendor_history: bool = True,
    ) -> None:
        super().__init__(rng=rng)
        self.streams = random_streams(rng)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if overrides:
            scenario = scenario.with_overrides(overrides)
        self.params = scenario
        self.check_invariants = scenario.check_invariants if check_invariants is None else check_invariants
        self.rules = resolve_all(scenario.rules)
        self.prices = Prices(risk_free=scenario.credit.risk_free, sentiment=scenario.sentiment.initial)
        self.ledger = Ledger(vendor_tags=tuple(scenario.vendors))
        self.registry = ShareRegistry()
        self.end_market = EndMarket(scenario.end_market)
        self.loans: LoanBook = LoanBook()  # (kind, issuer, holder) -> Loan, indexed by issuer
        self.loan_ids = itertools.count(1)
        self.contract_ids = itertools.count(1)
        self.deals: list = []
        self.power_requests: list = []
        self.events: list[dict[str, Any]] = []
        self.defaults: list[dict[str, Any]] = []
        self.write_offs: dict[str, float] = {}  # holder sector -> B$ lost
        self.invested_at_cost: dict[tuple[str, str], float] = {}  # (holder, issuer) -> B$ paid for stakes
        self.gw_built = 0.0
        self.gw_scrapped = 0.0
        self.default_intensity = 0.0
        self.loan_losses: list[float] = []
        self.losses = LossBook()  # severity measures, recorded as losses happen (model/losses.py)
        self.estates: list = []  # what each defaulter's creditors recovered (settlement.Estate)
        self.refinancing_due: dict[str, tuple[float, float]] = {}  # this month: issuer -> (bonds matured, rolled over)
        self.fire_sale_impact = 0.0  # log fall of compute prices from fire sales, fading month by month
        self.export_bans: dict[str, float] = {}
        self.missed_payments: set[str] = set()
        self.new_defaults = 0
        self.step_flows: list = []
        self.compute_spend = 0.0  # rent paid for compute this step (B$)
        self.organic_revenue = 0.0  # end-market money reaching the compute chain this step (B$)
        self.last_market_value: float | None = None  # all firms' equity at the last account phase
        self.coverage_history: deque = deque(maxlen=4)  # (end-market spend, compute spend) by month
        self._views: dict = {}
        self._views_step: int | None = None
        self.build_lead_months = scenario.gpus.build_lead_months
        self.economic_life_months = scenario.gpus.economic_life_years * 12.0
        self.by_name: dict[str, Any] = {}
        build_economy(self)
        self.labs = self.agents_by_type[AILab]
        self.vendors = self.agents_by_type[ChipVendor]
        self.clouds = self.agents_by_type[CloudProvider]
        self.utilities = self.agents_by_type[PowerUtility]
        self.investors = self.agents_by_type[Investor]
        self.firms = [a for a in self.agents if not isinstance(a, Investor)]
        self.strategies = open_strategy_book(self)
        self.expected_returns: dict[str, dict[str, float]] = {}
        self.investor_panel: InvestorPanel | None = None  # made at the first decide
        self.trading_desk = None  # the secondary market's fixed layout (markets._TradingDesk), made at the first trade
        self._vendor_loan_share: tuple = ((), 0.0)  # (the vendors' shares, their mean): np.mean is slow on a short list
        markets.update_prices(self)
        if vendor_history:
            seed_vendor_history(self)
        self.datacollector = reporters.make_datacollector(self, firm_measures)
        accounting.account(self, opening=True)

    # ------------------------------------------------------------------ the step

    def step(self) -> None:
        self.observe()
        self.decide()
        self.trade()
        self.settle()
        self.account()

    def observe(self) -> None:
        """End-market demand moves; scheduled shocks fire."""
        self.ledger.flows.clear()
        self.new_defaults = 0
        self.end_market.advance(self.rng_for("end_market"), self.ledger.sheets[END_MARKET].cash)
        for shock in self.params.shocks:
            if shock.step == self.steps:
                self.apply_shock(shock.kind, shock.target, shock.size)

    def decide(self) -> None:
        """Every agent sets its plans from last step's prices and its own books."""
        for agent in self.active_firms():
            agent.decide()
        self.expected_returns = self.expectations_by_strategy()
        inv = self.params.investors
        prices = dict(self.registry.price)
        self.strategies.review(prices, self.expected_returns, self.rules["investor.allocation"], inv.risk_aversion,
                               inv.max_equity_share, inv.memory)
        # all investors at once, as each would in turn (agents.investor.InvestorPanel); made at
        # the first step, after the constructor has built the investors, and again if they change
        investors = list(self.investors)
        if self.investor_panel is None or self.investor_panel.investors != investors:
            self.investor_panel = InvestorPanel(investors)
        self.investor_panel.decide(self)

    def trade(self) -> None:
        """Markets clear in a fixed order: power, compute, chips, credit, equity."""
        markets.clear_power(self)
        markets.clear_compute(self)
        markets.clear_chips(self)
        markets.clear_credit(self)
        markets.clear_equity(self)

    def settle(self) -> None:
        """Payments due go through the ledger; defaults cascade until none is new."""
        settlement.settle(self)

    def account(self) -> None:
        """Depreciation, marks to market, measures, the invariant check, data collection."""
        accounting.account(self)

    # ------------------------------------------------------------------ shocks

    def apply_shock(self, kind: str, target: str = "", size: float = 0.0) -> None:
        """Hit the running model now (scheduled shocks and the live page's buttons).

        end_market_stall: spending grows at `size` a year from now on; missed_payment: lab
        `target` (the first solvent lab when empty) pays no rent this month; grid_delay: every
        pending connection of `target` (all when empty) waits `size` more months; export_ban:
        vendor `target` (all when empty) loses `size` of its capacity.
        """
        if kind == "end_market_stall":
            self.end_market.stall(size)
        elif kind == "missed_payment":
            for lab in self.labs:
                if lab.active and (not target or lab.name == target):
                    self.missed_payments.add(lab.name)
                    break
        elif kind == "grid_delay":
            for request in self.power_requests:
                if not target or target in (request.cloud, request.utility):
                    request.ready_step += int(size)
        elif kind == "export_ban":
            for vendor in self.vendors:
                if not target or vendor.name == target:
                    self.export_bans[vendor.name] = min(1.0, max(0.0, size))
        else:
            raise ValueError(f"unknown shock {kind!r}")
        self.log_event("shock", target or "market", f"{kind.replace('_', ' ')} (size {size:g})")

    # ------------------------------------------------------------------ helpers read by agents

    def rng_for(self, process: str) -> np.random.Generator:
        """The random stream of one process (`RANDOM_STREAMS`); the only randomness a model uses."""
        return self.streams[process]

    def active_firms(self) -> list:
        return [f for f in self.firms if not f.defaulted]

    def log_event(self, kind: str, agent: str, text: str) -> None:
        self.events.append({"step": self.steps, "kind": kind, "agent": agent, "text": text})

    def export_factor(self, vendor: str) -> float:
        return 1.0 - self.export_bans.get(vendor, 0.0)


    @property
    def vendor_loan_share(self) -> float:
        shares = tuple([v.config.vendor_loan_share for v in self.vendors])
        if shares != self._vendor_loan_share[0]:
            self._vendor_loan_share = (shares, float(np.mean(shares)))
        return self._vendor_loan_share[1]

    def power_cost_per_gw_month(self, cloud: CloudProvider) -> float:
        """B$ a powered GW costs per month: GW x PUE x 730 h x $/MWh."""
        price = self.prices.power_price.get(cloud.utility_name, self.params.power.base_price)
        return self.params.power.pue * 730.0 * price / 1e6

    def running_cost_per_gw_month(self, cloud_name: str) -> float:
        cloud = self.by_name[cloud_name]
        return self.params.gpus.opex_per_gw_month + self.power_cost_per_gw_month(cloud)

    def powered_gw_by(self, cloud: CloudProvider, step: int) -> float:
        """GW the cloud will have connected by `step`: live connections and requests due by then."""
        name = cloud.name
        return cloud.connected_gw + sum([r.gw for r in self.power_requests if r.cloud == name and r.ready_step <= step])

    def debts_of(self, name: str) -> list:
        return list(self.loans.issued_by(name))

    def debt_service_estimate(self, name: str) -> float:
        return sum([loan.interest_due() + loan.principal_due() for loan in self.loans.issued_by(name)])

    def secured_debt(self, name: str) -> float:
        return sum([loan.outstanding for loan in self.loans.issued_by(name) if loan.collateralised])

    def firm_views(self) -> dict[str, dict[str, float]]:
        """What investors see of each listed, solvent firm (computed once a step)."""
        if self._views_step != self.steps:
            self._views = markets.firm_views(self)
            self._views_step = self.steps
        return self._views

    def expectations_by_strategy(self) -> dict[str, dict[str, float]]:
        """Expected yearly return of every listed firm under each investment strategy's rule.

        Investors using one strategy share one view of each firm (the same public numbers
        through the same rule), so this is computed once per strategy and step, not once per
        investor. Every strategy is evaluated, used or not: its recommended portfolio is
        scored for the switching rule."""
        views = self.firm_views()
        expectations = {}
        for strategy in self.strategies.predisposition:
            expect = self.rules[f"investor.expectation.{strategy}"]
            expectations[strategy] = {name: expect(**view) for name, view in views.items()}
        return expectations
