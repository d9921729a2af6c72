"""The stored fingerprint of baseline seeds 0-9: speed work must not change a single bit.

Every optimisation commit leaves `DIGEST` alone. A commit that changes the model on purpose
updates it, and says why in its message; print the new value with

    .venv/bin/python tests/model/test_digest.py
"""

from __future__ import annotations

import hashlib

from model.scenario import load_scenario
from model.simulate import fingerprint, simulate

SEEDS = range(10)
STEPS = 120
DIGEST = "bc8e895291984f500c7cd741638d7ab655fd4fb75e1807521415608314a4b41c"


def baseline_digest() -> str:
    scenario = load_scenario("baseline")
    runs = (simulate(scenario, seed=seed, steps=STEPS, check_invariants=False) for seed in SEEDS)
    return hashlib.sha256("".join(fingerprint(run) for run in runs).encode()).hexdigest()


def test_baseline_seeds_0_to_9_are_bit_for_bit_what_they_were():
    assert baseline_digest() == DIGEST, "a number of the baseline changed; see this module's docstring"


if __name__ == "__main__":
    print(baseline_digest())
