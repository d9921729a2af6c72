"""The rule registry: slots, defaults, names, dotted paths to a researcher's own functions,
and loud failures that list what is known."""

from __future__ import annotations

import pytest

import agents.rules as registry
from agents.rules import resolve, resolve_all, rule, slots, validate_rule_choices
from model.errors import ScenarioError
from model.scenario import Scenario
from model.simulate import simulate

# ----------------------------------------------------------------------------- a researcher's own rules

CALLS: list[tuple] = []


def recording_funding(cash, monthly_burn, runway_months, sentiment):
    """Records every call, then decides like the default rule."""
    CALLS.append((cash, monthly_burn, runway_months, sentiment))
    return registry.resolve("lab.funding")(cash, monthly_burn, runway_months, sentiment)


CONSTANT_MOOD = 0.123


def constant_mood(*args):
    """Sentiment pinned to a constant: its answer must show in the run's series."""
    return CONSTANT_MOOD


NOT_A_FUNCTION = 42


# ----------------------------------------------------------------------------- the registry


EXPECTED_SLOTS = {
    "lab.compute_target", "lab.funding", "lab.cutback",
    "vendor.production", "vendor.pricing", "vendor.financing",
    "cloud.capex", "cloud.financing", "cloud.contract_price", "cloud.power_request",
    "utility.pricing", "utility.expansion",
    "investor.expectation.fundamental", "investor.expectation.trend", "investor.expectation.sentiment",
    "investor.allocation",
    "market.credit_spread", "market.round_valuation", "market.spot_price", "market.lab_share", "market.sentiment",
}


def test_every_decision_has_a_slot_and_every_slot_a_default_listed_first():
    known = slots()
    assert EXPECTED_SLOTS <= set(known)
    for slot, names in known.items():
        default = resolve(slot)
        assert default.rule_slot == slot
        assert names[0] == default.rule_name, slot
        assert len(names) == len(set(names))


def test_a_rule_resolves_by_name():
    fn = resolve("lab.funding", "opportunistic")
    assert fn.rule_name == "opportunistic" and fn.rule_slot == "lab.funding"
    assert fn(200.0, 10.0, 12, 0.5) == pytest.approx(160.0)


def test_resolve_all_gives_one_function_per_slot_defaults_unless_chosen():
    chosen = resolve_all({"cloud.capex": "speculative"})
    assert set(chosen) == set(slots())
    assert chosen["cloud.capex"].rule_name == "speculative"
    assert chosen["lab.funding"] is resolve("lab.funding")


def test_unknown_rule_name_fails_listing_the_known_ones():
    with pytest.raises(ScenarioError) as info:
        resolve("lab.funding", "yolo")
    message = str(info.value)
    assert "rules.lab.funding" in message and "'yolo'" in message
    assert str(sorted(slots()["lab.funding"])) in message
    assert "dotted path" in message and "\n" not in message


def test_unknown_slot_fails_listing_the_slots():
    with pytest.raises(ScenarioError) as info:
        resolve("lab.fundng", "runway")
    assert "lab.fundng" in str(info.value) and "'lab.funding'" in str(info.value)


def test_a_dotted_path_resolves_to_a_function_in_a_test_module():
    assert resolve("lab.funding", f"{__name__}.recording_funding") is recording_funding
    assert resolve("lab.funding", f"{__name__}:recording_funding") is recording_funding


@pytest.mark.parametrize("path, expected", [
    (f"{__name__}.no_such_function", "cannot import"),
    ("no_such_module_xyz.fn", "cannot import"),
    (f"{__name__}.NOT_A_FUNCTION", "is not a function"),
])
def test_a_bad_dotted_path_fails_with_one_line(path, expected):
    with pytest.raises(ScenarioError) as info:
        resolve("lab.funding", path)
    assert "rules.lab.funding" in str(info.value) and expected in str(info.value) and "\n" not in str(info.value)


def test_validate_rule_choices_checks_every_choice():
    validate_rule_choices({"lab.funding": "runway", "cloud.capex": f"{__name__}.recording_funding"})
    with pytest.raises(ScenarioError, match="cloud.capex"):
        validate_rule_choices({"lab.funding": "runway", "cloud.capex": "nope"})


def test_a_newly_registered_rule_is_known_by_name(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "lab.funding", dict(registry._REGISTRY["lab.funding"]))

    @rule("lab.funding", "never_raise")
    def never_raise(cash, monthly_burn, runway_months, sentiment):
        return 0.0

    assert resolve("lab.funding", "never_raise") is never_raise
    assert "never_raise" in slots()["lab.funding"]
    assert resolve("lab.funding").rule_name == "runway"  # registering does not change the default
    with pytest.raises(ScenarioError, match="never_raise"):
        resolve("lab.funding", "unknown")


# ----------------------------------------------------------------------------- used by a model run


def test_a_dotted_path_rule_is_called_by_a_model_run_and_its_answers_are_used(monkeypatch):
    from collections import OrderedDict

    from model import vendor_history

    monkeypatch.setattr(vendor_history, "_chain_purchases", OrderedDict())  # so the burn-in runs here
    CALLS.clear()
    scenario = Scenario(rules={"lab.funding": f"{__name__}.recording_funding",
                               "market.sentiment": f"{__name__}.constant_mood"})
    steps = 6
    result = simulate(scenario, seed=0, steps=steps, check_invariants=True)
    n_labs = len(scenario.labs)
    # every lab, every month (no lab defaults in 6 months), the unreported burn-in that seeds
    # the vendors' opening history (model/vendor_history.py) included
    burn_in = max(v.opening_history_months for v in scenario.vendors.values())
    assert len(CALLS) == n_labs * (burn_in + steps)
    assert not result.defaults
    for cash, burn, runway, sentiment in CALLS:
        assert runway == scenario.labs["Lab"].runway_months
        assert isinstance(cash, float) and isinstance(burn, float)
    # from its second month on (in the burn-in and in the run, each of which opens at the
    # scenario's initial sentiment), the lab reads the sentiment the pinned rule produced
    second_months = CALLS[n_labs:burn_in * n_labs] + CALLS[(burn_in + 1) * n_labs:]
    assert {c[3] for c in second_months} == {CONSTANT_MOOD}
    assert (result.series["sentiment"].iloc[1:] == CONSTANT_MOOD).all()


def test_a_scenario_file_can_name_a_dotted_path_rule(tmp_path):
    from model.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text(f'[rules]\n"market.sentiment" = "{__name__}.constant_mood"\n', encoding="utf-8")
    scenario = load_scenario(path)
    result = simulate(scenario, seed=1, steps=3)
    assert (result.series["sentiment"].iloc[1:] == CONSTANT_MOOD).all()
