"""The source of every number in a scenario file: the comment written beside it.

Scenario files cite a source for each number in a trailing comment
(`annual_revenue = 215.9  # CALIBRATION: Nvidia revenue FY2026`). `tomllib` drops comments,
so this module reads the file line by line and maps each key's dotted path (the same paths
`model.scenario.parameter_info` produces: `vendors.Nvidia.annual_revenue`, `deals.3.fraction`)
to its comment. A deal's fields without a comment of their own take the deal's `note`, which
is where its terms come from.

Only the TOML this project writes is handled: `[table]` and `[[deals]]` / `[[shocks]]` headers,
one `key = value` per line, inline tables on one line. That is enough for the bundled
scenarios; anything else simply has no source.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=\s*(.*)$")


def _split_comment(rest: str) -> tuple[str, str]:
    """Split `value  # comment` at the first `#` outside a string."""
    quote = None
    i = 0
    while i < len(rest):
        ch = rest[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return rest[:i].rstrip(), rest[i + 1:].strip()
        i += 1
    return rest.rstrip(), ""


def read_sources(path: str | Path) -> dict[str, str]:
    """`{dotted.path: comment}` for every key of the file that has a trailing comment."""
    text = Path(path).read_text(encoding="utf-8")
    sources: dict[str, str] = {}
    notes: dict[str, str] = {}
    deal_keys: dict[str, list[str]] = {}
    prefix = ""
    counters: dict[str, int] = {}
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            brackets, name = header.group(1), header.group(2).strip()
            if brackets == "[[":
                counters[name] = counters.get(name, -1) + 1
                prefix = f"{name}.{counters[name]}."
            else:
                prefix = name + "."
            continue
        match = _KEY.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        key = match.group(1).strip('"')
        value, comment = _split_comment(match.group(2))
        path = prefix + key
        if comment:
            sources[path] = comment
        if re.match(r"^(deals|shocks)\.\d+\.$", prefix):
            deal_keys.setdefault(prefix, []).append(key)
            if key == "note":
                try:
                    notes[prefix] = tomllib.loads(f"v = {value}")["v"]
                except tomllib.TOMLDecodeError:
                    notes[prefix] = value.strip('"')
    for prefix, note in notes.items():
        for key in deal_keys.get(prefix, []):
            if key not in ("note", "type"):
                sources.setdefault(prefix + key, f"deal note: {note}")
    return sources


def flatten_toml(path: str | Path) -> dict[str, object]:
    """Every value written in the file, by dotted path (lists of tables indexed by position).

    Inline tables such as `vendor_mix` stay one value, as in `parameter_info`.
    """
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    flat: dict[str, object] = {}

    def walk(node: object, prefix: str, depth: int) -> None:
        if isinstance(node, dict) and (depth < 3 and not prefix.endswith(("vendor_mix.", "rules."))):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.", depth + 1)
        elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
            for i, value in enumerate(node):
                walk(value, f"{prefix}{i}.", depth + 1)
        else:
            flat[prefix[:-1]] = node

    walk(data, "", 0)
    return flat
