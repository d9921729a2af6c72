"""The `roundtrip` command: one entry point, one module per subcommand.

Each module in `experiments/commands/` exposes `register(subparsers)`, which adds its
parser and sets `func` to a callable taking the parsed arguments and returning an exit code.
User errors (bad scenario, bad experiment file, foreign results folder) are raised as
`UserError` subclasses; they print as one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from experiments.lifeline import Terminated
from model.errors import UserError

SUBCOMMANDS = ("run", "sweep", "compare", "summarize", "analyze", "scenarios", "viz")


class _Parser(argparse.ArgumentParser):
    """argparse with a bad argument as one line and exit 2, like every other input error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="roundtrip",
        description="Circular financing in the AI compute economy: simulate, sweep, watch.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"experiments.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"experiments.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a bad argument already printed as one line
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"roundtrip {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("roundtrip: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"roundtrip {args.command}: {exc}; the same command resumes", file=sys.stderr)
        return exc.exit_status


if __name__ == "__main__":
    sys.exit(main())
