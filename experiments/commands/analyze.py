"""`roundtrip analyze DIR`: which inputs decide the outcome, and a report a person opens.

Morris or Sobol indices (by the folder's design) of P(collapse) and the severity measures the
runs carry, PRIM boxes and feature scores for collapse (any design), written as CSV files,
PNG figures and one self-contained `DIR/report.html` (experiments/sensitivity.py,
experiments/html_report.py).
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze", help="sensitivity indices, scenario discovery and report.html for a results folder",
        description="Morris/Sobol indices with bootstrap intervals, PRIM boxes and feature scores for collapse, "
                    "and DIR/report.html (figures embedded; PNGs in DIR/figures/).",
    )
    p.add_argument("directory", help="a results folder written by `roundtrip sweep`")
    p.add_argument("--measure", action="append", default=[], metavar="COLUMN",
                   help="also analyse this numeric summary column (repeatable)")
    p.add_argument("--min-coverage", type=float, default=0.5, metavar="C",
                   help="PRIM: pick the densest box with at least this coverage of the collapses (default 0.5)")
    p.add_argument("--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples for the intervals (default 1000)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="parameters listed per measure (default 10)")
    p.add_argument("--no-report", action="store_true", help="print and write the tables only (no figures, no report.html)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from experiments.sensitivity import analyze, format_summary, write_tables
    from model.errors import ExperimentError

    if not 0 < args.min_coverage <= 1:
        raise ExperimentError(f"--min-coverage {args.min_coverage}: expected a share of the collapses in (0, 1]")
    if args.resamples < 2:
        raise ExperimentError(f"--resamples {args.resamples}: expected at least 2")
    result = analyze(args.directory, extra_measures=args.measure, min_coverage=args.min_coverage, resamples=args.resamples)
    print(format_summary(result, top=args.top))
    written = write_tables(result)
    if not args.no_report:
        from experiments.html_report import write_html_report

        written["report"] = write_html_report(result, top=args.top)
    for key, path in written.items():
        print(f"{key + ':':<16} {path}")
    return 0
