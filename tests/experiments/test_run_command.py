"""`roundtrip run`: the readable summary, the JSON object, the files it writes, and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.cli import main

JSON_KEYS = {"outcome", "time_to_collapse", "defaults", "vendor_revenue_drawdown", "vendor_equity_drawdown",
             "circularity_peak", "round_tripped_share_peak", "steps", "seed"}


def test_json_has_the_documented_fields_and_matches_the_files(tmp_path, capsys):
    assert main(["run", "--seed", "3", "--steps", "24", "--out", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert JSON_KEYS <= set(report)
    assert report["steps"] == 24 and report["seed"] == "3"
    assert report["outcome"] in {"collapse", "correction", "stable_growth"}
    for d in report["defaults"]:
        assert set(d) == {"agent", "step", "cause"}
    series = pd.read_parquet(report["files"]["series"])
    assert len(series) == 25  # step 0 and 24 months
    assert report["circularity_peak"] == pytest.approx(series["circularity"].max())
    assert (tmp_path / "overview.png").stat().st_size > 10_000


def test_same_seed_same_json_and_set_changes_it(tmp_path, capsys):
    args = ["run", "--steps", "24", "--out", str(tmp_path), "--json"]
    main(args)
    first = json.loads(capsys.readouterr().out)
    main(args)
    again = json.loads(capsys.readouterr().out)
    main(args + ["--set", "vendors.*.financing_share=0"])
    no_circularity = json.loads(capsys.readouterr().out)
    assert first == again
    assert no_circularity["circularity_peak"] < first["circularity_peak"]


def test_readable_summary_names_outcome_and_files(tmp_path, capsys):
    assert main(["run", "--steps", "12", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "baseline, seed 0, 12 months:" in out
    assert "circularity peak (Lucent 2000: 24 %)" in out
    assert str(tmp_path / "series.parquet") in out


@pytest.mark.parametrize("argv, expected", [
    (["run", "nosuch"], "nosuch: no such scenario file"),
    (["run", "--set", "end_market.anual_growth=0.2"], "did you mean 'annual_growth'"),
    (["run", "--set", "labs.OpenAI.compute_gw=-1"], "labs.OpenAI.compute_gw: expected input should be greater than or equal to 0"),
    (["run", "--set", "rules.lab.funding=nope"], "unknown rule 'nope'"),
    (["run", "--set", "end_market.annual_growth"], "expected dotted.key=value"),
    (["run", "--steps", "0"], "--steps"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, expected):
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("roundtrip run: error: "), err
    assert expected in err[0]
    assert not (tmp_path / "out").exists()


def test_unwritable_out_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "--steps", "6", "--out", str(blocker / "sub")]) == 2
    assert "cannot write results" in capsys.readouterr().err
