"""The equity market: strategy switching, sector-wide re-rating from a euphoric start, rare
crashes from a calm one, and the trading invariants every step.

Nothing here scripts a price path: the starts differ only in opening prices, the opening mood
and the investors' predispositions; what follows comes from the investors' rules.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

from agents.investor import STRATEGIES, InvestorPanel, target_weights
from agents.rules import investor_rules
from model.economy import RoundtripModel
from model.investing import StrategyBook
from model.scenario import Scenario, load_scenario
from model.simulate import simulate

SEEDS = range(16)
MONTHS = 96
CRASH = 0.8  # the outcome classifier's vendor equity drawdown for a collapse


def start(price_factor: float, sentiment: float, mix: tuple[float, float, float]) -> Scenario:
    """Baseline with every opening share price scaled, the opening mood and the strategy mix set."""
    base = load_scenario("baseline")
    overrides = {"sentiment.initial": sentiment, **dict(zip((f"investors.{h}" for h in STRATEGIES), mix))}
    for kind in ("labs", "vendors", "clouds", "utilities"):
        for name, cfg in getattr(base, kind).items():
            overrides[f"{kind}.{name}.share_price"] = cfg.share_price * price_factor
    return load_scenario("baseline", overrides)


# prices three times the opening ones, euphoria, trend followers the largest group
EUPHORIC = (3.0, 0.8, (0.2, 0.6, 0.2))
# the calibrated opening prices, a neutral mood, the default mix
CALM = (1.0, 0.0, (0.4, 0.3, 0.3))


def drawdowns(scenario: Scenario) -> np.ndarray:
    return np.array([simulate(scenario, seed, steps=MONTHS, keep_series=False, check_invariants=False)
                      .summary["vendor_equity_drawdown"] for seed in SEEDS])


@pytest.fixture(scope="module")
def euphoric() -> np.ndarray:
    return drawdowns(start(*EUPHORIC))


@pytest.fixture(scope="module")
def calm() -> np.ndarray:
    return drawdowns(start(*CALM))


def test_from_a_euphoric_start_the_vendor_sector_can_lose_80_percent(euphoric):
    assert np.mean(euphoric >= CRASH) >= 0.25, euphoric.round(2)


def test_from_a_calm_start_an_80_percent_fall_is_rare(calm):
    assert np.mean(calm >= CRASH) <= 0.10, calm.round(2)


def test_euphoria_crashes_deeper_than_calm(euphoric, calm):
    assert np.median(euphoric) > np.median(calm) + 0.1, (euphoric.round(2), calm.round(2))


# ----------------------------------------------------------------------------- switching


def test_a_strategy_that_recommended_more_of_a_rising_market_gains_fitness():
    # one firm held at 50 % of wealth; it rises 10 % in the month
    book = StrategyBook({"fundamental": 0.4, "trend": 0.3, "sentiment": 0.3}, {"A": 0.5})
    expected = {"fundamental": {"A": -0.1}, "trend": {"A": 0.3}, "sentiment": {"A": 0.0}}
    book.review({"A": 100.0}, expected, investor_rules.tilt, 4.0, 0.95, 0.7)
    # weights: fundamental 0.5 x 0.6 = 0.3; trend 0.5 x 2.2 = 1.1, capped at 0.95; sentiment 0.5
    assert book.recommended["trend"]["A"] == pytest.approx(0.95)
    book.review({"A": 110.0}, expected, investor_rules.tilt, 4.0, 0.95, 0.7)
    assert book.fitness == pytest.approx({"fundamental": 0.03, "trend": 0.095, "sentiment": 0.05})
    shares = book.shares(5.0)
    assert shares["trend"] > 0.3 > shares["fundamental"] / 0.4 * 0.3  # trend gained, fundamentalists lost
    # a month later the firm has defaulted (price 0): the whole position is lost
    book.review({"A": 0.0}, expected, investor_rules.tilt, 4.0, 0.95, 0.0)
    assert book.fitness["trend"] == pytest.approx(-0.95)


def rising_market(months: int, monthly_rise: float) -> StrategyBook:
    """One firm whose price rises steadily while its revenue stays put (fair value 120, the
    price starts at 100), scored by the strategies' own registered rules, as the model does."""
    mix = {"fundamental": 0.4, "trend": 0.3, "sentiment": 0.3}
    book = StrategyBook(mix, {"A": 0.5})
    rules = {"fundamental": investor_rules.fundamental, "trend": investor_rules.momentum,
             "sentiment": investor_rules.mood}
    prices = [100.0 * (1.0 + monthly_rise) ** t for t in range(months)]
    for t, price in enumerate(prices):
        view = dict(market_value=price, revenue_t12m=10.0, profit_t12m=1.0, multiple=10.0,
                    recent_return=price / prices[max(0, t - 3)] - 1.0, sentiment=0.0, months_reported=12)
        expected = {h: {"A": rule(**view)} for h, rule in rules.items()}
        book.review({"A": price}, expected, investor_rules.tilt, 4.0, 0.95, 0.7)
    return book


