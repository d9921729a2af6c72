"""The live page: watch circular financing work and break, beside the same run without it.

    roundtrip viz [SCENARIO] [--host H] [--port N]

or, by hand, `solara run viz/app.py --production` with the environment of `viz.serve`.

The sidebar holds the scenario picker, the controls (Reset, Play/Pause, Step), the switch for
the counterfactual twin, the key parameters as sliders and the seed. Slider defaults are read
from the scenario itself (`model/scenario.py` writes every default once); each slider shows the
value the running model uses, with its unit. A slider left where it starts leaves the scenario
as written, so agents that differ (two vendors with different financing shares) keep their own
values; moving a slider sets that parameter for every agent it names, and the page says
"applies on Reset" until Reset rebuilds the model with it.

The page is Solara, laid out by hand rather than through Mesa's SolaraViz: SolaraViz re-renders
every component each step inside a draggable grid under a "Page 0" tab, paces Play by a fixed
interval whatever the browser manages, and has no place for a twin advanced in lockstep. The
model is still a Mesa model advanced one month at a time.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara

from model.counterfactuals import without_vendor_money
from model.economy import RoundtripModel
from model.scenario import SCENARIO_DIR, Scenario, load_scenario, parameter_info
from viz import components as c
from viz import figures as f
from viz.serve import SCENARIO_ENV

DEFAULT_SEED = 1
PLAY_INTERVAL_S = 0.1  # a month this often while playing: ten years in 12 s, slow enough to follow
BROWSER_PATIENCE_S = 2.0  # while playing, send a new picture after this long even without the browser's word


@dataclass(frozen=True)
class SliderSpec:
    """A key parameter on a slider: the scenario path it sets and the slider's range.

    The range is the viz's choice; the starting value is always the scenario's, and the unit is
    the scenario's own (`param(..., unit)`) unless the scenario gives none (shares, weights).
    """

    label: str
    path: str  # dotted path; `*` = every agent of that kind
    lo: float
    hi: float
    step: float
    integer: bool = False
    unit: str = ""  # shown when the scenario's unit is empty


SLIDERS: dict[str, SliderSpec] = {
    "financing_share": SliderSpec("Vendor circular deals", "vendors.*.financing_share", 0.0, 2.0, 0.05, unit="× T12M revenue"),
    "vendor_loan_share": SliderSpec("Vendor loans", "vendors.*.vendor_loan_share", 0.0, 1.0, 0.05, unit="of a chip purchase"),
    "annual_growth": SliderSpec("End-market growth", "end_market.annual_growth", -0.5, 2.0, 0.05),
    "economic_life_years": SliderSpec("GPU economic life", "gpus.economic_life_years", 1.0, 8.0, 0.5),
    "lead_time_months": SliderSpec("Power lead time", "power.lead_time_months", 0, 72, 3, integer=True),
    "base_spread": SliderSpec("Credit spread, investment grade", "credit.base_spread", 0.0, 0.1, 0.0025),
    "tenant_spread": SliderSpec("Extra spread, junk tenants", "credit.tenant_spread", 0.0, 0.2, 0.005),
    "fundamental": SliderSpec("Investors: fundamentalists", "investors.fundamental", 0.0, 1.0, 0.05, unit="weight"),
    "trend": SliderSpec("Investors: trend followers", "investors.trend", 0.0, 1.0, 0.05, unit="weight"),
    "sentiment": SliderSpec("Investors: sentiment followers", "investors.sentiment", 0.0, 1.0, 0.05, unit="weight"),
}
SEED_SLIDER = SliderSpec("Seed", "", 0, 999, 1, integer=True)


def bundled_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def _matches(pattern: str, path: str) -> bool:
    want, have = pattern.split("."), path.split(".")
    return len(want) == len(have) and all(p in ("*", q) for p, q in zip(want, have))


def scenario_rows(scenario: Scenario, path: str) -> list[dict[str, Any]]:
    """parameter_info's rows at `path` (several for a `*` path: one per agent)."""
    return [row for row in parameter_info(scenario) if _matches(path, row["path"])]


