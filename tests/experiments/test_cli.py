"""`roundtrip sweep` / `summarize` from the outside: bad input, foreign folders, Ctrl-C and resume."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_fixtures import ROOT, subprocess_env, write_experiment

from experiments.cli import main
from experiments.design import load_experiment
from experiments.runner import run_experiment
from experiments.storage import load_results


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("roundtrip sweep: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda t: t.replace("[design]", "[design"), "malformed TOML"),
        (lambda t: t.replace("end_market.annual_growth", "end_market.growth_rate"), "unknown key 'growth_rate'"),
        (lambda t: t.replace("high = 0.6", "high = 0.0"), "empty range"),
    ],
)
def test_bad_experiment_file_is_one_line_exit_2(tmp_path, capsys, edit, expected):
    path = write_experiment(tmp_path)
    path.write_text(edit(path.read_text()))
    line = one_line_error(capsys, ["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert expected in line and str(path) in line
    assert not (tmp_path / "out").exists()


def test_unwritable_out_is_one_line_exit_2(tmp_path, capsys):
    path = write_experiment(tmp_path)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    line = one_line_error(capsys, ["sweep", str(path), "--out", str(blocker / "out"), "--workers", "1"])
    assert "cannot write" in line and str(blocker / "out") in line
    line = one_line_error(capsys, ["sweep", str(path), "--out", str(blocker), "--workers", "1"])
    assert "not a folder" in line
    assert blocker.read_text() == "not a folder"


def test_foreign_damaged_or_unrelated_out_is_refused_and_left_alone(tmp_path, capsys):
    mine = write_experiment(tmp_path / "a", name="tiny")
    other = write_experiment(tmp_path / "b", name="tiny", replications=4)
    out = tmp_path / "out"
    run_experiment(load_experiment(mine), out, workers=1, progress=False)
    before = snapshot(out)
    line = one_line_error(capsys, ["sweep", str(other), "--out", str(out), "--workers", "1"])
    assert "another experiment" in line and "manifest.json" in line
    assert snapshot(out) == before

    part = sorted((out / "runs").glob("*.parquet"))[0]
    part.write_bytes(b"garbage")
    before = snapshot(out)
    line = one_line_error(capsys, ["sweep", str(mine), "--out", str(out), "--workers", "1"])
    assert "damaged" in line and part.name in line
    assert snapshot(out) == before

    (out / "manifest.json").write_text("{ truncated")
    before = snapshot(out)
    line = one_line_error(capsys, ["sweep", str(mine), "--out", str(out), "--workers", "1"])
    assert "damaged results manifest" in line
    assert snapshot(out) == before

    unrelated = tmp_path / "photos"
    unrelated.mkdir()
    (unrelated / "cat.jpg").write_bytes(b"meow")
    line = one_line_error(capsys, ["sweep", str(mine), "--out", str(unrelated), "--workers", "1"])
    assert "not empty" in line
    assert snapshot(unrelated) == {"cat.jpg": hashlib.sha256(b"meow").hexdigest()}


def test_bad_workers_and_summarize_of_a_non_results_folder(tmp_path, capsys):
    path = write_experiment(tmp_path)
    assert "--workers 0" in one_line_error(capsys, ["sweep", str(path), "--workers", "0"])
    assert main(["summarize", str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err


def test_sweep_then_summarize_prints_where_things_went(tmp_path, capsys):
    path = write_experiment(tmp_path, shares="[0.1, 0.5, 0.7]")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 0
    text = capsys.readouterr().out
    for what in ("per-point table:", "heatmap:", "fan charts:", "load_results(", "failed runs:"):
        assert what in text
    assert (out / "figures" / "p_collapse_heatmap.png").stat().st_size > 10_000
    assert (out / "figures" / "vendor_revenue_fan.png").stat().st_size > 10_000
    assert main(["summarize", str(out)]) == 0
    table = capsys.readouterr().out
    assert "P(collapse) [95% CI]" in table and "12 ok, 6 failed, 0 pending of 18" in table


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path):
    # Conditions, not timing: the runs of the 0.7 share (36-53) wait while `hold` exists, so
    # Ctrl-C surely lands mid-sweep; `hold` goes only once the sweep has said it is finishing
    # the running chunks, so those finish too, however loaded the machine is.
    hold = tmp_path / "hold"
    hold.write_text("")
    path = write_experiment(tmp_path, shares="[0.1, 0.3, 0.7]", levels=3, replications=6, hold=hold)  # 54 runs
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(path), "--out", str(out), "--workers", "2", "--chunk-size", "2"]
    env = {**subprocess_env(), "ROUNDTRIP_PROGRESS": "1"}  # the bar says when Ctrl-C has been taken
    stdout_path, stderr_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(stdout_path, "w") as stdout_file, open(stderr_path, "w") as stderr_file:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout_file, stderr=stderr_file, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "runs").glob("part-*.parquet"))) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        deadline = time.monotonic() + 30
        while "finishing the running chunks" not in stdout_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.02)
        hold.unlink()
        proc.wait(timeout=60)
    finally:
        hold.unlink(missing_ok=True)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    stdout = stdout_path.read_text()
    assert proc.returncode == 130, stderr_path.read_text()
    assert "run the same command again to resume" in stdout
    first = set(load_results(out)["run_id"])
    assert 6 <= len(first) < 54

    again = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"ran {54 - len(first)} runs" in again.stdout and f"{len(first)} already on disk" in again.stdout
    df = load_results(out)
    assert sorted(df["run_id"]) == list(range(54))
