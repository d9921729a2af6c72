"""The runner with the real model: a tiny phase diagram on the baseline scenario."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.design import load_experiment
from experiments.runner import run_experiment, rerun
from experiments.storage import load_results

pytest.importorskip("model.simulate")

TINY = """
[experiment]
name = "tiny_real"
scenario = "baseline"
replications = 2
root_seed = 11
[experiment.fixed]
"meta.steps" = 12

[design]
method = "grid"

[[parameters]]
path = "vendors.*.financing_share"
name = "circularity"
values = [0.24, 0.67]

[[parameters]]
path = "end_market.annual_growth"
low = -0.1
high = 0.9
levels = 2
{extra}
[keep]
series = "sample"
series_replications = 1
"""

BOOM = """
[[parameters]]
path = "rules"
name = "rule_set"
values = [{}, {"vendor.pricing" = "roundtrip_test_rules.explode"}]
"""


def test_real_model_same_results_serial_two_workers_dask(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(extra=""))
    exp = load_experiment(path)
    frames = {}
    for label, workers, scheduler in (("serial", 1, None), ("pool", 2, None), ("dask", 2, "local")):
        report = run_experiment(exp, tmp_path / label, workers=workers, scheduler=scheduler, progress=False)
        assert report.ran == 8 and report.failed == 0, load_results(tmp_path / label)["error"].dropna().tolist()
        frames[label] = load_results(tmp_path / label).drop(columns="elapsed_s")
    pd.testing.assert_frame_equal(frames["serial"], frames["pool"], check_exact=True)
    pd.testing.assert_frame_equal(frames["serial"], frames["dask"], check_exact=True)
    assert set(frames["serial"]["outcome"]) <= {"collapse", "correction", "stable_growth"}
    # any run can be reproduced alone from the folder
    again = rerun(tmp_path / "serial", 5, keep_series=False)
    assert again.summary["vendor_revenue_drawdown"] == frames["serial"].loc[5, "vendor_revenue_drawdown"]


def test_a_rule_that_raises_fails_its_runs_only(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(extra=BOOM))
    exp = load_experiment(path)
    report = run_experiment(exp, tmp_path / "out", workers=2, progress=False)
    assert (report.ok, report.failed) == (8, 8)
    df = load_results(tmp_path / "out")
    failed = df[df["status"] == "failed"]
    assert failed["rule_set"].str.contains("explode").all()
    assert failed["error"].str.contains("test rule exploded on purpose").all()
    assert df.loc[df["status"] == "ok", "rule_set"].eq("{}").all()
