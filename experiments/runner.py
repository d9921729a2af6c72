"""Run an experiment's runs in chunks on reused workers, streaming each finished chunk to disk.

How runs execute is a strategy behind a context manager (as in EMA Workbench's evaluators):

- `SerialBackend`: in this process (`--workers 1`);
- `LocalPoolBackend`: N worker processes started once from a forkserver that has already
  imported the model, so no run pays for a fresh interpreter or `import mesa`;
- `DaskBackend`: an existing Dask distributed cluster (`--scheduler tcp://HOST:PORT`) or a
  LocalCluster started for the sweep (`--scheduler local`).

Every backend gets the same chunks of run ids and calls the same `execute_chunk`, and every
run draws from its own `SeedSequence(root_seed, spawn_key=(run_id,))`, so the results are the
same whatever the backend or the number of workers. A run that raises is recorded with its
error and traceback and the batch goes on. A worker process that dies takes its chunk with it;
the chunk is sent again (a chunk that kills its worker three times is recorded as failed).
Ctrl-C cancels the chunks not yet started, waits for the running ones (Ctrl-C again abandons
them), writes what finished and leaves a folder that the same command resumes.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import signal
import socket
import struct
import sys
import time
import traceback
from array import array
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from experiments.design import Experiment, run_seed, seed_spawn_key
from experiments.lifeline import Terminated, die_with, terminate_on_signals
from experiments.storage import ResultsStore
from model.errors import ExperimentError

MAX_ATTEMPTS = 3  # a chunk whose worker dies this many times is recorded as failed
CHUNKS_PER_WORKER = 20
# A chunk's records are held whole in the worker's reply and in the parent until written, so a
# chunk size that grows with the sweep makes the parent's memory grow with it (2,500 runs a
# chunk at 100,000 runs: +28 MiB). At 250 runs a chunk costs Dask under 0.01 ms a run.
MAX_CHUNK_RUNS = 250


# ---------------------------------------------------------------------------- one chunk


@dataclass
class ChunkTask:
    """Everything a worker needs, small enough to send with each chunk."""

    index: int
    simulator: str
    scenario_sha256: str
    scenario_json: str
    root_seed: int
    runs: list[tuple[int, int, int, dict[str, Any], bool, dict[str, Any]]]
    # (run_id, point_id, replication, overrides, keep_series, parameter columns)
    attempts: int = 0
    paired_seeds: bool = False  # seed from the replication, not the run id (design.seed_spawn_key)

    @property
    def run_ids(self) -> list[int]:
        return [r[0] for r in self.runs]


_SCENARIOS: dict[str, Any] = {}  # base scenario per hash, parsed once per worker
_SIMULATORS: dict[str, Callable[..., Any]] = {}


def _base_scenario(sha: str, text: str) -> Any:
    if sha not in _SCENARIOS:
        import json

        from model.scenario import validate_scenario

        _SCENARIOS.clear()
        _SCENARIOS[sha] = validate_scenario(json.loads(text), "experiment base scenario")
    return _SCENARIOS[sha]


def resolve_simulator(path: str) -> Callable[..., Any]:
    if path not in _SIMULATORS:
        module, _, attr = path.replace(":", ".").rpartition(".")
        _SIMULATORS[path] = getattr(importlib.import_module(module), attr)
    return _SIMULATORS[path]


def _cell(value: Any) -> Any:
    """A summary value as a Parquet-friendly scalar with a type that never depends on the run."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


_META = ("run_id", "point_id", "replication", "seed_root", "seed_spawn_key", "status", "error", "traceback", "elapsed_s")


