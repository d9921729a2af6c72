"""Same scenario and seed -> the same run, bit for bit; a different seed -> a different run.

Every random process draws from its own stream of the run's seed (`RANDOM_STREAMS`); these tests would catch a stray global RNG, state
leaking between models in one process (registries, caches), iteration over sets whose order
depends on the hash seed, or the invariant check changing what it checks.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.scenario import load_scenario
from model.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
STEPS = 48


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


@pytest.fixture(scope="module")
def harsh(baseline):
    """A scenario with defaults, so the default and cascade paths are compared too."""
    return baseline.with_overrides({
        "end_market.annual_growth": -0.9,
        "end_market.initial_spend": 0.5,
        "shocks": [{"step": 2, "kind": "missed_payment", "target": "OpenAI", "size": 1.0}],
    })


def bits(frame: pd.DataFrame) -> np.ndarray:
    """A bitwise fingerprint of every cell (NaN-safe, -0.0 != 0.0)."""
    return pd.util.hash_pandas_object(frame, index=True).to_numpy()


def assert_same_run(a, b):
    pd.testing.assert_frame_equal(a.series, b.series, check_exact=True)
    assert np.array_equal(bits(a.series), bits(b.series))
    assert a.defaults == b.defaults
    assert a.events == b.events
    assert a.summary.keys() == b.summary.keys()
    for key, value in a.summary.items():
        other = b.summary[key]
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(other, float) and math.isnan(other), key
        else:
            assert value == other, key


@pytest.mark.parametrize("scenario_name", ["baseline", "harsh"])
def test_same_scenario_and_seed_give_identical_series(request, scenario_name):
    scenario = request.getfixturevalue(scenario_name)
    a = simulate(scenario, seed=11, steps=STEPS, check_invariants=True)
    b = simulate(scenario, seed=11, steps=STEPS, check_invariants=True)
    assert_same_run(a, b)
    if scenario_name == "harsh":
        assert a.defaults, "the harsh scenario should exercise defaults"


def test_different_seeds_give_different_series(baseline):
    a = simulate(baseline, seed=1, steps=STEPS)
    b = simulate(baseline, seed=2, steps=STEPS)
    assert not a.series["end_market_spend"].equals(b.series["end_market_spend"])
    assert not np.array_equal(bits(a.series), bits(b.series))


def test_a_run_is_not_changed_by_other_runs_in_the_same_process(baseline, harsh):
    first = simulate(baseline, seed=5, steps=STEPS)
    simulate(harsh, seed=99, steps=STEPS)  # defaults, shocks: anything that might leak
    simulate(baseline, seed=6, steps=STEPS)
    again = simulate(baseline, seed=5, steps=STEPS)
    assert_same_run(first, again)


def test_the_invariant_check_does_not_change_the_run(harsh):
    on = simulate(harsh, seed=4, steps=STEPS, check_invariants=True)
    off = simulate(harsh, seed=4, steps=STEPS, check_invariants=False)
    assert_same_run(on, off)


def test_spawned_seed_sequences_are_reproducible_and_distinct(baseline):
    root = np.random.SeedSequence(2026)
    children = root.spawn(2)
    again = np.random.SeedSequence(2026).spawn(2)
    a = simulate(baseline, seed=children[0], steps=24)
    b = simulate(baseline, seed=again[0], steps=24)
    c = simulate(baseline, seed=children[1], steps=24)
    assert_same_run(a, b)
    assert not np.array_equal(bits(a.series), bits(c.series))
    assert a.summary["seed"] == b.summary["seed"] != c.summary["seed"]


def test_a_shorter_run_is_a_prefix_of_a_longer_one(baseline):
    """Nothing looks ahead to the horizon: month t is the same whether the run stops at 24 or 48."""
    short = simulate(baseline, seed=8, steps=24)
    long = simulate(baseline, seed=8, steps=STEPS)
    pd.testing.assert_frame_equal(short.series, long.series.loc[short.series.index], check_exact=True)


SCRIPT = """
import sys
import pandas as pd
from model.scenario import load_scenario
from model.simulate import simulate
r = simulate(load_scenario("baseline"), seed=21, steps=36)
sys.stdout.write(str(int(pd.util.hash_pandas_object(r.series, index=True).sum())))
"""


def test_runs_are_identical_across_processes_with_different_hash_seeds():
    """Set or dict-of-set iteration that depends on PYTHONHASHSEED would show up here."""
    procs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        procs.append(subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]


def test_common_random_numbers_give_two_scenarios_the_same_demand_path():
    """Deal terms and investor counts draw nothing from the end market's stream, so the
    baseline and its no-circularity counterfactual, and a scenario with twice the investors,
    see the same end-market path for the same seed: a paired comparison compares mechanisms,
    not draws."""
    runs = [
        simulate(load_scenario(name, overrides), seed=11, steps=36, keep_series=True, check_invariants=False).series
        for name, overrides in (("baseline", None), ("no-circularity", None), ("baseline", {"investors.count": 60}))
    ]
    # spending before any feedback: the path is the demand draw itself
    spend = [s["end_market_spend"].to_numpy() for s in runs]
    assert np.array_equal(spend[0], spend[1])
    assert np.array_equal(spend[0], spend[2])
    other_seed = simulate(load_scenario("baseline"), seed=12, steps=36, check_invariants=False).series
    assert not np.array_equal(spend[0], other_seed["end_market_spend"].to_numpy())


def test_each_random_process_has_its_own_stream():
    from model.economy import RANDOM_STREAMS, random_streams

    a, b = random_streams(5), random_streams(5)
    draws = {name: a[name].random() for name in RANDOM_STREAMS}
    assert draws == {name: b[name].random() for name in RANDOM_STREAMS}  # same seed, same streams
    assert len(set(draws.values())) == len(RANDOM_STREAMS)  # and no two processes share one
    seq = np.random.SeedSequence(9, spawn_key=(3,))
    assert random_streams(seq)["end_market"].random() == random_streams(np.random.SeedSequence(9, spawn_key=(3,)))["end_market"].random()
