"""The live page in a real browser: Debian's chromium, the server on a free loopback port.

What the page shows is compared with a model built and stepped here in the test process with
the same scenario and seed: the model is deterministic, so the numbers must agree. Waits are on
conditions (a month counter, a chart's length), never fixed sleeps. Timings are printed, not
asserted: the machine is shared (`pytest -s` shows them).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest

from viz import components as c
from viz import figures as f
from model.scenario import load_scenario
from viz.app import DEFAULT_SEED, SLIDERS, LiveModel, shown_value

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
README_SCREENSHOT = REPO / "docs" / "img" / "viz.png"  # refreshed with ROUNDTRIP_UPDATE_SCREENSHOT=1
SCENARIO = "baseline"
COVERAGE = f.CHARTS_BY_KEY["coverage"]


def reference(steps: int, shock_after: int | None = None, twin: bool = False, **sliders) -> LiveModel:
    model = LiveModel(scenario_name=SCENARIO, rng=DEFAULT_SEED, twin=twin, **sliders)
    for i in range(steps):
        if shock_after is not None and i == shock_after:
            c.fire_shock(model, "stall")
        model.advance()
    return model


def open_page(probe):
    page = probe.open()
    step = page.get_by_role("button", name="Step", exact=True)
    step.wait_for(timeout=60_000)
    wait_month(page, 0)
    return page, step


def month(page) -> int:
    return int(page.locator(".rt-month").get_attribute("data-month"))


def wait_month(page, at_least: int, timeout: float = 60_000) -> None:
    page.wait_for_function("(n) => { const m = document.querySelector('.rt-month');"
                           " return m && Number(m.dataset.month) >= n; }", arg=at_least, timeout=timeout)


def do_steps(page, step, n: int) -> None:
    for _ in range(n):
        now = month(page)
        step.click()
        wait_month(page, now + 1)


def chart_series(page, figure: str, trace: str, length: int) -> list[float]:
    """The y values of one trace of a chart (`data-figure` key), once it has `length` points
    (the chart redraws a moment after the month counter; a chart off screen when it is scrolled to)."""
    script = """([figure, trace, length]) => {
        const gd = document.querySelector(`[data-figure="${figure}"] .js-plotly-plot`);
        if (!gd || !gd.data) return null;
        for (const t of gd.data) {
            if (t.name === trace && t.y && t.y.length === length) return Array.from(t.y);
        }
        return null;
    }"""
    page.locator(f"[data-figure='{figure}']").scroll_into_view_if_needed()  # off-screen charts wait to be seen
    handle = page.wait_for_function(script, arg=[figure, trace, length], timeout=30_000)
    return [float(v) for v in handle.json_value()]


def charts_have(page, length: int, timeout: float = 30_000) -> int:
    """Every time chart on screen (the page redraws those; the rest when scrolled to) shows
    `length` months; returns how many charts that is."""
    handle = page.wait_for_function("""(n) => {
        const gds = [...document.querySelectorAll('[data-figure] .js-plotly-plot')].filter(g => {
            const r = g.getBoundingClientRect();
            return g.data && g.data[0] && g.data[0].type === 'scatter' && r.bottom > 0 && r.top < window.innerHeight; });
        return gds.every(g => g.data.every(t => t.y.length === n)) && String(gds.length); }""",
                                    arg=length, timeout=timeout, polling="raf")
    return int(handle.json_value())


# Clicks Step and times, in the browser, until the next month is on the page: the counter, every
# chart on screen with its new point, and the frame painted (checked every animation frame).
STEP_UNTIL_DRAWN = """(n) => new Promise((resolve) => {
    const began = performance.now();
    const drawn = () => {
        const counter = document.querySelector('.rt-month');
        const ack = document.querySelector('.rt-frame-ack');
        if (!counter || Number(counter.dataset.month) !== n || !ack || Number(ack.dataset.drawn) < n) return false;
        return [...document.querySelectorAll('[data-figure] .js-plotly-plot')].every((g) => {
            const r = g.getBoundingClientRect();
            const onScreen = r.bottom > 0 && r.top < window.innerHeight;
            return !onScreen || !g.data || !g.data[0] || g.data[0].type !== 'scatter' || g.data.every((t) => t.y.length === n + 1);
        });
    };
    const check = () => drawn() ? resolve(performance.now() - began) : requestAnimationFrame(check);
    [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Step').click();
    requestAnimationFrame(check);
})"""


def wait_text(locator, expected: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        got = locator.inner_text()
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_page_steps_and_shows_the_models_numbers_offline(probe):
    """Render, Step, compare a chart, the balance sheets and a firm's books with the model;
    then a shock; no tab label, no outside request, no console error."""
    page, step = open_page(probe)
    assert page.get_by_text("Page 0", exact=False).count() == 0
    do_steps(page, step, 3)
    model = reference(3)
    expected = list(f.series(model, "end_market_spend"))
    shown = chart_series(page, "coverage", "end-market revenue", len(expected))
    assert shown == pytest.approx(expected, rel=1e-12)
    for row in f.balance_rows(model):
        for column in f.BALANCE_COLUMNS:
            want = f.fmt_money(row[column])
            cell = page.locator(f"tr[data-firm='{row['firm']}'] td[data-col='{column}']")
            assert wait_text(cell, want) == want, (row["firm"], column)

    # a firm's books: click its row, its lines add up to the net worth the model has
    firm = f.balance_rows(model)[-3]["firm"]
    page.locator(f"tr[data-firm='{firm}']").click()
    books = page.locator(f".rt-books[data-books='{firm}']")
    books.wait_for()
    lines = f.balance_sheet_lines(model, firm)
    assert books.locator("[data-books-net-worth]").inner_text() == f.fmt_money(lines["net_worth"])
    for label, value in lines["assets"] + lines["liabilities"]:
        assert books.get_by_text(label, exact=True).count() >= 1, label
    assert books.get_by_text("Contracts").count() == 1

    # a shock button hits the running model: the next month's figures change
    page.get_by_role("button", name=c.SHOCKS["stall"][0]).click()
    page.get_by_text("shows from the next step").wait_for()
    do_steps(page, step, 1)
    shocked = list(f.series(reference(4, shock_after=3), "end_market_spend"))
    calm = list(f.series(reference(4), "end_market_spend"))
    assert not math.isclose(shocked[-1], calm[-1], rel_tol=1e-9)
    assert chart_series(page, "coverage", "end-market revenue", 5) == pytest.approx(shocked, rel=1e-12)
    page.locator(".rt-events").get_by_text("end market stall").first.wait_for()

    assert not probe.outside, f"the page reached for outside hosts: {probe.outside}"
    assert not probe.real_errors(), f"errors in the browser console: {probe.real_errors()[:3]}"


TWIN_SWITCH = "Twin: the same run without vendor money"


def test_twin_on_and_off_and_a_shock_hits_both_arms(probe):
    page, step = open_page(probe)
    do_steps(page, step, 2)
    page.get_by_text(TWIN_SWITCH).click()  # on mid-run: the twin catches up to month 2
    page.locator("[data-twin='vendor revenue']").wait_for()
    do_steps(page, step, 1)
    page.get_by_role("button", name=c.SHOCKS["stall"][0]).click()
    page.get_by_text("(both arms)").wait_for()
    do_steps(page, step, 1)

    model = reference(4, shock_after=3, twin=True)
    calm = reference(4, twin=True)
    for arm, calm_arm, name in ((model, calm, "end-market revenue"), (model.twin, calm.twin, "end-market revenue" + f.TWIN_SUFFIX)):
        want = list(f.series(arm, "end_market_spend"))
        assert not math.isclose(want[-1], list(f.series(calm_arm, "end_market_spend"))[-1], rel_tol=1e-9)  # the shock hit
        assert chart_series(page, "coverage", name, 5) == pytest.approx(want, rel=1e-12), name
    assert page.evaluate("""() => {
        const gd = document.querySelector('[data-figure="coverage"] .js-plotly-plot');
        return gd.data.filter(t => t.line.dash === 'dash').length; }""") == 2
    figures = {name: (mine, other, delta) for name, mine, other, delta in f.key_figures(model)}
    for name in ("vendor revenue", "defaults", "capital lost at cost", "first default"):
        assert wait_text(page.locator(f"[data-twin='{name}']"), figures[name][1]) == figures[name][1], name
        assert page.locator(f"[data-delta='{name}']").inner_text() == figures[name][2], name
    key, _label, _mine, other, _delta = f.severity_rows(model)[0]
    assert page.locator(f"[data-sev-twin='{key}']").inner_text() == other

    page.get_by_text(TWIN_SWITCH).click()  # off: the dashed lines and the twin's figures go
    page.locator("[data-twin='vendor revenue']").wait_for(state="detached")
    page.wait_for_function("""() => {
        const gd = document.querySelector('[data-figure="coverage"] .js-plotly-plot');
        return gd && gd.data.length === 2 && gd.data.every(t => t.line.dash === 'solid'); }""")
    assert not probe.real_errors(), probe.real_errors()[:3]


def shown(page, name: str) -> str:
    return page.locator(f"[data-shown='{name}']").inner_text()


def test_sliders_show_the_models_values_and_apply_on_reset(probe):
    page, step = open_page(probe)
    model = reference(0)
    for name in [*SLIDERS, "rng"]:
        assert shown(page, name) == shown_value(model, name), name
    assert page.locator("[data-pending]").get_by_text("applies on Reset").count() == 0

    moved = {}
    for name in ("annual_growth", "financing_share"):
        slider = page.get_by_role("slider", name=SLIDERS[name].label, exact=True)
        start = float(slider.get_attribute("aria-valuenow"))
        slider.press("ArrowRight")
        page.locator(f"[data-pending='{name}']").get_by_text("applies on Reset").wait_for()
        moved[name] = float(slider.get_attribute("aria-valuenow"))
        assert moved[name] == pytest.approx(start + SLIDERS[name].step)
    page.get_by_role("button", name="Reset", exact=True).click()
    page.locator("[data-pending]").get_by_text("applies on Reset").first.wait_for(state="detached")
    after = reference(0, **moved)
    for name in [*SLIDERS, "rng"]:
        assert shown(page, name) == shown_value(after, name), name
    assert shown(page, "financing_share") == f"{moved['financing_share']:.4g} × T12M revenue"  # every vendor now

    do_steps(page, step, 2)
    want = list(f.series(reference(2, **moved), "end_market_spend"))
    default = list(f.series(reference(2), "end_market_spend"))
    assert not math.isclose(want[-1], default[-1], rel_tol=1e-9)
    assert chart_series(page, "coverage", "end-market revenue", 3) == pytest.approx(want, rel=1e-12)


def test_sankey_labels_fit_their_card_at_1400px(probe):
    probe.page.set_viewport_size({"width": 1400, "height": 1000})
    page, step = open_page(probe)
    do_steps(page, step, 6)
    page.wait_for_function("() => document.querySelectorAll('.rt-sankey-card .node-label').length > 0")
    boxes = page.evaluate("""() => {
        const card = document.querySelector('.rt-sankey-card').getBoundingClientRect();
        const labels = [...document.querySelectorAll('.rt-sankey-card .node-label')].map(t => {
            const b = t.getBoundingClientRect();
            return {text: t.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom};
        });
        return {card: {left: card.left, right: card.right, top: card.top, bottom: card.bottom}, labels};
    }""")
    card, labels = boxes["card"], [b for b in boxes["labels"] if b["text"]]
    assert card["right"] <= 1400
    assert len(labels) >= 4
    for b in labels:
        assert card["left"] <= b["left"] and b["right"] <= card["right"], b
        assert card["top"] <= b["top"] and b["bottom"] <= card["bottom"], b
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            overlap = min(a["right"], b["right"]) > max(a["left"], b["left"]) and min(a["bottom"], b["bottom"]) > max(a["top"], b["top"])
            assert not overlap, (a, b)


def test_play_keeps_up_and_defaults_mark_every_chart(probe):
    """With the twin on, play to month 100, time single Steps there, play on to the horizon; every
    default so far is a vertical line on every time chart (the twin's dotted). Timings printed
    (run with -s), with every chart on screen (a tall window: the worst case)."""
    probe.page.set_viewport_size({"width": 1400, "height": 4000})
    page, step = open_page(probe)
    assert page.evaluate("() => document.querySelector('[data-figure=\"credit\"]').getBoundingClientRect().bottom") < 4000
    page.get_by_text(TWIN_SWITCH).click()
    page.locator("[data-twin='vendor revenue']").wait_for()
    play = page.get_by_role("button", name="Play", exact=True)
    started = time.perf_counter()
    play.click()
    wait_month(page, 100, timeout=240_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    play.wait_for()
    first_leg = time.perf_counter() - started
    paused_at = month(page)
    assert charts_have(page, paused_at + 1) == len(f.TIME_CHARTS)  # all on screen

    def timed_steps(n: int) -> list[float]:
        timings = []
        for _ in range(n):
            now = month(page)
            timings.append(page.evaluate(STEP_UNTIL_DRAWN, now + 1) / 1000)
            assert month(page) == now + 1
        return timings

    timings = timed_steps(3)
    page.set_viewport_size({"width": 1400, "height": 1000})  # an ordinary window: the top of the page
    page.wait_for_function("() => window.scrollY === 0 || (window.scrollTo(0, 0), false)")
    typical = timed_steps(3)
    resumed = time.perf_counter()
    play.click()
    horizon = load_scenario(SCENARIO).meta.steps
    wait_month(page, horizon, timeout=240_000)  # Play stops itself at the scenario's horizon
    play.wait_for()
    second_leg = time.perf_counter() - resumed
    end = month(page)
    assert end == horizon
    print(f"\n[viz timing] twin on. Play months 0-{paused_at}: {first_leg:.1f} s; {paused_at + 6}-{end}: {second_leg:.1f} s "
          f"({end - 6} months in {first_leg + second_leg:.1f} s). One Step at month {paused_at}-{paused_at + 5} until drawn: "
          f"all {len(f.TIME_CHARTS)} charts on screen (1400x4000) {', '.join(f'{1000 * t:.0f}' for t in timings)} ms; "
          f"a 1400x1000 window {', '.join(f'{1000 * t:.0f}' for t in typical)} ms. Load average {os.getloadavg()[0]:.1f}")

    model = reference(end, twin=True)
    defaults = f.default_months(model)
    assert defaults, "the baseline run has no default by its horizon: pick a run that has one"
    page.set_viewport_size({"width": 1400, "height": 4000})
    assert charts_have(page, end + 1) == len(f.TIME_CHARTS)
    for prefix, arm in (("default:", model), ("twin-default:", model.twin)):
        lines = page.evaluate("""(prefix) => [...document.querySelectorAll('[data-figure] .js-plotly-plot')]
            .filter(g => g.data && g.data[0] && g.data[0].type === 'scatter')
            .map(g => (g.layout.shapes || []).filter(s => (s.name || '').startsWith(prefix)).map(s => s.x0))""", prefix)
        assert len(lines) == len(f.TIME_CHARTS)
        for xs in lines:
            assert sorted(xs) == sorted(m for m, _firm in f.default_months(arm)), prefix
    shown_defaults = [row for row in f.event_rows(model) if row[1] == "default"]  # the log shows the newest events
    assert page.locator(".rt-events tr.rt-default").count() == len(shown_defaults)
    assert not probe.real_errors(), probe.real_errors()[:3]


def test_screenshot(probe, tmp_path):
    """Saves a screenshot of the top of the page with the twin on, at about month 110 (both arms
    have had defaults by then in the baseline, seed 1); with ROUNDTRIP_UPDATE_SCREENSHOT=1 it
    replaces the README's, so an ordinary test run leaves the working tree clean."""
    probe.page.set_viewport_size({"width": 1400, "height": 2200})
    page, step = open_page(probe)
    page.get_by_text(TWIN_SWITCH).click()
    page.locator("[data-twin='vendor revenue']").wait_for()
    page.get_by_role("button", name="Play", exact=True).click()
    wait_month(page, 108, timeout=120_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for()
    charts_have(page, month(page) + 1)
    page.wait_for_function("() => document.querySelectorAll('.rt-sankey-card .node-label').length > 0")
    shot = README_SCREENSHOT if os.environ.get("ROUNDTRIP_UPDATE_SCREENSHOT") == "1" else tmp_path / "viz.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    assert not probe.outside, probe.outside
    assert not probe.real_errors(), probe.real_errors()[:3]
