"""Every number a scenario accepts keeps the model inside its accounting (issue 10, item 4).

The schema's bounds are the contract: any value inside them runs with the invariants holding,
and a value outside is a one-line error. A run whose books break even so is stopped at its end
by `check_totals`, with the per-step checks off, so a sweep records it as failed.
"""

from __future__ import annotations

import annotated_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from model import scenario as schema
from model.errors import InvariantViolation, ScenarioError
from model.scenario import load_scenario, parameter_info
from model.simulate import simulate


def bounds(field) -> tuple[float | None, float | None]:
    low = high = None
    for m in field.metadata:
        if isinstance(m, (annotated_types.Ge, annotated_types.Gt)):
            low = float(getattr(m, "ge", getattr(m, "gt", None)))
        if isinstance(m, (annotated_types.Le, annotated_types.Lt)):
            high = float(getattr(m, "le", getattr(m, "lt", None)))
    return low, high


def field_of(scenario: BaseModel, path: str):
    node: object = scenario
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part] if isinstance(node, dict) else getattr(node, part)
    return type(node), type(node).model_fields[parts[-1]]


SECTIONS = [cls for cls in vars(schema).values() if isinstance(cls, type) and issubclass(cls, schema.Section)]


@pytest.mark.parametrize("cls", SECTIONS, ids=lambda c: c.__name__)
def test_every_number_has_a_physical_range(cls):
    for name, field in cls.model_fields.items():
        if field.annotation in (int, float):
            low, high = bounds(field)
            assert low is not None and high is not None, f"{cls.__name__}.{name}: needs both bounds"


BASE = load_scenario("deals-2026")  # every deal type and the most agents
NUMERIC = [row["path"] for row in parameter_info(BASE)
           if isinstance(row["value"], (int, float)) and not isinstance(row["value"], bool) and row["path"] != "meta.steps"]


@st.composite
def overrides(draw):
    paths = draw(st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=6, unique=True))
    out = {}
    for path in paths:
        _, field = field_of(BASE, path)
        low, high = bounds(field)
        if field.annotation is int:
            out[path] = draw(st.integers(int(low), int(high)))
        else:
            out[path] = draw(st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=False))
    return out


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(overrides(), st.integers(0, 2**32 - 1))
def test_values_inside_the_bounds_keep_the_books(changes, seed):
    try:
        scenario = BASE.with_overrides(changes)
        simulate(scenario, seed=seed, steps=24, keep_series=False, check_invariants=True)
    except ScenarioError:
        return  # a cross-field rule (economic life <= physical life, power connections <= capacity) refused the mix: clean


@pytest.mark.parametrize("path,value", [
    ("labs.*.max_revenue_per_gw_month", 1e-20), ("investors.wealth", 1e308), ("labs.*.cash", 1e308),
    ("clouds.*.debt", 1e300), ("labs.*.shares", 1e-300), ("investors.revenue_multiple", 1e300),
])
def test_the_attacks_of_issue_10_are_refused(path, value):
    with pytest.raises(ScenarioError, match=path.split(".")[-1]):
        load_scenario("baseline", {path: value})


@pytest.mark.parametrize("path,value", [
    ("labs.*.revenue_share", 5e-324), ("labs.*.compute_gw", 1e-12), ("end_market.spot_share", 0.999999999999),
])
def test_numbers_finer_than_the_models_resolution_are_refused(path, value):
    with pytest.raises(ScenarioError, match="resolution"):
        load_scenario("deals-2026", {path: value})


@pytest.mark.parametrize("kind,size", [("end_market_stall", -1.0), ("export_ban", 2.0), ("grid_delay", -3.0)])
def test_shock_sizes_the_model_cannot_handle_are_refused(kind, size):
    with pytest.raises(ScenarioError, match=r"shocks\.0(\.|: )size"):
        load_scenario("baseline", {}).with_overrides({"shocks": [{"kind": kind, "size": size, "step": 3}]})


def test_broken_books_stop_a_run_even_with_the_checks_off(monkeypatch):
    from model.economy import RoundtripModel

    original = RoundtripModel.step

    def leaky_step(self):  # money out of nowhere, as a bug would make it
        original(self)
        if self.steps == 3:
            self.ledger.sheets[self.labs[0].name].assets["cash"] += 5.0

    monkeypatch.setattr(RoundtripModel, "step", leaky_step)
    with pytest.raises(InvariantViolation, match="step 6"):
        simulate(load_scenario("baseline"), seed=1, steps=6, keep_series=False, check_invariants=False)
