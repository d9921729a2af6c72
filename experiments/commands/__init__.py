"""The `roundtrip` subcommands, one module each; the options every batch command shares."""

from __future__ import annotations

import argparse

from model.errors import UserError


def add_batch_options(p: argparse.ArgumentParser) -> None:
    """Where and how a batch runs: `sweep` and `compare` take the same options."""
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: number of CPUs; 1 = in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run on a Dask cluster: tcp://HOST:PORT of a running scheduler, or 'local' for a LocalCluster")
    p.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def check_workers(args: argparse.Namespace) -> None:
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: expected a positive number of worker processes")
