"""The documentation cannot drift silently from the code and the scenarios.

- docs/model.md names every registered decision rule (slot and name) and every scenario
  parameter, so a new rule or parameter fails here until it is described;
- every `CALIBRATION:` citation in a scenario file names a row of docs/calibration.md that
  exists;
- every relative link in README.md and docs/ resolves, and nothing points outside the
  repository.

Pure text checks: no model is run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

import agents.rules
from model.scenario import SCENARIO_DIR, Scenario

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MODEL_MD = DOCS / "model.md"
CALIBRATION_MD = DOCS / "calibration.md"
README = ROOT / "README.md"

# ----------------------------------------------------------------------------- docs/model.md

# The ODD protocol's sections (Grimm et al. 2020), in their order.
ODD_SECTIONS = (
    "Purpose and patterns",
    "Entities, state variables, and scales",
    "Process overview and scheduling",
    "Design concepts",
    "Initialization",
    "Input data",
    "Submodels",
)
DESIGN_CONCEPTS = ("Basic principles", "Emergence", "Adaptation", "Objectives", "Learning", "Prediction", "Sensing",
                   "Interaction", "Stochasticity", "Collectives", "Observation")


def _union_members(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is Union:
        return list(get_args(annotation))
    return [annotation]


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def scenario_parameters() -> list[str]:
    """Every parameter of a scenario, named as docs/model.md writes it.

    A section's field is `section.field` (`end_market.income`); a field of every agent of a
    kind is `kind.*.field` (`vendors.*.financing_share`); a deal's field is
    `deals[type].field` (`deals[take_or_pay].gw`); a shock's `shocks.*.field`; a top-level
    value its own name (`check_invariants`).
    """
    names: list[str] = []
    for name, field in Scenario.model_fields.items():
        annotation = field.annotation
        origin, args = get_origin(annotation), get_args(annotation)
        if _is_section(annotation):
            names += [f"{name}.{f}" for f in annotation.model_fields]
        elif origin is dict and _is_section(args[1]):
            names += [f"{name}.*.{f}" for f in args[1].model_fields]
        elif origin is list:
            members = _union_members(args[0])
            if len(members) > 1:  # a tagged union: one table per type
                for member in members:
                    tag = get_args(member.model_fields["type"].annotation)[0]
                    names += [f"{name}[{tag}].{f}" for f in member.model_fields if f != "type"]
            else:
                names += [f"{name}.*.{f}" for f in members[0].model_fields]
        else:
            names.append(name)
    return names


def registered_rules() -> list[tuple[str, str]]:
    return [(slot, name) for slot, names in agents.rules.slots().items() for name in names]


def undocumented(text: str, names: list[str]) -> list[str]:
    """The names that do not appear in `text` as inline code (`name`)."""
    return [n for n in names if f"`{n}`" not in text]


def rule_heading(slot: str, name: str) -> str:
    return f"`{slot}` / `{name}`"


@pytest.fixture(scope="module")
def model_md() -> str:
    return MODEL_MD.read_text(encoding="utf-8")


def test_model_md_has_the_odd_sections_in_order(model_md):
    headings = [h.strip() for h in re.findall(r"^## (.+)$", model_md, flags=re.M)]
    found = [next((h for h in headings if h.split(". ", 1)[-1].startswith(s)), None) for s in ODD_SECTIONS]
    missing = [s for s, h in zip(ODD_SECTIONS, found) if h is None]
    assert not missing, f"docs/model.md lacks the ODD sections {missing}"
    positions = [headings.index(h) for h in found]
    assert positions == sorted(positions), f"ODD sections out of order: {found}"
    concepts = re.findall(r"^### (.+)$", model_md.split("## " + found[3], 1)[1].split("\n## ", 1)[0], flags=re.M)
    missing = [c for c in DESIGN_CONCEPTS if not any(h.split(". ", 1)[-1].startswith(c) for h in concepts)]
    assert not missing, f"docs/model.md, Design concepts: no subsection for {missing}"


def test_every_registered_rule_is_described_in_model_md(model_md):
    missing = [rule_heading(s, n) for s, n in registered_rules() if rule_heading(s, n) not in model_md]
    assert not missing, (
        f"{len(missing)} registered rule(s) not described in docs/model.md (Submodels: a heading "
        f"'`slot` / `name`' with the rule's equation and parameters): {', '.join(missing)}"
    )


def test_every_scenario_parameter_is_named_in_model_md(model_md):
    missing = undocumented(model_md, scenario_parameters())
    assert not missing, (
        f"{len(missing)} scenario parameter(s) not named in docs/model.md (write each as inline code in "
        f"its section's parameter table): {', '.join(missing)}"
    )


def test_the_drift_checks_would_catch_a_new_rule_or_parameter(model_md):
    """The checks above read the live registry and schema; here, that they do fail on a name
    the text lacks, and that the names they expect have the documented shapes."""
    params = scenario_parameters()
    assert {"end_market.income", "vendors.*.financing_share", "deals[take_or_pay].gw", "shocks.*.kind",
            "check_invariants"} <= set(params)
    assert undocumented(model_md, ["end_market.no_such_parameter"]) == ["end_market.no_such_parameter"]
    assert rule_heading("lab.funding", "no_such_rule") not in model_md
    assert ("lab.funding", "runway") in registered_rules()


# ----------------------------------------------------------------------------- docs/calibration.md

ROW = re.compile(r"^\|\s*`([a-z0-9]+(?:-[a-z0-9]+)*)`\s*\|", re.M)
CITED = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)*)\]")
MARKER = re.compile(r"CALIBRATION:|ASSUMPTION|COUNTERFACTUAL")
KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=\s*(.*)$")


def calibration_rows() -> list[str]:
    return ROW.findall(CALIBRATION_MD.read_text(encoding="utf-8"))


def _split_comment(rest: str) -> tuple[str, str]:
    """`value  # comment` -> (value, comment), the `#` outside any string."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote and rest[i - 1] != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return rest[:i], rest[i + 1:]
    return rest, ""


