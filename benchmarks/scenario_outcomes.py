"""Outcome distribution of every bundled scenario over seeds, and the lucent-2000 back-test.

    .venv/bin/python benchmarks/scenario_outcomes.py [--seeds 20] [--steps 120] [--out FILE.md]

Prints (and with --out writes) Markdown tables for docs/scenarios.md: per scenario the count
of collapse / correction / stable_growth over seeds 0..N-1, the median time to collapse,
defaults per run and the median peak-to-trough drawdowns of vendor revenue and market value;
then, for lucent-2000 over 48 steps, the yearly vendor revenue path, the CLEC defaults and
the vendor's equity drawdown, per seed and as medians. Seeds are plain integers 0..N-1, so
any row can be re-run with `model.simulate.simulate(load_scenario(name), seed)`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.scenario import SCENARIO_DIR, load_scenario  # noqa: E402
from model.simulate import simulate  # noqa: E402

OUTCOMES = ("collapse", "correction", "stable_growth")


def outcome_table(seeds: int, steps: int) -> str:
    lines = [
        "| scenario | collapse | correction | stable_growth | median months to collapse | defaults per run (mean) "
        "| median vendor revenue drawdown | median vendor equity drawdown | median organic coverage at end |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        scenario = load_scenario(path)
        rows = [simulate(scenario, seed, steps=steps, keep_series=False, check_invariants=False).summary
                for seed in range(seeds)]
        counts = {o: sum(r["outcome"] == o for r in rows) for o in OUTCOMES}
        ttc = [r["time_to_collapse"] for r in rows if r["outcome"] == "collapse"]
        med = lambda key: float(np.median([r[key] for r in rows]))  # noqa: E731
        lines.append(
            f"| {path.stem} | {counts['collapse']} | {counts['correction']} | {counts['stable_growth']} "
            f"| {np.median(ttc):.0f} | {np.mean([r['n_defaults'] for r in rows]):.1f} " if ttc else
            f"| {path.stem} | {counts['collapse']} | {counts['correction']} | {counts['stable_growth']} "
            f"| - | {np.mean([r['n_defaults'] for r in rows]):.1f} "
        )
        lines[-1] += (f"| {med('vendor_revenue_drawdown'):.0%} | {med('vendor_equity_drawdown'):.0%} "
                      f"| {med('organic_coverage_end'):.2f} |")
    return "\n".join(lines)


def lucent_table(seeds: int) -> str:
    scenario = load_scenario("lucent-2000")
    clouds = set(scenario.clouds)
    per_seed = []
    for seed in range(seeds):
        result = simulate(scenario, seed, steps=48, keep_series=True, check_invariants=False)
        s = result.series
        # trailing-12-month vendor revenue at the end of Lucent's fiscal years (September):
        # steps 8, 20, 32, 44 = Sep 2000 .. Sep 2003 (FY2000 includes 3 months before the start)
        yearly = [float(s["vendor_revenue_t12m"].iloc[i]) for i in (8, 20, 32, 44)]
        value = s["vendor_market_value"].to_numpy(dtype=float)
        drawdown = 1.0 - value.min() / value.max() if value.max() > 0 else 0.0
        clec = sorted({(d["agent"], d["step"]) for d in result.defaults if d["agent"] in clouds}, key=lambda x: x[1])
        others = [f"{d['agent']}@{d['step']}" for d in result.defaults if d["agent"] not in clouds]
        per_seed.append((seed, yearly, clec, others, drawdown, result.summary["outcome"]))
    lines = [
        "| seed | vendor revenue, 12 months to Sep: FY2000 / FY2001 / FY2002 / FY2003 (B$) | CLEC defaults (month from Jan 2000) "
        "| other defaults | vendor market-value drawdown | outcome |",
        "|---|---|---|---|---|---|",
    ]
    for seed, yearly, clec, others, drawdown, outcome in per_seed:
        lines.append(
            f"| {seed} | {' / '.join(f'{v:.1f}' for v in yearly)} | {', '.join(f'{a}@{t}' for a, t in clec) or 'none'} "
            f"| {', '.join(others) or 'none'} | {drawdown:.0%} | {outcome} |"
        )
    med = np.median([p[1] for p in per_seed], axis=0)
    share_clec = np.mean([bool(p[2]) for p in per_seed])
    lines.append(
        f"| **median / share** | {' / '.join(f'{v:.1f}' for v in med)} | {share_clec:.0%} of seeds with a CLEC default "
        f"| | {np.median([p[4] for p in per_seed]):.0%} | |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--lucent-seeds", type=int, default=10)
    parser.add_argument("--out", default=None, help="also write the tables to this Markdown file")
    args = parser.parse_args()
    started = time.time()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "model", "agents", "experiments/scenarios"],
                           capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent).stdout.strip()
    head = (f"Measured {time.strftime('%Y-%m-%d %H:%M')} at commit {commit}"
            f"{' (with uncommitted changes in model/, agents/ or scenarios/)' if dirty else ''}; "
            f"seeds 0..{args.seeds - 1}, {args.steps} steps.")
    text = "\n\n".join([head, outcome_table(args.seeds, args.steps),
                        f"lucent-2000, 48 steps (2000-01 to 2003-12), seeds 0..{args.lucent_seeds - 1}:",
                        lucent_table(args.lucent_seeds)])
    text += f"\n\n({time.time() - started:.0f} s)\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
