"""Issue 10: one writer per results folder, validation before anything is written, one line and
exit 2 for every bad input (items 2, 3 and 5). All on the stand-in simulator, in process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sweep_fixtures import ROOT, subprocess_env, write_experiment

from experiments.cli import main
from experiments.design import load_experiment
from experiments.runner import check_scheduler, run_experiment
from experiments.storage import ResultsStore, load_results
from model.errors import ExperimentError


def one_line_error(capsys, argv: list[str], command: str | None = None) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"roundtrip {command or argv[0]}: error: "), err
    return lines[0]


@pytest.fixture
def swept(tmp_path):
    """A finished tiny sweep: (experiment file, results folder)."""
    path = write_experiment(tmp_path)
    out = tmp_path / "out"
    run_experiment(load_experiment(path), out, workers=1, progress=False)
    return path, out


# ------------------------------------------------------------------ 2. one writer, unique parts


def test_a_second_writer_gets_the_holders_pid_and_exit_2(swept, capsys):
    path, out = swept
    store = ResultsStore(out, load_experiment(path)).open()  # the first writer, still writing
    try:
        line = one_line_error(capsys, ["sweep", str(path), "--out", str(out), "--workers", "1", "--retry-failed"])
    finally:
        store.close()
    assert f"PID {os.getpid()}" in line and str(out) in line
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--retry-failed", "--no-figures"]) == 0


def test_the_lock_dies_with_its_holder(swept):
    path, out = swept
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from experiments.design import load_experiment; "
         "from experiments.storage import ResultsStore; ResultsStore(sys.argv[2], load_experiment(sys.argv[1])).open(); "
         "print('locked', flush=True); time.sleep(120)", str(path), str(out)],
        cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ExperimentError, match=f"PID {holder.pid}"):
            ResultsStore(out, load_experiment(path)).open()
    finally:
        holder.kill()
        holder.wait(10)
    ResultsStore(out, load_experiment(path)).open().close()  # SIGKILL released it


def test_part_files_have_unique_names_and_no_temporaries_remain(swept):
    _, out = swept
    names = [p.name for p in (out / "runs").iterdir()] + [p.name for p in (out / "series").iterdir()]
    assert names and all(re.fullmatch(r"part-\d{5}-[0-9a-f]+\.parquet", n) for n in names), names
    assert not list(out.rglob("*.tmp"))


# ------------------------------------------------------------------ 3. validation before the folder


EXTRA_PARAMETER = """
[[parameters]]
path = "{path}"
name = "{name}"
values = [0.1, 0.2]
"""


@pytest.mark.parametrize("path,name,expected", [
    ("end_market.volatility", "outcome", "result column"),  # the model's own column: analysis would read the parameter
    ("end_market.volatility", "vendor_revenue_drawdown", "result column"),
    ("end_market.volatility", "status", "reserved"),
    ("vendors.Vendor.financing_share", "share_again", "set the same scenario value"),
])
def test_parameters_that_would_corrupt_the_results_are_refused(tmp_path, capsys, path, name, expected):
    exp = write_experiment(tmp_path)
    exp.write_text(exp.read_text() + EXTRA_PARAMETER.format(path=path, name=name))
    line = one_line_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "out"), "--workers", "1"], "sweep")
    assert expected in line
    assert not (tmp_path / "out").exists()


def test_names_and_out_outside_the_results_folder_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.csv").write_text("precious")
    exp = write_experiment(tmp_path / "exp")
    exp.write_text(exp.read_text().replace('name = "tiny"', 'name = ".."'))
    line = one_line_error(capsys, ["sweep", str(exp), "--workers", "1"])
    assert "experiment.name" in line
    good = write_experiment(tmp_path / "good")
    for out in (".", "..", str(tmp_path)):
        line = one_line_error(capsys, ["sweep", str(good), "--out", out, "--workers", "1"])
        assert "working folder" in line
    assert (tmp_path / "points.csv").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp", "good", "points.csv"]


def test_a_huge_design_is_refused_before_it_is_allocated(tmp_path, capsys):
    exp = write_experiment(tmp_path)
    exp.write_text(exp.read_text().replace("values = [0.1, 0.7]", "low = 0.0\nhigh = 0.9\nlevels = 100000")
                   .replace("levels = 2", "levels = 100000"))
    t0 = time.perf_counter()
    line = one_line_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert time.perf_counter() - t0 < 5
    assert "30,000,000,000 runs" in line and "--max-runs" in line
    small = write_experiment(tmp_path / "small")  # 12 runs
    line = one_line_error(capsys, ["sweep", str(small), "--out", str(tmp_path / "o2"), "--workers", "1", "--max-runs", "10"])
    assert "12 runs" in line and "at most 10" in line
    assert not (tmp_path / "out").exists() and not (tmp_path / "o2").exists()


def test_a_simulator_that_does_not_import_is_refused_before_the_folder(tmp_path, capsys):
    exp = write_experiment(tmp_path, simulator="nonexistent.fn")
    line = one_line_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert "experiment.simulator" in line and "nonexistent.fn" in line
    assert not (tmp_path / "out").exists()


def _serve_once(reply: bytes | None) -> tuple[int, threading.Event]:
    """A TCP service on loopback that answers every connection with `reply` (None: silence)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def loop():
        server.settimeout(0.1)
        conns = []
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            conns.append(conn)
            if reply is not None:
                conn.sendall(reply)
        for c in conns:
            c.close()
        server.close()

    threading.Thread(target=loop, daemon=True).start()
    return server.getsockname()[1], stop


