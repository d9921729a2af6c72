"""Sensitivity analysis through our own code path: experiment file -> runner -> Parquet -> analysis.

The Ishigami function (tests/experiments/ishigami_model.py) has known Sobol indices and, on
the Morris grid, known mean absolute elementary effects; PRIM must find a box we plant; the
screen of the baseline scenario must vary every ASSUMPTION number and no CALIBRATION one.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from experiments.design import load_experiment
from experiments.runner import run_experiment
from experiments.scenario_sources import flatten_toml, read_sources
from experiments.screen import experiment_toml, find_uncertainties, provenance, written_range
from experiments.sensitivity import P_COLLAPSE, analyze, prim_box, read_runs
from model.scenario import SCENARIO_DIR
from ishigami_model import INPUTS, S1, ST, ishigami, to_angle

ISHIGAMI_EXPERIMENT = """
[experiment]
name = "ishigami_{method}"
scenario = "scen.toml"
root_seed = 11
simulator = "ishigami_model:simulate"

[design]
method = "{method}"
samples = {samples}

[keep]
series = "none"
"""


def _ishigami_folder(tmp_path_factory, method: str, samples: int):
    folder = tmp_path_factory.mktemp(f"ishigami_{method}")
    (folder / "scen.toml").write_text('[meta]\nname = "tiny"\nsteps = 1\n')
    text = ISHIGAMI_EXPERIMENT.format(method=method, samples=samples)
    for i, path in enumerate(INPUTS):
        text += f'\n[[parameters]]\npath = "{path}"\nname = "x{i + 1}"\nlow = 0.0\nhigh = 1.0\n'
    source = folder / "ishigami.toml"
    source.write_text(text)
    out = folder / "out"
    report = run_experiment(load_experiment(source), out, workers=1, progress=False)
    assert report.failed == 0
    return out


@pytest.fixture(scope="module")
def sobol_folder(tmp_path_factory):
    return _ishigami_folder(tmp_path_factory, "sobol", 512)  # 512 x (3 + 2) = 2560 runs, about a second


@pytest.fixture(scope="module")
def morris_folder(tmp_path_factory):
    return _ishigami_folder(tmp_path_factory, "morris", 200)  # 200 trajectories x 4 points


def test_sobol_recovers_ishigami_indices(sobol_folder):
    result = analyze(sobol_folder, resamples=200)
    table = result.sobol[result.sobol["measure"] == "y"].set_index("parameter")
    assert table.loc[["x1", "x2", "x3"], "S1"].to_numpy() == pytest.approx(S1, abs=0.06)
    assert table.loc[["x1", "x2", "x3"], "ST"].to_numpy() == pytest.approx(ST, abs=0.06)
    # the intervals are real bootstrap widths, and they cover the analytic values
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] > 0).all()
    assert (abs(table["ST"].to_numpy() - np.array(ST)) <= 2 * table["ST_conf"].to_numpy()).all()


def _exact_grid_mu_star() -> np.ndarray:
    """Mean |elementary effect| of Ishigami on the 4-level Morris grid (delta = 2/3 of the range).

    Each input moves between u and u + 2/3 with u in {0, 1/3}; x1's effect depends on x3 and
    x3's on x1 alone, each uniform over the four levels, so the expectations are exact sums.
    """
    levels = np.array([0, 1 / 3, 2 / 3, 1])
    delta = 2 / 3
    starts = levels[:2]
    ang = to_angle
    mu = np.zeros(3)
    mu[0] = np.mean([abs(ishigami(ang(u + delta), 0, ang(v)) - ishigami(ang(u), 0, ang(v))) / delta for u in starts for v in levels])
    mu[1] = np.mean([abs(ishigami(0, ang(u + delta), 0) - ishigami(0, ang(u), 0)) / delta for u in starts])
    mu[2] = np.mean([abs(ishigami(ang(v), 0, ang(u + delta)) - ishigami(ang(v), 0, ang(u))) / delta for u in starts for v in levels])
    return mu


def test_morris_recovers_ishigami_effects(morris_folder):
    from SALib.analyze import morris

    from experiments.design import sample_matrix

    result = analyze(morris_folder, resamples=200)
    table = result.morris[result.morris["measure"] == "y"].set_index("parameter").loc[["x1", "x2", "x3"]]
    exact = _exact_grid_mu_star()
    assert exact == pytest.approx([7.70, 7.875, 6.25], abs=0.01)
    assert table["mu_star"].to_numpy() == pytest.approx(exact, rel=0.15)
    # x2 acts alone: every effect has the same size, up on one half of the grid and down on the other
    assert table.loc["x2", "mu_star"] == pytest.approx(exact[1], rel=1e-9)
    assert abs(table.loc["x2", "mu"]) < 0.3 * exact[1]
    assert table.loc["x3", "sigma"] > 1 and table.loc["x1", "sigma"] > 1  # x1 and x3 interact
    assert (table["trajectories"] == 200).all() and (table["effects"] == 200).all()
    # the very numbers SALib gives on the design and the simulator's outputs, evaluated directly
    X = sample_matrix(load_experiment(morris_folder / "experiment.toml", check_points=False).spec)
    y = ishigami(*to_angle(X.T))
    direct = morris.analyze({"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1]] * 3}, X, y, num_resamples=1000, seed=1)
    assert table["mu_star"].to_numpy() == pytest.approx(direct["mu_star"], rel=1e-12)
    assert table["sigma"].to_numpy() == pytest.approx(direct["sigma"], rel=1e-12)
    assert table["mu"].to_numpy() == pytest.approx(direct["mu"], rel=1e-12, abs=1e-12)
    assert table["mu_star_conf"].to_numpy() == pytest.approx(direct["mu_star_conf"], rel=0.3)  # both bootstraps


def test_morris_keeps_the_steps_around_a_failed_run(morris_folder):
    from SALib.util import _compute_delta

    from experiments.design import sample_matrix
    from experiments.sensitivity import elementary_effects

    X = sample_matrix(load_experiment(morris_folder / "experiment.toml", check_points=False).spec)
    y = ishigami(*to_angle(X.T))
    full = elementary_effects(X, y, 3, _compute_delta(4))
    y[5] = np.nan  # trajectory 1, its second point: the steps into and out of it are lost, not the trajectory
    holed = elementary_effects(X, y, 3, _compute_delta(4))
    assert np.isnan(holed).sum() == 2 and np.isnan(holed[1]).sum() == 2
    assert np.array_equal(np.isnan(holed), np.isnan(holed)) and np.allclose(holed[np.isfinite(holed)], full[np.isfinite(holed)])


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.random((3000, 5)), columns=["a", "b", "c", "d", "e"])
    inside = (x["a"] > 0.6) & (x["b"] < 0.3)
    noise = rng.random(len(x)) < 0.03
    y = np.where(noise, ~inside, inside).astype(float)
    trajectory, chosen, box, dropped = prim_box(x, y, min_coverage=0.8)
    assert set(box["parameter"]) == {"a", "b"}
    lims = box.set_index("parameter")
    assert lims.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and lims.loc["a", "high"] == pytest.approx(1.0, abs=0.01)
    assert lims.loc["b", "high"] == pytest.approx(0.3, abs=0.05) and lims.loc["b", "low"] == pytest.approx(0.0, abs=0.01)
    row = trajectory.iloc[chosen]
    assert row["density"] > 0.85 and row["coverage"] >= 0.8
    assert (box["quasi_p"] < 0.05).all() and not set(dropped) & {"a", "b"}


# ---------------------------------------------------------------------------- the screen


def test_provenance_and_written_ranges():
    assert provenance("B$/month. ASSUMPTION: about 20 B$/year") == "assumption"
    assert provenance("CALIBRATION: OpenAI target; ASSUMPTION: total 480 B$/year") == "assumption"
    assert provenance("CALIBRATION: Nvidia revenue FY2026") == "calibration"
    assert provenance("COUNTERFACTUAL: no vendor money") == "counterfactual"
    assert provenance("DESIGN.md default") == "other"
    assert written_range("ASSUMPTION: a tenth, range 0.05..0.3") == (0.05, 0.3)
    assert written_range("ASSUMPTION: range 0.1-0.4") == (0.1, 0.4)
    assert written_range("ASSUMPTION: range -0.2 to 0.5") == (-0.2, 0.5)
    assert written_range("ASSUMPTION: range 1e-3-2e-3") == (1e-3, 2e-3)
    assert written_range("ASSUMPTION: no range here") is None


def test_screen_of_baseline_varies_every_assumption_and_no_calibration(tmp_path):
    path = SCENARIO_DIR / "baseline.toml"
    sources, written = read_sources(path), flatten_toml(path)
    numeric = {k for k, v in written.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assumptions = {k for k in numeric if "ASSUMPTION" in sources.get(k, "")}
    calibrated_only = {k for k in numeric if "CALIBRATION" in sources.get(k, "") and "ASSUMPTION" not in sources.get(k, "")}
    assert len(assumptions) > 50 and calibrated_only

    screen = find_uncertainties("baseline")
    source = tmp_path / "screen.toml"
    source.write_text(experiment_toml(screen, trajectories=2))
    experiment = load_experiment(source)  # every point is a valid scenario
    varied = {p.path for p in experiment.parameters}
    held = {u.path for u in screen.held}
    assert varied | held == assumptions
    assert not varied & calibrated_only
    assert all(written[p] == 0 for p in held)  # only a zero has no relative range
    assert experiment.spec.design.method == "morris" and experiment.n_points == 2 * (len(varied) + 1)
    by_path = {p.path: p for p in experiment.parameters}
    assert by_path["power.pue"].low == 1.0  # clipped to the schema's ge=1
    assert by_path["gpus.build_lead_months"].type == "int" and (by_path["gpus.build_lead_months"].low, by_path["gpus.build_lead_months"].high) == (6, 18)
    # economic life (calibrated, 4 years) must not exceed physical life: the low end is narrowed
    assert by_path["gpus.physical_life_years"].low >= 4.0


def test_screen_written_range_wins_and_vary_adds_a_calibrated_number(tmp_path):
    text = (SCENARIO_DIR / "baseline.toml").read_text()
    text, n = re.subn(r"(spot_share = 0\.1 .*# ASSUMPTION: .*)$", r"\1 range 0.02..0.4", text, flags=re.M)
    assert n == 1
    scenario = tmp_path / "ranged.toml"
    scenario.write_text(text)
    screen = find_uncertainties(str(scenario), relative_range=0.2, vary=["vendors.Nvidia.gross_margin"], fix=["credit.risk_free"])
    found = {u.path: u for u in screen.uncertainties}
    assert (found["end_market.spot_share"].low, found["end_market.spot_share"].high) == (0.02, 0.4)
    assert found["end_market.volatility"].low == pytest.approx(0.16) and found["end_market.volatility"].high == pytest.approx(0.24)
    assert found["vendors.Nvidia.gross_margin"].high == pytest.approx(0.711 * 1.2)
    assert "credit.risk_free" not in found
    with pytest.raises(Exception, match="not a number written in the scenario file"):
        find_uncertainties(str(scenario), vary=["vendors.Nvidia.gross_margn"])


# ---------------------------------------------------------------------------- the commands


TINY_SCENARIO = """
[meta]
name = "tiny"
steps = 12                 # a short horizon for the test

