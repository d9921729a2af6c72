"""Where vendor money goes, and what circularity does on its own: baseline, no-circularity and
lucent-2000 over seeds (issue 9, items 1, 2 and 9).

    PYTHONPATH=. .venv/bin/python benchmarks/vendor_money.py [--seeds 40] [--steps 120] \
        [--scenarios baseline,no-circularity,lucent-2000] [--set dotted.key=value ...]

Per scenario: outcome counts, defaults per run, peak circularity (median and range), the
median vendor T12M revenue at months 0, 12 and 24, and the B$ vendors put into labs' equity
OUTSIDE the deals the scenario states (equity for deployment, round participation). That last
figure is counted by wrapping `model.markets.buy_new_shares`: a vendor buying a lab's new
shares is "through a deal" when it happens inside the deployment-deal or round-participation
clearing, and "outside" anywhere else (before issue 9: every vendor joined every lab round).
Seeds are 0..N-1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import markets  # noqa: E402
from model.economy import RoundtripModel  # noqa: E402
from model.scenario import load_scenario, parse_assignment  # noqa: E402
from model.simulate import summarize_run  # noqa: E402

DEAL_CLEARING = ("_deployment_deals", "_round_participation")
_state = {"in_deal": 0, "outside": 0.0, "through_deals": 0.0}


def _wrap() -> None:
    original = markets.buy_new_shares

    def counted(m, buyer, issuer, amount, price, source_tag=None):
        if m.by_name[buyer].kind == "vendor" and m.by_name[issuer].kind == "lab":
            _state["through_deals" if _state["in_deal"] else "outside"] += amount
        return original(m, buyer, issuer, amount, price, source_tag=source_tag)

    markets.buy_new_shares = counted
    for name in DEAL_CLEARING:
        fn = getattr(markets, name, None)
        if fn is None:
            continue

        def inside(m, *a, _fn=fn, **k):
            _state["in_deal"] += 1
            try:
                return _fn(m, *a, **k)
            finally:
                _state["in_deal"] -= 1

        setattr(markets, name, inside)


def run(name: str, seed: int, steps: int, overrides: dict) -> dict:
    _state.update(outside=0.0, through_deals=0.0)
    model = RoundtripModel(load_scenario(name, overrides), rng=seed, check_invariants=False, firm_measures=False)
    for _ in range(steps):
        model.step()
    series = model.datacollector.get_model_vars_dataframe()
    summary = summarize_run(model, series)
    t12m = series["vendor_revenue_t12m"].to_numpy()
    summary.update(outside=_state["outside"], through_deals=_state["through_deals"],
                   **{f"t12m_{m}": float(t12m[min(m, len(t12m) - 1)]) for m in (0, 12, 24)})
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--scenarios", default="baseline,no-circularity,lucent-2000")
    parser.add_argument("--set", action="append", default=[], help="dotted.key=value applied to every scenario")
    args = parser.parse_args()
    overrides = dict(parse_assignment(text) for text in args.set)
    _wrap()
    print("| scenario | collapse / correction / stable | defaults per run | peak circularity median (min-max) "
          "| vendor T12M revenue month 0 / 12 / 24 (median) | vendor B$ into labs outside deals (mean; max) "
          "| through deals (mean) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.scenarios.split(","):
        rows = [run(name, seed, args.steps, overrides) for seed in range(args.seeds)]
        counts = [sum(r["outcome"] == o for r in rows) for o in ("collapse", "correction", "stable_growth")]
        peak = [r["circularity_peak"] for r in rows]
        med = lambda key: float(np.median([r[key] for r in rows]))  # noqa: E731
        print(f"| {name} | {' / '.join(map(str, counts))} | {np.mean([r['n_defaults'] for r in rows]):.2f} "
              f"| {np.median(peak):.3f} ({min(peak):.3f}-{max(peak):.3f}) "
              f"| {med('t12m_0'):.0f} / {med('t12m_12'):.0f} / {med('t12m_24'):.0f} "
              f"| {np.mean([r['outside'] for r in rows]):.1f}; {max(r['outside'] for r in rows):.1f} "
              f"| {np.mean([r['through_deals'] for r in rows]):.1f} |", flush=True)


if __name__ == "__main__":
    main()