def execute_chunk(task: ChunkTask, partial: list | None = None) -> tuple[list[dict[str, Any]], Any]:
    """Run a chunk's runs; return their records and (if kept) their series as one Arrow table.

    `partial`, when given, receives each record as it finishes (the in-process backend writes
    them if the chunk is interrupted).
    """
    import pandas as pd
    import pyarrow as pa

    base = _base_scenario(task.scenario_sha256, task.scenario_json)
    simulate = resolve_simulator(task.simulator)
    records = [] if partial is None else partial
    series_frames = []
    scenarios: dict[int, Any] = {}
    for run_id, point_id, rep, overrides, keep_series, columns in task.runs:
        spawn_key = seed_spawn_key(run_id, rep, task.paired_seeds)
        record: dict[str, Any] = {
            "run_id": run_id, "point_id": point_id, "replication": rep, **columns,
            "seed_root": task.root_seed, "seed_spawn_key": spawn_key,
            "status": "ok", "error": None, "traceback": None,
        }
        t0 = time.perf_counter()
        try:
            if point_id not in scenarios:
                scenarios = {point_id: base.with_overrides(overrides, source=f"run {run_id}") if overrides else base}
            result = simulate(scenarios[point_id], seed=run_seed(task.root_seed, spawn_key), keep_series=keep_series)
            for key, value in dict(result.summary).items():
                if key in columns:
                    raise ExperimentError(f"the model's result {key!r} has the name of a parameter column")
                record[f"model_{key}" if key in record or key in _META else key] = _cell(value)
            if keep_series and getattr(result, "series", None) is not None:
                frame = result.series.reset_index()
                frame = frame.rename(columns={frame.columns[0]: "step"})
                frame.insert(0, "run_id", run_id)
                series_frames.append(frame)
        except Exception as exc:  # noqa: BLE001 - a failing run is data, the batch goes on
            record["status"] = "failed"
            record["error"] = f"{type(exc).__name__}: {exc}"
            record["traceback"] = traceback.format_exc()
        record["elapsed_s"] = time.perf_counter() - t0
        records.append(record)
    series = None
    if series_frames:
        series = pa.Table.from_pandas(pd.concat(series_frames, ignore_index=True), preserve_index=False)
    return records, series


def failed_chunk_records(task: ChunkTask, error: str) -> list[dict[str, Any]]:
    """Records for a chunk that never came back (its worker died too often)."""
    return [
        {"run_id": run_id, "point_id": point_id, "replication": rep, **columns,
         "seed_root": task.root_seed, "seed_spawn_key": seed_spawn_key(run_id, rep, task.paired_seeds),
         "status": "failed", "error": error, "traceback": None, "elapsed_s": float("nan")}
        for run_id, point_id, rep, _, _, columns in task.runs
    ]


# ---------------------------------------------------------------------------- backends


def _worker_init(sweep_pid: int) -> None:
    # Ctrl-C belongs to the parent: it decides what to finish and what to cancel.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(sweep_pid)  # and when the parent dies, however it dies, so does the worker


