"""Every registered decision rule alone, with plain numbers: zero cases, caps, monotonicity.

Rules are pure functions of numbers (agents/rules/*.py), so none of this needs a model.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.rules import ai_lab_rules as lab
from agents.rules import chip_vendor_rules as vendor
from agents.rules import cloud_provider_rules as cloud
from agents.rules import investor_rules as investor
from agents.rules import market_rules as market
from agents.rules import power_utility_rules as utility

EPS = 1e-12
money = st.floats(0.0, 1e4, allow_nan=False)
share = st.floats(0.0, 1.0)
small = st.floats(0.01, 10.0)
signed = st.floats(-1.0, 1.0)
PROP = settings(max_examples=60, deadline=None)


def ordered(strategy):
    return st.tuples(strategy, strategy).map(sorted)


# ============================================================================= AI lab


class TestRevenueOutlook:
    def call(self, revenue=1.0, growth=0.0, sentiment=0.0, ambition=2.0, horizon=12, price=1.0):
        return lab.revenue_outlook(revenue, growth, sentiment, ambition, horizon, price)

    def test_no_growth_plans_ambition_times_todays_revenue(self):
        assert self.call(revenue=3.0, ambition=2.0, price=1.5) == pytest.approx(4.0)

    def test_zero_revenue_plans_nothing(self):
        assert self.call(revenue=0.0, growth=1.0, sentiment=1.0) == 0.0

    def test_doubling_for_a_year_at_100_percent_growth(self):
        assert self.call(growth=1.0, horizon=12) == pytest.approx(4.0)

    def test_growth_is_capped_at_100_percent_a_year(self):
        assert self.call(growth=50.0, horizon=24) == pytest.approx(self.call(growth=1.0, horizon=24))

    def test_decline_is_floored_at_minus_50_percent_a_year(self):
        assert self.call(growth=-0.99, horizon=12) == pytest.approx(self.call(growth=-0.5, horizon=12)) == pytest.approx(1.0)

    def test_zero_price_does_not_divide_by_zero(self):
        assert math.isfinite(self.call(price=0.0))

    @PROP
    @given(r=ordered(money), growth=st.floats(-1, 3), sentiment=signed, price=small)
    def test_more_revenue_never_plans_less(self, r, growth, sentiment, price):
        lo, hi = r
        assert self.call(lo, growth, sentiment, price=price) <= self.call(hi, growth, sentiment, price=price) + EPS

    @PROP
    @given(p=ordered(small), growth=st.floats(-1, 3))
    def test_dearer_compute_never_plans_more(self, p, growth):
        lo, hi = p
        assert self.call(growth=growth, price=hi) <= self.call(growth=growth, price=lo) + EPS

    @PROP
    @given(s=ordered(signed), growth=st.floats(0.0, 3.0))
    def test_optimism_never_shrinks_a_growing_labs_plan(self, s, growth):
        lo, hi = s
        assert self.call(growth=growth, sentiment=lo, horizon=36) <= self.call(growth=growth, sentiment=hi, horizon=36) + EPS

    def test_optimism_never_shrinks_a_shrinking_labs_plan(self):
        gloom = self.call(growth=-0.2, sentiment=-1.0, horizon=36)
        euphoria = self.call(growth=-0.2, sentiment=1.0, horizon=36)
        assert euphoria >= gloom


def test_hold_capacity_ignores_growth_sentiment_and_horizon():
    base = lab.hold_capacity(3.0, 0.0, 0.0, 2.0, 12, 1.5)
    assert base == pytest.approx(4.0)
    assert lab.hold_capacity(3.0, 5.0, 1.0, 2.0, 120, 1.5) == base
    assert lab.hold_capacity(0.0, 5.0, 1.0, 2.0, 12, 1.5) == 0.0


class TestFunding:
    def test_no_raise_with_a_long_runway_or_no_burn(self):
        assert lab.runway_funding(cash=120.0, monthly_burn=10.0, runway_months=12, sentiment=0.0) == 0.0  # exactly 12 months
        assert lab.runway_funding(cash=0.0, monthly_burn=0.0, runway_months=12, sentiment=0.0) == 0.0
        assert lab.runway_funding(cash=0.0, monthly_burn=-5.0, runway_months=12, sentiment=0.0) == 0.0

    def test_a_short_runway_raises_to_twice_the_runway(self):
        assert lab.runway_funding(cash=50.0, monthly_burn=10.0, runway_months=12, sentiment=0.0) == pytest.approx(190.0)

    @PROP
    @given(c=ordered(money), burn=small, runway=st.integers(1, 60), sentiment=signed)
    def test_more_cash_never_raises_more(self, c, burn, runway, sentiment):
        lo, hi = c
        assert lab.runway_funding(hi, burn, runway, sentiment) <= lab.runway_funding(lo, burn, runway, sentiment) + EPS

    @PROP
    @given(cash=money, burn=small, runway=st.integers(1, 60), sentiment=signed)
    def test_after_raising_the_runway_is_restored(self, cash, burn, runway, sentiment):
        for rule in (lab.runway_funding, lab.opportunistic_funding):
            raised = rule(cash, burn, runway, sentiment)
            assert raised >= 0.0
            assert cash + raised >= runway * burn - 1e-9 * max(1.0, cash)

    @PROP
    @given(cash=money, burn=small, runway=st.integers(1, 60), sentiment=signed)
    def test_opportunistic_raises_at_least_as_much_as_runway(self, cash, burn, runway, sentiment):
        assert lab.opportunistic_funding(cash, burn, runway, sentiment) >= lab.runway_funding(cash, burn, runway, sentiment) - 1e-9

    def test_opportunistic_raises_early_only_in_good_times(self):
        assert lab.opportunistic_funding(200.0, 10.0, 12, 0.5) == pytest.approx(160.0)  # 3 x 12 x 10 - 200
        assert lab.opportunistic_funding(200.0, 10.0, 12, 0.3) == 0.0  # at the threshold: as runway


class TestCutback:
    @pytest.mark.parametrize("cash, expected", [(0.0, 0.0), (60.0, 0.0), (90.0, 0.5), (120.0, 1.0), (1e6, 1.0)])
    def test_share_signed_falls_linearly_from_full_to_half_runway(self, cash, expected):
        assert lab.stop_new_contracts(cash, monthly_burn=10.0, runway_months=12) == pytest.approx(expected)

    def test_no_burn_signs_everything(self):
        assert lab.stop_new_contracts(0.0, 0.0, 12) == 1.0

    @PROP
    @given(c=ordered(money), burn=small, runway=st.integers(1, 60))
    def test_share_is_a_share_and_more_cash_never_signs_less(self, c, burn, runway):
        lo, hi = c
        a, b = lab.stop_new_contracts(lo, burn, runway), lab.stop_new_contracts(hi, burn, runway)
        assert 0.0 <= a <= b + EPS <= 1.0 + EPS

    def test_never_cut_signs_everything_whatever_the_cash(self):
        assert lab.never_cut(0.0, 100.0, 12) == 1.0


# ============================================================================= chip vendor


class TestProduction:
    def test_moves_towards_orders_with_a_quarter_margin(self):
        assert vendor.follow_orders(capacity=1.0, recent_orders=1.0, max_growth_month=0.5) == pytest.approx(1.25)

    def test_growth_is_capped(self):
        assert vendor.follow_orders(1.0, 100.0, 0.05) == pytest.approx(1.05)

    def test_shrinks_at_most_5_percent_a_month(self):
        assert vendor.follow_orders(1.0, 0.0, 0.05) == pytest.approx(0.95)

    def test_never_below_a_minimum_when_orders_vanish(self):
        assert vendor.follow_orders(0.01, 0.0, 10.0) == pytest.approx(0.05)

    @PROP
    @given(cap=small, o=ordered(money), g=st.floats(0, 0.5))
    def test_bounded_and_monotone_in_orders(self, cap, o, g):
        lo, hi = o
        a, b = vendor.follow_orders(cap, lo, g), vendor.follow_orders(cap, hi, g)
        assert a <= b + EPS
        for x in (a, b):
            assert 0.95 * cap - EPS <= x <= max(cap * (1 + g), 0.95 * cap) + EPS


class TestPricing:
    def test_list_price_at_90_percent_utilisation(self):
        assert vendor.scarcity_markup(35.0, 0.9) == pytest.approx(35.0)

    @pytest.mark.parametrize("u, factor", [(10.0, 1.15), (-5.0, 0.75), (0.0, 0.75), (1.4, 1.15)])
    def test_markup_and_discount_are_capped(self, u, factor):
        assert vendor.scarcity_markup(35.0, u) == pytest.approx(35.0 * factor)

    @PROP
    @given(u=ordered(st.floats(0, 3)))
    def test_fuller_order_books_never_lower_the_price(self, u):
        lo, hi = u
        assert vendor.scarcity_markup(35.0, lo) <= vendor.scarcity_markup(35.0, hi)

    def test_fixed_price_ignores_demand(self):
        assert vendor.fixed_price(35.0, 5.0) == vendor.fixed_price(35.0, 0.0) == 35.0


class TestVendorOpex:
    def test_full_costs_at_the_revenue_peak_or_with_no_history(self):
        assert vendor.cut_with_revenue(2.0, 100.0, 100.0) == 2.0
        assert vendor.cut_with_revenue(2.0, 0.0, 0.0) == 2.0

    def test_costs_fall_in_step_with_revenue_to_a_floor_of_40_percent(self):
        assert vendor.cut_with_revenue(2.0, 70.0, 100.0) == pytest.approx(1.4)
        assert vendor.cut_with_revenue(2.0, 10.0, 100.0) == pytest.approx(0.8)
        assert vendor.cut_with_revenue(2.0, 0.0, 100.0) == pytest.approx(0.8)

    @PROP
    @given(rev=ordered(money), peak=money, base=small)
    def test_more_revenue_never_cuts_deeper_and_costs_stay_within_bounds(self, rev, peak, base):
        lo, hi = rev
        a, b = vendor.cut_with_revenue(base, lo, peak), vendor.cut_with_revenue(base, hi, peak)
        assert 0.4 * base - EPS <= a <= b + EPS <= base + EPS

    def test_fixed_costs_never_adjust(self):
        assert vendor.fixed_costs(2.0, 0.0, 100.0) == 2.0


class TestExposureBudget:
    def test_budget_is_the_room_under_the_share_of_revenue(self):
        assert vendor.exposure_budget(0.24, 100.0, 10.0) == pytest.approx(14.0)

    def test_no_room_at_or_over_the_limit_and_none_for_a_zero_share(self):
        assert vendor.exposure_budget(0.24, 100.0, 24.0) == 0.0
        assert vendor.exposure_budget(0.24, 100.0, 50.0) == 0.0
        assert vendor.exposure_budget(0.0, 100.0, 0.0) == 0.0

    @PROP
    @given(s=share, rev=money, e=ordered(money))
    def test_more_exposure_never_leaves_more_room(self, s, rev, e):
        lo, hi = e
        assert 0.0 <= vendor.exposure_budget(s, rev, hi) <= vendor.exposure_budget(s, rev, lo) + EPS
        assert lo + vendor.exposure_budget(s, rev, lo) <= max(lo, s * rev) + 1e-9 * max(1.0, rev)


# ============================================================================= cloud provider


class TestCapex:
    def test_orders_the_gap_to_contracts_plus_buffer(self):
        assert cloud.build_to_contract(10.0, 6.0, 0.1, 100.0) == pytest.approx(5.0)

    def test_order_is_capped_by_what_it_can_afford_and_never_negative(self):
        assert cloud.build_to_contract(10.0, 6.0, 0.1, 2.0) == 2.0
        assert cloud.build_to_contract(10.0, 20.0, 0.1, 100.0) == 0.0
        assert cloud.build_to_contract(10.0, 0.0, 0.1, 0.0) == 0.0

    @PROP
    @given(c=ordered(money), fleet=money, buf=share, afford=money)
    def test_more_contracts_never_order_less_and_speculation_orders_at_least_as_much(self, c, fleet, buf, afford):
        lo, hi = c
        assert cloud.build_to_contract(lo, fleet, buf, afford) <= cloud.build_to_contract(hi, fleet, buf, afford) + EPS
        assert cloud.build_to_contract(hi, fleet, buf, afford) <= cloud.speculative_build(hi, fleet, buf, afford) + EPS
        assert cloud.speculative_build(hi, fleet, buf, afford) <= afford + EPS


class TestGpuBackedBorrowing:
    def test_borrows_what_it_needs_within_the_covenant(self):
        assert cloud.borrow_to_ltv(5.0, collateral_value=100.0, secured_debt=0.0, max_ltv=0.7) == 5.0
        assert cloud.borrow_to_ltv(500.0, 100.0, 0.0, 0.7) == pytest.approx(63.0)  # 90 % of the 70 % room
        assert cloud.borrow_to_ltv(500.0, 100.0, 70.0, 0.7) == 0.0
        assert cloud.borrow_to_ltv(500.0, 0.0, 0.0, 0.7) == 0.0

    @PROP
    @given(need=money, collateral=money, secured=money, ltv=st.floats(0.05, 1.0))
    def test_after_borrowing_the_ltv_stays_under_the_covenant(self, need, collateral, secured, ltv):
        loan = cloud.borrow_to_ltv(need, collateral, secured, ltv)
        assert 0.0 <= loan <= need
        if loan > 0:
            assert secured + loan <= ltv * collateral + 1e-9 * max(1.0, collateral)

    def test_equity_only_never_borrows(self):
        assert cloud.equity_only(100.0, 1000.0, 0.0, 0.9) == 0.0


RATES = st.one_of(st.just(0.0), st.floats(0.0, 0.3))  # zero, tiny and ordinary rates


class TestContractPrice:
    def call(self, chip=35.0, shell=15.0, life=48.0, running=0.2, rate=0.08, spot=0.0):
        return cloud.cost_plus(chip, shell, life, running, rate, spot)

    def test_zero_rate_recovers_capital_straight_line(self):
        assert self.call(rate=0.0) == pytest.approx(50.0 / 48 + 0.2)

    def test_a_positive_rate_costs_more_than_straight_line(self):
        assert self.call(rate=0.08) > self.call(rate=0.0)

    def test_never_below_80_percent_of_spot(self):
        assert self.call(spot=10.0) == pytest.approx(8.0)

    def test_a_tiny_positive_rate_is_straight_line(self):
        assert self.call(rate=1e-17) == pytest.approx(self.call(rate=0.0))

    def test_a_zero_life_does_not_divide_by_zero(self):
        assert math.isfinite(self.call(life=0.0))

    @PROP
    @given(life=ordered(st.floats(1, 120)), rate=RATES)
    def test_a_longer_economic_life_never_asks_more(self, life, rate):
        lo, hi = life
        assert self.call(life=hi, rate=rate) <= self.call(life=lo, rate=rate) + 1e-9

    @PROP
    @given(chip=ordered(st.floats(0, 100)), rate=RATES, running=st.floats(0, 2))
    def test_dearer_chips_never_ask_less(self, chip, rate, running):
        lo, hi = chip
        assert self.call(chip=lo, rate=rate, running=running) <= self.call(chip=hi, rate=rate, running=running) + 1e-9


def test_power_request_covers_the_peak_with_headroom_net_of_connected_and_queued():
    assert cloud.ahead_of_contracts(10.0, 5.0, 2.0) == pytest.approx(4.0)
    assert cloud.ahead_of_contracts(10.0, 11.0, 0.0) == 0.0
    assert cloud.ahead_of_contracts(0.0, 0.0, 0.0) == 0.0


# ============================================================================= investors


def view(market_value=100.0, revenue=10.0, profit=1.0, multiple=10.0, recent_return=0.0, sentiment=0.0, months=12):
    return dict(market_value=market_value, revenue_t12m=revenue, profit_t12m=profit, multiple=multiple,
                recent_return=recent_return, sentiment=sentiment, months_reported=months)


class TestExpectations:
    def test_fundamental_expects_a_third_of_the_gap_to_fair_value(self):
        # fair value 10 x 10 x 1.2 = 120 against 100: a 20 % gap, a third of it expected
        assert investor.fundamental(**view()) == pytest.approx(0.2 / 3)
        assert investor.fundamental(**view(market_value=120.0)) == pytest.approx(0.0)

    def test_fundamental_penalises_losses(self):
        assert investor.fundamental(**view(profit=-1.0)) < investor.fundamental(**view(profit=1.0))

    def test_fundamental_on_a_worthless_firm_expects_nothing_and_is_capped(self):
        assert investor.fundamental(**view(market_value=0.0)) == 0.0
        assert investor.fundamental(**view(market_value=1e-6)) == 1.0
        assert investor.fundamental(**view(revenue=0.0)) == pytest.approx(-1.0 / 3)

    def test_fundamental_has_no_view_of_a_firm_that_has_reported_nothing(self):
        # at the first step a lab has no month of revenue yet: that is no news, not a worthless firm
        assert investor.fundamental(**view(revenue=0.0, months=0)) == 0.0

    @PROP
    @given(mv=ordered(st.floats(0.1, 1e4)), rev=money)
    def test_fundamental_expects_less_of_a_dearer_firm(self, mv, rev):
        lo, hi = mv
        assert investor.fundamental(**view(market_value=hi, revenue=rev)) <= investor.fundamental(**view(market_value=lo, revenue=rev)) + EPS

    def test_momentum_of_a_flat_market_is_zero(self):
        assert investor.momentum(**view(recent_return=0.0)) == 0.0

    @PROP
    @given(r=ordered(st.floats(-5.0, 5.0)))
    def test_momentum_is_monotone_and_bounded(self, r):
        lo, hi = r
        a, b = investor.momentum(**view(recent_return=lo)), investor.momentum(**view(recent_return=hi))
        assert -0.9 <= a <= b + EPS <= 1.5 + EPS

    def test_mood_follows_sentiment(self):
        assert investor.mood(**view(sentiment=1.0)) == pytest.approx(0.3)
        assert investor.mood(**view(sentiment=-1.0)) == pytest.approx(-0.3)
        assert investor.mood(**view(sentiment=0.0)) == 0.0


class TestAllocation:
    def test_no_expected_return_keeps_the_base_weight(self):
        assert investor.tilt(0.0, 0.1, 4.0) == 0.1

    def test_tilt_is_base_times_one_plus_risk_aversion_times_expected_return(self):
        assert investor.tilt(0.1, 0.2, 4.0) == pytest.approx(0.2 * 1.4)
        assert investor.tilt(0.1, 0.2, 0.0) == pytest.approx(0.2)

    def test_never_short(self):
        assert investor.tilt(-0.9, 0.1, 4.0) == 0.0

    @PROP
    @given(e=ordered(st.floats(-1, 2)), w=share)
    def test_higher_expectations_never_lower_the_weight(self, e, w):
        lo, hi = e
        assert 0.0 <= investor.tilt(lo, w, 4.0) <= investor.tilt(hi, w, 4.0) + EPS


MIX = {"fundamental": 0.4, "trend": 0.3, "sentiment": 0.3}


class TestStrategySwitching:
    def test_fitness_is_last_return_plus_memory_of_the_past(self):
        assert investor.strategy_fitness(0.1, 0.02, 0.7) == pytest.approx(0.02 + 0.07)
        assert investor.strategy_fitness(0.1, 0.02, 0.0) == pytest.approx(0.02)

    def test_equal_fitness_or_no_intensity_gives_the_predispositions(self):
        assert investor.strategy_shares({h: 0.0 for h in MIX}, MIX, 5.0) == pytest.approx(MIX)
        assert investor.strategy_shares({"fundamental": -1.0, "trend": 2.0, "sentiment": 0.0}, MIX, 0.0) == pytest.approx(MIX)

    def test_logit_shares_by_hand(self):
        # trend earned 10 % more: its weight is multiplied by exp(5 x 0.1) = e^0.5
        shares = investor.strategy_shares({"fundamental": 0.0, "trend": 0.1, "sentiment": 0.0}, MIX, 5.0)
        total = 0.4 + 0.3 * math.exp(0.5) + 0.3
        assert shares["trend"] == pytest.approx(0.3 * math.exp(0.5) / total)
        assert shares["fundamental"] == pytest.approx(0.4 / total)
        assert sum(shares.values()) == pytest.approx(1.0)

    def test_no_overflow_at_huge_intensity_and_the_winner_takes_all(self):
        shares = investor.strategy_shares({"fundamental": 0.0, "trend": 1.0, "sentiment": 0.5}, MIX, 1e6)
        assert shares["trend"] == pytest.approx(1.0)

    def test_a_strategy_nobody_is_predisposed_to_is_never_chosen(self):
        mix = {"fundamental": 0.5, "trend": 0.0, "sentiment": 0.5}
        assert investor.strategy_shares({"fundamental": 0.0, "trend": 9.0, "sentiment": 0.0}, mix, 5.0)["trend"] == 0.0

    @PROP
    @given(u=ordered(st.floats(-1, 1)), beta=st.floats(0.1, 50))
    def test_more_fitness_never_lowers_a_share(self, u, beta):
        lo, hi = u
        a = investor.strategy_shares({"fundamental": 0.0, "trend": lo, "sentiment": 0.0}, MIX, beta)["trend"]
        b = investor.strategy_shares({"fundamental": 0.0, "trend": hi, "sentiment": 0.0}, MIX, beta)["trend"]
        assert a <= b + EPS

    def test_logit_switching_picks_by_the_draw(self):
        fitness = {h: 0.0 for h in MIX}  # shares 0.4 / 0.3 / 0.3 in this order
        assert investor.logit_switching("trend", fitness, MIX, 5.0, 0.0) == "fundamental"
        assert investor.logit_switching("trend", fitness, MIX, 5.0, 0.39) == "fundamental"
        assert investor.logit_switching("fundamental", fitness, MIX, 5.0, 0.41) == "trend"
        assert investor.logit_switching("fundamental", fitness, MIX, 5.0, 0.71) == "sentiment"
        assert investor.logit_switching("fundamental", fitness, MIX, 5.0, 0.999999) == "sentiment"

    def test_logit_switching_frequencies_follow_the_shares(self):
        fitness = {"fundamental": -0.1, "trend": 0.2, "sentiment": 0.0}
        shares = investor.strategy_shares(fitness, MIX, 5.0)
        draws = [(k + 0.5) / 1000 for k in range(1000)]
        picks = [investor.logit_switching("fundamental", fitness, MIX, 5.0, u) for u in draws]
        for h in MIX:
            assert picks.count(h) / 1000 == pytest.approx(shares[h], abs=0.002)

    @PROP
    @given(shares=st.lists(st.one_of(st.just(0.0), st.just(-0.1), st.floats(0.0, 1.0), st.just(math.nan)),
                           min_size=3, max_size=3),
           draws=st.lists(st.one_of(st.floats(0.0, 1.0, exclude_max=True), st.sampled_from([0.0, 0.3, 0.4, 0.7])),
                          max_size=12))
    def test_picking_for_many_investors_is_picking_for_each(self, shares, draws):
        """pick_strategies, with its bisection, picks what pick_strategy picks draw by draw (slice
        ends, empty slices, no slice at all, NaN shares)."""
        by_strategy = dict(zip(MIX, shares))
        current = ["trend"] * len(draws)
        assert investor.pick_strategies(current, by_strategy, draws) == \
            [investor.pick_strategy(c, by_strategy, u) for c, u in zip(current, draws)]

    def test_fixed_styles_keeps_the_strategy_whatever_it_earns(self):
        fitness = {"fundamental": -1.0, "trend": 1.0, "sentiment": 0.0}
        assert investor.fixed_styles("fundamental", fitness, MIX, 50.0, 0.9) == "fundamental"
        assert investor.fixed_styles("sentiment", fitness, MIX, 50.0, 0.1) == "sentiment"


# ============================================================================= markets


def spread(base=0.0225, leverage=0.0, quality=1.0, defaults=0.0, sentiment=0.0):
    return market.risk_based_spread(base, leverage, quality, defaults, sentiment, 0.08, 0.06, 0.04, 0.03)


class TestCreditSpread:
    def test_a_safe_unlevered_borrower_pays_the_base_spread(self):
        assert spread() == pytest.approx(0.0225)

    def test_a_levered_neocloud_reaches_the_top_of_coreweaves_range(self):
        assert spread(leverage=0.6, quality=0.0) == pytest.approx(0.1305)  # about SOFR + 13 %

    def test_leverage_counts_up_to_150_percent(self):
        assert spread(leverage=10.0) == pytest.approx(spread(leverage=1.5))

    def test_optimism_does_not_narrow_spreads_below_base(self):
        assert spread(sentiment=1.0) == spread(sentiment=0.0)
        assert spread(sentiment=-1.0) == pytest.approx(0.0225 + 0.03)

    @PROP
    @given(lev=ordered(st.floats(0, 3)), q=ordered(share), d=ordered(st.floats(0, 5)), s=ordered(signed))
    def test_riskier_never_cheaper(self, lev, q, d, s):
        assert spread(leverage=lev[0]) <= spread(leverage=lev[1]) + EPS
        assert spread(quality=q[1]) <= spread(quality=q[0]) + EPS
        assert spread(defaults=d[0]) <= spread(defaults=d[1]) + EPS
        assert spread(sentiment=s[1]) <= spread(sentiment=s[0]) + EPS


class TestRoundValuation:
    @staticmethod
    def view(rev, growth, sentiment, multiple):
        return market.round_valuation(rev, growth, sentiment, multiple, 0.0, 1.0, 0.5)

    def test_neutral_round_is_revenue_times_multiple(self):
        assert self.view(10.0, 0.0, 0.0, 20.0) == pytest.approx(200.0)

    def test_no_revenue_no_valuation(self):
        assert self.view(0.0, 3.0, 1.0, 20.0) == 0.0

    def test_growth_premium_is_capped(self):
        assert self.view(10.0, 100.0, 0.0, 20.0) == pytest.approx(self.view(10.0, 2.0, 0.0, 20.0))
        assert self.view(10.0, -5.0, 0.0, 20.0) == pytest.approx(100.0)

    @PROP
    @given(s=ordered(signed), g=ordered(st.floats(-1, 3)), rev=money)
    def test_monotone_in_sentiment_and_growth(self, s, g, rev):
        assert self.view(rev, 0.5, s[0], 20.0) <= self.view(rev, 0.5, s[1], 20.0) + 1e-9 * max(1, rev)
        assert self.view(rev, g[0], 0.0, 20.0) <= self.view(rev, g[1], 0.0, 20.0) + 1e-9 * max(1, rev)

    def test_anchored_round_moves_at_most_the_stated_distance_from_market_value(self):
        # the revenue view says 200 B$; a firm worth 50 is at most doubled, one worth 1,000 at most halved
        assert market.anchored_valuation(10.0, 0.0, 0.0, 20.0, 50.0, 1.0, 0.5) == pytest.approx(100.0)
        assert market.anchored_valuation(10.0, 0.0, 0.0, 20.0, 1000.0, 1.0, 0.5) == pytest.approx(500.0)
        assert market.anchored_valuation(10.0, 0.0, 0.0, 20.0, 150.0, 1.0, 0.5) == pytest.approx(200.0)  # inside the band
        # no market value yet: the revenue view alone
        assert market.anchored_valuation(10.0, 0.0, 0.0, 20.0, 0.0, 1.0, 0.5) == pytest.approx(200.0)
        # a firm with no revenue history is not wiped out by its first round
        assert market.anchored_valuation(0.0, 0.0, 0.0, 20.0, 200.0, 1.0, 0.5) == pytest.approx(100.0)


class TestSpotPrice:
    def test_no_idle_and_new_chips_fetch_the_reference(self):
        assert market.idle_discount(1.2, 0.0, 0.0, 0.3) == pytest.approx(1.2)

    def test_about_half_at_30_percent_idle(self):
        assert market.idle_discount(1.0, 0.3, 0.0, 0.3) == pytest.approx(0.5, abs=0.01)

    @PROP
    @given(idle=ordered(share), age=ordered(st.floats(0, 7)), gain=share)
    def test_more_idle_or_older_never_dearer(self, idle, age, gain):
        assert market.idle_discount(1.0, idle[1], age[0], gain) <= market.idle_discount(1.0, idle[0], age[0], gain) + EPS
        assert market.idle_discount(1.0, idle[0], age[1], gain) <= market.idle_discount(1.0, idle[0], age[0], gain) + EPS
        assert market.idle_discount(1.0, idle[1], age[1], gain) >= 0.0


def test_lab_share_grows_with_the_square_root_of_compute():
    assert market.compute_weighted(0.5, 4.0) == pytest.approx(1.0)
    assert market.compute_weighted(0.5, 0.0) == 0.0
    assert market.compute_weighted(0.5, -1.0) == 0.0


def sentiment_next(previous=0.0, ret=0.0, surprise=0.0, defaults=0):
    return market.adaptive_sentiment(previous, ret, surprise, defaults, 0.9, 2.0, 1.0, 0.6)


class TestSentiment:
    def test_calm_neutral_market_stays_neutral(self):
        assert sentiment_next() == pytest.approx(0.0)

    def test_without_news_sentiment_fades_towards_neutral(self):
        assert 0.0 < sentiment_next(previous=0.8) < 0.8
        assert -0.8 < sentiment_next(previous=-0.8) < 0.0

    def test_a_default_sours_the_mood(self):
        assert sentiment_next(previous=0.5, defaults=1) < sentiment_next(previous=0.5)

    @pytest.mark.parametrize("previous, ret", [(0.0, 0.0), (0.5, 0.0), (-0.3, 0.05)])
    def test_each_default_costs_default_weight_once(self, previous, ret):
        # on the latent (atanh) scale one default lowers the mood by exactly default_weight = 0.6,
        # and two defaults by twice that: the penalty is counted once per default
        calm = math.atanh(sentiment_next(previous, ret))
        assert math.atanh(sentiment_next(previous, ret, defaults=1)) == pytest.approx(calm - 0.6)
        assert math.atanh(sentiment_next(previous, ret, defaults=2)) == pytest.approx(calm - 1.2)

    def test_one_default_from_neutral_takes_sentiment_to_tanh_of_minus_the_weight(self):
        assert sentiment_next(0.0, defaults=1) == pytest.approx(math.tanh(-0.6))  # -0.537

    @PROP
    @given(prev=signed, r=ordered(st.floats(-1, 1)), surprise=signed, defaults=st.integers(0, 10))
    def test_bounded_and_rising_with_returns(self, prev, r, surprise, defaults):
        a = sentiment_next(prev, r[0], surprise, defaults)
        b = sentiment_next(prev, r[1], surprise, defaults)
        assert -1.0 <= a <= b + EPS <= 1.0 + EPS

    @PROP
    @given(prev=signed, ret=st.floats(-1, 1), d=ordered(st.integers(0, 10)))
    def test_more_defaults_never_lift_the_mood(self, prev, ret, d):
        assert sentiment_next(prev, ret, 0.0, d[1]) <= sentiment_next(prev, ret, 0.0, d[0]) + EPS


# ============================================================================= power utility


class TestPowerPrice:
    def test_base_price_with_no_load_and_base_plus_multiplier_at_full_use(self):
        assert utility.scarcity_price(70.0, 0.0, 10.0, 4.0, 2.0) == pytest.approx(70.0)
        assert utility.scarcity_price(70.0, 10.0, 10.0, 4.0, 2.0) == pytest.approx(210.0)

    def test_capped_beyond_capacity_and_at_zero_capacity(self):
        assert utility.scarcity_price(70.0, 50.0, 10.0, 4.0, 2.0) == pytest.approx(210.0)
        assert utility.scarcity_price(70.0, 1.0, 0.0, 4.0, 2.0) == pytest.approx(210.0)

    @PROP
    @given(load=ordered(st.floats(0, 30)), exponent=st.floats(0, 8))
    def test_more_load_never_cheaper(self, load, exponent):
        lo, hi = load
        assert utility.scarcity_price(70.0, lo, 10.0, exponent, 2.0) <= utility.scarcity_price(70.0, hi, 10.0, exponent, 2.0) + EPS


class TestExpansion:
    def test_builds_the_queue_beyond_spare_capacity_at_most_the_rate(self):
        assert utility.follow_queue(5.0, 2.0, 10.0) == pytest.approx(3.0)
        assert utility.follow_queue(5.0, 2.0, 0.25) == 0.25
        assert utility.follow_queue(1.0, 2.0, 10.0) == 0.0
        assert utility.follow_queue(0.0, 0.0, 0.0) == 0.0


class TestCommitmentCapacity:
    def call(self, cash=10.0, revenue=1.0, growth=0.0, horizon=12, owed=5.0, deals=0.0, investors=0.0):
        return lab.funded_commitments(cash, revenue, growth, horizon, owed, deals, investors)

    def test_flat_revenue_adds_cash_revenue_and_expected_funding_less_what_is_owed(self):
        assert self.call() == pytest.approx(10.0 + 12.0 - 5.0)
        assert self.call(deals=30.0, investors=20.0) == pytest.approx(17.0 + 50.0)

    def test_removing_vendor_money_lowers_what_the_lab_can_sign(self):
        assert self.call(deals=0.0) < self.call(deals=100.0)

    def test_nothing_to_commit_when_obligations_exceed_funding(self):
        assert self.call(owed=1e3) == 0.0

    def test_growth_counts_capped_at_doubling_a_year(self):
        assert self.call(growth=0.5) > self.call(growth=0.0)
        assert self.call(growth=5.0) == pytest.approx(self.call(growth=1.0))
        assert self.call(growth=-0.9) == pytest.approx(self.call(growth=-0.5))

    def test_unbounded_ignores_funding(self):
        assert lab.unbounded_commitments(0.0, 0.0, 0.0, 12, 1e3, 0.0, 0.0) == math.inf


class TestOutsideSales:
    def call(self, capex=380.0, share_=0.25, growth=0.2, months=0, ds=0.0, dspread=0.0, es=0.3, ec=5.0):
        return vendor.capital_markets_capex(capex, share_, growth, months, ds, dspread, es, ec)

    def test_at_the_start_the_vendor_sells_its_share_of_outside_capex(self):
        assert self.call() == pytest.approx(380.0 * 0.25 / 12.0)

    def test_grows_on_trend(self):
        assert self.call(months=12) == pytest.approx(self.call() * 1.2)

    def test_falls_with_gloom_and_wider_spreads_never_below_zero(self):
        assert self.call(ds=-0.5) == pytest.approx(self.call() * 0.85)
        assert self.call(dspread=0.01) == pytest.approx(self.call() * 0.95)
        assert self.call(dspread=1.0) == 0.0

    def test_exogenous_trend_ignores_markets(self):
        assert vendor.exogenous_trend(380.0, 0.25, 0.2, 12, -1.0, 0.05, 0.3, 5.0) == pytest.approx(self.call(months=12))


def test_every_registered_rule_is_tested_here():
    """A new rule needs its own plain-number test in this file."""
    from pathlib import Path

    from agents.rules import resolve, slots

    source = Path(__file__).read_text(encoding="utf-8")
    untested = [f"{slot}:{name}" for slot, names in slots().items() for name in names
                if f".{resolve(slot, name).__name__}(" not in source]
    assert not untested
