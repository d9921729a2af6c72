"""The bundled scenario library: every file loads, runs with the books checked, and cites sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from experiments.scenario_sources import flatten_toml, read_sources
from model.errors import ScenarioError
from model.scenario import SCENARIO_DIR, load_scenario
from model.simulate import simulate

BUNDLED = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
REQUIRED = {"baseline", "deals-2026", "lucent-2000", "no-circularity", "power-crunch", "short-gpu-life", "productive-bubble"}


def test_the_issue_5_scenarios_are_bundled():
    assert REQUIRED <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_scenario_runs_120_steps_with_invariants_and_reports_an_outcome(name):
    scenario = load_scenario(name)
    assert scenario.meta.name == name
    result = simulate(scenario, seed=0, steps=120, keep_series=False, check_invariants=True)
    assert result.summary["outcome"] in {"collapse", "correction", "stable_growth"}
    assert result.summary["steps"] == 120


@pytest.mark.parametrize("name", sorted(REQUIRED - {"baseline"}))
def test_every_number_in_our_scenarios_cites_a_source(name):
    """A number (or bool / inline table) outside [[deals]] has a trailing comment; a deal has a note."""
    path = SCENARIO_DIR / f"{name}.toml"
    sources = read_sources(path)
    for key, value in flatten_toml(path).items():
        if isinstance(value, str):
            continue
        assert key in sources, f"{name}: {key} = {value!r} has no comment"
        text = sources[key]
        if not key.startswith("deals."):
            assert re.search(r"CALIBRATION|ASSUMPTION|COUNTERFACTUAL|DESIGN\.md|default|[0-9]", text), (key, text)


@pytest.mark.parametrize("name", sorted(REQUIRED - {"baseline", "lucent-2000"}))
def test_derived_scenarios_say_what_differs_from_the_baseline(name):
    head = (SCENARIO_DIR / f"{name}.toml").read_text().split("[meta]")[0]
    assert "what differs" in head


def test_deals_2026_replaces_the_letter_with_an_equity_stake():
    s = load_scenario("deals-2026")
    kinds = [(d.type, getattr(d, "vendor", getattr(d, "holder", None)), getattr(d, "lab", getattr(d, "issuer", None)))
             for d in s.deals]
    assert ("equity_for_deployment", "Nvidia", "OpenAI") not in kinds
    stake = next(d for d in s.deals if d.type == "equity_stake" and d.holder == "Nvidia" and d.issuer == "OpenAI")
    valuation = s.labs["OpenAI"].shares * s.labs["OpenAI"].share_price
    assert stake.fraction * valuation == pytest.approx(30.0)
    assert any(d.type == "warrants" and d.vendor == "AMD" for d in s.deals)
    assert any(d.type == "capacity_backstop" and d.cloud == "CoreWeave" for d in s.deals)
    assert any(d.type == "take_or_pay" and d.cloud == "Oracle" for d in s.deals)


def test_no_circularity_has_no_vendor_deal():
    s = load_scenario("no-circularity")
    for deal in s.deals:
        assert deal.type in ("take_or_pay", "equity_stake")
        assert getattr(deal, "holder", None) not in s.vendors
    assert all(v.financing_share == 0 and v.vendor_loan_share == 0 for v in s.vendors.values())


def test_lucent_2000_starting_position():
    s = load_scenario("lucent-2000")
    lucent = s.vendors["Lucent"]
    assert (s.meta.start, lucent.annual_revenue, lucent.financing_share) == ("2000-01", 38.3, 0.23)
    assert "Winstar" in s.clouds and not s.clouds["Winstar"].investment_grade
    assert any(d.type == "financing_commitment" and d.borrower == "Winstar" and d.committed == 2.0 for d in s.deals)


def test_power_and_gpu_life_scenarios():
    assert load_scenario("power-crunch").power.lead_time_months == 60
    gpus = load_scenario("short-gpu-life").gpus
    assert (gpus.economic_life_years, gpus.book_life_years) == (3.0, 6.0)
    base, bubble = load_scenario("baseline").end_market, load_scenario("productive-bubble").end_market
    assert bubble.annual_growth > base.annual_growth and bubble.ceiling > base.ceiling


# ----------------------------------------------------------------------------- contradictions

BASELINE = (SCENARIO_DIR / "baseline.toml").read_text()


def _deal_block(text: str, note_start: str) -> tuple[int, int]:
    """Start and end of the [[deals]] block whose note begins with `note_start`."""
    start = text.index(f'note = "{note_start}')
    block_start = text.rindex("[[deals]]", 0, start)
    nxt = text.find("[[deals]]", start)
    return block_start, (nxt if nxt != -1 else len(text))


def _edit_deal(note_start: str, old: str, new: str) -> str:
    a, b = _deal_block(BASELINE, note_start)
    block = BASELINE[a:b]
    assert old in block, (old, block)
    return BASELINE[:a] + block.replace(old, new, 1) + BASELINE[b:]


CONTRADICTIONS = [
    (_edit_deal("CALIBRATION: Nvidia in other AI labs", 'lab = "Anthropic"', 'lab = "Mistral"'),
     r"deals\[\d+\]\.lab: 'Mistral' is not a lab"),
    (_edit_deal("CALIBRATION: Nvidia stake in CoreWeave", 'issuer = "CoreWeave"', 'issuer = "Lambda"'),
     r"deals\[\d+\]\.issuer: 'Lambda' is not an agent"),
    (_edit_deal("CALIBRATION: Oracle-OpenAI contract", 'cloud = "Oracle"', 'cloud = "OpenAI"'),
     r"deals\[\d+\]\.cloud: 'OpenAI' is not a cloud"),
    (_edit_deal("CALIBRATION: Nvidia backstop", "end_step = 75", "end_step = -1"),
     r"deals\.\d+\.end_step: expected .*greater than or equal to 0"),
    (_edit_deal("CALIBRATION: Oracle-OpenAI contract", "months = 60", "months = 0"),
     r"deals\.\d+\.months: expected .*greater than or equal to 1"),
    (_edit_deal("CALIBRATION: CoreWeave vendor", "months = 48", "months = -12"),
     r"deals\.\d+\.months: expected .*greater than or equal to 1"),
    (BASELINE.replace("financing_share = 0.67", "financing_shares = 0.67"),
     r"vendors\.Nvidia\.financing_shares: unknown key; did you mean 'financing_share'"),
    (BASELINE.replace('utility = "ERCOT"', 'utility = "CAISO"'), r"clouds\.Oracle\.utility: 'CAISO' is not a utility"),
    (BASELINE.replace("[gpus]\n", "[gpus]\nlife = 3\n"), r"gpus\.life: unknown key"),
]


@pytest.mark.parametrize("text,pattern", CONTRADICTIONS)
def test_self_contradicting_scenario_fails_with_one_line_naming_file_and_key(tmp_path: Path, text, pattern):
    assert text != BASELINE
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path)), message
    assert re.search(pattern, message), message
