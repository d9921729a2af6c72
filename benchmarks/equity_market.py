"""The equity market over seeds: how far the vendors' market value falls, and how sentiment opens.

    PYTHONPATH=. .venv/bin/python benchmarks/equity_market.py [--seeds 40] [--steps 120]
        [--scenarios baseline no-circularity lucent-2000]

Per scenario, over seeds 0..N-1 (checks off): the median and largest peak-to-trough drawdown
of the vendors' market value, the share of seeds with a drawdown of at least 80 % (the
outcome classifier's collapse threshold), the outcome counts, and the median sentiment of the
first six months (month 0 is the opening value). Seeds are plain integers, so any row can be
re-run with `model.simulate.simulate(load_scenario(name), seed)`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.scenario import load_scenario  # noqa: E402
from model.simulate import simulate  # noqa: E402

OUTCOMES = ("collapse", "correction", "stable_growth")


def measure(name: str, seeds: int, steps: int) -> str:
    scenario = load_scenario(name)
    drawdowns, outcomes, sentiment = [], [], []
    for seed in range(seeds):
        result = simulate(scenario, seed, steps=steps, keep_series=True, check_invariants=False)
        drawdowns.append(result.summary["vendor_equity_drawdown"])
        outcomes.append(result.summary["outcome"])
        sentiment.append(result.series["sentiment"].to_numpy(dtype=float)[:7])
    dd = np.array(drawdowns)
    counts = " / ".join(f"{sum(o == k for o in outcomes)}" for k in OUTCOMES)
    path = " ".join(f"{v:+.2f}" for v in np.median(np.array(sentiment), axis=0))
    return (f"| {name} | {np.median(dd):.0%} | {dd.max():.0%} | {np.mean(dd >= 0.8):.0%} | {counts} | {path} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--scenarios", nargs="+", default=["baseline", "no-circularity", "lucent-2000"])
    args = parser.parse_args()
    started = time.time()
    print(f"seeds 0..{args.seeds - 1}, {args.steps} months, checks off")
    print("| scenario | median vendor equity drawdown | largest | seeds with >= 80 % | collapse / correction / "
          "stable_growth | median sentiment, months 0-6 |")
    print("|---|---|---|---|---|---|")
    for name in args.scenarios:
        print(measure(name, args.seeds, args.steps), flush=True)
    print(f"({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
