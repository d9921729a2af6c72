"""The live page: watch circular financing work and break (Mesa's SolaraViz).

    roundtrip viz [SCENARIO] [--host H] [--port N]

or, by hand, `solara run viz/app.py --production` with the environment of `viz.serve`.

The sidebar holds the scenario picker, Mesa's play / step / reset controls, the key
parameters as sliders and the seed. Slider defaults are read from the scenario itself
(`model/scenario.py` writes every default once); a slider left where it starts leaves the
scenario as written, so agents that differ (two vendors with different financing shares)
keep their own values. Moving a slider sets that parameter for every agent it names; the
change takes effect on Reset, as with any SolaraViz parameter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara
from mesa.visualization import SolaraViz

from model.economy import RoundtripModel
from model.scenario import SCENARIO_DIR, Scenario, load_scenario, parameter_info
from viz import components as c
from viz.serve import SCENARIO_ENV

DEFAULT_SEED = 1


@dataclass(frozen=True)
class SliderSpec:
    """A key parameter on a slider: the scenario path it sets and the slider's range.

    The range is the viz's choice; the starting value is always the scenario's.
    """

    label: str
    path: str  # dotted path; `*` = every agent of that kind
    lo: float
    hi: float
    step: float
    integer: bool = False


SLIDERS: dict[str, SliderSpec] = {
    "financing_share": SliderSpec("Vendor circular deals (share of T12M revenue)", "vendors.*.financing_share", 0.0, 2.0, 0.05),
    "vendor_loan_share": SliderSpec("Vendor loans (share of a chip purchase)", "vendors.*.vendor_loan_share", 0.0, 1.0, 0.05),
    "annual_growth": SliderSpec("End-market growth (1/year)", "end_market.annual_growth", -0.5, 2.0, 0.05),
    "economic_life_years": SliderSpec("GPU economic life (years)", "gpus.economic_life_years", 1.0, 8.0, 0.5),
    "lead_time_months": SliderSpec("Power lead time (months)", "power.lead_time_months", 0, 72, 3, integer=True),
    "base_spread": SliderSpec("Credit spread, investment grade (1/year)", "credit.base_spread", 0.0, 0.1, 0.0025),
    "tenant_spread": SliderSpec("Extra spread, junk tenants (1/year)", "credit.tenant_spread", 0.0, 0.2, 0.005),
    "fundamental": SliderSpec("Investors: fundamentalists (weight)", "investors.fundamental", 0.0, 1.0, 0.05),
    "trend": SliderSpec("Investors: trend followers (weight)", "investors.trend", 0.0, 1.0, 0.05),
    "sentiment": SliderSpec("Investors: sentiment followers (weight)", "investors.sentiment", 0.0, 1.0, 0.05),
}


def bundled_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def scenario_value(scenario: Scenario, path: str) -> Any:
    """The scenario's value at `path`; for a `*` path, the first agent's (the slider's start)."""
    values = scenario_values(scenario, path)
    return values[0] if values else None


def scenario_values(scenario: Scenario, path: str) -> list[Any]:
    pattern = path.split(".")
    found = []
    for row in parameter_info(scenario):
        parts = row["path"].split(".")
        if len(parts) == len(pattern) and all(p in ("*", q) for p, q in zip(pattern, parts)):
            found.append(row["value"])
    return found


def slider_overrides(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The `--set`-style overrides for the sliders moved away from the scenario's value."""
    overrides = {}
    for name, value in values.items():
        if value is None:
            continue
        spec = SLIDERS[name]
        current = scenario_value(scenario, spec.path)
        if current is None or _same(value, current):
            continue
        overrides[spec.path] = int(round(value)) if spec.integer else float(value)
    return overrides


def _same(a: Any, b: Any) -> bool:
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


class LiveModel(RoundtripModel):
    """RoundtripModel with the page's parameters as keywords, as SolaraViz's Reset needs.

    Every key of `model_params` must be a keyword of `__init__`; a slider left at None (or at
    the scenario's own value) leaves the scenario untouched.
    """

    def __init__(
        self,
        scenario_name: str = "baseline",
        rng: int | None = DEFAULT_SEED,
        financing_share: float | None = None,
        vendor_loan_share: float | None = None,
        annual_growth: float | None = None,
        economic_life_years: float | None = None,
        lead_time_months: int | None = None,
        base_spread: float | None = None,
        tenant_spread: float | None = None,
        fundamental: float | None = None,
        trend: float | None = None,
        sentiment: float | None = None,
    ):
        base = load_scenario(scenario_name)
        moved = {k: v for k, v in locals().items() if k in SLIDERS}
        self.viz_overrides = slider_overrides(base, moved)
        self.scenario_name = scenario_name
        super().__init__(scenario=base.with_overrides(self.viz_overrides) if self.viz_overrides else base,
                         rng=int(rng) if rng is not None else None)


def model_params(scenario_name: str, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """SolaraViz's parameters: sliders starting at the scenario's values, and the seed."""
    scenario = load_scenario(scenario_name)
    params: dict[str, Any] = {"scenario_name": scenario_name}
    for name, spec in SLIDERS.items():
        value = scenario_value(scenario, spec.path)
        if value is None:
            continue
        lo, hi = min(spec.lo, value), max(spec.hi, 2 * value)
        if name == "economic_life_years":  # the scenario forbids economic > physical life
            hi = min(hi, scenario.gpus.physical_life_years)
        params[name] = {
            "type": "SliderInt" if spec.integer else "SliderFloat", "label": spec.label,
            "value": int(value) if spec.integer else float(value), "min": lo, "max": hi, "step": spec.step,
        }
    params["rng"] = {"type": "SliderInt", "label": "Seed", "value": seed, "min": 0, "max": 999, "step": 1}
    return params


# One page, read top-down: the state of the loop, then the books, then the history.
COMPONENTS = [
    (c.KeyFiguresAndShocks, 0), (c.MoneyLoop, 0),
    (c.BalanceSheets, 0), (c.EventLog, 0),
    (c.CircularityChart, 0), (c.CoverageChart, 0),
    (c.RevenueProfitChart, 0), (c.MarketValueChart, 0),
    (c.CapacityChart, 0), (c.PricesChart, 0),
    (c.CreditChart, 0),
]


def initial_scenario() -> str:
    return os.environ.get(SCENARIO_ENV) or "baseline"


@solara.component
def ScenarioPicker(value: solara.Reactive[str]):
    options = bundled_scenarios()
    if value.value not in options:
        options = [value.value, *options]
    with solara.Card("Scenario"):
        solara.Select("Scenario", values=options, value=value)
        solara.Text("Picking a scenario rebuilds the model and resets the sliders to its values.",
                    style={"font-size": "12px", "color": "#666"})


@solara.component
def Page():
    name = solara.use_reactive(initial_scenario())
    model = solara.use_memo(lambda: LiveModel(scenario_name=name.value), [name.value])
    params = solara.use_memo(lambda: model_params(name.value), [name.value])
    with solara.Sidebar():
        ScenarioPicker(name)
    title = f"roundtrip: {Path(name.value).stem}"
    # keyed by scenario: a new scenario remounts SolaraViz, so its sliders start afresh
    SolaraViz(model, components=COMPONENTS, model_params=params, name=title, play_interval=150).key(f"viz-{name.value}")
