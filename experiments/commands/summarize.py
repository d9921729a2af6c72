"""`roundtrip summarize DIR`: the per-point outcome table of a results folder."""

from __future__ import annotations

import argparse

from model.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("summarize", help="print the per-point outcome table of a results folder",
                              description="P(collapse) with a Wilson 95 % interval, median time to collapse and drawdowns per point, "
                                          "and beside them how bad the runs were: share with a default, median first-default "
                                          "month, median capital lost at cost (or write-offs), exposure at risk at the end.")
    p.add_argument("directory", help="a results folder written by `roundtrip sweep`")
    p.add_argument("--csv", default=None, help="also write the table to this CSV file")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from experiments.analysis import failure_summary, format_table, point_table, sobol_indices
    from experiments.storage import load_manifest

    manifest = load_manifest(args.directory)
    runs = manifest.get("runs", {})
    exp = manifest["experiment"]
    print(f"{exp['name']} ({manifest['design']['method']}, {manifest['design']['n_points']} points x "
          f"{manifest['design']['replications']} seeds; code {manifest.get('code_version', '?')})")
    print(f"runs: {runs.get('ok', 0)} ok, {runs.get('failed', 0)} failed, {runs.get('pending', 0)} pending of {runs.get('total', '?')}")
    table = point_table(args.directory)
    print(format_table(table))
    indices = sobol_indices(args.directory)
    if indices is not None:
        print("\nSobol indices of P(collapse):")
        print(indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for message, count in failure_summary(args.directory):
        print(f"failed: {count} x {message}")
    if args.csv:
        try:
            table.to_csv(args.csv, index=False)
        except OSError as exc:
            raise UserError(f"--csv {args.csv}: cannot write ({exc.strerror or exc}); expected a writable file path") from None
        print(f"table written to {args.csv}")
    return 0