def scenario_values(scenario: Scenario, path: str) -> list[Any]:
    return [row["value"] for row in scenario_rows(scenario, path)]


def scenario_value(scenario: Scenario, path: str) -> Any:
    """The scenario's value at `path`; for a `*` path, the first agent's (the slider's start)."""
    values = scenario_values(scenario, path)
    return values[0] if values else None


def slider_unit(scenario: Scenario, spec: SliderSpec) -> str:
    rows = scenario_rows(scenario, spec.path)
    return (rows[0]["unit"] if rows and rows[0]["unit"] else spec.unit)


def fmt_param(value: Any, spec: SliderSpec, unit: str) -> str:
    """A parameter as the page shows it: the number, then its unit."""
    number = f"{int(round(float(value)))}" if spec.integer else f"{float(value):.4g}"
    return f"{number} {unit}".strip()


def slider_overrides(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The `--set`-style overrides for the sliders moved away from the scenario's value."""
    overrides = {}
    for name, value in values.items():
        if value is None or name not in SLIDERS:
            continue
        spec = SLIDERS[name]
        current = scenario_value(scenario, spec.path)
        if current is None or _same(value, current):
            continue
        overrides[spec.path] = int(round(value)) if spec.integer else float(value)
    return overrides


def _same(a: Any, b: Any) -> bool:
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def shown_value(model: Any, name: str) -> str:
    """What the page shows for a slider once it applies: the running model's own value(s), with
    the agent's name where agents differ ("Nvidia 0.67 · AMD 0.24")."""
    if name == "rng":
        return str(model.seed)
    spec = SLIDERS[name]
    rows = scenario_rows(model.params, spec.path)
    unit = slider_unit(model.params, spec)
    values = [row["value"] for row in rows]
    if not values:
        return "–"
    if all(_same(v, values[0]) for v in values):
        return fmt_param(values[0], spec, unit)
    return " · ".join(f"{row['path'].split('.')[-2]} {fmt_param(row['value'], spec, '')}" for row in rows) + f" {unit}"


class LiveModel(RoundtripModel):
    """RoundtripModel with the page's parameters as keywords; a slider left at None (or at the
    scenario's own value) leaves the scenario untouched.

    With `twin=True` (or after `start_twin`) it carries its counterfactual twin: the same
    scenario, sliders and seed without vendor money (`model.counterfactuals.without_vendor_money`),
    stepped in lockstep. Common random numbers give the twin the same random draws of demand. Shocks fired
    from the page go through `fire_shock`, which hits both arms in the same month; a twin started
    mid-run is caught up with the page's shocks replayed at their months.
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
        twin: bool = False,
    ):
        base = load_scenario(scenario_name)
        moved = {k: v for k, v in locals().items() if k in SLIDERS}
        self.viz_overrides = slider_overrides(base, moved)
        self.scenario_name = scenario_name
        self.seed = int(rng) if rng is not None else None
        super().__init__(scenario=base.with_overrides(self.viz_overrides) if self.viz_overrides else base, rng=self.seed)
        # (set after the model is built: its opening burn-in deep-copies the model)
        self.page_shocks: list[tuple[int, str, str, float]] = []  # (month, kind, target, size)
        self.twin: RoundtripModel | None = None
        # Play advances from a thread while buttons fire shocks and turn the twin on: one at a time
        self.lock = threading.RLock()
        self.loss_history = [severity(self)]  # the severity measures after every month (the twin keeps its own)
        if twin:
            self.start_twin()

    def advance(self) -> None:
        """One month of the run and, in lockstep, of its twin; the severity measures recorded.
        (The page calls this, not `step`, which moves this model alone.)"""
        with self.lock:
            self.step()
            self.loss_history.append(severity(self))
            if self.twin is not None:
                self.twin.step()
                self.twin.loss_history.append(severity(self.twin))

    def start_twin(self) -> None:
        """Run the twin from month 0 up to this month, with the page's shocks at their months."""
        with self.lock:
            self._start_twin()

    def _start_twin(self) -> None:
        twin = RoundtripModel(scenario=without_vendor_money(self.params), rng=self.seed)
        history = [severity(twin)]
        shocks = sorted(self.page_shocks)
        for month in range(self.steps + 1):
            for at, kind, target, size in shocks:
                if at == month:
                    twin.apply_shock(kind, target, size)
            if month < self.steps:
                twin.step()
                history.append(severity(twin))
        twin.loss_history = history
        self.twin = twin

    def stop_twin(self) -> None:
        with self.lock:
            self.twin = None

    def fire_shock(self, kind: str, target: str = "", size: float = 0.0) -> None:
        """A shock from the page: hits this model now, and its twin if running."""
        with self.lock:
            self.page_shocks.append((self.steps, kind, target, size))
            self.apply_shock(kind, target, size)
            if self.twin is not None:
                self.twin.apply_shock(kind, target, size)


def severity(model: RoundtripModel) -> dict[str, float]:
    """The run's severity measures so far (model/losses.py), for the live panel and its chart."""
    return model.losses.summary(model)


def model_params(scenario_name: str, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The sliders: each starting at the scenario's value, with its range and unit, and the seed."""
    scenario = load_scenario(scenario_name)
    params: dict[str, Any] = {}
    for name, spec in SLIDERS.items():
        value = scenario_value(scenario, spec.path)
        if value is None:
            continue
        lo, hi = min(spec.lo, value), max(spec.hi, 2 * value)
        if name == "economic_life_years":  # the scenario forbids economic > physical life
            hi = min(hi, scenario.gpus.physical_life_years)
        # the slider snaps to lo + k * step: start the grid so the scenario's value is on it, or
        # the slider would move itself off the scenario's value on first render
        lo = value - spec.step * math.floor((value - lo) / spec.step + 1e-9)
        params[name] = {"label": spec.label, "value": int(value) if spec.integer else float(value),
                        "min": lo, "max": hi, "step": spec.step, "integer": spec.integer,
                        "unit": slider_unit(scenario, spec)}
    params["rng"] = {"label": SEED_SLIDER.label, "value": seed, "min": SEED_SLIDER.lo, "max": SEED_SLIDER.hi,
                     "step": SEED_SLIDER.step, "integer": SEED_SLIDER.integer, "unit": ""}
    return params


def pending(model: Any, base: Scenario, name: str, value: Any) -> bool:
    """True when the slider's value is not what the running model uses (it applies on Reset)."""
    if name == "rng":
        return int(value) != model.seed
    spec = SLIDERS[name]
    want = slider_overrides(base, {name: value}).get(spec.path)
    have = model.viz_overrides.get(spec.path)
    if want is None or have is None:
        return want is not have
    return not _same(want, have)


def initial_scenario() -> str:
    return os.environ.get(SCENARIO_ENV) or "baseline"


# ----------------------------------------------------------------------------- the page


class LiveSession:
    """One browser tab's state: the running model, a version bumped after every month (what the
    main area re-renders on), play state and the sliders' values.

    Components get the session (a stable object) and read the reactive values they show, so a
    month re-renders the main area and the month counter, not the sidebar's sliders.
    """

    def __init__(self, scenario_name: str):
        self.scenario_name = scenario_name
        self.base = load_scenario(scenario_name)
        self.params = model_params(scenario_name)
        self.model = solara.reactive(LiveModel(scenario_name=scenario_name))
        self.version = solara.reactive(0)
        self.playing = solara.reactive(False)
        self.values = solara.reactive({name: spec["value"] for name, spec in self.params.items()})
        self.twin = solara.reactive(False)
        self.visible: solara.Reactive[tuple[str, ...] | None] = solara.reactive(None)  # charts on screen; None: not told yet
        self.shown_at = 0.0  # when a month was last sent to the browser (monotonic s)
        self.shown_month = 0  # the month last sent to the browser
        self.drawn_month = -1  # the month the browser last reported drawn

    def step(self) -> None:
        self.model.value.advance()
        self.show()

    def show(self) -> None:
        """Send the current month to the browser (every component re-renders)."""
        self.shown_at = time.monotonic()
        self.shown_month = self.model.value.steps
        self.version.set(self.version.value + 1)

    def drawn(self, month: int) -> None:
        """The browser reports it has painted `month` (FrameAck)."""
        self.drawn_month = int(month)

    def report_visible(self, keys: list[str]) -> None:
        """The browser says which charts are on screen (VisibleFigures)."""
        self.visible.set(tuple(keys))

    def reset(self) -> None:
        """A new model from the scenario and the sliders (the only way a slider takes effect)."""
        self.playing.set(False)
        self.model.set(LiveModel(scenario_name=self.scenario_name, twin=self.twin.value, **self.values.value))
        self.drawn_month = -1
        self.show()

    def set_twin(self, on: bool) -> None:
        """Turn the twin on (caught up to this month) or off, without resetting the run."""
        self.twin.set(bool(on))
        if on and self.model.value.twin is None:
            self.model.value.start_twin()
        elif not on:
            self.model.value.stop_twin()
        self.show()

    def toggle_play(self) -> None:
        self.playing.set(not self.playing.value)

    def play(self) -> None:
        """While playing: a month every PLAY_INTERVAL_S, and a new picture whenever the browser
        has drawn the last one (or after BROWSER_PATIENCE_S without word, e.g. a hidden tab). A
        slow browser skips months instead of falling behind, so the page stays responsive and
        Pause acts at once. Pauses at the scenario's horizon (Step goes on past it)."""
        model = self.model.value
        while self.playing.value and self.model.value is model:
            started = time.monotonic()
            model.advance()
            caught_up = self.drawn_month >= self.shown_month
            if caught_up or started - self.shown_at > BROWSER_PATIENCE_S:
                self.show()
            if model.steps >= model.params.meta.steps:
                self.playing.set(False)
                break
            time.sleep(max(0.0, PLAY_INTERVAL_S - (time.monotonic() - started)))
        if self.shown_month != model.steps and self.model.value is model:
            self.show()

    def set_value(self, name: str, value: Any) -> None:
        self.values.set({**self.values.value, name: value})


@solara.component
def ParamSlider(session: LiveSession, name: str):
    """A slider with its value and unit; "applies on Reset" while it differs from the model."""
    spec = session.params[name]
    value = session.values.value[name]
    model = session.model.value
    waiting = pending(model, session.base, name, value)
    slider_spec = SLIDERS.get(name, SEED_SLIDER)

    def on_value(v: Any) -> None:
        session.set_value(name, v)

    with solara.Column(gap="0px", classes=["rt-param"], style={"margin-bottom": "2px"}):
        if spec["integer"]:
            solara.SliderInt(spec["label"], value=int(value), min=int(spec["min"]), max=int(spec["max"]), step=int(spec["step"]),
                             on_value=on_value, thumb_label=False)
        else:
            solara.SliderFloat(spec["label"], value=float(value), min=spec["min"], max=spec["max"], step=spec["step"],
                               on_value=on_value, thumb_label=False)
        text = fmt_param(value, slider_spec, spec["unit"]) if waiting else shown_value(model, name)
        note = " · applies on Reset" if waiting else ""
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<span data-shown='{name}' style='font-size:12px'>{text}</span>"
            f"<span data-pending='{name}' style='font-size:12px;color:#b00020'>{note}</span>"))


