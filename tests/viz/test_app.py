"""The page's plumbing without a browser: sliders from the scenario, LiveModel's keywords,
the `roundtrip viz` command's argument handling, the offline asset cache."""

from __future__ import annotations

import inspect

import pytest

from experiments.cli import main
from model.scenario import load_scenario
from viz import assets
from viz.app import SLIDERS, LiveModel, bundled_scenarios, model_params, pending, scenario_value, shown_value, slider_overrides


@pytest.mark.parametrize("scenario", bundled_scenarios())
def test_every_param_is_a_keyword_of_the_model(scenario):
    keywords = set(inspect.signature(LiveModel.__init__).parameters) - {"self"}
    assert set(model_params(scenario)) <= keywords
    assert set(SLIDERS) <= keywords


@pytest.mark.parametrize("scenario", bundled_scenarios())
def test_sliders_start_at_the_scenarios_values(scenario):
    loaded = load_scenario(scenario)
    params = model_params(scenario)
    for name, spec in SLIDERS.items():
        value = scenario_value(loaded, spec.path)
        assert params[name]["value"] == pytest.approx(value)
        assert params[name]["min"] <= value <= params[name]["max"]
        # on the slider's grid, or the slider would snap itself off the scenario's value
        k = (value - params[name]["min"]) / params[name]["step"]
        assert k == pytest.approx(round(k), abs=1e-6), name


def test_unmoved_sliders_leave_the_scenario_alone():
    base = load_scenario("baseline")
    values = {name: scenario_value(base, spec.path) for name, spec in SLIDERS.items()}
    assert slider_overrides(base, values) == {}
    values["annual_growth"] = values["annual_growth"] + 0.1
    assert slider_overrides(base, values) == {"end_market.annual_growth": pytest.approx(base.end_market.annual_growth + 0.1)}


def test_a_moved_slider_changes_the_model():
    base = load_scenario("baseline")
    model = LiveModel(scenario_name="baseline", annual_growth=base.end_market.annual_growth + 0.25)
    assert model.params.end_market.annual_growth == pytest.approx(base.end_market.annual_growth + 0.25)
    assert LiveModel(scenario_name="baseline").params == base


def test_shown_values_say_the_unit_and_each_agents_value():
    model = LiveModel(scenario_name="baseline")
    assert shown_value(model, "lead_time_months") == f"{model.params.power.lead_time_months} months"
    assert shown_value(model, "annual_growth") == f"{model.params.end_market.annual_growth:.4g} 1/year"
    shares = {name: v.financing_share for name, v in model.params.vendors.items()}
    if len(set(shares.values())) > 1:  # vendors differ: each is named
        assert all(name in shown_value(model, "financing_share") for name in shares)
    moved = LiveModel(scenario_name="baseline", financing_share=0.5)
    assert shown_value(moved, "financing_share") == "0.5 × T12M revenue"


def test_a_moved_slider_is_pending_until_reset():
    base = load_scenario("baseline")
    model = LiveModel(scenario_name="baseline")
    start = base.end_market.annual_growth
    assert not pending(model, base, "annual_growth", start)
    assert pending(model, base, "annual_growth", start + 0.05)
    assert not pending(LiveModel(scenario_name="baseline", annual_growth=start + 0.05), base, "annual_growth", start + 0.05)
    assert pending(model, base, "rng", model.seed + 1)


def test_viz_rejects_an_unknown_scenario(capsys):
    assert main(["viz", "no-such-scenario"]) == 2
    err = capsys.readouterr().err
    assert "no-such-scenario" in err and err.count("\n") == 1


def test_viz_rejects_a_bad_port(capsys):
    assert main(["viz", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_asset_cache_is_complete():
    # scripts/setup.sh fills it; the page cannot render offline without it
    assert assets.missing() == [], f"run: python -m viz.assets fetch (cache {assets.cache_dir()})"