def _die_with_sweep_plugin(sweep_pid: int) -> Any:
    """A Dask worker plugin: the LocalCluster's worker processes (restarted ones too) exit with the sweep."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class DieWithSweep(WorkerPlugin):
        name = "roundtrip-die-with-sweep"

        def setup(self, worker: Any) -> None:
            die_with(sweep_pid)

    return DieWithSweep()


class SerialBackend:
    """Runs chunks in this process, one after the other."""

    name = "serial"

    def __init__(self) -> None:
        self.n_workers = 1
        self.partial: list[dict[str, Any]] = []
        self.current: ChunkTask | None = None

    def __enter__(self) -> "SerialBackend":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def results(self, tasks: Iterator[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        for task in tasks:
            self.current, self.partial = task, []
            out = execute_chunk(task, partial=self.partial)
            self.current = None
            yield task, out

    def interrupt(self) -> Iterator[tuple[ChunkTask, Any]]:
        """The runs of the interrupted chunk that did finish."""
        if self.current is not None and self.partial:
            yield self.current, (list(self.partial), None)

    def worker_pids(self) -> list[int]:
        return [os.getpid()]


class LocalPoolBackend:
    """N reused worker processes, forked from a forkserver that preloaded the model."""

    name = "local"

    def __init__(self, workers: int):
        self.n_workers = workers
        self.max_inflight = 2 * workers
        self.pool: ProcessPoolExecutor | None = None
        self.inflight: dict[Any, ChunkTask] = {}
        self.restarts = 0

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing as mp

        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["experiments.runner", "model.scenario", "model.simulate", "mesa", "pandas", "pyarrow"])
        return ProcessPoolExecutor(self.n_workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),))

    def __enter__(self) -> "LocalPoolBackend":
        self.pool = self._new_pool()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.pool is not None:
            self._kill_workers()
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _kill_workers(self) -> None:
        for proc in list(getattr(self.pool, "_processes", {}).values()):
            if proc.is_alive():
                proc.kill()

    def worker_pids(self) -> list[int]:
        return [p.pid for p in getattr(self.pool, "_processes", {}).values() if p.is_alive()]

    def results(self, tasks: Iterator[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        tasks = iter(tasks)
        retry: list[ChunkTask] = []

        def fill() -> bool:
            """Submit until `max_inflight` chunks are out; False if the pool broke first."""
            while len(self.inflight) < self.max_inflight:
                task = retry.pop(0) if retry else next(tasks, None)
                if task is None:
                    return True
                try:
                    future = self.pool.submit(execute_chunk, task)
                except BrokenProcessPool:  # a worker died since the last wait: this chunk never started
                    retry.insert(0, task)
                    return False
                self.inflight[future] = task
            return True

        while True:
            if not fill() and not self.inflight:
                # no chunk in flight will report the break: count it against the chunk that could
                # not be sent (so a pool that breaks every time cannot loop forever), restart now
                task = retry[0]
                task.attempts += 1
                if task.attempts >= MAX_ATTEMPTS:
                    retry.pop(0)
                    yield task, (failed_chunk_records(task, f"WorkerDied: the pool broke {task.attempts} times before this chunk could start"), None)
                self._restart_pool()
                continue
            if not self.inflight:
                return
            done, _ = wait(list(self.inflight), return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task = self.inflight.pop(future)
                try:
                    out = future.result()
                except BrokenProcessPool:
                    broken = True
                    task.attempts += 1
                    if task.attempts >= MAX_ATTEMPTS:
                        yield task, (failed_chunk_records(task, f"WorkerDied: the worker process died {task.attempts} times running this chunk"), None)
                    else:
                        retry.append(task)
                    continue
                yield task, out
            if broken:
                # every chunk still in flight was lost with the pool: send them again on a fresh one
                for future, task in list(self.inflight.items()):
                    if future.done() and not future.exception():
                        yield task, future.result()
                    else:
                        task.attempts += 1
                        retry.append(task)
                self.inflight.clear()
                self._restart_pool()
                retry.sort(key=lambda t: t.index)

    def _restart_pool(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        self.restarts += 1

    def interrupt(self, grace: float | None = None) -> Iterator[tuple[ChunkTask, Any]]:
        """Cancel queued chunks, wait for the running ones and hand back what they return."""
        for future in list(self.inflight):
            if future.cancel():
                del self.inflight[future]
        try:
            for future in list(self.inflight):
                task = self.inflight.pop(future)
                try:
                    out = future.result(timeout=grace)
                except Exception:  # noqa: BLE001 - a lost chunk is simply not written
                    continue
                yield task, out
        except KeyboardInterrupt:
            self._kill_workers()
            self.inflight.clear()


class DaskBackend:
    """Chunks as Dask tasks on an existing cluster, or on a LocalCluster started here."""

    name = "dask"

    def __init__(self, address: str, workers: int, session: str):
        self.address = address
        self.requested_workers = workers
        self.session = session
        self.cluster = None
        self.client = None
        self.inflight: dict[Any, ChunkTask] = {}
        self.completed = None

    def __enter__(self) -> "DaskBackend":
        from distributed import Client, LocalCluster

        from model.errors import ExperimentError

        if self.address == "local":
            self.cluster = LocalCluster(
                n_workers=self.requested_workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)
            self.client.register_plugin(_die_with_sweep_plugin(os.getpid()))
        else:
            try:
                self.client = Client(self.address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ExperimentError(f"--scheduler {self.address}: cannot connect ({exc}); expected a running Dask scheduler") from None
            try:
                self.client.wait_for_workers(1, timeout=60)
            except (OSError, TimeoutError):
                self.client.close()
                raise ExperimentError(f"--scheduler {self.address}: no worker joined within 60 s; expected a scheduler with workers") from None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.client is not None:
            if self.inflight:
                self.client.cancel(list(self.inflight))
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    @property
    def n_workers(self) -> int:
        return max(1, sum(self.client.nthreads().values())) if self.client else self.requested_workers

    def worker_pids(self) -> list[int]:
        return list(self.client.run(os.getpid).values())

    def results(self, tasks: Iterator[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        from distributed import as_completed

        tasks = iter(tasks)
        limit = 2 * self.n_workers
        self.completed = as_completed()

        def submit(task: ChunkTask) -> None:
            key = f"roundtrip-{self.session}-chunk-{task.index}-{task.attempts}"
            future = self.client.submit(execute_chunk, task, key=key, pure=False)
            self.inflight[future] = task
            self.completed.add(future)

        for task in tasks:
            submit(task)
            if len(self.inflight) >= limit:
                break
        for future in self.completed:
            task = self.inflight.pop(future, None)
            if task is None:
                continue
            try:
                out = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker after Dask's own retries
                out = (failed_chunk_records(task, f"WorkerDied: {type(exc).__name__}: {exc}"), None)
            future.release()
            yield task, out
            nxt = next(tasks, None)
            if nxt is not None:
                submit(nxt)

    def interrupt(self, grace: float | None = None) -> Iterator[tuple[ChunkTask, Any]]:
        # finished but not yet handed over: keep them; everything else is cancelled
        for future, task in list(self.inflight.items()):
            if future.status == "finished":
                yield task, future.result()
        self.client.cancel([f for f in self.inflight if f.status != "finished"])
        self.inflight.clear()


# ---------------------------------------------------------------------------- the sweep


@dataclass
class SweepReport:
    out: str
    backend: str
    workers: int
    total: int
    skipped: int
    ran: int = 0
    ok: int = 0
    failed: int = 0
    wall_s: float = 0.0
    model_s: float = 0.0
    chunks: int = 0
    chunk_size: int = 0
    interrupted: bool = False
    # run ids executed by this session, 8 bytes each (a list of ints costs 36: 3.6 MB at 100,000 runs)
    ran_ids: array = field(default_factory=lambda: array("q"), repr=False)

    @property
    def runs_per_s(self) -> float:
        return self.ran / self.wall_s if self.wall_s > 0 else float("nan")


def make_chunks(experiment: Experiment, pending: np.ndarray, size: int) -> Iterator[ChunkTask]:
    scenario_json = experiment.base_scenario_json
    for index, start in enumerate(range(0, len(pending), size)):
        runs = []
        for run_id in pending[start : start + size]:
            spec = experiment.run(int(run_id))
            runs.append((spec.run_id, spec.point_id, spec.replication, spec.overrides, spec.keep_series, experiment.point_values(spec.point_id)))
        yield ChunkTask(
            index=index,
            simulator=experiment.spec.experiment.simulator,
            scenario_sha256=experiment.scenario_sha256,
            scenario_json=scenario_json,
            root_seed=experiment.root_seed,
            runs=runs,
            paired_seeds=experiment.spec.experiment.paired_seeds,
        )


def auto_chunk_size(n_pending: int, n_workers: int) -> int:
    """About CHUNKS_PER_WORKER chunks per worker (NOTES.md: Dask pays ~1.6 ms per task), and
    never more than MAX_CHUNK_RUNS runs in one, so memory stays flat as sweeps grow."""
    return max(1, min(MAX_CHUNK_RUNS, math.ceil(n_pending / (n_workers * CHUNKS_PER_WORKER))))


def make_backend(workers: int, scheduler: str | None, session: str = "s") -> Any:
    if scheduler:
        return DaskBackend(scheduler, workers, session)
    if workers <= 1:
        return SerialBackend()
    return LocalPoolBackend(workers)


def run_experiment(
    experiment: Experiment,
    out: str | os.PathLike,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    on_chunk: Callable[[SweepReport, Any], None] | None = None,
) -> SweepReport:
    """Run every run of `experiment` not yet in `out`; return what happened.

    `on_chunk(report, backend)` is called after each chunk is on disk (tests use it to kill a
    worker or to interrupt). KeyboardInterrupt ends the sweep cleanly: the report says
    `interrupted=True` and the folder resumes with the same call.
    """
    workers = workers or os.cpu_count() or 1
    # everything that can be refused is refused before the results folder is created
    check_simulator(experiment)
    if scheduler:
        check_scheduler(scheduler)
    with terminate_on_signals():
        store = ResultsStore(out, experiment).open()  # holds the folder's lock until close()
        try:
            return _sweep(experiment, store, workers, scheduler, chunk_size, retry_failed, progress, on_chunk)
        finally:
            store.close()


def _sweep(experiment: Experiment, store: ResultsStore, workers: int, scheduler: str | None, chunk_size: int | None,
           retry_failed: bool, progress: bool, on_chunk: Callable[[SweepReport, Any], None] | None) -> SweepReport:
    out = store.dir
    pending = store.pending_ids(retry_failed)
    session = f"{os.getpid()}-{int(time.time() * 1000)}"
    backend = make_backend(workers, scheduler, session)
    report = SweepReport(out=str(out), backend=backend.name, workers=workers, total=experiment.n_runs,
                         skipped=experiment.n_runs - len(pending))
    if len(pending) == 0:
        return report

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=experiment.n_runs, initial=report.skipped, unit="run", desc=experiment.name,
                   dynamic_ncols=True, file=sys.stderr, smoothing=0.1)

    def take(task: ChunkTask, out_: tuple[list[dict[str, Any]], Any]) -> None:
        records, series = out_
        store.write_chunk(records, series)
        n_failed = sum(r["status"] != "ok" for r in records)
        report.ran += len(records)
        report.failed += n_failed
        report.ok += len(records) - n_failed
        report.chunks += 1
        report.model_s += float(np.nansum([r["elapsed_s"] for r in records]))
        report.ran_ids.extend(r["run_id"] for r in records)
        if bar is not None:
            bar.update(len(records))
            bar.set_postfix(failed=store.counts()["failed"], refresh=False)

    t0 = time.perf_counter()
    terminated: Terminated | None = None
    try:
        with backend:
            n = workers if scheduler is None or scheduler == "local" else backend.n_workers
            report.workers = n
            report.chunk_size = chunk_size or auto_chunk_size(len(pending), n)
            store.start_session({"backend": backend.name, "scheduler": scheduler, "workers": n,
                                 "chunk_size": report.chunk_size, "pending": int(len(pending))})
            try:
                for task, out_ in backend.results(make_chunks(experiment, pending, report.chunk_size)):
                    take(task, out_)
                    if on_chunk is not None:
                        on_chunk(report, backend)
            except KeyboardInterrupt:
                report.interrupted = True
                if bar is not None:
                    bar.write("interrupted: finishing the running chunks (Ctrl-C again to abandon them)")
                try:
                    for task, out_ in backend.interrupt():
                        take(task, out_)
                except KeyboardInterrupt:
                    pass
            except Terminated as exc:
                # SIGTERM/SIGHUP: no waiting for running chunks; leaving `with backend` kills the workers
                terminated = exc
    finally:
        report.wall_s = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        store.end_session(ran=report.ran, ok=report.ok, failed=report.failed, wall_s=round(report.wall_s, 3),
                          interrupted=report.interrupted, **({"terminated": str(terminated)} if terminated else {}))
    if terminated is not None:
        raise terminated
    return report


def check_simulator(experiment: Experiment) -> Callable[..., Any]:
    """Import the experiment's simulator and run it for a year on the base scenario, so that a
    parameter named like one of its result columns (`outcome`, `n_defaults`...) is refused before
    the analysis reads the parameter where it expects the model's answer."""
    path, source = experiment.spec.experiment.simulator, experiment.source
    try:
        simulate = resolve_simulator(path)
    except Exception as exc:  # noqa: BLE001 - ImportError, AttributeError, or the module failing to import
        raise ExperimentError(f"{source}: experiment.simulator = {path!r}: cannot import ({type(exc).__name__}: {exc}); "
                              f"expected module.function on the PYTHONPATH") from None
    if not callable(simulate):
        raise ExperimentError(f"{source}: experiment.simulator = {path!r}: not a function")
    try:
        summary = dict(simulate(experiment.base_scenario, seed=run_seed(experiment.root_seed, 0), steps=12,
                                keep_series=False).summary)
    except Exception:  # noqa: BLE001 - a failing probe is not a verdict: each run records its own failure
        return simulate
    for p in experiment.parameters:
        if p.name in summary:
            raise ExperimentError(f"{source}: parameters: name {p.name!r} is a result column of {path}; "
                                  f"expected a name none of {sorted(summary)} uses")
    return simulate


