"""The page's plumbing without a browser: sliders from the scenario, LiveModel's keywords,
the `roundtrip viz` command's argument handling, the offline asset cache."""

from __future__ import annotations

import inspect

import pytest

from experiments.cli import main
from model.scenario import load_scenario
from viz import assets
from viz.app import SLIDERS, LiveModel, bundled_scenarios, model_params, scenario_value, slider_overrides


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
