"""Bad scenario input becomes one `ScenarioError` line naming the file, the key and what was
expected; good input loads. Every case is a scenario file written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.economy import RoundtripModel
from model.errors import ScenarioError, UserError
from model.scenario import Scenario, load_scenario, parse_assignment


def write(tmp_path: Path, text: str, name: str = "scen.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path_or_name, **kw) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path_or_name, **kw)
    message = str(info.value)
    assert "\n" not in message, "a user error is one line"
    exc = info.value
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__), "no traceback behind it"
    assert isinstance(info.value, UserError)
    return message


# ----------------------------------------------------------------------------- good input


def test_bundled_baseline_loads_by_name_and_by_path():
    by_name = load_scenario("baseline")
    by_path = load_scenario(Path(__file__).resolve().parents[2] / "experiments" / "scenarios" / "baseline.toml")
    assert by_name == by_path
    assert by_name.meta.name == "baseline"


def test_an_empty_file_is_the_default_scenario(tmp_path):
    assert load_scenario(write(tmp_path, "")) == Scenario()


def test_a_small_valid_file_keeps_its_values_and_defaults_the_rest(tmp_path):
    s = load_scenario(write(tmp_path, """
[end_market]
annual_growth = 0.25

[labs.A]
compute_gw = 2.0

[[deals]]
type = "take_or_pay"
lab = "A"
cloud = "Cloud"
gw = 1.5
"""))
    assert s.end_market.annual_growth == 0.25
    assert s.end_market.volatility == Scenario().end_market.volatility
    assert list(s.labs) == ["A"] and s.labs["A"].compute_gw == 2.0
    assert s.deals[0].gw == 1.5


def test_overrides_at_load_apply_to_every_entry_of_a_table(tmp_path):
    path = write(tmp_path, "[vendors.V1]\n[vendors.V2]\nfinancing_share = 0.1\n")
    s = load_scenario(path, overrides={"vendors.*.financing_share": 0.9})
    assert [v.financing_share for v in s.vendors.values()] == [0.9, 0.9]


# ----------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize("text, key, suggestion", [
    ("[end_market]\nanual_growth = 0.3\n", "end_market.anual_growth", "annual_growth"),
    ("[end_markt]\nannual_growth = 0.3\n", "end_markt", "end_market"),
    ("[vendors.Nvidia]\nfinancing_shar = 0.3\n", "vendors.Nvidia.financing_shar", "financing_share"),
    ("[gpus]\neconomic_life = 3.0\n", "gpus.economic_life", "economic_life_years"),
])
def test_unknown_key_names_file_and_key_and_suggests_the_nearest(tmp_path, text, key, suggestion):
    path = write(tmp_path, text)
    message = error_of(path)
    assert message.startswith(str(path))
    assert key in message
    assert "unknown key" in message
    assert f"did you mean {suggestion!r}" in message


def test_unknown_key_with_no_near_match_lists_the_valid_keys(tmp_path):
    message = error_of(write(tmp_path, "[power]\nzzqqx = 1\n"))
    assert "power.zzqqx" in message and "lead_time_months" in message and "pue" in message


def test_unknown_key_in_a_deal_names_the_deal_not_the_union_tag(tmp_path):
    message = error_of(write(tmp_path, "[[deals]]\ntype = 'take_or_pay'\nlab = 'Lab'\ncloud = 'Cloud'\ngww = 2.0\n"))
    assert "did you mean 'gw'" in message
    assert "take_or_pay.gww" not in message
    assert "deals.0.gww" in message or "deals[0].gww" in message


# ----------------------------------------------------------------------------- wrong types and ranges


@pytest.mark.parametrize("text, key, expected", [
    ("[end_market]\nannual_growth = 'fast'\n", "end_market.annual_growth", "number"),
    ("[power]\nlead_time_months = 3.5\n", "power.lead_time_months", "integer"),
    ("[clouds.C]\ninvestment_grade = 'maybe'\n", "clouds.C.investment_grade", "bool"),
    ("[meta]\nstart = 'Jan 2026'\n", "meta.start", "pattern"),
    ("rules = 'fast'\n", "rules", "dictionary"),
    ("[[shocks]]\nkind = 'meteor'\n", "shocks.0.kind", "export_ban"),
])
def test_wrong_type_names_the_key_what_was_expected_and_what_was_given(tmp_path, text, key, expected):
    path = write(tmp_path, text)
    message = error_of(path)
    assert message.startswith(str(path)) and key in message and expected in message


@pytest.mark.parametrize("text", [
    "[end_market]\nannual_growth = '0.5'\n",
    "[labs.Lab]\nhorizon_months = true\n",
    "[clouds.Cloud]\ninvestment_grade = 1\n",
])
def test_typed_toml_values_of_the_wrong_type_are_not_coerced(tmp_path, text):
    error_of(write(tmp_path, text))


@pytest.mark.parametrize("text, key", [
    ("[labs.L]\ncompute_gw = -1.0\n", "labs.L.compute_gw"),
    ("[clouds.C]\nfleet_gw = -0.5\n", "clouds.C.fleet_gw"),
    ("[clouds.C]\npowered_gw = -0.5\n", "clouds.C.powered_gw"),
    ("[utilities.U]\ncapacity_gw = -5.0\n", "utilities.U.capacity_gw"),
    ("[utilities.U]\ncapacity_gw = 0.0\n", "utilities.U.capacity_gw"),
    ("[labs.Lab]\n[clouds.Cloud]\n[[deals]]\ntype = 'take_or_pay'\nlab = 'Lab'\ncloud = 'Cloud'\ngw = -2.0\n", "deals.0.gw"),
])
def test_negative_gw_is_rejected_with_the_bound(tmp_path, text, key):
    path = write(tmp_path, text)
    message = error_of(path)
    assert message.startswith(str(path)) and key in message
    assert "greater than" in message and ("got -" in message or "got 0.0" in message)


def test_non_finite_gw_is_rejected_at_load(tmp_path):
    message = error_of(write(tmp_path, "[labs.Lab]\ncompute_gw = inf\n"))
    assert "labs.Lab.compute_gw" in message


def test_a_life_longer_than_physical_life_is_rejected(tmp_path):
    message = error_of(write(tmp_path, "[gpus]\neconomic_life_years = 8.0\nphysical_life_years = 7.0\n"))
    assert "gpus.economic_life_years" in message and "physical_life_years" in message


def test_a_deal_naming_an_unknown_agent_lists_the_agents(tmp_path):
    message = error_of(write(tmp_path, "[[deals]]\ntype = 'take_or_pay'\nlab = 'Nobody'\ncloud = 'Cloud'\n"))
    assert "deals[0].lab" in message and "'Nobody'" in message and "['Lab']" in message


def test_an_unknown_deal_type_lists_the_deal_types(tmp_path):
    message = error_of(write(tmp_path, "[[deals]]\ntype = 'gift'\n"))
    assert "deals.0" in message and "'gift'" in message and "take_or_pay" in message and "vendor_loan" in message


def test_a_kind_with_no_agents_is_rejected(tmp_path):
    message = error_of(write(tmp_path, "[labs]\n"))
    assert "labs" in message and "at least one" in message


def test_a_cloud_naming_an_unknown_vendor_or_utility_is_rejected(tmp_path):
    assert "clouds.Cloud.vendor_mix" in error_of(write(tmp_path, "[clouds.Cloud]\nvendor_mix = { Intel = 1.0 }\n"))
    assert "clouds.Cloud.utility" in error_of(write(tmp_path, "[clouds.Cloud]\nutility = 'Nowhere'\n", "b.toml"))


def test_duplicate_agent_names_across_kinds_are_rejected(tmp_path):
    message = error_of(write(tmp_path, "[labs.Same]\n[clouds.Same]\n"))
    assert "Same" in message and "unique" in message


# ----------------------------------------------------------------------------- rules


def test_unknown_rule_lists_the_known_rules_of_its_slot(tmp_path):
    path = write(tmp_path, '[rules]\n"lab.funding" = "yolo"\n')
    message = error_of(path)
    assert message.startswith(str(path))
    assert "rules.lab.funding" in message and "'yolo'" in message
    assert "runway" in message and "opportunistic" in message


def test_unknown_rule_slot_lists_the_slots(tmp_path):
    message = error_of(write(tmp_path, '[rules]\n"lab.fundng" = "runway"\n'))
    assert "rules.lab.fundng" in message and "lab.funding" in message


def test_a_dotted_path_that_does_not_import_is_reported(tmp_path):
    message = error_of(write(tmp_path, '[rules]\n"lab.funding" = "no_such_module_xyz.fn"\n'))
    assert "rules.lab.funding" in message and "no_such_module_xyz" in message


# ----------------------------------------------------------------------------- files


def test_missing_file_names_it_and_lists_the_bundled_scenarios(tmp_path):
    missing = tmp_path / "nope.toml"
    message = error_of(missing)
    assert str(missing) in message and "no such scenario file" in message and "baseline" in message


def test_unknown_bundled_name_is_reported(tmp_path):
    message = error_of("no-such-scenario-xyz")
    assert "no-such-scenario-xyz" in message and "baseline" in message


@pytest.mark.parametrize("text", ["[end_market\nannual_growth = 0.3\n", "[end_market]\nannual_growth = \n",
                                  "a = 1\na = 2\n"])
def test_malformed_toml_names_the_file_and_the_line(tmp_path, text):
    path = write(tmp_path, text)
    message = error_of(path)
    assert message.startswith(str(path)) and "malformed TOML" in message and "line" in message


# ----------------------------------------------------------------------------- overrides (--set)


def test_override_with_an_unknown_key_suggests_the_nearest():
    with pytest.raises(ScenarioError) as info:
        Scenario().with_overrides({"vendors.*.financing_shar": 1.0})
    assert "vendors.*.financing_shar" in str(info.value) and "did you mean 'financing_share'" in str(info.value)


@pytest.mark.parametrize("overrides, key", [
    ({"vendors.*.financing_share": "x"}, "vendors.Vendor.financing_share"),
    ({"labs.Lab.compute_gw": -1.0}, "labs.Lab.compute_gw"),
    ({"gpus.economic_life_years": 9.0}, "gpus.economic_life_years"),
    ({"deals.0.gw": 1.0}, "deals.0.gw"),
    ({"meta.steps.x": 1}, "meta.steps.x"),
])
def test_bad_overrides_are_validated_like_the_file(overrides, key):
    with pytest.raises(ScenarioError) as info:
        Scenario().with_overrides(overrides)
    message = str(info.value)
    assert message.startswith("--set") and key in message and "\n" not in message


def test_a_bad_override_stops_the_model_before_it_is_built():
    with pytest.raises(ScenarioError, match="investors.count"):
        RoundtripModel(Scenario(), rng=0, overrides={"investors.count": 0})


def test_overrides_name_the_file_they_apply_to(tmp_path):
    path = write(tmp_path, "")
    message = error_of(path, overrides={"power.lead_time_months": -3})
    assert str(path) in message and "--set" in message and "power.lead_time_months" in message


def test_a_rule_can_be_chosen_with_an_override():
    s = Scenario().with_overrides({"rules.lab.funding": "opportunistic"})
    assert s.rules == {"lab.funding": "opportunistic"}


@pytest.mark.parametrize("text, expected", [
    ("a.b=0.3", ("a.b", 0.3)),
    ("a = true", ("a", True)),
    ("n=12", ("n", 12)),
    ("x=hello", ("x", "hello")),
    ("x=[1, 2]", ("x", [1, 2])),
    ("x=a=b", ("x", "a=b")),
])
def test_parse_assignment_reads_values_as_toml_else_strings(text, expected):
    assert parse_assignment(text) == expected


def test_parse_assignment_without_equals_is_a_user_error():
    with pytest.raises(ScenarioError, match="expected dotted.key=value"):
        parse_assignment("vendors.*.financing_share")