_SCHEDULER = re.compile(r"^tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$")


def check_scheduler(address: str, timeout: float = 10.0) -> None:
    """`local`, or `tcp://HOST:PORT` of something that opens a Dask handshake within `timeout` s.

    A Dask server speaks first on a new connection: an 8-byte frame length, then its handshake.
    An HTTP server waits for a request (nothing arrives) or answers with text (an absurd length);
    both are refused here, before any results folder exists, instead of hanging or asking
    Dask's reader to allocate exabytes.
    """
    if address == "local":
        return
    match = _SCHEDULER.match(address)
    if not match or not 0 < int(match["port"]) < 65536:
        raise ExperimentError(f"--scheduler {address}: expected tcp://HOST:PORT of a running Dask scheduler, or 'local'")
    host, port = match["host"].strip("[]"), int(match["port"])
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            head = b""
            deadline = time.monotonic() + timeout
            while len(head) < 8 and time.monotonic() < deadline:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except socket.timeout:
        raise ExperimentError(f"--scheduler {address}: no Dask handshake within {timeout:g} s; expected a running Dask scheduler") from None
    except OSError as exc:
        raise ExperimentError(f"--scheduler {address}: cannot connect ({exc.strerror or exc}); expected a running Dask scheduler") from None
    length = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
    if not 0 < length < 1 << 20:
        raise ExperimentError(f"--scheduler {address}: answered, but not as a Dask scheduler; expected tcp://HOST:PORT of one")


def rerun(directory: str | os.PathLike, run_id: int, keep_series: bool = True) -> Any:
    """Reproduce one run of a results folder alone, from its stored experiment and seed."""
    from pathlib import Path

    from experiments.design import load_experiment

    from experiments.storage import load_manifest

    directory = Path(directory)
    original = Path(load_manifest(directory)["experiment"]["file"])
    # the original file resolves a scenario path relative to it; the copy is the fallback
    source = original if original.is_file() else directory / "experiment.toml"
    experiment = load_experiment(source, check_points=False)
    spec = experiment.run(run_id)
    scenario = experiment.base_scenario.with_overrides(spec.overrides) if spec.overrides else experiment.base_scenario
    simulate = resolve_simulator(experiment.spec.experiment.simulator)
    return simulate(scenario, seed=experiment.seed(run_id), keep_series=keep_series)
