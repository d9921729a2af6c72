"""Other versions of the code, to measure against in the same benchmark run.

`checkout(rev)` extracts a commit's tree (git archive) into a temporary folder once per
process; the benchmarks then run their measuring code in a subprocess whose import path is
that tree, so the old and the new model are timed on the same machine, minutes apart.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# f1ebbeb: the model before economy v2 (the reference); c18e7a4: economy v2 as it
# landed, before the speed work
DEFAULT_REFERENCES = ("f1ebbeb", "c18e7a4")

_trees: dict[str, Path] = {}


def checkout(rev: str) -> Path:
    """The tree of commit `rev`, extracted into a temporary folder (removed at exit)."""
    if rev not in _trees:
        folder = Path(tempfile.mkdtemp(prefix=f"roundtrip-{rev}-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        _trees[rev] = folder
    return _trees[rev]


def run_in_tree(tree: Path, script: Path, args: list[str]) -> dict:
    """Run `script --tree TREE --json ARGS` with TREE first on the import path; its JSON answer."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, str(script), "--tree", str(tree), "--json", *args],
                          capture_output=True, text=True, env=env, cwd=tree)
    if done.returncode:
        raise SystemExit(f"{script.name} failed on {tree}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_tree(tree: str | None) -> None:
    """Make `tree` (or this repository) the code `model` and `agents` are imported from."""
    sys.path.insert(0, str(Path(tree).resolve() if tree else ROOT))


def measure_versions(parser, script: Path, measure, passed: tuple[str, ...] = ("runs", "steps")) -> tuple:
    """Parse the command line, then `measure(args)` on each reference commit (in its own process
    on its own tree) and on this tree; returns (args, {version: measurement}), this tree last.

    Adds `--against` (the commits, comma-separated) and the hidden `--tree`/`--json` by which a
    script measures one other tree for its parent. The options named in `passed` are handed on."""
    parser.add_argument("--against", default=",".join(DEFAULT_REFERENCES),
                        help="commits to measure beside this tree, comma-separated (\"\" for none)")
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import_tree(args.tree)
    if args.json:
        print(json.dumps(measure(args)))
        raise SystemExit(0)
    handed_on = [item for name in passed for item in (f"--{name}", str(getattr(args, name)))]
    versions = {rev: run_in_tree(checkout(rev), script, handed_on) for rev in filter(None, args.against.split(","))}
    versions["this tree"] = measure(args)
    return args, versions
