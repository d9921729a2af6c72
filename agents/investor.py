"""Investors: each month an investor picks a strategy (fundamentalist, trend follower,
sentiment follower) by the strategies' recent performance, sets target holdings from that
strategy's expectations, holds shares and loans, funds rounds and lends."""

from __future__ import annotations

from typing import Any, Callable

import mesa
import numpy as np

from agents.rules.investor_rules import logit_switching, pick_strategies, tilt

STRATEGIES = ("fundamental", "trend", "sentiment")


def target_weights(expected: dict[str, float], base_weights: dict[str, float], allocate: Callable[..., float],
                   risk_aversion: float, max_equity_share: float) -> dict[str, float]:
    """Portfolio weights (share of wealth per firm): the base weights tilted by expected
    returns through the allocation rule, scaled down so shares never exceed `max_equity_share`
    of wealth. The same function gives an investor's targets and a strategy's recommended
    portfolio, whose return is the strategy's fitness."""
    weights = {name: allocate(er, base_weights.get(name, 0.0), risk_aversion) for name, er in expected.items()}
    total = sum(weights.values())
    scale = min(1.0, max_equity_share / total) if total > 0 else 0.0
    return {name: w * scale for name, w in weights.items()}


class Investor(mesa.Agent):
    kind = "investor"

    def __init__(self, model: mesa.Model, name: str, strategy: str, rules: dict, risk_appetite: float,
                 config: Any) -> None:
        super().__init__(model)
        self.name = name
        self.strategy = strategy  # one of STRATEGIES; may change every month
        self.rules = rules
        self.config = config  # the scenario's [investors] section
        self.risk_appetite = risk_appetite  # scales its offers in funding rounds
        self.books = None
        self._targets: dict[str, float] | None = {}  # firm -> target value of holdings (B$); see `targets`
        self._target_row: tuple[list[str], np.ndarray, int] | None = None
        self.base_weights: dict[str, float] = {}  # firm -> share of wealth held at the start
        self.defaulted = False

    @property
    def targets(self) -> dict[str, float]:
        """Firm -> target value of holdings (B$). Set by `decide`, or, when the investors decided
        together (`InvestorPanel`), this investor's row of their table, read on first use."""
        if self._targets is None:
            firms, table, row = self._target_row
            # from here on this dict is the targets: an edit to it must be what is traded
            self._targets, self._target_row = dict(zip(firms, table[row].tolist())), None
        return self._targets

    @targets.setter
    def targets(self, targets: dict[str, float]) -> None:
        self._targets, self._target_row = targets, None

    def take_row(self, firms: list[str], table: np.ndarray, row: int) -> None:
        """Targets decided together with other investors: row `row` of `table` (B$ by firm)."""
        self._targets, self._target_row = None, (firms, table, row)

    def decided_in(self, table: np.ndarray) -> bool:
        """Whether this investor's targets are still its row of `table` (nobody read them as a
        dict, which may have been edited, or set new ones since)."""
        return self._target_row is not None and self._target_row[1] is table

    def decide(self) -> None:
        """Pick this month's strategy by the strategies' fitness (one uniform draw from the
        trading stream), then target holdings of every listed firm: the starting weights
        tilted by that strategy's expectations (computed once per strategy and step by the
        model). The model decides all investors at once (`InvestorPanel`), with the same numbers;
        this is the one-investor form, and the reference the panel is tested against."""
        self.choose_strategy(float(self.model.rng_for("trading").random()))
        self.set_targets()

    def choose_strategy(self, draw: float) -> None:
        book = self.model.strategies
        self.strategy = self.rules["investor.strategy_choice"](
            self.strategy, book.fitness, book.predisposition, self.config.intensity_of_choice, draw)

    def set_targets(self) -> None:
        cfg = self.config
        weights = target_weights(self.model.expected_returns[self.strategy], self.base_weights,
                                 self.rules["investor.allocation"], cfg.risk_aversion, cfg.max_equity_share)
        wealth = self.books.total_assets
        self.targets = {name: w * wealth for name, w in weights.items()}


class InvestorPanel:
    """All investors deciding in one pass, with the same numbers as each `Investor.decide` in
    turn: the draws come from the trading stream in the investors' order, the logit shares of
    the default choice rule are computed once a month instead of once per investor, and with
    the default allocation rule (`tilt`) every portfolio is one row of an investors x firms
    table. Each Investor stays the view that rules and pages read (`strategy`, `targets`); any
    other rule runs investor by investor."""

    def __init__(self, investors: list[Investor]) -> None:
        self.investors = list(investors)
        self._base: tuple[list[str], np.ndarray] | None = None  # base weights by firm (fixed at the start)
        self._table: tuple[list[str], np.ndarray] | None = None  # this month's targets, when decided as a table

    def base_weights(self, firms: list[str]) -> np.ndarray:
        if self._base is None or self._base[0] != firms:
            self._base = (firms, np.array([[i.base_weights.get(f, 0.0) for f in firms] for i in self.investors]))
        return self._base[1]

    def target_table(self, investors: list[Investor], firms: list[str]) -> np.ndarray | None:
        """The targets (B$) of `investors` in `firms` as one table, when they are this panel's
        investors, decided together over these firms, and none has set its targets since."""
        if self._table is None or investors != self.investors or firms != self._table[0]:
            return None
        table = self._table[1]
        if not all(i.decided_in(table) for i in investors):
            return None
        return table

    def decide(self, model: Any) -> None:
        """Every investor's strategy and targets."""
        self._table = None
        investors, rules, cfg, book = self.investors, model.rules, model.params.investors, model.strategies
        if not investors:
            return
        # the one-pass paths read the model's rules: an investor given rules of its own decides alone
        shared = all(i.rules is rules for i in investors)
        # one draw per investor in turn: the same numbers as one call each
        draws = model.rng_for("trading").random(len(investors)).tolist()
        if shared and rules["investor.strategy_choice"] is logit_switching:
            picks = pick_strategies([i.strategy for i in investors], book.shares(cfg.intensity_of_choice), draws)
            for investor, strategy in zip(investors, picks):
                investor.strategy = strategy
        else:
            for investor, draw in zip(investors, draws):
                investor.choose_strategy(draw)
        expected = model.expected_returns
        firms = list(next(iter(expected.values()), ()))
        if not shared or rules["investor.allocation"] is not tilt or any(list(e) != firms for e in expected.values()):
            for investor in investors:
                investor.set_targets()
            return
        # tilt (base weight x (1 + risk aversion x expected return), never below 0), scaled so
        # shares stay within max_equity_share of wealth, times wealth: target_weights' float
        # operations element by element; row totals are Python sums, as there
        ra, cap = cfg.risk_aversion, cfg.max_equity_share
        row_of = {h: k for k, h in enumerate(expected)}
        tilts = np.array([[1.0 + ra * er for er in e.values()] for e in expected.values()])
        weights = self.base_weights(firms) * tilts[[row_of[i.strategy] for i in investors]]
        weights = np.where(weights > 0.0, weights, 0.0)
        scale = [min(1.0, cap / total) if total > 0 else 0.0 for total in map(sum, weights.tolist())]
        wealth = [i.books.total_assets for i in investors]
        table = weights * np.array(scale)[:, None] * np.array(wealth)[:, None]
        for row, investor in enumerate(investors):
            investor.take_row(firms, table, row)
        self._table = (firms, table)
