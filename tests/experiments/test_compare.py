"""`roundtrip compare`: paired seeds, the two-arm experiment, its statistics and its command.

Most tests run the stand-in `fake_compare_model.simulate` (planted effects, microseconds per
run); one smoke test runs the real model, 4 seeds x 24 months, against itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.compare import paired_difference, scenario_patch, tail_stats
from experiments.design import load_experiment
from experiments.runner import rerun, run_experiment
from experiments.storage import load_results
from model.errors import ExperimentError

FAKE = "fake_compare_model:simulate"
JSON_KEYS = {"a", "b", "seeds", "measures", "p_collapse", "first_default"}
MEASURE_KEYS = {"a_mean", "b_mean", "diff", "ci_low", "ci_high"}


def _no_nan(text: str) -> dict:
    def refuse(constant):
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def compare_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["compare", *args, "--json", "--workers", "1", "--no-progress"]) == 0
    return _no_nan(capsys.readouterr().out)


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "scen.toml"
    path.write_text('[meta]\nname = "tiny"\nsteps = 24\n\n[vendors.Vendor]\nfinancing_share = 0.0\n')
    return path


# ----------------------------------------------------------------------------- paired seeds and list designs


EXPERIMENT = """
[experiment]
name = "paired"
scenario = "scen.toml"
replications = 3
root_seed = 5
paired_seeds = {paired}
simulator = "fake_compare_model:simulate"
[design]
method = "{method}"
[[parameters]]
path = "vendors.*.financing_share"
name = "circularity"
values = [0.0, 0.4]
[[parameters]]
path = "end_market.annual_growth"
name = "growth"
values = [0.1, 0.2]
[keep]
series = "none"
"""


def _experiment(folder: Path, scenario: Path, paired: bool, method: str = "list") -> Path:
    path = folder / f"exp-{paired}-{method}.toml"
    path.write_text(EXPERIMENT.format(paired=str(paired).lower(), method=method))
    return path


def test_paired_seeds_give_replication_r_of_every_point_the_same_seed(tmp_path, scenario):
    exp = load_experiment(_experiment(tmp_path, scenario, paired=True))
    run_experiment(exp, tmp_path / "out", workers=1, progress=False)
    runs = load_results(tmp_path / "out")
    assert (runs["seed_spawn_key"] == runs["replication"]).all()
    by_point = runs.pivot(index="replication", columns="point_id", values="capital_lost_at_cost")
    # same seed, so the same noise: the arms differ by exactly the planted 50 * 0.4
    assert np.allclose(by_point[1] - by_point[0], 20.0)
    assert exp.seed(4).spawn_key == (1,)  # run 4 = point 1, replication 1
    spec = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert spec["design"]["paired_seeds"] is True and "replication" in spec["seeds"]["per_run"]


def test_without_paired_seeds_every_run_keeps_its_own_seed(tmp_path, scenario):
    exp = load_experiment(_experiment(tmp_path, scenario, paired=False))
    run_experiment(exp, tmp_path / "out", workers=1, progress=False)
    runs = load_results(tmp_path / "out")
    assert (runs["seed_spawn_key"] == runs["run_id"]).all()
    assert exp.seed(4).spawn_key == (4,)


def test_a_list_design_takes_the_ith_value_of_every_parameter(tmp_path, scenario):
    exp = load_experiment(_experiment(tmp_path, scenario, paired=True))
    assert exp.n_points == 2  # a grid of the same parameters would have 4
    assert exp.overrides(1) == {"vendors.*.financing_share": 0.4, "end_market.annual_growth": 0.2}
    assert load_experiment(_experiment(tmp_path, scenario, paired=True, method="grid")).n_points == 4


def test_a_list_design_needs_values_of_one_length(tmp_path, scenario):
    path = _experiment(tmp_path, scenario, paired=True)
    path.write_text(path.read_text().replace("values = [0.1, 0.2]", "values = [0.1, 0.2, 0.3]"))
    with pytest.raises(ExperimentError, match="same length"):
        load_experiment(path)


# ----------------------------------------------------------------------------- statistics


def test_scenario_patch_is_the_sections_that_differ():
    a = {"meta": {"name": "a"}, "deals": [1], "gpus": {"life": 4}}
    b = {"meta": {"name": "b"}, "deals": [], "gpus": {"life": 4}}
    assert scenario_patch(a, b) == {"meta": {"name": "b"}, "deals": []}
    assert scenario_patch(a, a) == {}


def test_tail_statistics():
    p90, es10 = tail_stats(np.arange(1.0, 11.0))
    assert p90 == pytest.approx(9.1) and es10 == 10.0  # the worst tenth of ten runs is one run
    p90, es10 = tail_stats(np.arange(1.0, 21.0))
    assert es10 == pytest.approx(19.5)  # the worst two of twenty
    assert tail_stats(np.array([np.nan])) == (None, None)


def test_paired_difference_interval_is_the_t_interval_of_the_differences():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a + np.array([1.0, 2.0, 0.0, 1.0])
    out = paired_difference(a, b)
    half = 3.182446305284263 * np.std([1.0, 2.0, 0.0, 1.0], ddof=1) / 2  # t(0.975, 3) * s / sqrt(4)
    assert out["diff"] == 1.0 and out["ci_low"] == pytest.approx(1 - half) and out["ci_high"] == pytest.approx(1 + half)
    # pairs where either value is undefined (no default in a run) are left out
    out = paired_difference(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, np.nan]))
    assert out["n_pairs"] == 1 and out["diff"] == 1.0


# ----------------------------------------------------------------------------- the command


def test_a_scenario_against_itself_differs_by_exactly_zero_real_model(tmp_path, capsys):
    out = compare_json(capsys, "baseline", "baseline", "--seeds", "4", "--steps", "24", "--out", str(tmp_path / "self"))
    assert set(out) == JSON_KEYS and out["seeds"] == 4
    assert out["measures"], "no measure reported"
    for name, m in out["measures"].items():
        assert set(m) == MEASURE_KEYS, name
        if m["diff"] is not None:
            assert m["diff"] == 0.0 and m["ci_low"] == 0.0 and m["ci_high"] == 0.0, (name, m)
            assert m["a_mean"] == m["b_mean"], name
    assert out["p_collapse"]["mcnemar_p"] == 1.0 and out["p_collapse"]["a"] == out["p_collapse"]["b"]
    assert out["first_default"]["a_median"] == out["first_default"]["b_median"]
    assert out["first_default"]["logrank_p"] in (None, 1.0)
    written = tmp_path / "self"
    assert (written / "comparison.md").is_file() and (written / "comparison.csv").is_file()
    assert (written / "figures" / "first_default_survival.png").is_file()


def test_a_planted_difference_is_detected(scenario, tmp_path, capsys):
    out = compare_json(capsys, str(scenario), "--set", "vendors.*.financing_share=0.8", "--seeds", "60",
                       "--simulator", FAKE, "--out", str(tmp_path / "planted"))
    lost = out["measures"]["capital_lost_at_cost"]
    assert lost["diff"] == pytest.approx(40.0)  # same seed, same noise: exactly the planted 50 * 0.8
    assert lost["ci_low"] == pytest.approx(40.0) and lost["ci_high"] == pytest.approx(40.0)
    credit = out["measures"]["credit_losses"]
    assert credit["diff"] == 0.0  # nothing planted, nothing found
    pc = out["p_collapse"]
    assert pc["b"] > pc["a"] and pc["mcnemar_p"] < 0.01  # 0.1 vs 0.58 collapse probability
    fd = out["first_default"]
    assert fd["b_median"] < fd["a_median"] and fd["logrank_p"] < 0.05  # defaults come 40 % sooner
    assert out["b"].endswith("--set vendors.*.financing_share=0.8")


def test_the_readable_output_says_where_everything_is(scenario, tmp_path, capsys):
    out_dir = tmp_path / "readable"
    assert main(["compare", str(scenario), "--set", "vendors.*.financing_share=0.8", "--seeds", "5", "--workers", "1",
                 "--simulator", FAKE, "--out", str(out_dir), "--no-progress"]) == 0
    text = capsys.readouterr().out
    for name in ("comparison.md", "comparison.csv", "comparison.json", "first_default_survival.png",
                 "paired_loss_differences.png", "loss_distributions.png"):
        assert name in text
        assert list(out_dir.rglob(name)), name
    assert "McNemar" in text and "log-rank" in text
    table = pd.read_csv(out_dir / "comparison.csv")
    assert {"measure", "diff", "ci_low", "ci_high", "a_p90", "b_es10"} <= set(table.columns)


def test_compare_resumes_and_refuses_another_comparison_in_the_same_folder(scenario, tmp_path, capsys):
    args = [str(scenario), "--set", "vendors.*.financing_share=0.4", "--seeds", "6", "--simulator", FAKE,
            "--out", str(tmp_path / "resume"), "--no-figures"]
    first = compare_json(capsys, *args)
    second = compare_json(capsys, *args)
    assert first == second
    capsys.readouterr()
    assert main(["compare", *args, "--json", "--workers", "1"]) == 0
    assert "already on disk" in capsys.readouterr().err
    # half done: drop a part file, the next call runs only what is missing
    parts = sorted((tmp_path / "resume" / "runs").glob("part-*.parquet"))
    parts[-1].unlink()
    assert compare_json(capsys, *args) == first
    other = [a if a != "vendors.*.financing_share=0.4" else "vendors.*.financing_share=0.6" for a in args]
    assert main(["compare", *other, "--json", "--workers", "1"]) == 2
    assert "results of another experiment" in capsys.readouterr().err


def test_any_run_of_a_comparison_can_be_rerun_alone_from_its_folder(scenario, tmp_path, capsys):
    out_dir = tmp_path / "rerun"
    compare_json(capsys, str(scenario), "--set", "vendors.*.financing_share=0.8", "--seeds", "3", "--simulator", FAKE,
                 "--out", str(out_dir))
    runs = load_results(out_dir).set_index("run_id")
    again = rerun(out_dir, 4)  # arm B, replication 1
    assert again.summary["capital_lost_at_cost"] == runs.loc[4, "capital_lost_at_cost"]
    assert json.loads(runs.loc[4, "arm"])["name"].endswith("financing_share=0.8") and runs.loc[4, "seed_spawn_key"] == 1


def test_failed_runs_are_recorded_and_leave_the_statistics_undefined(scenario, tmp_path, capsys):
    out = compare_json(capsys, str(scenario), "--set", "meta.description=\"fail\"", "--seeds", "3", "--simulator", FAKE,
                       "--out", str(tmp_path / "failing"))
    assert all(v is None for m in out["measures"].values() for v in m.values())
    assert out["p_collapse"] == {"a": None, "b": None, "mcnemar_p": None}
    runs = load_results(tmp_path / "failing")
    assert (runs.loc[runs["point_id"] == 1, "status"] == "failed").all()
    assert runs.loc[runs["point_id"] == 1, "error"].str.contains("asked to fail").all()


def test_bad_input_is_one_line_and_status_2(capsys, tmp_path):
    assert main(["compare", "baseline", "--seeds", "0", "--out", str(tmp_path / "x")]) == 2
    assert main(["compare", "baseline", "--set", "vendors.*.no_such_key=1", "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no_such_key" in err[1]


# ----------------------------------------------------------------------------- the horizon


def test_bundled_experiments_and_compare_run_180_months_and_run_keeps_the_scenarios():
    from experiments.commands.compare import DEFAULT_STEPS
    from experiments.design import DEFAULT_EXPERIMENT

    assert DEFAULT_STEPS == 180
    for path in DEFAULT_EXPERIMENT.parent.glob("*.toml"):
        assert load_experiment(path, check_points=False).base_scenario.meta.steps == 180, path
    from experiments.cli import build_parser

    assert build_parser().parse_args(["run"]).steps is None  # `run` keeps the scenario's own horizon


def test_an_experiment_states_its_horizon_once(tmp_path, scenario):
    path = _experiment(tmp_path, scenario, paired=False)
    path.write_text(path.read_text().replace("replications = 3", "replications = 3\nsteps = 36"))
    assert load_experiment(path).base_scenario.meta.steps == 36
    path.write_text(path.read_text().replace("[design]", '[experiment.fixed]\n"meta.steps" = 12\n[design]'))
    with pytest.raises(ExperimentError, match="both set the horizon"):
        load_experiment(path)
