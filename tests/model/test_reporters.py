"""The DataCollector's shortcuts change nothing that is reported."""

from __future__ import annotations

import json

from model.scenario import load_scenario
from model.simulate import SUMMARY_COLUMNS, simulate


def test_a_run_without_series_summarises_exactly_as_one_with_them():
    """A sweep's run collects only SUMMARY_COLUMNS: its summary must be the full run's, bit for bit."""
    scenario = load_scenario("baseline")
    full = simulate(scenario, seed=3, steps=48, keep_series=True, check_invariants=False)
    lean = simulate(scenario, seed=3, steps=48, keep_series=False, check_invariants=False)
    assert lean.series is None and set(SUMMARY_COLUMNS) <= set(full.series.columns)
    assert json.dumps(lean.summary, sort_keys=True, default=repr) == json.dumps(full.summary, sort_keys=True, default=repr)
    assert lean.defaults == full.defaults and lean.events == full.events
