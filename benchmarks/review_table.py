"""What the model says about the referee's questions, per scenario, over seeds.

    .venv/bin/python benchmarks/review_table.py [--seeds 40] [--steps 120 180] [--scenarios baseline no-circularity lucent-2000]

For each scenario and horizon: outcome counts, defaults per run, the median first default, the
vendors' largest revenue and equity drawdowns, the share of runs whose vendor equity falls 80 %
or more, peak circularity, and (where the model reports them) capital lost at cost and the
exposure still at risk at the end. Seeds are plain integers 0..N-1, so any row can be re-run
with `model.simulate.simulate(load_scenario(name), seed)`. Runs on older commits too (missing
measures print as '-'), which is how the before/after tables of the closing notes were made.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.scenario import load_scenario  # noqa: E402
from model.simulate import simulate  # noqa: E402

COLUMNS = ("collapse", "correction", "stable_growth", "defaults/run", "median first default", "runs with a default",
           "median rev. drawdown", "median eq. drawdown", "eq. drawdown >= 80 %", "median circularity peak",
           "mean capital lost at cost", "mean exposure at risk at end")


def _median(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(values)) if values else float("nan")


def row(name: str, seeds: int, steps: int) -> list[str]:
    scenario = load_scenario(name)
    runs = [simulate(scenario, seed, steps=steps, keep_series=False, check_invariants=False).summary for seed in range(seeds)]
    outcomes = [r["outcome"] for r in runs]
    first = [r.get("first_default_step") for r in runs]
    def mean_of(key):
        values = [r[key] for r in runs if key in r and r[key] is not None]
        return f"{np.mean(values):,.0f}" if values else "-"
    cells = [
        outcomes.count("collapse"), outcomes.count("correction"), outcomes.count("stable_growth"),
        f"{np.mean([r['n_defaults'] for r in runs]):.2f}",
        f"{_median(first):.0f}" if not math.isnan(_median(first)) else "none",
        sum(r["n_defaults"] > 0 for r in runs),
        f"{_median([r['vendor_revenue_drawdown'] for r in runs]):.2f}",
        f"{_median([r['vendor_equity_drawdown'] for r in runs]):.2f}",
        sum(r["vendor_equity_drawdown"] >= 0.8 for r in runs),
        f"{_median([r['circularity_peak'] for r in runs]):.2f}",
        mean_of("capital_lost_at_cost"), mean_of("exposure_at_risk_end"),
    ]
    return [name, str(steps), *map(str, cells)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--steps", type=int, nargs="+", default=[120, 180])
    parser.add_argument("--scenarios", nargs="+", default=["baseline", "no-circularity", "lucent-2000"])
    args = parser.parse_args()
    t0 = time.perf_counter()
    print("| scenario | months | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for steps in args.steps:
        for name in args.scenarios:
            print("| " + " | ".join(row(name, args.seeds, steps)) + " |", flush=True)
    print(f"\n{args.seeds} seeds per row, {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
