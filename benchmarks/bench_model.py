"""Cost of one 120-step baseline run, checks off and on, beside earlier versions of the code.

    .venv/bin/python benchmarks/bench_model.py                     # this tree vs f1ebbeb and c18e7a4
    .venv/bin/python benchmarks/bench_model.py --runs 20 --against ""
    .venv/bin/python benchmarks/bench_model.py --profile           # and where this tree's time goes

Targets (issue 12): under 15 ms of CPU per run with checks off, at least 9x faster than f1ebbeb
measured in the same benchmark run; under 3 us per agent-step; invariant checks under 25 % on
top; peak memory of a run under 50 MB. Times are CPU time of the measuring process
(process_time), so a busy machine inflates them less than wall time would; each version runs
in its own process on its own tree (benchmarks/reference.py), one after the other. The first
run of a scenario in a process also pays for the burn-in behind the vendors' opening history
(model/vendor_history.py), which later seeds reuse: it is reported apart.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import tracemalloc
from pathlib import Path

from reference import measure_versions

TARGET_MS = 15.0
TARGET_US_PER_AGENT_STEP = 3.0
TARGET_CHECK_OVERHEAD = 0.25
TARGET_PEAK_MB = 50.0
SPEED_UP_OVER_F1EBBEB = 9.0


def measure(runs: int, steps: int) -> dict:
    """This process's code: CPU ms per run (checks off and on), the first run's ms, peak MB."""
    from model.economy import RoundtripModel
    from model.scenario import load_scenario
    from model.simulate import simulate

    scenario = load_scenario("baseline")

    def cpu_ms(seeds, checks: bool) -> float:
        start = time.process_time()
        for seed in seeds:
            simulate(scenario, seed=seed, steps=steps, keep_series=False, check_invariants=checks)
        return (time.process_time() - start) / len(seeds) * 1e3

    first = cpu_ms([0], checks=False)  # pays for the scenario's burn-in, if the code caches it
    seeds = list(range(1, runs + 1))
    off = cpu_ms(seeds, checks=False)
    on = cpu_ms(seeds, checks=True)
    tracemalloc.start()
    simulate(scenario, seed=runs + 1, steps=steps, keep_series=True, check_invariants=False)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    agents = len(RoundtripModel(scenario, rng=0).agents)
    return {"first_ms": first, "off_ms": off, "on_ms": on, "peak_mb": peak_mb, "agents": agents, "steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="seeds timed per version (default 10)")
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--profile", action="store_true", help="also print this tree's 15 costliest functions")
    args, versions = measure_versions(parser, Path(__file__), lambda a: measure(a.runs, a.steps))
    here = versions["this tree"]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; baseline, {here['agents']} agents x "
          f"{args.steps} steps; CPU time, mean of seeds 1-{args.runs}")
    print(f"{'version':<11} {'checks off':>11} {'checks on':>10} {'overhead':>9} {'us/agent-step':>14} "
          f"{'first run':>10} {'peak MB':>8} {'speed-up':>9}")
    for name, v in versions.items():
        per_agent_step = v["off_ms"] * 1e3 / (v["agents"] * v["steps"])
        print(f"{name:<11} {v['off_ms']:8.1f} ms {v['on_ms']:7.1f} ms {v['on_ms'] / v['off_ms'] - 1:+8.1%} "
              f"{per_agent_step:14.1f} {v['first_ms']:7.1f} ms {v['peak_mb']:8.1f} {v['off_ms'] and here['off_ms'] and v['off_ms'] / here['off_ms']:8.2f}x")
    per_agent_step = here["off_ms"] * 1e3 / (here["agents"] * here["steps"])
    print("targets (this tree):")
    print(f"  checks off {here['off_ms']:.1f} ms (target {TARGET_MS:g} ms: {here['off_ms'] / TARGET_MS:.2f}x the target)")
    if "f1ebbeb" in versions:
        ratio = versions["f1ebbeb"]["off_ms"] / here["off_ms"]
        print(f"  speed-up over f1ebbeb {ratio:.2f}x (target {SPEED_UP_OVER_F1EBBEB:g}x)")
    print(f"  {per_agent_step:.1f} us per agent-step (target {TARGET_US_PER_AGENT_STEP:g})")
    print(f"  invariant checks {here['on_ms'] / here['off_ms'] - 1:+.1%} (target under {TARGET_CHECK_OVERHEAD:.0%})")
    print(f"  peak memory of a run, series kept {here['peak_mb']:.1f} MB by tracemalloc (target {TARGET_PEAK_MB:g} MB)")
    if args.profile:
        from model.scenario import load_scenario
        from model.simulate import simulate

        profiler = cProfile.Profile()
        profiler.runcall(simulate, load_scenario("baseline"), seed=1, steps=args.steps, keep_series=False, check_invariants=False)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    sys.exit(main())
