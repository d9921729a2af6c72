"""`roundtrip compare A [B] [--seeds N] [--steps N] [--set k=v ...] [--out DIR] [--json]`.

Runs A and B (or A and its `--set` variant) on the same seeds through the sweep engine, so it
resumes, runs on `--workers`/`--scheduler` and records failed runs; then writes the paired
statistics (experiments/compare.py) as a table and figures and says where they are.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from experiments.commands import add_batch_options, check_workers
from model.errors import UserError

DEFAULT_SEEDS = 40
DEFAULT_STEPS = 180  # the bust that circularity postpones falls after month 120 (docs/experiments.md)
DEFAULT_ROOT_SEED = 20260101


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare two scenarios on the same seeds: paired differences, McNemar, survival, loss tails",
        description="Run scenario A and scenario B (default: A, with --set applied to B) on the same seeds and report "
                    "paired mean differences of every severity measure with 95 % intervals, P(collapse) with McNemar's "
                    "exact test, Kaplan-Meier curves of the first default with a log-rank test, and loss tails.",
    )
    p.add_argument("a", help="scenario A: bundled name or path to a TOML file")
    p.add_argument("b", nargs="?", default=None, help="scenario B (default: A; use --set to vary it)")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"paired seeds (default: {DEFAULT_SEEDS})")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"months per run (default: {DEFAULT_STEPS})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="dotted.key=value",
                   help="override a parameter of scenario B only, e.g. --set vendors.*.financing_share=0 (repeatable)")
    p.add_argument("--out", default=None, help="results folder (default: results/compare/<A>-vs-<B>-<steps>m-<seeds>s)")
    p.add_argument("--json", action="store_true", help="print one JSON object (the statistics) instead of the summary")
    p.add_argument("--root-seed", type=int, default=DEFAULT_ROOT_SEED, help=f"root of the paired seeds (default: {DEFAULT_ROOT_SEED})")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (the table is still written)")
    add_batch_options(p)
    p.add_argument("--simulator", default=None, metavar="MODULE:FUNCTION",
                   help="advanced: the function that runs one scenario (default: model.simulate:simulate)")
    p.set_defaults(func=main)


def default_out(label_a: str, label_b: str, steps: int, seeds: int) -> Path:
    from experiments.compare import experiment_name

    name = experiment_name(label_a, label_b).removeprefix("compare_").replace("_vs_", "-vs-")
    return Path("results") / "compare" / f"{name}-{steps}m-{seeds}s"


def main(args: argparse.Namespace) -> int:
    from experiments.compare import compare_results, comparison_toml, json_report, markdown, write_comparison
    from experiments.design import load_experiment
    from experiments.runner import run_experiment

    for flag, value in (("--seeds", args.seeds), ("--steps", args.steps)):
        if value < 1:
            raise UserError(f"{flag} {value}: expected a positive number")
    check_workers(args)
    text, label_a, label_b = comparison_toml(args.a, args.b, args.overrides, args.seeds, args.steps, args.root_seed, args.simulator)
    out = Path(args.out) if args.out else default_out(label_a, label_b, args.steps, args.seeds)
    with tempfile.TemporaryDirectory(prefix="roundtrip-compare-") as tmp:
        source = Path(tmp) / "compare.toml"  # the results folder keeps a copy (experiment.toml)
        source.write_text(text, encoding="utf-8")
        experiment = load_experiment(source)
        show_progress = not args.no_progress and not args.json and sys.stderr.isatty() or bool(os.environ.get("ROUNDTRIP_PROGRESS"))
        report = run_experiment(experiment, out, workers=args.workers, scheduler=args.scheduler,
                                retry_failed=args.retry_failed, progress=show_progress)
    log = sys.stderr if args.json else sys.stdout
    if report.skipped and not report.ran and not report.interrupted:
        print(f"{out}: all {report.total} runs already on disk", file=log)
    else:
        where = f"Dask {args.scheduler}" if args.scheduler else f"{report.workers} local worker(s)"
        print(f"{label_a} vs {label_b}: ran {report.ran} runs ({report.ok} ok, {report.failed} failed) on {where} "
              f"in {report.wall_s:.1f} s; {report.skipped} already on disk", file=log)
    if report.interrupted:
        print(f"interrupted: {report.ran} finished runs are in {out}; run the same command again to resume", file=log)
        return 130
    result = compare_results(out)
    written = write_comparison(out, result, figures=not args.no_figures)
    if args.json:
        print(json.dumps(json_report(result), allow_nan=False))
        return 0
    print(markdown(result))
    for key, label in (("markdown", "table (Markdown)"), ("csv", "table (CSV)"), ("json", "statistics (JSON)"),
                       ("survival", "survival curves"), ("differences", "paired loss differences"),
                       ("distributions", "loss distributions")):
        if key in written:
            print(f"{label + ':':<25} {written[key]}")
    print(f"{'runs:':<25} {out}/runs/*.parquet (arm = point_id 0/1, pair = replication)")
    return 0
