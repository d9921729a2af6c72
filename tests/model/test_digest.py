"""The stored fingerprints of baseline seeds 0-9 and of every library scenario: speed work must
not change a single bit.

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
# every scenario of the library, two seeds, five years: the paths baseline never takes
# (Lucent's credit lines and guarantees, power crunches, short GPU lives, no vendor money)
LIBRARY_SEEDS = (3, 4)
LIBRARY_STEPS = 60
DIGEST = "bc8e895291984f500c7cd741638d7ab655fd4fb75e1807521415608314a4b41c"
LIBRARY_DIGEST = "90079c568585e3563cdeae926d9072656abb02e443b0e698ea3cb3b33edab4fc"


def baseline_digest() -> str:
    scenario = load_scenario("baseline")
    runs = (simulate(scenario, seed=seed, steps=STEPS, check_invariants=False) for seed in SEEDS)
    return hashlib.sha256("".join(fingerprint(run) for run in runs).encode()).hexdigest()


def library_digest() -> str:
    from model.scenario import SCENARIO_DIR

    digest = hashlib.sha256()
    for name in sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")):
        scenario = load_scenario(name)
        for seed in LIBRARY_SEEDS:
            digest.update(fingerprint(simulate(scenario, seed=seed, steps=LIBRARY_STEPS, check_invariants=False)).encode())
    return digest.hexdigest()


def test_baseline_seeds_0_to_9_are_bit_for_bit_what_they_were():
    assert baseline_digest() == DIGEST, "a number of the baseline changed; see this module's docstring"


def test_every_library_scenario_is_bit_for_bit_what_it_was():
    assert library_digest() == LIBRARY_DIGEST, "a number of a library scenario changed; see this module's docstring"


if __name__ == "__main__":
    print(f'DIGEST = "{baseline_digest()}"')
    print(f'LIBRARY_DIGEST = "{library_digest()}"')
