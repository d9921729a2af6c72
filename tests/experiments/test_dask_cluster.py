"""A real Dask cluster: `dask scheduler` and `dask worker` as separate processes on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest
from sweep_fixtures import ROOT, subprocess_env

from experiments.design import load_experiment
from experiments.runner import run_experiment
from experiments.storage import load_results


@pytest.fixture(scope="module")
def loopback_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = subprocess_env()
    logs = [open(folder / "scheduler.log", "w"), open(folder / "worker.log", "w")]
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
         "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
        cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True,
    )
    procs = [scheduler, worker]
    try:
        deadline = time.monotonic() + 30
        while not scheduler_file.exists():
            assert time.monotonic() < deadline and scheduler.poll() is None, (folder / "scheduler.log").read_text()
            time.sleep(0.1)
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="20s") as client:
            client.wait_for_workers(2, timeout=30)
            address = client.scheduler.address
        yield address, procs
    finally:
        family = [p for proc in procs if psutil.pid_exists(proc.pid) for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]]
        try:
            from distributed import Client

            with Client(scheduler_file=str(scheduler_file), timeout="5s") as client:
                client.shutdown()
        except Exception:  # noqa: BLE001 - fall back to signals below
            pass
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        gone, alive = psutil.wait_procs(family, timeout=10)
        for log in logs:
            log.close()
        assert not alive, f"left behind: {alive}"


def test_loopback_cluster_gives_the_local_results_and_survives_a_killed_worker(loopback_cluster, make_experiment, tmp_path):
    address, procs = loopback_cluster
    assert address.startswith("tcp://127.0.0.1:")
    exp = load_experiment(make_experiment(shares="[0.1, 0.3, 0.7]", levels=3, replications=6, work_s=0.01))  # 54 runs
    killed = []

    def kill_a_worker(report, backend):
        if not killed and report.chunks == 2:
            pid = backend.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)  # the nanny restarts it; Dask reruns what it held
            killed.append(pid)

    report = run_experiment(exp, tmp_path / "dask", workers=2, scheduler=address, chunk_size=2,
                            progress=False, on_chunk=kill_a_worker)
    assert killed and report.ran == 54 and report.failed == 0, report
    run_experiment(exp, tmp_path / "local", workers=2, progress=False)
    remote, local = load_results(tmp_path / "dask"), load_results(tmp_path / "local")
    assert sorted(remote["run_id"]) == list(range(54))
    pd.testing.assert_frame_equal(remote.drop(columns="elapsed_s"), local.drop(columns="elapsed_s"), check_exact=True)
    # the cluster's processes are still the ones the fixture started (the test does not own their lives)
    assert all(p.poll() is None for p in procs)