@pytest.mark.parametrize("address", ["garbage", "http://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://127.0.0.1:99999"])
def test_a_scheduler_address_that_is_not_tcp_host_port_is_refused(tmp_path, capsys, address):
    exp = write_experiment(tmp_path)
    line = one_line_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "out"), "--scheduler", address])
    assert "tcp://HOST:PORT" in line
    assert not (tmp_path / "out").exists()


def test_a_scheduler_that_is_not_dask_is_refused_before_the_folder(tmp_path, capsys):
    port, stop = _serve_once(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>no</html>")
    try:
        exp = write_experiment(tmp_path)
        line = one_line_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{port}"])
        assert "not as a Dask scheduler" in line
        assert not (tmp_path / "out").exists()
    finally:
        stop.set()
    port, stop = _serve_once(None)  # an HTTP server waits for a request: nothing comes back
    try:
        t0 = time.perf_counter()
        with pytest.raises(ExperimentError, match="no Dask handshake within 0.5 s"):
            check_scheduler(f"tcp://127.0.0.1:{port}", timeout=0.5)
        assert time.perf_counter() - t0 < 3
    finally:
        stop.set()


# ------------------------------------------------------------------ 5. one line, exit 2


NOT_UTF8 = b"\x7fELF\x02\x01\x01\x00\xff\xfe binary"


def test_a_scenario_that_is_not_text_is_one_line_everywhere(tmp_path, capsys):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(NOT_UTF8)
    for argv in (["run", str(binary), "--out", str(tmp_path / "r")], ["scenarios", "show", str(binary)], ["viz", str(binary)]):
        line = one_line_error(capsys, argv)
        assert "not a text file" in line and str(binary) in line
    exp = write_experiment(tmp_path / "exp")
    (tmp_path / "exp" / "scen.toml").write_bytes(NOT_UTF8)
    line = one_line_error(capsys, ["sweep", str(exp), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert "not a text file" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,expected", [
    (["--seed", "-1"], "--seed -1"),
    (["--seed", "1.5"], "--seed"),
    (["--seed", str(2**64)], "--seed"),
    (["--steps", "1000000000"], "--steps"),
    (["--set", "rules.lab.compute_target=os.system"], "rules.lab.compute_target"),
    (["--set", "rules.vendor.pricing=json.dumps"], "rules.vendor.pricing"),
    (["--set", "rules.lab.funding=builtins.print"], "rules.lab.funding"),  # takes *args, returns None
])
def test_bad_run_arguments_are_one_line(tmp_path, capsys, args, expected):
    line = one_line_error(capsys, ["run", *args, "--out", str(tmp_path / "r")])
    assert expected in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("edit,expected", [
    (lambda m: m.update(design=None), "design"),
    (lambda m: m.update(experiment="x"), "experiment"),
    (lambda m: m["design"].pop("parameters"), "design.parameters"),
    (lambda m: m.update(runs=None), "runs"),
    (lambda m: m["design"].update(n_runs="12"), "design.n_runs"),
])
def test_a_damaged_manifest_is_one_line_on_summarize_and_resume(swept, capsys, edit, expected):
    path, out = swept
    manifest = json.loads((out / "manifest.json").read_text())
    edit(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))
    for argv in (["summarize", str(out)], ["sweep", str(path), "--out", str(out), "--workers", "1"]):
        line = one_line_error(capsys, argv)
        assert "damaged results manifest" in line and expected in line