[end_market]
initial_spend = 2.0        # CALIBRATION: a row
annual_growth = 0.5        # ASSUMPTION: a guess, range 0.1..0.9
volatility = 0.15          # ASSUMPTION: another guess
"""


def test_screen_and_analyze_commands(tmp_path, capsys):
    from experiments.cli import main

    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_SCENARIO)
    out = tmp_path / "screen"
    argv = ["sweep", "--screen", str(scenario), "--trajectories", "3", "--replications", "2", "--out", str(out), "--workers", "1", "--no-figures"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 assumptions of tiny.toml varied" in printed and f"roundtrip analyze {out}" in printed
    experiment = load_experiment(out / "experiment.toml")
    assert [(p.path, p.low, p.high) for p in experiment.parameters] == [
        ("end_market.annual_growth", 0.1, 0.9), ("end_market.volatility", 0.075, 0.225)]
    assert experiment.n_runs == 3 * 3 * 2
    assert main(argv) == 0 and "already on disk" in capsys.readouterr().out  # the same command resumes
    assert main(["analyze", str(out), "--resamples", "20"]) == 0
    printed = capsys.readouterr().out
    assert "Morris, p_collapse (3 trajectories, 3-3 effects per parameter)" in printed and "report:" in printed
    assert (out / "report.html").is_file() and (out / "sensitivity_morris.csv").is_file()
    assert list((out / "figures").glob("morris_*.png"))


def test_analyze_on_a_foreign_or_empty_folder_is_one_line_and_exit_2(tmp_path, capsys):
    from experiments.cli import main

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not results")
    for folder in (foreign, tmp_path / "missing"):
        assert main(["analyze", str(folder)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a results folder" in err, err


def test_analyze_on_a_folder_with_no_finished_runs(tmp_path, capsys, make_experiment):
    from experiments.cli import main
    from experiments.storage import ResultsStore

    experiment = load_experiment(make_experiment())
    ResultsStore(tmp_path / "empty", experiment).open()  # a manifest, no runs yet
    assert main(["analyze", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no finished runs" in err, err


def test_reading_keeps_only_the_columns_it_needs(sobol_folder, monkeypatch):
    import pyarrow.parquet as pq

    asked = []
    real = pq.read_table

    def spy(path, columns=None, **kw):
        asked.append((str(path), columns))
        return real(path, columns=columns, **kw)

    monkeypatch.setattr(pq, "read_table", spy)
    runs = read_runs(sobol_folder)
    part_reads = [cols for path, cols in asked if "/runs/" in path]
    assert part_reads and all(cols is not None and "traceback" not in cols and "error" not in cols for cols in part_reads)
    assert not any("/series/" in path for path, _ in asked)
    assert runs.n_ok == 2560 and math.isclose(np.nanmean(runs.collapse), np.mean(runs.collapse))
    assert P_COLLAPSE == "p_collapse"


def test_morris_design_moves_one_parameter_per_step(tmp_path):
    (tmp_path / "scen.toml").write_text('[meta]\nname = "tiny"\nsteps = 12\n')
    text = ISHIGAMI_EXPERIMENT.format(method="morris", samples=5).replace("ishigami_model:simulate", "fake_model:simulate")
    text += ('\n[[parameters]]\npath = "end_market.annual_growth"\nlow = 0.0\nhigh = 0.6\n'
             '\n[[parameters]]\npath = "gpus.build_lead_months"\nlow = 6\nhigh = 18\ntype = "int"\n'
             '\n[[parameters]]\npath = "end_market.volatility"\nlow = 0.1\nhigh = 0.3\n')
    (tmp_path / "m.toml").write_text(text)
    experiment = load_experiment(tmp_path / "m.toml")
    assert experiment.n_points == 5 * (3 + 1)
    values = experiment.design_frame().drop(columns="point_id").to_numpy(float).reshape(5, 4, 3)
    moved = (np.diff(values, axis=1) != 0).sum(axis=2)
    assert (moved == 1).all()  # each step of a trajectory moves exactly one parameter
    assert set(values[:, :, 1].ravel()) <= {6, 10, 14, 18}  # the integer parameter on its four levels
