"""Benchmark of the batch runner: throughput, parallel efficiency, overhead, memory, phase diagram.

    .venv/bin/python benchmarks/bench_sweep.py                 # everything (the phase diagram takes minutes)
    .venv/bin/python benchmarks/bench_sweep.py --skip-phase-diagram

Throughput runs the real model on the baseline scenario shortened to `--steps` months (24 by
default) over a small grid. Parallel efficiency = 2-worker throughput / (2 x 1-worker
throughput), with the 1-worker run in-process (no IPC at all: the strictest reference). Runner
overhead = (wall time x workers - summed per-run model time) / summed model time. Peak memory
is the maximum RSS of the parent (runner + storage) and of the largest worker, measured in a
fresh process per size, with 1-step runs so that 10,000 runs finish quickly (`--memory-runs
1000,100000` for the issue's range).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference import DEFAULT_REFERENCES, checkout  # noqa: E402

TARGET_SWEEP_S = 15.0  # issue 12: the default sweep in under 15 s of wall time on this machine
TARGET_OVERHEAD = 0.10

EXPERIMENT = """
[experiment]
name = "{name}"
scenario = "baseline"
replications = {replications}
root_seed = 1
check_invariants = false
[experiment.fixed]
"meta.steps" = {steps}
[design]
method = "grid"
[[parameters]]
path = "vendors.*.financing_share"
name = "circularity"
low = 0.0
high = 0.8
levels = 5
[[parameters]]
path = "end_market.annual_growth"
name = "growth"
low = -0.1
high = 0.9
levels = 4
[keep]
series = "none"
"""


def write(folder: Path, name: str, replications: int, steps: int) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(EXPERIMENT.format(name=name, replications=replications, steps=steps))
    return path


def throughput(folder: Path, runs: int, steps: int, scheduler: str | None = None, workers: int = 1) -> dict:
    from experiments.design import load_experiment
    from experiments.runner import run_experiment

    label = f"{scheduler or 'local'}-{workers}".replace("/", "_").replace(":", "_")
    exp = load_experiment(write(folder, f"tp-{label}", max(1, runs // 20), steps))
    report = run_experiment(exp, folder / f"out-{label}", workers=workers, scheduler=scheduler, progress=False)
    overhead = (report.wall_s * report.workers - report.model_s) / report.model_s
    return {"runs": report.ran, "wall_s": report.wall_s, "runs_per_s": report.runs_per_s,
            "model_s": report.model_s, "overhead": overhead, "workers": report.workers}


def start_loopback_cluster(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    scheduler_file = folder / "scheduler.json"
    log = open(folder / "dask.log", "w")
    procs = [
        subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                          "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True),
    ]
    while not scheduler_file.exists():
        time.sleep(0.1)
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file)) as client:
        client.wait_for_workers(2, timeout=60)
        address = client.scheduler.address
        # warm the workers (imports) so the measurement is the steady state, as for the local pool
        client.run(lambda: __import__("experiments.runner") and __import__("model.simulate"))
    return address, procs


def stop_cluster(address: str, procs: list[subprocess.Popen]) -> None:
    from distributed import Client

    try:
        with Client(address, timeout="5s") as client:
            client.shutdown()
    except Exception:  # noqa: BLE001
        pass
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def memory_child(runs: int, folder: str) -> None:
    """In a fresh process: run `runs` 1-step summary-only runs on 2 workers, print peak RSS (MiB)."""
    from experiments.design import load_experiment
    from experiments.runner import run_experiment

    exp = load_experiment(write(Path(folder), f"mem{runs}", runs // 20, 1))
    report = run_experiment(exp, Path(folder) / f"out-mem{runs}", workers=2, progress=False)
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"runs": report.ran, "wall_s": report.wall_s, "parent_mib": parent, "worker_mib": children}))


def memory(folder: Path, runs: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(runs), str(folder)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def default_sweep(tree: Path, name: str) -> float:
    """Wall seconds of `roundtrip sweep` (the default experiment) run on `tree`'s code."""
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp) / "pd"
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "experiments.cli", "sweep", "--out", str(out_dir), "--no-progress", "--workers", "2"]
        out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
        wall = time.perf_counter() - t0
        first = out.stdout.strip().splitlines()[0] if out.stdout.strip() else out.stderr[-500:]
        print(f"  {name}: exit {out.returncode}; {first}")
        try:
            from experiments.storage import load_results  # this tree's reader: every version writes runs/*.parquet

            df = load_results(out_dir, columns=["elapsed_s", "steps"])
            print(f"    {len(df)} runs of {int(df['steps'].max())} months; model time {df['elapsed_s'].sum():.1f} s summed, "
                  f"{1000 * df['elapsed_s'].mean():.0f} ms mean per run; runner overhead "
                  f"{(wall * 2 - df['elapsed_s'].sum()) / df['elapsed_s'].sum():.1%} (figures included)")
        except Exception as exc:  # noqa: BLE001 - a layout this reader does not know: the wall time stands alone
            print(f"    (per-run model times not read: {type(exc).__name__})")
        return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300, help="runs per throughput measurement")
    parser.add_argument("--steps", type=int, default=24, help="months per run in the throughput measurements")
    parser.add_argument("--skip-phase-diagram", action="store_true")
    parser.add_argument("--memory-runs", default="1000,10000", metavar="N,M",
                        help="sweep sizes whose peak memory is compared (100,000 takes about 11 minutes)")
    parser.add_argument("--against", default=",".join(DEFAULT_REFERENCES),
                        help="commits whose default sweep is timed beside this tree's, comma-separated (\"\" for none)")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(int(args.memory_child[0]), args.memory_child[1])
        return

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other processes skew every number below)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"throughput: {args.runs} runs of the baseline scenario, {args.steps} months each")
        one = throughput(folder, args.runs, args.steps, workers=1)
        two = throughput(folder, args.runs, args.steps, workers=2)
        address, procs = start_loopback_cluster(folder)
        try:
            dask = throughput(folder, args.runs, args.steps, scheduler=address, workers=2)
        finally:
            stop_cluster(address, procs)
        ms = 1000 * one["model_s"] / one["runs"]
        print(f"  model time per run (1 worker): {ms:.1f} ms")
        for label, r in (("1 local worker (in-process)", one), ("2 local workers", two), ("loopback Dask, 2 workers", dask)):
            print(f"  {label:<28} {r['runs_per_s']:7.2f} runs/s  wall {r['wall_s']:6.2f} s  runner overhead {r['overhead']:6.1%}"
                  f" (target under {TARGET_OVERHEAD:.0%})")
        print(f"  parallel efficiency local: {two['runs_per_s'] / (2 * one['runs_per_s']):.3f}   "
              f"Dask: {dask['runs_per_s'] / (2 * one['runs_per_s']):.3f}")

        print("peak memory, summary-only runs of 1 month on 2 local workers:")
        sizes = [int(n) for n in args.memory_runs.split(",")]
        measured = [memory(folder, n) for n in sizes]
        for r in measured:
            print(f"  {r['runs']:>7,} runs: parent {r['parent_mib']:6.1f} MiB, largest worker {r['worker_mib']:6.1f} MiB, wall {r['wall_s']:.1f} s")
        small, large = measured[0], measured[-1]
        print(f"  ratio {large['runs']:,} / {small['runs']:,}: parent {large['parent_mib'] / small['parent_mib']:.3f}, "
              f"worker {large['worker_mib'] / small['worker_mib']:.3f} (target: flat)")

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.skip_phase_diagram:
        print("default phase diagram (`roundtrip sweep`, figures included, 2 workers), each version's own:")
        walls = {}
        for rev in filter(None, args.against.split(",")):
            walls[rev] = default_sweep(checkout(rev), rev)
        walls["this tree"] = default_sweep(ROOT, "this tree")
        for name, wall in walls.items():
            print(f"  {name:<10} {wall:7.1f} s wall  ({wall / walls['this tree']:.2f}x this tree; target {TARGET_SWEEP_S:g} s)")


if __name__ == "__main__":
    main()