def _float_ids_part(out: Path) -> None:
    pq.write_table(pa.table({"run_id": [0.0, 1.0], "status": ["ok", "ok"]}), out / "runs" / "part-00099-abc.parquet")


@pytest.mark.parametrize("damage,expected", [
    (lambda out: (out / "runs" / "part-abc.parquet").write_bytes(b"PAR1"), "foreign file"),
    (lambda out: (out / "runs" / "notes.txt").write_text("mine"), "foreign file"),
    (_float_ids_part, "no integer run_id"),
    (lambda out: [p.unlink() for p in (out / "runs").iterdir()] and (out / "runs").rmdir() or (out / "runs").write_text("x"),
     "not a folder"),
])
def test_foreign_files_in_a_results_folder_are_one_line(swept, capsys, damage, expected):
    path, out = swept
    damage(out)
    for argv in (["summarize", str(out)], ["sweep", str(path), "--out", str(out), "--workers", "1"]):
        line = one_line_error(capsys, argv)
        assert expected in line


def test_an_unwritable_csv_path_is_one_line(swept, capsys):
    _, out = swept
    line = one_line_error(capsys, ["summarize", str(out), "--csv", "/nonexistent-dir/x.csv"])
    assert "--csv /nonexistent-dir/x.csv" in line


def test_a_run_whose_books_break_is_recorded_failed_with_the_invariant(tmp_path):
    """Checks off (a sweep's default) and the model breaking its books at the end: stored as failed."""
    (tmp_path / "leaky.py").write_text(
        "from model.simulate import simulate as real\n"
        "from model.invariants import check_totals\n"
        "def simulate(scenario, seed=None, steps=None, keep_series=False):\n"
        "    import model.simulate as s\n"
        "    original = s.check_totals\n"
        "    def leak(m):\n"
        "        m.ledger.sheets[m.labs[0].name].assets['cash'] += 1.0\n"
        "        original(m)\n"
        "    s.check_totals = leak\n"
        "    try:\n"
        "        return real(scenario, seed=seed, steps=steps or 6, keep_series=keep_series)\n"
        "    finally:\n"
        "        s.check_totals = original\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        exp = write_experiment(tmp_path, simulator="leaky:simulate", replications=1, shares="[0.1]", levels=1)
        exp.write_text(exp.read_text().replace('scenario = "scen.toml"', 'scenario = "baseline"'))
        run_experiment(load_experiment(exp), tmp_path / "out", workers=1, progress=False)
    finally:
        sys.path.remove(str(tmp_path))
    df = load_results(tmp_path / "out")
    assert list(df["status"]) == ["failed"]
    assert "InvariantViolation" in df["error"][0] and "assets != liabilities + net worth" in df["error"][0]