def test_trend_followers_gain_share_in_a_rising_market():
    shares = rising_market(18, 0.03).shares(5.0)
    assert shares["trend"] > 0.33, shares  # from its predisposition of 0.3
    assert shares["fundamental"] < 0.37, shares  # fundamentalists sell the rise early and lag
    flat = rising_market(18, 0.0).shares(5.0)
    assert flat["trend"] == pytest.approx(0.3)  # no rise, no reason to switch


def test_investors_switch_in_the_model():
    """In a run, the strategies investors follow change from month to month, drawn from the
    trading stream: the same seed gives the same choices, another seed others."""
    def choices(seed: int) -> list[tuple[str, ...]]:
        m = RoundtripModel(start(*EUPHORIC), rng=seed, check_invariants=False)
        path = []
        for _ in range(24):
            m.step()
            path.append(tuple(i.strategy for i in m.investors))
        return path

    first = choices(0)
    assert len(set(first)) > 1
    assert choices(0) == first
    assert choices(1) != first


def test_fixed_styles_keeps_every_investor_on_its_strategy():
    scenario = start(*EUPHORIC).with_overrides({"rules.investor.strategy_choice": "fixed_styles"})
    m = RoundtripModel(scenario, rng=0, check_invariants=False)
    before = {i.name: i.strategy for i in m.investors}
    for _ in range(24):
        m.step()
    assert {i.name: i.strategy for i in m.investors} == before


# ----------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trading_keeps_the_books_every_step(seed):
    """Checks on (the model raises on any broken identity: shares held = outstanding, stakes at
    shares x price, the exchange nets to zero); and no investor overdraws or goes short."""
    m = RoundtripModel(start(*EUPHORIC), rng=seed, check_invariants=True)
    for _ in range(60):
        m.step()
        for investor in m.investors:
            assert investor.books.cash >= -1e-9, (m.steps, investor.name, investor.books.cash)
        for issuer, holdings in m.registry.holdings.items():
            assert min(holdings.values(), default=0.0) >= -1e-9, (m.steps, issuer)


# ----------------------------------------------------------------------------- deciding together


CUSTOM = {"rules.investor.allocation": "tests.model.custom_investor_rules.half_tilt",
          "rules.investor.strategy_choice": "tests.model.custom_investor_rules.follow_the_best"}


class _OneByOne(InvestorPanel):
    """Investors deciding one after the other, as before the panel."""

    def decide(self, model):
        for investor in model.investors:
            investor.decide()


@pytest.mark.parametrize("overrides", [{}, CUSTOM, {"rules.investor.strategy_choice": "fixed_styles"}],
                         ids=["default rules", "custom rules", "fixed styles"])
def test_investors_deciding_together_is_each_deciding_in_turn(overrides):
    """The one-pass decide (InvestorPanel) gives every investor the strategy and targets, to
    the bit, that `Investor.decide` called investor by investor gives from the same state."""
    import copy
    import itertools

    m = RoundtripModel(start(*EUPHORIC).with_overrides(overrides) if overrides else start(*EUPHORIC), rng=3,
                       check_invariants=False)
    for _ in range(30):
        m.step()
        # (deciding creates no loan or contract: fresh id counters do, and itertools.count does not deepcopy)
        alone = copy.deepcopy(m, {id(m.loan_ids): itertools.count(), id(m.contract_ids): itertools.count()})
        alone.investor_panel = _OneByOne(alone.investors)
        m.decide()
        alone.decide()
        for together, apart in zip(m.investors, alone.investors):
            assert together.strategy == apart.strategy
            assert together.targets.keys() == apart.targets.keys()
            assert all(np.float64(together.targets[f]).tobytes() == np.float64(v).tobytes()
                       for f, v in apart.targets.items())


def test_custom_investor_rules_still_give_a_valid_run():
    """Swapped-in Python rules take the slower path investor by investor and keep the books."""
    m = RoundtripModel(load_scenario("baseline").with_overrides(CUSTOM), rng=5, check_invariants=True)
    for _ in range(36):
        m.step()
    assert m.investor_panel.target_table(list(m.investors), list(m.expected_returns["trend"])) is None  # rule by rule
    assert len({i.strategy for i in m.investors}) >= 1
    for investor in m.investors:
        assert investor.books.cash >= -1e-9


