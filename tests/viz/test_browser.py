"""The live page in a real browser: Debian's chromium, the server on a free loopback port.

What the page shows is compared with a model built and stepped here in the test process with
the same scenario and seed: the model is deterministic, so the numbers must agree.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest

from viz import components as c
from viz.app import DEFAULT_SEED, SLIDERS, LiveModel, scenario_value
from model.scenario import load_scenario

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
README_SCREENSHOT = REPO / "docs" / "img" / "viz.png"  # refreshed with ROUNDTRIP_UPDATE_SCREENSHOT=1
SCENARIO = "baseline"


def reference(steps: int, shock_after: int | None = None, **sliders) -> LiveModel:
    model = LiveModel(scenario_name=SCENARIO, rng=DEFAULT_SEED, **sliders)
    for i in range(steps):
        if shock_after is not None and i == shock_after:
            c.fire_shock(model, "stall")
        model.step()
    return model


def open_page(probe):
    page = probe.open()
    step = page.get_by_role("button", name="Step", exact=True)
    step.wait_for(timeout=60_000)
    page.get_by_text("Time: 0.0").wait_for()
    return page, step


def do_steps(page, step, n: int) -> None:
    for _ in range(n):
        now = float(page.get_by_text("Time:").first.inner_text().split(":")[1])
        step.click()
        page.get_by_text(f"Time: {now + 1:.1f}").wait_for()


def chart_series(page, title_start: str, trace: str, length: int) -> list[float]:
    """The y values of one trace of the plotly chart whose title starts with `title_start`,
    once it has `length` points (the chart redraws a moment after the step)."""
    script = """([title, trace, length]) => {
        for (const gd of document.querySelectorAll('.js-plotly-plot')) {
            const text = (gd.layout && gd.layout.title && gd.layout.title.text) || '';
            if (!text.startsWith(title)) continue;
            for (const t of gd.data || []) {
                if (t.name === trace && t.y && t.y.length === length) return Array.from(t.y);
            }
        }
        return null;
    }"""
    handle = page.wait_for_function(script, arg=[title_start, trace, length], timeout=30_000)
    return [float(v) for v in handle.json_value()]


def cell(page, firm: str, column: str) -> str:
    return page.locator(f"tr[data-firm='{firm}'] td[data-col='{column}']").inner_text()


def wait_cell(page, firm: str, column: str, expected: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        got = cell(page, firm, column)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_page_steps_and_shows_the_models_numbers_offline(probe):
    """Render, Step, compare a chart and the balance sheets with the model, then a shock."""
    page, step = open_page(probe)
    page.get_by_text("Balance sheets").wait_for()
    do_steps(page, step, 3)
    page.get_by_text("Time: 3.0").wait_for()
    model = reference(3)
    expected = list(c.model_frame(model)["end_market_spend"])
    shown = chart_series(page, "End market vs compute", "end-market revenue", len(expected))
    assert shown == pytest.approx(expected, rel=1e-12)
    rows = c.balance_rows(model)
    assert rows
    for row in rows:
        for column in c.BALANCE_COLUMNS:
            want = c.fmt_money(row[column])
            assert wait_cell(page, row["firm"], column, want) == want, (row["firm"], column)

    # a shock button hits the running model: the next step's figures change
    page.get_by_role("button", name=c.SHOCKS["stall"][0]).click()
    page.get_by_text("shows from the next step").wait_for()
    do_steps(page, step, 1)
    shocked = list(c.model_frame(reference(4, shock_after=3))["end_market_spend"])
    calm = list(c.model_frame(reference(4))["end_market_spend"])
    assert shocked[:4] == pytest.approx(calm[:4], rel=1e-12)
    assert not math.isclose(shocked[-1], calm[-1], rel_tol=1e-9)
    shown = chart_series(page, "End market vs compute", "end-market revenue", 5)
    assert shown == pytest.approx(shocked, rel=1e-12)
    page.locator(".rt-events").get_by_text("end market stall").first.wait_for()

    assert not probe.outside, f"the page reached for outside hosts: {probe.outside}"
    assert not probe.real_errors(), f"errors in the browser console: {probe.real_errors()[:3]}"


def test_slider_then_reset_changes_the_model(probe):
    page, step = open_page(probe)
    spec = SLIDERS["annual_growth"]
    start = scenario_value(load_scenario(SCENARIO), spec.path)
    slider = page.get_by_role("slider", name=spec.label)
    assert float(slider.get_attribute("aria-valuenow")) == pytest.approx(start)
    slider.press("ArrowRight")
    deadline = time.monotonic() + 10
    while float(slider.get_attribute("aria-valuenow")) == pytest.approx(start) and time.monotonic() < deadline:
        time.sleep(0.05)
    moved = float(slider.get_attribute("aria-valuenow"))
    assert moved == pytest.approx(start + spec.step)
    time.sleep(0.5)  # the new value travels to the server before Reset reads it
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Time: 0.0").wait_for()
    do_steps(page, step, 2)
    want = list(c.model_frame(reference(2, annual_growth=moved))["end_market_spend"])
    default = list(c.model_frame(reference(2))["end_market_spend"])
    assert not math.isclose(want[-1], default[-1], rel_tol=1e-9)
    shown = chart_series(page, "End market vs compute", "end-market revenue", 3)
    assert shown == pytest.approx(want, rel=1e-12)


def test_screenshot(probe, tmp_path):
    """Saves a screenshot; with ROUNDTRIP_UPDATE_SCREENSHOT=1 it replaces the README's, so an
    ordinary test run leaves the working tree clean."""
    probe.page.set_viewport_size({"width": 1500, "height": 2350})  # the whole page, no inner scrolling
    page, step = open_page(probe)
    do_steps(page, step, 8)
    page.get_by_text("Money flows this month").first.wait_for()
    time.sleep(1.0)  # let plotly finish drawing
    shot = README_SCREENSHOT if os.environ.get("ROUNDTRIP_UPDATE_SCREENSHOT") == "1" else tmp_path / "viz.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert not probe.outside, probe.outside
    assert not probe.real_errors(), probe.real_errors()[:3]
