"""`roundtrip scenarios [show NAME [--json]]`: the bundled scenarios and their parameters.

`roundtrip scenarios` lists the files in `experiments/scenarios/`, one line each (name and
`meta.description`). `roundtrip scenarios show NAME` prints every resolved parameter
(`model.scenario.parameter_info`) with its value, unit and source: the comment written beside
it in the file (`# CALIBRATION: ...` / `# ASSUMPTION: ...`), the deal's note for a deal's
terms, `default (model/scenario.py)` for a parameter the file leaves to the schema, `--set` for an override.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scenarios", help="list the bundled scenarios, or show one's parameters with units and sources",
        description="Without arguments: one line per bundled scenario. "
                    "`show NAME` prints every resolved parameter with its unit and source.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    lst = sub.add_parser("list", help="one line per bundled scenario (the default)")
    lst.set_defaults(func=list_main)
    show = sub.add_parser("show", help="every resolved parameter of a scenario, with unit and source")
    show.add_argument("name", help="a bundled scenario's name or a path to a .toml file")
    show.add_argument("--json", action="store_true", help="print a JSON list of {path, value, unit, source, doc}")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override a parameter (dotted path, `*` for every entry), as in `roundtrip run`")
    show.set_defaults(func=show_main)
    p.set_defaults(func=list_main)


def list_main(args: argparse.Namespace) -> int:
    from model.scenario import SCENARIO_DIR

    paths = sorted(SCENARIO_DIR.glob("*.toml"))
    width = max((len(p.stem) for p in paths), default=0)
    for path in paths:
        try:
            description = tomllib.loads(path.read_text(encoding="utf-8")).get("meta", {}).get("description", "")
        except tomllib.TOMLDecodeError as exc:
            description = f"(malformed TOML: {exc})"
        print(f"{path.stem:<{width}}  {description}")
    return 0


def scenario_rows(name: str, overrides: list[str] | None = None) -> list[dict[str, Any]]:
    """The rows `show` prints: path, value, unit, source, doc."""
    from experiments.scenario_sources import flatten_toml, read_sources
    from model.scenario import load_scenario, parameter_info, parse_assignment, resolve_scenario_path

    path = resolve_scenario_path(name)
    pairs = dict(parse_assignment(text) for text in overrides or [])
    scenario = load_scenario(path, pairs)
    sources = read_sources(path)
    written = flatten_toml(path)
    overridden = _overridden_paths(scenario, pairs)
    rows = []
    for row in parameter_info(scenario):
        if row["path"] in overridden:
            source = "--set"
        elif row["path"] in sources:
            source = sources[row["path"]]
        elif row["path"] in written:
            source = "(in the file, no comment)"
        else:
            source = "default (model/scenario.py)"
        rows.append({"path": row["path"], "value": row["value"], "unit": row["unit"], "source": source, "doc": row["doc"]})
    return rows


def _overridden_paths(scenario: Any, pairs: dict[str, Any]) -> set[str]:
    """Concrete dotted paths hit by `--set` patterns (a `*` matches one segment)."""
    if not pairs:
        return set()
    from model.scenario import parameter_info

    paths = [r["path"] for r in parameter_info(scenario)]
    hit = set()
    for pattern in pairs:
        parts = pattern.split(".")
        for path in paths:
            segs = path.split(".")
            if len(segs) == len(parts) and all(p in ("*", s) for p, s in zip(parts, segs)):
                hit.add(path)
    return hit


def format_value(value: Any) -> str:
    """A value as it is written in TOML (`true`, `0.711`, `{ Nvidia = 0.85 }`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {format_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def show_main(args: argparse.Namespace) -> int:
    rows = scenario_rows(args.name, args.overrides)
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    pw = max(len(r["path"]) for r in rows)
    vals = [format_value(r["value"]) for r in rows]
    vw = min(24, max(len(v) for v in vals))
    uw = max(len(r["unit"]) for r in rows)
    for row, value in zip(rows, vals):
        print(f"{row['path']:<{pw}}  {value:<{vw}}  {row['unit']:<{uw}}  {row['source']}".rstrip())
    return 0
