"""The per-point table and figures of a sweep: P(collapse) beside how bad the runs were."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import censored_median, fan_class, point_table, severity_grids, write_report
from experiments.design import load_experiment
from experiments.runner import run_experiment

EXPERIMENT = """
[experiment]
name = "severity"
scenario = "scen.toml"
replications = 4
root_seed = 3
simulator = "{simulator}"
[design]
method = "grid"
[[parameters]]
path = "vendors.*.financing_share"
name = "circularity"
values = [0.0, 0.8]
[[parameters]]
path = "end_market.annual_growth"
name = "growth"
values = [0.1, 0.3]
[keep]
series = "none"
"""


def sweep(folder: Path, simulator: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scen.toml").write_text('[meta]\nname = "tiny"\nsteps = 24\n')
    path = folder / "exp.toml"
    path.write_text(EXPERIMENT.format(simulator=simulator))
    out = folder / "out"
    run_experiment(load_experiment(path), out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def with_severity(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("sev"), "fake_compare_model:simulate")


@pytest.fixture(scope="module")
def without_severity(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("plain"), "fake_model:simulate")


def test_the_median_first_default_counts_runs_without_one_as_later_than_the_horizon():
    assert censored_median(pd.Series([5.0, 7.0, 9.0, np.nan, np.nan])) == 9.0
    assert math.isnan(censored_median(pd.Series([5.0, 7.0, np.nan, np.nan, np.nan])))  # under half default
    assert censored_median(pd.Series([4.0, 8.0])) == 4.0  # as Kaplan-Meier: survival is 1/2 from month 4
    assert math.isnan(censored_median(pd.Series([], dtype=float)))


def test_points_carry_severity_beside_p_collapse(with_severity):
    table = point_table(with_severity)
    for col in ("p_collapse", "ci_low", "ci_high", "p_default", "median_first_default", "median_capital_lost_at_cost"):
        assert col in table, col
    by_share = table.groupby("circularity")["median_capital_lost_at_cost"].mean()
    assert by_share[0.8] - by_share[0.0] == pytest.approx(40.0, abs=15)  # the fake's planted 50 * 0.8, plus noise
    csv = pd.read_csv(write_report(with_severity, figures=False)["points"])
    assert "median_first_default" in csv and "median_capital_lost_at_cost" in csv


def test_results_without_severity_columns_still_give_a_table_and_figures(without_severity):
    table = point_table(without_severity)
    assert "p_collapse" in table and "median_capital_lost_at_cost" not in table and "median_first_default" not in table
    written = write_report(without_severity)
    assert "heatmap" in written and "severity" not in written


def test_the_report_maps_capital_lost_and_the_first_default_month(with_severity):
    written = write_report(with_severity)
    assert written["severity"].stat().st_size > 10_000
    runs = pd.read_parquet(next((with_severity / "runs").glob("*.parquet")))
    runs["status"] = "ok"
    keys = [key for key, _, _ in severity_grids(runs, "circularity", "growth")]
    assert keys == ["capital_lost_at_cost", "first_default_step"]


def test_regression_a_point_of_corrections_with_the_worst_losses_shows_them(with_severity):
    """A 'correction' can hold the worst losses (baseline seed 0 on f1ebbeb: five defaults,
    8,062 B$ written off): the point table reports the losses beside the label."""
    runs = pd.DataFrame({
        "run_id": range(4), "point_id": [0, 0, 1, 1], "status": "ok", "circularity": [0.0, 0.0, 0.8, 0.8],
        "growth": 0.1, "outcome": ["collapse", "collapse", "correction", "correction"],
        "time_to_collapse": [30.0, 40.0, np.nan, np.nan], "vendor_revenue_drawdown": [0.8, 0.7, 0.1, 0.1],
        "vendor_equity_drawdown": 0.3, "first_default_step": [20.0, 25.0, 100.0, 110.0],
        "capital_lost_at_cost": [1600.0, 3200.0, 8062.0, 9000.0],
    })
    table = point_table(with_severity, runs).set_index("point_id")
    assert table.loc[1, "p_collapse"] == 0.0 and table.loc[1, "p_correction"] == 1.0
    assert table.loc[1, "median_capital_lost_at_cost"] > table.loc[0, "median_capital_lost_at_cost"]
    assert table.loc[1, "median_first_default"] == 100.0 and table.loc[1, "p_default"] == 1.0


def test_fan_charts_keep_falls_pending_at_the_horizon_apart_from_corrections():
    runs = pd.DataFrame({"outcome": ["collapse", "correction", "correction", "stable_growth"],
                         "collapse_pending": [0.0, 1.0, 0.0, 0.0]})
    assert list(fan_class(runs)) == ["collapse", "collapse_pending", "correction", "stable_growth"]
    assert list(fan_class(runs.drop(columns="collapse_pending"))) == ["collapse", "correction", "correction", "stable_growth"]
