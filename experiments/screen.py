"""A Morris screen over a scenario's own assumptions, built from the comments in its file.

Every number in a scenario file says where it comes from (`experiments/scenario_sources.py`).
A number is an *assumption* when its own comment, or the note of the deal it belongs to,
carries an `ASSUMPTION` tag, even beside a `CALIBRATION` row (`ceiling = 40.0  # CALIBRATION:
OpenAI target; ASSUMPTION: total about 480 B$/year`: the row anchors it, the assumption sets
it). A number whose comment cites CALIBRATION alone, a COUNTERFACTUAL, or no tag at all stays
fixed unless it is named with `vary`. Non-numeric values (names, flags, the `vendor_mix`
tables whose shares must sum to one) are never varied.

The range of each uncertain number is, in order of precedence:

1. a range written in its own comment: `range LOW..HIGH` (also `range LOW-HIGH` or
   `range LOW to HIGH`), e.g. `spot_share = 0.1  # ASSUMPTION: a tenth ... range 0.05..0.3`;
2. otherwise `value * (1 - r) .. value * (1 + r)` for the `--range r` of the screen (0.5 by
   default); a number whose value is 0 has no relative range and is held at 0 (listed as such
   in the experiment file: write a range beside it to vary it);

then clipped to the bounds the schema declares for the field (`ge`/`le`/`gt`/`lt` in
model/scenario.py) and narrowed, if the scenario rejects an end of the range with everything
else at its base value (a cross-field rule such as economic life <= physical life), until it
accepts it. Integer fields get integer ranges and `type = "int"`.

The result is an ordinary experiment file (Morris design, one column per uncertain number named
by its dotted path) that `roundtrip sweep` runs, resumes and copies into the results folder.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import ExperimentError, UserError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
RANGE_PATTERN = re.compile(rf"\brange\s*:?\s*({_NUMBER})\s*(?:\.\.|to|-)\s*({_NUMBER})")
_TAG = re.compile(r"\b(ASSUMPTION|CALIBRATION|COUNTERFACTUAL)\b")
DEFAULT_RANGE = 0.5
DEFAULT_TRAJECTORIES = 20
DEFAULT_ROOT_SEED = 20260114


def provenance(comment: str | None) -> str:
    """"assumption", "calibration", "counterfactual" or "other" for a number's comment."""
    tags = set(_TAG.findall(comment or ""))
    if "COUNTERFACTUAL" in tags:
        return "counterfactual"
    if "ASSUMPTION" in tags:
        return "assumption"
    if "CALIBRATION" in tags:
        return "calibration"
    return "other"


def written_range(comment: str | None) -> tuple[float, float] | None:
    """The `range LOW..HIGH` written in a number's own comment, if any."""
    match = RANGE_PATTERN.search(comment or "")
    if not match:
        return None
    low, high = float(match.group(1)), float(match.group(2))
    return (low, high) if high > low else None


@dataclass
class Uncertainty:
    path: str
    value: float
    kind: str  # provenance of the number
    is_int: bool
    low: float | None = None
    high: float | None = None
    origin: str = ""  # "relative", "written", "named"
    notes: list[str] = field(default_factory=list)

    @property
    def varied(self) -> bool:
        return self.low is not None and self.high is not None and self.high > self.low


@dataclass
class Screen:
    scenario_ref: str
    scenario_path: Path
    relative_range: float
    uncertainties: list[Uncertainty]

    @property
    def varied(self) -> list[Uncertainty]:
        return [u for u in self.uncertainties if u.varied]

    @property
    def held(self) -> list[Uncertainty]:
        return [u for u in self.uncertainties if not u.varied]


# ---------------------------------------------------------------------------- schema


def _field_of(scenario: Any, path: str) -> Any:
    """The pydantic FieldInfo of a concrete dotted path (`labs.OpenAI.cash`, `deals.3.gw`)."""
    node = scenario
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part] if isinstance(node, dict) else getattr(node, part)
    return type(node).model_fields[parts[-1]]


def schema_bounds(field_info: Any) -> tuple[float, float, bool, bool]:
    """(low, high, low_strict, high_strict) from a field's ge/gt/le/lt constraints."""
    low, high, low_strict, high_strict = -math.inf, math.inf, False, False
    for c in field_info.metadata:
        if getattr(c, "ge", None) is not None:
            low, low_strict = float(c.ge), False
        if getattr(c, "gt", None) is not None:
            low, low_strict = float(c.gt), True
        if getattr(c, "le", None) is not None:
            high, high_strict = float(c.le), False
        if getattr(c, "lt", None) is not None:
            high, high_strict = float(c.lt), True
    return low, high, low_strict, high_strict


def _clip(u: Uncertainty, bounds: tuple[float, float, bool, bool]) -> None:
    lo_b, hi_b, lo_strict, hi_strict = bounds
    low, high = u.low, u.high
    if u.is_int:
        lo_b = lo_b + 1 if lo_strict else lo_b
        hi_b = hi_b - 1 if hi_strict else hi_b
        low, high = math.ceil(low - 1e-9), math.floor(high + 1e-9)
    else:
        span = high - low
        if lo_strict:
            lo_b = lo_b + 1e-6 * max(span, 1e-9)
        if hi_strict:
            hi_b = hi_b - 1e-6 * max(span, 1e-9)
    if low < lo_b or high > hi_b:
        u.notes.append(f"clipped to the schema's bounds [{_fmt(lo_b)}, {_fmt(hi_b)}]")
    u.low, u.high = max(low, lo_b), min(high, hi_b)


