"""The GPU fleet's cached values stay the numbers a fresh computation gives, to the bit."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from model.gpus import Fleet, Vintage


def fresh_value(fleet: Fleet, life: float) -> float:
    """The economic value at market factor 1 computed from scratch (a copy of the vintages)."""
    return Fleet([Vintage(v.gw, v.cost_per_gw, v.age_months, v.book_value) for v in fleet.vintages]).economic_value(1.0, life)


operation = st.one_of(
    st.tuples(st.just("buy"), st.floats(0.0, 5.0), st.floats(1.0, 50.0)),
    st.tuples(st.just("age"), st.just(0.0), st.just(0.0)),
    st.tuples(st.just("ask"), st.floats(0.5, 2.0), st.just(0.0)),
    st.tuples(st.just("copy"), st.just(0.0), st.just(0.0)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(operation, max_size=40), st.sampled_from([24.0, 36.0, 37.5]))
def test_economic_value_after_purchases_is_a_fresh_computation_bit_for_bit(operations, life):
    fleet = Fleet()
    fleet.add(3.0, 30.0, 12.0)
    for op, x, y in operations:
        if op == "buy":  # the same month's purchases merge into one vintage; a month later, a new one
            fleet.add(x, y)
        elif op == "age":
            fleet.age_one_month(60.0, 24.0)  # the opening vintage is scrapped after 12 months
        elif op == "copy":  # a model's copy shares nothing the original changes later
            twin = copy.deepcopy(fleet)
            fleet.add(1.0, 10.0)
            assert twin.economic_value(1.0, life) == fresh_value(twin, life)
        else:
            assert fleet.economic_value(x, life) == x * fresh_value(fleet, life)
        assert fleet.economic_value(1.0, life) == fresh_value(fleet, life)
        assert fleet.gw == sum(v.gw for v in fleet.vintages)


def test_ageing_scraps_exactly_the_vintages_past_their_physical_life():
    fleet = Fleet()
    fleet.add(1.0, 10.0, 70.0)
    fleet.add(2.0, 20.0, 10.0)
    fleet.add(3.0, 30.0, 71.0)
    depreciation, gw, value = fleet.age_one_month(60.0, 72.0)
    assert [v.gw for v in fleet.vintages] == [1.0, 2.0]
    assert gw == 3.0 and fleet.gw == 3.0
    assert value == 90.0 - 90.0 / 60.0  # its book value after this month's depreciation


def test_a_month_without_scrapping_keeps_the_fleets_gw_to_the_bit():
    fleet = Fleet()
    for month in range(30):
        fleet.add(0.1 + month / 7.0, 10.0 + month)
        fleet.age_one_month(60.0, 72.0)
        assert fleet.gw == sum([v.gw for v in fleet.vintages])
