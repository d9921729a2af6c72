"""A stand-in simulator for `roundtrip compare` tests, with a planted effect of vendor financing.

Every draw comes from the seed in the same order whatever the scenario, so two arms on one seed
see the same noise (as the real model's common random numbers do). With the vendors'
`financing_share` s: capital lost at cost is 100 + noise + 50 s B$, the first default comes
(1 - s/2) times as late, and a run collapses when its uniform draw is below 0.1 + 0.6 s.
A scenario whose description is "fail" raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class FakeResult:
    summary: dict[str, Any]
    series: Any = None


def simulate(scenario, seed=None, steps=None, keep_series=False):
    rng = np.random.default_rng(seed)
    noise, default_draw, collapse_draw = rng.normal(0.0, 10.0), rng.uniform(0.2, 1.4), rng.random()
    if scenario.meta.description == "fail":
        raise RuntimeError("fake compare model asked to fail")
    share = next(iter(scenario.vendors.values())).financing_share
    steps = steps or scenario.meta.steps
    first_default = default_draw * steps * (1.0 - share / 2)
    collapse = collapse_draw < 0.1 + 0.6 * share
    summary = {
        "outcome": "collapse" if collapse else "correction",
        "time_to_collapse": first_default if collapse and first_default < steps else float("nan"),
        "first_default_step": float(np.floor(first_default)) if first_default < steps else float("nan"),
        "capital_lost_at_cost": 100.0 + noise + 50.0 * share,
        "credit_losses": 10.0 + noise / 10,  # no effect planted
        "n_defaults": int(first_default < steps),
        "steps": steps,
        "seed": str(seed),
    }
    return FakeResult(summary)
