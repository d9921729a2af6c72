"""`roundtrip sweep [EXPERIMENT.toml] [--out DIR] [--workers N] [--scheduler ADDR]`.

Runs every run of the experiment not yet in DIR, streaming results to Parquet, then writes the
per-point table and the figures beside them and says where everything went. Without a file it
runs the default phase diagram (experiments/phase_diagram.toml). `--screen SCENARIO` builds and
runs a Morris screen over every numeric ASSUMPTION of the scenario (experiments/screen.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from experiments.commands import add_batch_options, check_workers
from experiments.design import MAX_RUNS
from experiments.runner import CHUNKS_PER_WORKER, MAX_CHUNK_RUNS
from experiments.screen import DEFAULT_RANGE, DEFAULT_TRAJECTORIES
from model.errors import ExperimentError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a batch experiment (default: the circularity x growth phase diagram)",
        description="Run a declared experiment; re-running the same command resumes it.",
    )
    p.add_argument("experiment", nargs="?", default=None, help="experiment TOML file (default: experiments/phase_diagram.toml)")
    p.add_argument("--out", default=None, help="results folder (default: results/<experiment name>)")
    p.add_argument("--chunk-size", type=int, default=None, help=f"runs per task (default: about {CHUNKS_PER_WORKER} tasks per worker, at most {MAX_CHUNK_RUNS} runs each)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (the per-point table is still written)")
    add_batch_options(p)
    screen = p.add_argument_group("assumption screen (instead of an experiment file)")
    screen.add_argument("--screen", metavar="SCENARIO", default=None,
                        help="Morris screen over every numeric ASSUMPTION of SCENARIO (then: roundtrip analyze DIR)")
    screen.add_argument("--range", dest="relative_range", type=float, default=None, metavar="R",
                        help=f"vary each assumption over value x (1-R)..(1+R), unless a range is written beside it (default {DEFAULT_RANGE})")
    screen.add_argument("--trajectories", type=int, default=None, metavar="N", help=f"Morris trajectories (default {DEFAULT_TRAJECTORIES}; N x (D+1) points)")
    screen.add_argument("--replications", type=int, default=None, metavar="N", help="seeds per point (default 1)")
    screen.add_argument("--vary", action="append", default=[], metavar="PATH", help="also vary this (calibrated) number")
    screen.add_argument("--fix", action="append", default=[], metavar="PATH", help="hold this assumption at its value")
    p.add_argument("--max-runs", type=int, default=None, metavar="N",
                   help=f"refuse a design of more runs than this (default: {MAX_RUNS:,})")
    p.set_defaults(func=main)


def results_folder(out: str | None, name: str) -> Path:
    """`--out`, or results/NAME; never the working folder or a folder above it (they hold more than results)."""
    folder = Path(out) if out else Path("results") / name
    resolved, here = folder.resolve(), Path.cwd().resolve()
    if not out and not resolved.is_relative_to((Path("results")).resolve()):
        raise ExperimentError(f"experiment.name {name!r}: results/{name} is outside results/; expected a folder name")
    if resolved == here or resolved in here.parents:
        raise ExperimentError(f"--out {out}: that is the working folder or one above it ({resolved}); "
                              f"expected a folder of its own for the results")
    return folder


def main(args: argparse.Namespace) -> int:
    from experiments.design import load_experiment
    from experiments.runner import run_experiment

    check_workers(args)
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ExperimentError(f"--chunk-size {args.chunk_size}: expected a positive number of runs per task")
    if args.max_runs is not None and args.max_runs < 1:
        raise ExperimentError(f"--max-runs {args.max_runs}: expected a positive number of runs")
    screen_dir = None
    if args.screen is not None:
        experiment, screen_dir = _screen_experiment(args)
    else:
        for flag in ("relative_range", "trajectories", "replications"):
            if getattr(args, flag) is not None:
                raise ExperimentError(f"--{flag.replace('relative_', '')}: only with --screen SCENARIO")
        if args.vary or args.fix:
            raise ExperimentError("--vary/--fix: only with --screen SCENARIO")
        experiment = load_experiment(args.experiment, **({"max_runs": args.max_runs} if args.max_runs else {}))
    out = results_folder(args.out, experiment.name)
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
    if screen_dir is not None:
        import shutil

        shutil.rmtree(screen_dir, ignore_errors=True)
        print(f"experiment:     {out}/experiment.toml (rerun or resume: roundtrip sweep {out}/experiment.toml --out {out})")
        print(f"next:           roundtrip analyze {out}")
    return 0


def _screen_experiment(args: argparse.Namespace):
    """Write the screen's experiment file to a scratch folder (the sweep copies it into DIR) and load it."""
    import shutil
    import tempfile

    from experiments.design import load_experiment
    from experiments.screen import experiment_toml, find_uncertainties

    if args.experiment is not None:
        raise ExperimentError(f"--screen {args.screen}: give either an experiment file or --screen, not both")
    for flag, value in (("--trajectories", args.trajectories), ("--replications", args.replications)):
        if value is not None and value < 1:
            raise ExperimentError(f"{flag} {value}: expected a positive number")
    screen = find_uncertainties(args.screen, DEFAULT_RANGE if args.relative_range is None else args.relative_range,
                                vary=args.vary, fix=args.fix)
    trajectories = args.trajectories or DEFAULT_TRAJECTORIES
    text = experiment_toml(screen, trajectories=trajectories, replications=args.replications or 1)
    scratch = Path(tempfile.mkdtemp(prefix="roundtrip-screen-"))
    try:
        path = scratch / "experiment.toml"
        path.write_text(text, encoding="utf-8")
        experiment = load_experiment(path, **({"max_runs": args.max_runs} if args.max_runs else {}))
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)  # a refused design leaves no scratch folder behind
        raise
    print(f"screen: {len(screen.varied)} assumptions of {screen.scenario_path.name} varied, {len(screen.held)} held "
          f"({trajectories} trajectories)")
    return experiment, scratch