@solara.component
def Controls(session: LiveSession):
    playing = session.playing.value
    steps = session.model.value.steps
    session.version.value  # re-render each month
    with solara.Row(gap="6px", style={"align-items": "center"}):
        solara.Button("Reset", color="primary", on_click=session.reset)
        solara.Button("Pause" if playing else "Play", color="primary", on_click=session.toggle_play)
        solara.Button("Step", color="primary", on_click=session.step, disabled=playing)
    horizon = session.model.value.params.meta.steps
    solara.HTML(tag="div", unsafe_innerHTML=f"<span class='rt-month' data-month='{steps}'>Month: {steps}</span>"
                                            f"<span style='color:#666;font-size:12px'> (Play stops at {horizon})</span>")


@solara.component
def MainArea(model: Any, version: int, visible: tuple[str, ...] | None = None):
    """Everything but the sidebar, top-down: the month, the loop, the books, the history.
    `visible`: the charts on screen (None: all); the others wait until scrolled to."""

    def on_screen(key: str) -> bool:
        return visible is None or key in visible

    with solara.Column(gap="10px", style={"padding": "6px", "max-width": "1120px"}) as main:
        with solara.Card(margin=0):
            c.KeyFigures(model)
            c.ShockButtons(model, version)
        with solara.Card(margin=0):
            c.MoneyLoop(model, on_screen("sankey"))
        with solara.Row(gap="10px", style={"align-items": "flex-start"}):
            with solara.Card(margin=0, style={"flex": "3 1 0", "min-width": "0"}):
                c.BalanceSheets(model, version)
            with solara.Card(margin=0, style={"flex": "2 1 0", "min-width": "0"}):
                c.Severity(model)
        with solara.Card(margin=0):
            c.EventLog(model)
        with solara.Div(style={"display": "grid", "grid-template-columns": f"repeat(2, {f.CHART_WIDTH + 16}px)", "gap": "10px"}):
            for key, chart in c.TIME_CHART_COMPONENTS.items():
                with solara.Card(margin=0, style={"padding": "4px"}):
                    chart(model, on_screen(key))
    return main


