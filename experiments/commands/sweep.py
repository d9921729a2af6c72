"""`roundtrip sweep [EXPERIMENT.toml] [--out DIR] [--workers N] [--scheduler ADDR]`.

Runs every run of the experiment not yet in DIR, streaming results to Parquet, then writes the
per-point table and the figures beside them and says where everything went. Without a file it
runs the default phase diagram (experiments/phase_diagram.toml).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from model.errors import ExperimentError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a batch experiment (default: the circularity x growth phase diagram)",
        description="Run a declared experiment; re-running the same command resumes it.",
    )
    p.add_argument("experiment", nargs="?", default=None, help="experiment TOML file (default: experiments/phase_diagram.toml)")
    p.add_argument("--out", default=None, help="results folder (default: results/<experiment name>)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: number of CPUs; 1 = in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run on a Dask cluster: tcp://HOST:PORT of a running scheduler, or 'local' for a LocalCluster")
    p.add_argument("--chunk-size", type=int, default=None, help="runs per task (default: about 20 tasks per worker)")
    p.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (the per-point table is still written)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from experiments.design import load_experiment
    from experiments.runner import run_experiment

    if args.workers is not None and args.workers < 1:
        raise ExperimentError(f"--workers {args.workers}: expected a positive number of worker processes")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ExperimentError(f"--chunk-size {args.chunk_size}: expected a positive number of runs per task")
    experiment = load_experiment(args.experiment)
    out = Path(args.out) if args.out else Path("results") / experiment.name
    report = run_experiment(
        experiment, out, workers=args.workers, scheduler=args.scheduler, chunk_size=args.chunk_size,
        retry_failed=args.retry_failed, progress=not args.no_progress and sys.stderr.isatty() or bool(os.environ.get("ROUNDTRIP_PROGRESS")),
    )
    if report.skipped and not report.ran and not report.interrupted:
        print(f"{out}: all {report.total} runs already on disk ({report.skipped} skipped)")
    else:
        where = f"Dask {args.scheduler}" if args.scheduler else f"{report.workers} local worker(s)"
        print(f"{experiment.name}: ran {report.ran} runs ({report.ok} ok, {report.failed} failed) on {where} "
              f"in {report.wall_s:.1f} s ({report.runs_per_s:.1f} runs/s); {report.skipped} already on disk")
    if report.interrupted:
        print(f"interrupted: {report.ran} finished runs are in {out}; run the same command again to resume")
        return 130
    from experiments.analysis import failure_summary, write_report

    written = write_report(out, figures=not args.no_figures)
    print(f"results:        {out}/runs/*.parquet (summaries), {out}/manifest.json")
    if any((out / "series").glob("*.parquet")):
        print(f"time series:    {out}/series/*.parquet")
    for key, label in (("points", "per-point table"), ("sobol", "Sobol indices"), ("heatmap", "heatmap"), ("severity", "severity maps"), ("fan", "fan charts")):
        if key in written:
            print(f"{label + ':':<15} {written[key]}")
    failures = failure_summary(out)
    for message, count in failures:
        print(f"failed runs:    {count} x {message}")
    print(f'load in pandas: from experiments.storage import load_results; df = load_results("{out}")')
    return 0
