"""The runner: same results on every backend, failures recorded, resume, a killed worker."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from experiments.design import load_experiment
from experiments.runner import CHUNKS_PER_WORKER, MAX_CHUNK_RUNS, auto_chunk_size, run_experiment
from experiments.storage import load_manifest, load_results, load_series

TIMING = ["elapsed_s"]  # wall-clock time per run is the one column that may differ between backends


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING), check_exact=True)


def test_identical_results_serial_two_workers_and_dask(make_experiment, tmp_path):
    exp = load_experiment(make_experiment(shares="[0.1, 0.5, 0.7]", replications=4))
    runs = {}
    for label, workers, scheduler in (("serial", 1, None), ("pool", 2, None), ("dask", 2, "local")):
        report = run_experiment(exp, tmp_path / label, workers=workers, scheduler=scheduler, progress=False)
        assert (report.ran, report.total, report.backend) == (24, 24, {"serial": "serial", "pool": "local", "dask": "dask"}[label])
        runs[label] = load_results(tmp_path / label)
    assert list(runs["serial"]["run_id"]) == list(range(24))
    _same(runs["serial"], runs["pool"])
    _same(runs["serial"], runs["dask"])
    series = [load_series(tmp_path / label) for label in runs]
    assert len(series[0]) == 4 * 24  # one kept seed per point: 6 points, 2 of them fail; 24 steps
    pd.testing.assert_frame_equal(series[0], series[1])
    pd.testing.assert_frame_equal(series[0], series[2])


def test_a_run_that_raises_is_recorded_and_the_rest_complete(make_experiment, tmp_path):
    exp = load_experiment(make_experiment(shares="[0.1, 0.5]", replications=3))
    report = run_experiment(exp, tmp_path / "out", workers=2, progress=False)
    assert (report.ok, report.failed) == (6, 6)
    df = load_results(tmp_path / "out")
    failed = df[df["status"] == "failed"]
    assert set(failed["circularity"]) == {0.5}
    assert failed["error"].str.contains("RuntimeError: fake model refuses financing_share = 0.5").all()
    assert failed["traceback"].str.contains("Traceback").all()
    assert df.loc[df["status"] == "ok", "outcome"].notna().all()
    manifest = load_manifest(tmp_path / "out")
    assert (manifest["runs"]["ok"], manifest["runs"]["failed"], manifest["runs"]["pending"]) == (6, 6, 0)
    # resuming leaves failures alone unless asked
    assert run_experiment(exp, tmp_path / "out", workers=1, progress=False).ran == 0
    assert run_experiment(exp, tmp_path / "out", workers=1, progress=False, retry_failed=True).ran == 6
    assert len(load_results(tmp_path / "out")) == 12


def test_resume_after_interrupt_runs_only_the_missing_runs(make_experiment, tmp_path):
    exp = load_experiment(make_experiment(shares="[0.1, 0.3, 0.7]", replications=5, levels=3))  # 45 runs

    def interrupt_after_two_chunks(report, backend):
        if report.chunks == 2:
            raise KeyboardInterrupt

    first = run_experiment(exp, tmp_path / "out", workers=2, chunk_size=3, progress=False, on_chunk=interrupt_after_two_chunks)
    assert first.interrupted and 6 <= first.ran < 45
    on_disk = set(load_results(tmp_path / "out")["run_id"])
    assert on_disk == set(first.ran_ids)
    second = run_experiment(exp, tmp_path / "out", workers=2, progress=False)
    assert second.skipped == len(on_disk) and not second.interrupted
    assert set(second.ran_ids) == set(range(45)) - on_disk  # only the missing runs executed
    run_experiment(exp, tmp_path / "whole", workers=1, progress=False)
    _same(load_results(tmp_path / "out"), load_results(tmp_path / "whole"))


def test_serial_interrupt_keeps_the_finished_runs_of_the_current_chunk(make_experiment, tmp_path):
    exp = load_experiment(make_experiment(replications=5))  # 20 runs

    def stop(report, backend):
        raise KeyboardInterrupt

    report = run_experiment(exp, tmp_path / "out", workers=1, chunk_size=4, progress=False, on_chunk=stop)
    assert report.interrupted and report.ran == 4
    assert len(load_results(tmp_path / "out")) == 4


@pytest.mark.parametrize("wait_for_the_pool", [False, True], ids=["as it comes", "seen before the next chunk is sent"])
def test_worker_killed_mid_batch_loses_and_duplicates_nothing(make_experiment, tmp_path, wait_for_the_pool):
    """A worker dies (the OOM killer, here SIGKILL) mid-batch. The pool can also break between
    two chunks: after the last results came back and before the next chunk is submitted, so the
    submit itself raises. That once ended the sweep with BrokenProcessPool (1 run in 3 of the
    first case); waiting until the pool has noticed makes that race certain."""
    import time

    exp = load_experiment(make_experiment(shares="[0.1, 0.3, 0.7]", replications=6, levels=3, work_s=0.01))  # 54 runs
    killed = []

    def kill_a_worker(report, backend):
        if not killed:
            pid = backend.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            deadline = time.monotonic() + 60
            while wait_for_the_pool and not backend.pool._broken and time.monotonic() < deadline:  # the executor's flag
                time.sleep(0.01)

    report = run_experiment(exp, tmp_path / "out", workers=2, chunk_size=3, progress=False, on_chunk=kill_a_worker)
    assert killed and report.ran == 54 and report.failed == 0
    df = load_results(tmp_path / "out")
    assert sorted(df["run_id"]) == list(range(54))
    # every run is on disk exactly once, even before deduplication
    import pyarrow.parquet as pq

    raw = pd.concat(pq.read_table(p, columns=["run_id"]).to_pandas() for p in sorted((tmp_path / "out" / "runs").glob("*.parquet")))
    assert raw["run_id"].is_unique and len(raw) == 54
    run_experiment(exp, tmp_path / "ref", workers=1, progress=False)
    _same(df, load_results(tmp_path / "ref"))


def test_small_sweeps_spread_over_about_twenty_chunks_per_worker():
    assert auto_chunk_size(1000, 2) == 1000 // (2 * CHUNKS_PER_WORKER)
    assert auto_chunk_size(3, 2) == 1


def test_a_large_sweep_keeps_chunks_small_so_memory_stays_flat():
    """At 100,000 runs on two workers the old rule gave 2,500-run chunks, and the parent held
    each whole (peak RSS 221 MiB against 175 at 1,000 runs: benchmarks/bench_sweep.py)."""
    assert auto_chunk_size(100_000, 2) == MAX_CHUNK_RUNS
    assert auto_chunk_size(10_000_000, 64) == MAX_CHUNK_RUNS