@solara.component_vue("frame_ack.vue")
def FrameAck(month: int, event_drawn: Any):
    """Reports back the month the browser has painted (see frame_ack.vue)."""


@solara.component_vue("visible_figures.vue")
def VisibleFigures(event_report: Any):
    """Reports the charts on screen (see visible_figures.vue)."""


@solara.component
def Main(session: LiveSession):
    MainArea(session.model.value, session.version.value, session.visible.value)
    FrameAck(month=session.model.value.steps, event_drawn=session.drawn)
    VisibleFigures(event_report=session.report_visible)


@solara.component
def Sidebar(session: LiveSession):
    with solara.Card("Controls", margin=0):
        Controls(session)
        solara.Switch(label="Twin: the same run without vendor money", value=session.twin.value, on_value=session.set_twin)
        solara.Text("Solid lines: this run; dashed: its twin (same scenario, sliders, seed and shocks, every vendor deal "
                    "and vendor loan removed).", style={"font-size": "12px", "color": "#666"})
    with solara.Card("Parameters", margin=0):
        solara.Text("A moved slider applies on Reset.", style={"font-size": "12px", "color": "#666"})
        for name in session.params:
            ParamSlider(session, name)


@solara.component
def LivePage(scenario_name: str):
    session = solara.use_memo(lambda: LiveSession(scenario_name), [scenario_name])
    solara.lab.use_task(session.play, dependencies=[session.playing.value], prefer_threaded=True)
    with solara.Sidebar():
        Sidebar(session)
    Main(session)


@solara.component
def ScenarioPicker(value: solara.Reactive[str]):
    options = bundled_scenarios()
    if value.value not in options:
        options = [value.value, *options]
    with solara.Card("Scenario", margin=0):
        solara.Select("Scenario", values=options, value=value)
        solara.Text("Picking a scenario rebuilds the model and resets the sliders to its values.",
                    style={"font-size": "12px", "color": "#666"})


@solara.component
def Page():
    name = solara.use_reactive(initial_scenario())
    solara.Title(f"roundtrip: {Path(name.value).stem}")
    with solara.AppBar():
        solara.AppBarTitle(f"roundtrip: {Path(name.value).stem}")
    with solara.Sidebar():
        ScenarioPicker(name)
    # keyed by scenario: a new scenario remounts the page, so its sliders start afresh
    LivePage(name.value).key(f"live-{name.value}")
