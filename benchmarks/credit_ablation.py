"""Which credit mechanism moves the outcome: each switched off in turn, over seeds.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/credit_ablation.py SCENARIO [--seeds 40] [--steps 120]

Rows: all mechanisms on; no fire-sale price impact (a market a million fleets deep); no distress
marks (LGD 0); no maturities within the horizon (bond term 1200 months); no backlog claims.
Columns: outcome counts, defaults per run, median first default, mean capital lost at cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.scenario import load_scenario  # noqa: E402
from model.simulate import simulate  # noqa: E402

SWITCHES = {
    "all on": {},
    "no fire-sale impact": {"gpus.fire_sale_depth": 1e6},
    "no distress marks": {"credit.distress_loss_given_default": 0.0},
    "no maturities": {"credit.bond_term_months": 1200},
    "no backlog claims": {"credit.backlog_claim_share": 0.0},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    print(f"{args.scenario}, {args.seeds} seeds, {args.steps} months")
    print("| variant | collapse | correction | stable_growth | defaults/run | median first default | mean capital lost at cost (B$) |")
    print("|---|---|---|---|---|---|---|")
    for label, overrides in SWITCHES.items():
        scenario = load_scenario(args.scenario, overrides)
        rows = [simulate(scenario, seed, steps=args.steps, keep_series=False, check_invariants=False).summary
                for seed in range(args.seeds)]
        count = {o: sum(r["outcome"] == o for r in rows) for o in ("collapse", "correction", "stable_growth")}
        firsts = [r["first_default_step"] for r in rows if not np.isnan(r["first_default_step"])]
        print(f"| {label} | {count['collapse']} | {count['correction']} | {count['stable_growth']} "
              f"| {np.mean([r['n_defaults'] for r in rows]):.2f} | {np.median(firsts) if firsts else float('nan'):.0f} "
              f"| {np.mean([r['capital_lost_at_cost'] for r in rows]):.0f} |", flush=True)


if __name__ == "__main__":
    main()