def test_targets_set_after_deciding_together_are_the_ones_traded():
    """An investor whose targets are set after the panel decided (a rule, a page, a test) is
    traded on those targets: the panel's table no longer stands for it."""
    m = RoundtripModel(load_scenario("baseline"), rng=2, check_invariants=False)
    m.step()
    m.decide()
    investors, firms = list(m.investors), list(m.expected_returns["trend"])
    assert m.investor_panel.target_table(investors, firms) is not None
    investors[0].targets = {firm: 0.0 for firm in firms}
    assert m.investor_panel.target_table(investors, firms) is None


def test_targets_edited_in_place_after_deciding_together_are_the_ones_traded():
    """Reading an investor's targets gives a dict; an edit to that dict is what gets traded."""
    m = RoundtripModel(load_scenario("baseline"), rng=2, check_invariants=False)
    m.step()
    m.decide()
    investors, firms = list(m.investors), list(m.expected_returns["trend"])
    investors[0].targets[firms[0]] = 0.0
    assert m.investor_panel.target_table(investors, firms) is None


def test_an_investor_with_rules_of_its_own_decides_by_them():
    """The one-pass paths read the model's rules; an investor given its own rules (a
    heterogeneous-agents experiment) is decided investor by investor, by its rules."""
    from tests.model.custom_investor_rules import half_tilt

    m = RoundtripModel(load_scenario("baseline"), rng=2, check_invariants=False)
    m.step()
    loner = m.investors.to_list()[0]
    loner.rules = {**m.rules, "investor.allocation": half_tilt}
    m.decide()
    firms = list(m.expected_returns["trend"])
    assert m.investor_panel.target_table(list(m.investors), firms) is None
    inv = m.params.investors
    weights = target_weights(m.expected_returns[loner.strategy], loner.base_weights, half_tilt, inv.risk_aversion,
                             inv.max_equity_share)
    assert loner.targets == {f: w * loner.books.total_assets for f, w in weights.items()}
    tilted = target_weights(m.expected_returns[loner.strategy], loner.base_weights, m.rules["investor.allocation"],
                            inv.risk_aversion, inv.max_equity_share)
    assert loner.targets != {f: w * loner.books.total_assets for f, w in tilted.items()}


def _cost_basis_trade_by_trade(cost, listed, investors, held, delta, price):
    """record_secondary_trades as it was, one dict update per trade: the reference."""
    rows, cols = np.nonzero(delta)
    for k, j in zip(rows.tolist(), cols.tolist()):
        key, change, shares, p = (investors[k], listed[j]), float(delta[k, j]), float(held[k, j]), float(price[j])
        if change > 0:
            cost[key] = cost.get(key, 0.0) + change * p
        elif key in cost:
            cost[key] *= max(0.0, 1.0 + change / shares) if shares > 0 else 0.0


@pytest.mark.parametrize("seed", range(20))
def test_cost_basis_on_the_matrix_is_the_trade_by_trade_update(seed):
    """Same values to the bit and the same key order, with pairs that have no basis yet, stakes
    of no shares, whole stakes sold and pairs that do not trade."""
    from types import SimpleNamespace

    from model.losses import record_secondary_trades

    rng = np.random.default_rng(seed)
    investors, listed = [f"i{k}" for k in range(6)], ["A", "B", "C", "D"]
    held = np.where(rng.random((6, 4)) < 0.2, 0.0, rng.random((6, 4)) * 10)
    delta = rng.normal(size=(6, 4)) * 3
    delta[rng.random((6, 4)) < 0.2] = 0.0
    sell_all = rng.random((6, 4)) < 0.1
    delta[sell_all] = -held[sell_all]
    price = rng.random(4) * 5 + 0.5
    pairs = [(i, f) for i in investors for f in listed]
    cost = {pair: float(v) for pair, v in zip(pairs, rng.random(len(pairs)) * 20) if rng.random() < 0.7 or seed % 4 == 0}
    expected = dict(cost)
    _cost_basis_trade_by_trade(expected, listed, investors, held, delta, price)
    # as trading calls it (keys, traded values and one look-up of every basis), and bare
    for extra in ({"keys": pairs, "value": delta * price, "every_basis": operator.itemgetter(*pairs)}, {}):
        m = SimpleNamespace(invested_at_cost=dict(cost))
        record_secondary_trades(m, listed, investors, held, delta, price, **extra)
        assert list(m.invested_at_cost) == list(expected)
        assert [np.float64(v).tobytes() for v in m.invested_at_cost.values()] == \
            [np.float64(v).tobytes() for v in expected.values()]
