"""`DIR/report.html` in Debian's chromium: it renders, every figure shows, nothing is fetched from outside.

The results folder is a small Morris experiment on the stand-in simulator of the runner tests
(tests/experiments/fake_model.py), keeping every run's series so the fan charts appear too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

EXPERIMENTS_TESTS = Path(__file__).resolve().parent.parent / "experiments"

EXPERIMENT = """
[experiment]
name = "report_check"
scenario = "scen.toml"
replications = 2
root_seed = 4
simulator = "fake_model:simulate"

[design]
method = "morris"
samples = 12

[[parameters]]
path = "vendors.*.financing_share"
name = "circularity"
low = 0.05
high = 0.65

[[parameters]]
path = "end_market.annual_growth"
name = "growth"
low = 0.0
high = 0.6

[[parameters]]
path = "end_market.volatility"
name = "volatility"
low = 0.05
high = 0.4

[keep]
series = "all"
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if str(EXPERIMENTS_TESTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS_TESTS))
    from experiments.cli import main

    folder = tmp_path_factory.mktemp("report")
    (folder / "scen.toml").write_text('[meta]\nname = "tiny"\nsteps = 36\n')
    (folder / "exp.toml").write_text(EXPERIMENT)
    out = folder / "out"
    assert main(["sweep", str(folder / "exp.toml"), "--out", str(out), "--workers", "1", "--no-figures"]) == 0
    assert main(["analyze", str(out), "--resamples", "50"]) == 0
    return out / "report.html"


def test_report_is_one_self_contained_file(report):
    text = report.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert text.count('src="data:image/png;base64,') >= 6
    assert "roundtrip sweep" in text and "roundtrip analyze" in text  # how to reproduce it
    pngs = {p.name for p in (report.parent / "figures").glob("*.png")}
    assert {"morris_p_collapse.png", "prim_box.png", "prim_tradeoff.png", "feature_scores.png", "fan_by_outcome.png"} <= pngs


def test_report_renders_with_its_figures_and_no_outside_request(static_browser, report, tmp_path):
    context = static_browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    requested: list[str] = []

    def route(r):
        url = r.request.url
        requested.append(url)
        parts = urlsplit(url)
        if parts.scheme == "data" or (parts.scheme == "file" and Path(parts.path) == report):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(report.as_uri(), wait_until="load")
        assert "which assumptions decide the outcome" in page.locator("h1").inner_text()
        for section in ("Experiment", "Morris elementary effects", "Outcome and severity maps",
                        "Scenario discovery: where collapse happens", "Fan charts by outcome"):
            assert page.get_by_role("heading", name=section).is_visible(), section
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) >= 6 and all(w > 0 for w in widths), widths
        outside = [u for u in requested if not (u.startswith("data:") or u == report.as_uri())]
        assert not outside, outside
        assert not errors, errors
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        context.close()
