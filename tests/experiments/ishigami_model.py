"""The Ishigami function as a registered simulator: a model whose sensitivity indices are known.

    f(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1,   x_i uniform on [-pi, pi],  a = 7, b = 0.1

The three inputs are read from scenario fields that live on [0, 1] (`end_market.spot_share`,
`gpus.fire_sale_discount`, `power.min_take`) and mapped affinely onto [-pi, pi]; Sobol indices
and the ranking of Morris effects do not change under that map. Analytic values (Ishigami &
Homma 1990; Saltelli et al. 2008, p. 179): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244.
A run "collapses" when f > 5, so the runs also carry an outcome for scenario discovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

A, B = 7.0, 0.1
INPUTS = ("end_market.spot_share", "gpus.fire_sale_discount", "power.min_take")
S1 = (0.3139, 0.4424, 0.0)
ST = (0.5576, 0.4424, 0.2437)


@dataclass
class IshigamiResult:
    summary: dict[str, Any]
    series: None = None


def ishigami(x1: Any, x2: Any, x3: Any) -> Any:
    return np.sin(x1) + A * np.sin(x2) ** 2 + B * x3 ** 4 * np.sin(x1)


def to_angle(u: Any) -> Any:
    return -np.pi + 2 * np.pi * np.asarray(u, dtype=float)


def simulate(scenario, seed=None, steps=None, keep_series=False):
    u = (scenario.end_market.spot_share, scenario.gpus.fire_sale_discount, scenario.power.min_take)
    y = float(ishigami(*to_angle(u)))
    return IshigamiResult({"y": y, "outcome": "collapse" if y > 5 else "stable_growth", "steps": 1})