def _narrow_to_valid(u: Uncertainty, base: Any) -> None:
    """Pull an end of the range toward the base value until the scenario accepts it alone."""
    for end in ("low", "high"):
        bound = getattr(u, end)
        for _ in range(30):
            try:
                base.with_overrides({u.path: int(bound) if u.is_int else float(bound)}, source="screen")
                break
            except UserError as exc:
                reason = str(exc).split(": ", 1)[-1]
                bound = (bound + u.value) / 2
                if u.is_int:
                    bound = math.floor(bound) if end == "high" else math.ceil(bound)
        else:
            bound = u.value
        if bound != getattr(u, end):
            u.notes.append(f"{end} end narrowed to {_fmt(bound)}: the scenario rejects {_fmt(getattr(u, end))} ({reason})")
            setattr(u, end, bound)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


# ---------------------------------------------------------------------------- building


def find_uncertainties(scenario_ref: str, relative_range: float = DEFAULT_RANGE,
                       vary: list[str] = (), fix: list[str] = ()) -> Screen:
    """Every numeric ASSUMPTION of the scenario (plus `vary`, minus `fix`) with its range."""
    from experiments.scenario_sources import flatten_toml, read_sources
    from model.scenario import load_scenario, resolve_scenario_path

    if not 0 < relative_range < 10:
        raise ExperimentError(f"--range {relative_range}: expected a relative half-width between 0 and 10 (0.5 = value x 0.5..1.5)")
    path = resolve_scenario_path(scenario_ref)
    base = load_scenario(path)
    sources = read_sources(path)
    written = flatten_toml(path)
    unknown = [p for p in [*vary, *fix] if p not in written]
    if unknown:
        raise ExperimentError(f"{path}: --vary/--fix {unknown[0]}: not a number written in the scenario file; "
                              f"expected a dotted path such as {next(iter(written))}")
    out: list[Uncertainty] = []
    for key, value in written.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        comment = sources.get(key, "")
        kind = provenance(comment)
        if key in fix or (kind != "assumption" and key not in vary):
            continue
        try:
            info = _field_of(base, key)
        except (KeyError, IndexError, AttributeError, TypeError):
            continue  # e.g. a share inside vendor_mix: compositions are not varied one share at a time
        is_int = info.annotation is int
        u = Uncertainty(key, float(value), kind, is_int, origin="named" if key in vary else "relative")
        own = None if comment.startswith("deal note:") else written_range(comment)
        if own is not None:
            u.low, u.high, u.origin = own[0], own[1], "written"
        elif value == 0:
            u.notes.append("value 0 has no relative range: held at 0 (write `range LOW..HIGH` beside it to vary it)")
            out.append(u)
            continue
        else:
            a, b = value * (1 - relative_range), value * (1 + relative_range)
            u.low, u.high = min(a, b), max(a, b)
        _clip(u, schema_bounds(info))
        if u.high > u.low:
            _narrow_to_valid(u, base)
        if not u.high > u.low:
            u.notes.append("range empty after clipping: held at its value")
            u.low = u.high = None
        out.append(u)
    return Screen(scenario_ref, path, relative_range, out)


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _toml_num(v: float, is_int: bool) -> str:
    return str(int(v)) if is_int else repr(float(f"{v:.12g}"))  # 0.225, not 0.22499999999999998


def experiment_toml(screen: Screen, name: str | None = None, trajectories: int = DEFAULT_TRAJECTORIES,
                    replications: int = 1, root_seed: int = DEFAULT_ROOT_SEED, simulator: str | None = None) -> str:
    """The Morris experiment over the screen's uncertainties, as the text of an experiment file."""
    from model.scenario import SCENARIO_DIR

    if not screen.varied:
        raise ExperimentError(f"{screen.scenario_path}: no numeric ASSUMPTION with a range to screen")
    bundled = screen.scenario_path.resolve().parent == SCENARIO_DIR.resolve()
    scenario = screen.scenario_path.stem if bundled else str(screen.scenario_path.resolve())
    name = name or f"screen_{screen.scenario_path.stem}"
    lines = [
        f"# Morris screen of every numeric ASSUMPTION in {screen.scenario_path.name}, written by",
        f"# `roundtrip sweep --screen {screen.scenario_ref} --range {screen.relative_range}`.",
        f"# {len(screen.varied)} parameters varied; ranges: value x (1 -/+ {screen.relative_range}) unless written",
        "# beside the number in the scenario file, clipped to the schema's bounds.",
    ]
    for u in screen.held:
        lines.append(f"# held at {_fmt(u.value)}: {u.path} ({'; '.join(u.notes)})")
    lines += [
        "",
        "[experiment]",
        f"name = {_toml_str(name)}",
        f"description = {_toml_str(f'Morris screen of the assumptions of {screen.scenario_path.stem}')}",
        f"scenario = {_toml_str(scenario)}",
        f"replications = {replications}",
        f"root_seed = {root_seed}",
        "# common random numbers: every point of a trajectory runs on the same seeds (replication k on",
        "# seed k), so an elementary effect is the parameter's effect, not a different demand path",
        "paired_seeds = true",
        "check_invariants = false",
    ]
    if simulator:
        lines.append(f"simulator = {_toml_str(simulator)}")
    lines += ["", "[design]", 'method = "morris"', f"samples = {trajectories}                    # trajectories", "",
              "[keep]", 'series = "none"', ""]
    for u in screen.varied:
        lines += [
            "[[parameters]]",
            f"path = {_toml_str(u.path)}",
            f"name = {_toml_str(u.path)}",
            f"low = {_toml_num(u.low, u.is_int)}",
            f"high = {_toml_num(u.high, u.is_int)}",
            f"# base {_fmt(u.value)}; {u.kind}; range {u.origin}" + (f"; {'; '.join(u.notes)}" if u.notes else ""),
        ]
        if u.is_int:
            lines.append('type = "int"')
        lines.append("")
    return "\n".join(lines)
