"""Where a run's time goes, phase by phase, in this code and in earlier versions.

    .venv/bin/python benchmarks/profile_phases.py                    # this tree vs f1ebbeb and c18e7a4
    .venv/bin/python benchmarks/profile_phases.py --against ""       # this tree only
    .venv/bin/python benchmarks/profile_phases.py --runs 20 --steps 120

Times the baseline scenario with invariant checks off: every phase of `RoundtripModel.step`
and the calls inside them are wrapped in a timer (inclusive wall time, perf_counter; the
wrappers add about a microsecond a call). The burn-in that seeds the vendors' opening history
runs the same phases on a copy of the model; that time is counted once, under the burn-in, not
again under the phases. The table in docs/performance.md is this script's output.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from reference import measure_versions

# (label, module, attribute path): wrapped when the code has it (the first of paths split by
# "|"), in this order in the table; labels starting with two spaces are parts of the row above
PHASES = (
    ("construction (setup + burn-in)", "model.economy", "RoundtripModel.__init__"),
    ("  burn-in of vendors' history", "model.economy", "seed_vendor_history"),
    ("observe", "model.economy", "RoundtripModel.observe"),
    ("decide", "model.economy", "RoundtripModel.decide"),
    ("  expectations by strategy", "model.economy", "RoundtripModel.expectations_by_strategy"),
    ("  strategy switching", "model.investing", "StrategyBook.review"),
    ("  investors' decide", "agents.investor", "InvestorPanel.decide|Investor.decide"),
    ("trade", "model.economy", "RoundtripModel.trade"),
    ("  power", "model.markets", "clear_power"),
    ("  compute", "model.markets", "clear_compute"),
    ("  chips", "model.markets", "clear_chips"),
    ("  credit", "model.markets", "clear_credit"),
    ("  equity", "model.markets", "clear_equity"),
    ("    secondary trading", "model.markets", "_secondary_trading"),
    ("settle", "model.economy", "RoundtripModel.settle"),
    ("account", "model.economy", "RoundtripModel.account"),
    ("  mark to market", "model.accounting", "mark_to_market"),
    ("  data collection", "model.reporters", "RoundtripCollector.collect"),
    ("summary (classify, losses)", "model.simulate", "summarize_run"),
)


def instrument() -> dict[str, float]:
    """Wrap every phase found in the imported code; returns the dict the timers add to."""
    import importlib
    import importlib.util

    totals: dict[str, float] = defaultdict(float)
    state = {"burn_in": False}

    def wrap(label: str, func):
        is_burn_in = "burn-in" in label

        def timed(*args, **kwargs):
            if state["burn_in"] and not is_burn_in:
                return func(*args, **kwargs)
            start = time.perf_counter()
            state["burn_in"] |= is_burn_in
            try:
                return func(*args, **kwargs)
            finally:
                if is_burn_in:
                    state["burn_in"] = False
                totals[label] += time.perf_counter() - start
        return timed

    tree = Path(sys.path[0])
    for label, module_name, path in PHASES:
        spec = importlib.util.find_spec(module_name)
        if spec is None or tree not in Path(spec.origin).parents:
            continue  # an older tree without this module (the editable install would find ours)
        for candidate in path.split("|"):
            owner = importlib.import_module(module_name)
            *parents, name = candidate.split(".")
            for parent in parents:
                owner = getattr(owner, parent, None)
            if owner is not None and hasattr(owner, name):
                setattr(owner, name, wrap(label, getattr(owner, name)))
                break
    return totals


def profile(runs: int, steps: int) -> dict:
    from model.scenario import load_scenario
    import model.simulate as simulate_module

    scenario = load_scenario("baseline")
    simulate_module.simulate(scenario, seed=0, steps=steps, keep_series=False, check_invariants=False)  # warm up
    totals = instrument()
    start = time.perf_counter()
    for seed in range(1, runs + 1):
        simulate_module.simulate(scenario, seed=seed, steps=steps, keep_series=False, check_invariants=False)
    total = time.perf_counter() - start
    return {"total_ms": total / runs * 1e3, "phases_ms": {label: totals[label] / runs * 1e3 for label, *_ in PHASES if label in totals}}


def table(columns: dict[str, dict]) -> str:
    names = list(columns)
    lines = ["| phase | " + " | ".join(f"{n} ms" for n in names) + " |", "|---|" + "---:|" * len(names)]
    rows = [("one run (total)", None)] + [(label, label) for label, *_ in PHASES]
    for label, key in rows:
        cells = []
        for name in names:
            value = columns[name]["total_ms"] if key is None else columns[name]["phases_ms"].get(key)
            cells.append("" if value is None else f"{value:.1f}")
        if any(cells):
            lines.append(f"| {label.replace('  ', '&nbsp;&nbsp;')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


TOP_LEVEL = ("construction (setup + burn-in)", "observe", "decide", "trade", "settle", "account", "summary (classify, losses)")


def draw(columns: dict[str, dict], path: Path, steps: int) -> None:
    """Each version's run as one bar, stacked by the step's phases (the rest: between phases)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(columns)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    left = [0.0] * len(names)
    colors = plt.get_cmap("tab10").colors
    for i, phase in enumerate((*TOP_LEVEL, "rest")):
        widths = []
        for name in names:
            phases = columns[name]["phases_ms"]
            widths.append(columns[name]["total_ms"] - sum(phases.get(p, 0.0) for p in TOP_LEVEL)
                          if phase == "rest" else phases.get(phase, 0.0))
        ax.barh(names, widths, left=left, color=colors[i % len(colors)], label=phase.split(" (")[0])
        left = [a + b for a, b in zip(left, widths)]
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:.0f} ms", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(f"wall ms per {steps}-step baseline run, checks off")
    ax.set_xlim(0, max(left) * 1.15)
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--figure", metavar="PNG", help="also draw the phases of each version as stacked bars")
    args, columns = measure_versions(parser, Path(__file__), lambda a: profile(a.runs, a.steps))
    print(f"baseline, {args.steps} steps, checks off, mean wall time over {args.runs} seeds (1-{args.runs})")
    print(table(columns))
    if args.figure:
        draw(columns, Path(args.figure), args.steps)
        print(f"figure: {args.figure}")

if __name__ == "__main__":
    sys.exit(main())
