"""Cost of one 120-step baseline run, invariant checks on and off, and per agent-step.

    .venv/bin/python benchmarks/bench_model.py [--runs 10] [--profile]

Targets (issue 2): under 50 ms per run with checks off; checks under 25 % overhead. Prints
the measured numbers and, with --profile, where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from model.economy import RoundtripModel
from model.scenario import load_scenario
from model.simulate import simulate


def time_runs(scenario, runs: int, checks: bool) -> float:
    """Mean CPU seconds of this process per run (CPU time, so a busy machine inflates it less
    than wall time would)."""
    simulate(scenario, seed=0, keep_series=False, check_invariants=checks)  # warm up
    start = time.process_time()
    for seed in range(runs):
        simulate(scenario, seed=seed, keep_series=False, check_invariants=checks)
    return (time.process_time() - start) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    scenario = load_scenario("baseline")
    agents = len(RoundtripModel(scenario, rng=0).agents)
    steps = scenario.meta.steps
    off = time_runs(scenario, args.runs, checks=False)
    on = time_runs(scenario, args.runs, checks=True)
    print(f"baseline: {agents} agents x {steps} steps, mean CPU time over {args.runs} seeds")
    print(f"checks off: {off * 1e3:8.1f} ms/run  {off / (agents * steps) * 1e6:6.1f} us/agent-step  (target 50 ms: {off / 0.05:.1f}x)")
    print(f"checks on:  {on * 1e3:8.1f} ms/run  {on / (agents * steps) * 1e6:6.1f} us/agent-step")
    print(f"invariant-check overhead: {on / off - 1:+.1%} (target < 25 %)")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(simulate, scenario, seed=1, keep_series=False, check_invariants=False)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
