"""Outcomes and severity of baseline, no-circularity and lucent-2000 over seeds and horizons.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/credit_outcomes.py [--seeds 40] [--steps 120 180]

Per scenario and horizon: outcome counts, defaults per run (mean), median first default month
(over runs with a default, and how many had one), mean capital lost at cost (when the summary
has it). Seeds are plain integers 0..N-1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.scenario import load_scenario  # noqa: E402
from model.simulate import simulate  # noqa: E402

SCENARIOS = ("baseline", "no-circularity", "lucent-2000")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--steps", type=int, nargs="+", default=[120, 180])
    args = parser.parse_args()
    print("| scenario | months | collapse | correction | stable_growth | defaults/run | runs with a default "
          "| median first default | mean capital lost at cost (B$) | mean credit losses (B$) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in SCENARIOS:
        scenario = load_scenario(name)
        for steps in args.steps:
            rows = [simulate(scenario, seed, steps=steps, keep_series=False, check_invariants=False).summary
                    for seed in range(args.seeds)]
            counts = {o: sum(r["outcome"] == o for r in rows) for o in ("collapse", "correction", "stable_growth")}
            firsts = [r["first_default_step"] for r in rows
                      if r["first_default_step"] is not None and not np.isnan(r["first_default_step"])]
            lost = f"{np.mean([r['capital_lost_at_cost'] for r in rows]):.0f}" if "capital_lost_at_cost" in rows[0] else "-"
            credit = f"{np.mean([r['credit_losses'] for r in rows]):.0f}" if "credit_losses" in rows[0] else "-"
            print(f"| {name} | {steps} | {counts['collapse']} | {counts['correction']} | {counts['stable_growth']} "
                  f"| {np.mean([r['n_defaults'] for r in rows]):.2f} | {len(firsts)} "
                  f"| {np.median(firsts) if firsts else float('nan'):.0f} | {lost} | {credit} |", flush=True)


if __name__ == "__main__":
    main()
