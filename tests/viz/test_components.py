"""Every component of the live page renders, without a browser, for 24 steps of every bundled
scenario (an exception in any component would replace the whole page with a traceback)."""

from __future__ import annotations

import pytest
import solara
from mesa.visualization.solara_viz import _wrap_component
from mesa.visualization.utils import force_update

from viz import components as c
from viz.app import COMPONENTS, LiveModel, bundled_scenarios

STEPS = 24


@solara.component
def AllComponents(model):
    with solara.Column() as main:
        for component, _page in COMPONENTS:
            _wrap_component(component)(model)
    return main


@pytest.mark.parametrize("scenario", bundled_scenarios())
def test_every_component_renders_for_24_steps(scenario):
    model = LiveModel(scenario_name=scenario)
    _box, rc = solara.render(AllComponents(model), handle_error=False)
    try:
        for i in range(STEPS):
            if i == STEPS // 2:  # the shock buttons' actions, mid-run
                c.fire_shock(model, "stall")
                c.fire_shock(model, "grid_delay")
                labs = [f.name for f in c.firms(model) if f.kind == "lab" and not f.defaulted]
                if labs:
                    c.fire_shock(model, "missed_payment", labs[0])
            model.step()
            force_update()  # what SolaraViz does after a step: every component re-renders
    finally:
        rc.close()
    assert model.steps == STEPS
    # the figures are not empty: each chart plots the steps so far
    assert len(c.coverage_figure(model).data[0].y) == STEPS + 1
    assert len(c.circularity_figure(model).axes[0].get_lines()[0].get_xdata()) == STEPS + 1
    assert len(c.revenue_profit_figure(model).axes[0].get_lines()) >= 2
    assert c.balance_rows(model)
    assert any(e["kind"] == "shock" for e in model.events)


def test_scenarios_are_bundled():
    assert "baseline" in bundled_scenarios()


def test_sankey_shows_the_circle():
    """After a few months the vendor -> lab -> cloud -> vendor circle is in the Sankey."""
    model = LiveModel(scenario_name="baseline")
    for _ in range(6):
        model.step()
    sankey = c.sankey_figure(model).data[0]
    labels = list(sankey.node.label)
    kinds = {f"{f.name} {side}": f.kind for f in c.firms(model) for side in ("pays", "gets")}
    edges = {(kinds.get(labels[s]), kinds.get(labels[t])) for s, t in zip(sankey.link.source, sankey.link.target)}
    assert ("lab", "cloud") in edges  # compute rent
    assert ("cloud", "vendor") in edges  # chip sales
    assert ("vendor", "lab") in edges or ("vendor", "cloud") in edges  # equity, loans, backstops


def test_flow_groups():
    assert c.flow_group("equity") == "equity"
    assert c.flow_group("gpu_backed") == "loan"
    assert c.flow_group("other_revenue") == "end_market"
    assert c.flow_group("interest") == "loan"
    assert c.flow_group("chip_sale") == "chips"
    assert c.flow_group("compute_rent") == "compute"
    assert c.flow_group("power") == "power"
    assert c.flow_group("something_else") == "other"
