"""Benchmark of `roundtrip compare` against `roundtrip sweep` running the same runs.

    .venv/bin/python benchmarks/bench_compare.py [--seeds 20] [--steps 180] [--repeats 2] [A B]

Both are timed from the command line in a fresh process (imports, runs on one in-process
worker, report and figures included): `compare A B`, and `sweep` of the very experiment file
that compare generates (the same runs on the same seeds). Each is repeated, alternating, and
the fastest of each is kept. The ratio is taken on CPU time (user + system of the child
process), which a machine shared with other jobs disturbs far less than wall time; wall time
is printed beside it. The ratio compare / sweep must stay under 1.10: the paired statistics and
their figures add less than 10 %. The statistics alone (reading the folder, tests, table and
figures) are timed in-process too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one command in a child process."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cpu0, t0 = _children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("a", nargs="?", default="baseline")
    parser.add_argument("b", nargs="?", default="no-circularity")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=180)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from experiments.commands.compare import DEFAULT_ROOT_SEED
    from experiments.compare import compare_results, comparison_toml, write_comparison

    python = sys.executable
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{args.a} vs {args.b}: {args.seeds} seeds x 2 arms x {args.steps} months, one in-process worker")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        text, _, _ = comparison_toml(args.a, args.b, [], args.seeds, args.steps, DEFAULT_ROOT_SEED)
        experiment = tmp / "compare.toml"
        experiment.write_text(text)
        sweeps, compares = [], []
        for i in range(args.repeats):
            for kind in ("sweep", "compare"):
                out = tmp / f"{kind}-{i}"
                if kind == "sweep":
                    cmd = [python, "-m", "experiments.cli", "sweep", str(experiment), "--out", str(out), "--workers", "1", "--no-progress"]
                    sweeps.append(timed(cmd))
                else:
                    cmd = [python, "-m", "experiments.cli", "compare", args.a, args.b, "--seeds", str(args.seeds),
                           "--steps", str(args.steps), "--out", str(out), "--workers", "1", "--no-progress"]
                    compares.append(timed(cmd))
            print(f"  round {i + 1}: sweep CPU {sweeps[-1][0]:.1f} s (wall {sweeps[-1][1]:.1f} s), "
                  f"compare CPU {compares[-1][0]:.1f} s (wall {compares[-1][1]:.1f} s)")
        t0 = time.perf_counter()
        result = compare_results(tmp / "compare-0")
        write_comparison(tmp / "compare-0", result)
        stats = time.perf_counter() - t0
        shutil.rmtree(tmp / "compare-0" / "figures")
        t0 = time.perf_counter()
        write_comparison(tmp / "compare-0", compare_results(tmp / "compare-0"), figures=False)
        stats_only = time.perf_counter() - t0
    best_sweep, best_compare = min(sweeps), min(compares)
    print(f"fastest sweep: CPU {best_sweep[0]:.1f} s, wall {best_sweep[1]:.1f} s; "
          f"fastest compare: CPU {best_compare[0]:.1f} s, wall {best_compare[1]:.1f} s")
    print(f"statistics and figures in-process: {stats:.2f} s wall (without figures {stats_only:.2f} s)")
    ratio = best_compare[0] / best_sweep[0]
    print(f"ratio compare / sweep, CPU time: {ratio:.3f} ({'under' if ratio < 1.10 else 'OVER'} the 1.10 budget); "
          f"wall time: {best_compare[1] / best_sweep[1]:.3f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
