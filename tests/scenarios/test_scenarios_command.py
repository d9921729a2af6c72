"""`roundtrip scenarios` and `roundtrip scenarios show`: the printed values are the file's."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.commands.scenarios import format_value
from experiments.scenario_sources import flatten_toml, read_sources
from model.scenario import SCENARIO_DIR

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def test_list_prints_one_line_per_scenario_with_its_description(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(BUNDLED)
    for name, line in zip(BUNDLED, lines):
        description = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text())["meta"]["description"]
        assert line.split()[0] == name and line.endswith(description)


@pytest.mark.parametrize("name", BUNDLED)
def test_show_json_agrees_with_the_file(capsys, name):
    assert main(["scenarios", "show", name, "--json"]) == 0
    rows = {r["path"]: r for r in json.loads(capsys.readouterr().out)}
    path = SCENARIO_DIR / f"{name}.toml"
    sources = read_sources(path)
    for key, value in flatten_toml(path).items():
        assert key in rows, f"{key} is in {name}.toml but not shown"
        assert rows[key]["value"] == value, (key, rows[key]["value"], value)
        if key in sources:
            assert rows[key]["source"] == sources[key]
    assert all({"path", "value", "unit", "source", "doc"} <= set(r) for r in rows.values())
    assert rows["meta.steps"]["unit"] == "months"


@pytest.mark.parametrize("name", ["deals-2026", "lucent-2000"])
def test_show_text_prints_each_value_unit_and_source(capsys, name):
    assert main(["scenarios", "show", name]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    path = SCENARIO_DIR / f"{name}.toml"
    sources = read_sources(path)
    for key, value in flatten_toml(path).items():
        line = lines[key]
        assert line.split(None, 1)[1].startswith(format_value(value)), (key, line)
        if key in sources:
            assert line.endswith(sources[key])
    assert "B$/year" in lines["vendors.Lucent.annual_revenue" if name == "lucent-2000" else "vendors.Nvidia.annual_revenue"]


def test_show_marks_defaults_and_overrides(capsys):
    assert main(["scenarios", "show", "baseline", "--json", "--set", "vendors.*.financing_share=0"]) == 0
    rows = {r["path"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["vendors.AMD.financing_share"] == {**rows["vendors.AMD.financing_share"], "value": 0, "source": "--set"}
    assert rows["check_invariants"]["source"].startswith("default")


@pytest.mark.parametrize("argv,needle", [
    (["scenarios", "show", "no-such-scenario"], "no such scenario file"),
    (["scenarios", "show", "baseline", "--set", "vendors.Nvidia.financing_shares=0"], "unknown key 'financing_shares'"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("roundtrip scenarios: error: ") and needle in err[0]


def test_console_script_exits_2_on_a_self_contradicting_file(tmp_path):
    text = (SCENARIO_DIR / "baseline.toml").read_text().replace('borrower = "CoreWeave"', 'borrower = "Nebius"')
    path = tmp_path / "contradiction.toml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "scenarios", "show", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and "borrower: 'Nebius' is not an agent" in lines[0]