def citations(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every trailing comment and deal note in a scenario file: where the
    file's numbers cite their sources (full-line comments are prose, not citations)."""
    found = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = KEY_LINE.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        value, comment = _split_comment(match.group(2))
        if match.group(1) == "note":
            found.append((n, value.strip().strip('"')))
        if comment:
            found.append((n, comment))
    return found


def uncited_calibrations(text: str, rows: set[str]) -> list[str]:
    """Problems with one comment: a `CALIBRATION:` clause naming no row, or a row that does not exist."""
    problems = []
    starts = [m.start() for m in re.finditer("CALIBRATION:", text)]
    for start in starts:
        nxt = MARKER.search(text, start + len("CALIBRATION:"))
        clause = text[start: nxt.start() if nxt else len(text)]
        if not CITED.search(clause):
            problems.append(f"names no row: {clause.strip()[:70]!r}")
    problems += [f"unknown row [{row}]" for row in CITED.findall(text) if row not in rows]
    return problems


def test_calibration_rows_are_unique_and_many():
    rows = calibration_rows()
    assert len(rows) >= 40, "docs/calibration.md: the table's rows are `name` in the first column"
    repeated = sorted({r for r in rows if rows.count(r) > 1})
    assert not repeated, f"docs/calibration.md: row names used twice: {repeated}"


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_every_calibration_comment_names_a_row_of_docs_calibration_md(path):
    rows = set(calibration_rows())
    problems = [f"{path.name}:{n}: {p}" for n, text in citations(path) for p in uncited_calibrations(text, rows)]
    assert not problems, (
        "scenario CALIBRATION comments must name a row of docs/calibration.md as `[row]`:\n" + "\n".join(problems)
    )


def test_the_citation_check_catches_a_missing_or_unknown_row():
    rows = {"nvidia-results"}
    assert uncited_calibrations("CALIBRATION: Nvidia revenue FY2026 [nvidia-results]", rows) == []
    assert uncited_calibrations("CALIBRATION: Nvidia revenue FY2026", rows)
    assert uncited_calibrations("CALIBRATION: Nvidia revenue FY2026 [nvidia-result]", rows)
    # each clause cites for itself: a row after the ASSUMPTION does not cover the calibration
    assert uncited_calibrations("CALIBRATION: Nvidia revenue; ASSUMPTION: half [nvidia-results]", rows)


# ----------------------------------------------------------------------------- links

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
OUTSIDE = re.compile(r"(?:^|[\s(`'\"])(\.\./[^\s)`'\"]*|shared/[A-Z]+\.md)")
MARKDOWN = sorted([README, *DOCS.rglob("*.md")])


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings."""
    slugs = set()
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", "")).replace(" ", "-")
        slugs.add(slug)
    return slugs


def broken_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    # code blocks hold commands and TOML, not links
    prose = re.sub(r"^    .*$", "", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S), flags=re.M)
    problems = []
    for target in LINK.findall(prose) + REFERENCE.findall(prose):
        if re.match(r"^[a-z][a-z0-9+.\-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if ROOT not in resolved.parents and resolved != ROOT:
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            problems.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    for reference in OUTSIDE.findall(text):  # in prose or code: the repository must stand alone
        resolved = (path.parent / reference).resolve()
        if ROOT not in resolved.parents or not (resolved.exists() or (ROOT / reference).exists()):
            problems.append(f"{reference}: refers to a file outside the repository")
    return problems


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(path):
    problems = broken_links(path)
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_the_link_check_catches_a_dead_link(tmp_path, monkeypatch):
    fake = tmp_path / "page.md"
    fake.write_text("[ok](#a)\n\n# A\n\n[dead](missing.md) and `../shared/DESIGN.md`\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    problems = broken_links(fake)
    assert any("missing.md" in p for p in problems) and any("../shared/DESIGN.md" in p for p in problems)
    assert not any(p.startswith("#a") for p in problems)
