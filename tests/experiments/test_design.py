"""Experiment files: expansion into points and runs, seeds, and the checks on bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_fixtures import write_experiment

from experiments.design import DEFAULT_EXPERIMENT, load_experiment, run_seed
from model.errors import ExperimentError


def test_grid_points_runs_and_seeds(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, shares="[0.1, 0.3, 0.7]", levels=4, replications=5))
    assert (exp.n_points, exp.n_runs) == (12, 60)
    spec = exp.run(23)
    assert (spec.point_id, spec.replication) == (4, 3)
    assert spec.overrides == {"vendors.*.financing_share": 0.3, "end_market.annual_growth": 0.0}
    assert exp.run(20).keep_series and not exp.run(21).keep_series  # series_replications = 1
    # a run's seed is the run_id-th child of the root, reproducible from two stored numbers
    children = np.random.SeedSequence(7).spawn(60)
    for i in (0, 23, 59):
        assert np.array_equal(run_seed(7, i).generate_state(4), children[i].generate_state(4))


@pytest.mark.parametrize("method,samples,expected", [("lhs", 17, 17), ("sobol", 8, 8 * (2 + 2))])
def test_sampled_designs_are_within_bounds_and_reproducible(tmp_path, method, samples, expected):
    text = f"""
[experiment]
name = "s"
scenario = "scen.toml"
root_seed = 3
[design]
method = "{method}"
samples = {samples}
[[parameters]]
path = "end_market.annual_growth"
low = -0.1
high = 0.9
[[parameters]]
path = "power.lead_time_months"
low = 12
high = 60
type = "int"
"""
    write_experiment(tmp_path)
    (tmp_path / "s.toml").write_text(text)
    a, b = load_experiment(tmp_path / "s.toml"), load_experiment(tmp_path / "s.toml")
    assert a.n_points == expected
    growth = np.array(a.points[:, 0], dtype=float)
    assert growth.min() >= -0.1 and growth.max() <= 0.9
    assert all(isinstance(v, int) and 12 <= v <= 60 for v in a.points[:, 1])
    assert (a.points == b.points).all() and a.sha256 == b.sha256


def test_default_experiment_is_the_phase_diagram():
    exp = load_experiment(DEFAULT_EXPERIMENT, check_points=False)
    assert exp.n_points >= 100 and exp.replications >= 10
    assert exp.parameters[0].path == "vendors.*.financing_share"
    assert exp.parameters[1].path == "end_market.annual_growth"


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda t: t.replace("[design]", "[design\n"), "malformed TOML"),
        (lambda t: t.replace("end_market.annual_growth", "end_market.anual_growth"), "unknown key 'anual_growth'"),
        (lambda t: t.replace("high = 0.6", "high = -0.6"), "empty range"),
        (lambda t: t.replace("values = [0.1, 0.7]", "values = []"), "empty range"),
        (lambda t: t.replace("replications = 3", "replications = 0"), "experiment.replications"),
        (lambda t: t.replace("root_seed = 7", "root_sed = 7"), "experiment.root_sed: unknown key"),
        (lambda t: t.replace("values = [0.1, 0.7]", "values = [0.1, 9.0]"), "financing_share"),
    ],
)
def test_bad_experiment_files_fail_in_one_line(tmp_path, edit, expected):
    path = write_experiment(tmp_path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert expected in message and str(path) in message and "\n" not in message
