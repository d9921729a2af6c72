"""A results folder: a manifest plus Parquet part files written as chunks of runs finish.

    DIR/manifest.json          experiment hash, code version, design, seeds, each run's status
    DIR/experiment.toml        a copy of the experiment file as it was run
    DIR/design.parquet         one row per parameter point (point_id + parameter values)
    DIR/runs/part-NNNNN-ID.parquet    one row per run: ids, parameters, seed, status, error, summary
    DIR/series/part-NNNNN-ID.parquet  time series of the runs that keep them (run_id, step, measures)
    DIR/points.csv, DIR/figures/      written by the analysis after a sweep
    DIR/.lock                         flock()ed by the sweep writing the folder; holds its PID

The part files are the truth; the manifest's per-run status is a summary of them, refreshed as
chunks land and at the end. A part is written to a unique temporary name and renamed, so a
crash or Ctrl-C never leaves half a file; NNNNN orders the parts, ID (the writer's PID and a
random tag) keeps two writers' names apart. One sweep writes a folder at a time: a second one
is refused with the PID of the first. Load everything into pandas with

    from experiments.storage import load_results; df = load_results("results/phase_diagram")
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.errors import ExperimentError

FORMAT = "roundtrip-results/1"
MANIFEST = "manifest.json"
LOCK = ".lock"  # flock()ed by the one writer; holds its PID
PENDING, OK, FAILED = 0, 1, 2
_STATUS_NAMES = {PENDING: "pending", OK: "ok", FAILED: "failed"}
_ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """`git describe` of the source tree when it is a checkout, else the package version."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=_ROOT, capture_output=True, text=True, timeout=5,
        )
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import version

        return "roundtrip " + version("roundtrip")
    except Exception:  # noqa: BLE001 - not installed: still run
        return "unknown"


def status_ranges(status: np.ndarray) -> dict[str, str]:
    """Compact per-run status: {"ok": "0-41,44-99", "failed": "42-43", "pending": ""}."""
    out = {}
    for code, name in _STATUS_NAMES.items():
        ids = np.flatnonzero(status == code)
        if len(ids) == 0:
            out[name] = ""
            continue
        breaks = np.flatnonzero(np.diff(ids) != 1)
        starts = np.concatenate([[ids[0]], ids[breaks + 1]])
        ends = np.concatenate([ids[breaks], [ids[-1]]])
        out[name] = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts, ends))
    return out


def parse_ranges(text: str) -> list[int]:
    ids: list[int] = []
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        ids.extend(range(int(a), int(b or a) + 1))
    return ids


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExperimentError(f"{path}: damaged results manifest ({exc}); expected the JSON a `roundtrip sweep` writes") from None
    missing = [k for k in ("format", "experiment", "design", "seeds", "runs") if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        raise ExperimentError(f"{path}: damaged results manifest, missing {missing}; expected the JSON a `roundtrip sweep` writes")
    if manifest["format"] != FORMAT:
        raise ExperimentError(f"{path}: results format {manifest['format']!r}; expected {FORMAT!r}")
    for key, expected in _MANIFEST_SHAPE.items():
        value = manifest
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, expected) or isinstance(value, bool):
            name = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
            raise ExperimentError(f"{path}: damaged results manifest: {key} is {value!r}; expected {name}")
    return manifest


# what the readers of a manifest rely on, by dotted key
_MANIFEST_SHAPE: dict[str, type | tuple[type, ...]] = {
    "experiment": dict, "experiment.name": str, "experiment.sha256": str,
    "design": dict, "design.method": str, "design.parameters": list, "design.n_points": int,
    "design.replications": int, "design.n_runs": int,
    "seeds": dict, "runs": dict,
}


def load_manifest(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise ExperimentError(f"{directory}: not a results folder (no {MANIFEST}); expected the --out of `roundtrip sweep`")
    return _read_manifest(path)


_PART = re.compile(r"^part-(\d{5,})(?:-[0-9a-f]+)?\.parquet$")


def _parts(directory: Path, kind: str) -> list[Path]:
    """The part files of `kind`, in the order they were written; anything else there is refused."""
    folder = directory / kind
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise ExperimentError(f"{folder}: not a folder; expected the {kind}/ folder of a results folder")
    parts = []
    for path in folder.iterdir():
        if path.name.endswith(".tmp") or path.name.startswith("."):
            continue  # a part being written (or interrupted mid-write): not counted
        if not _PART.match(path.name):
            raise ExperimentError(f"{path}: foreign file in a results folder; expected only part-NNNNN-ID.parquet files "
                                  f"written by `roundtrip sweep` (move it away)")
        parts.append(path)
    return sorted(parts, key=lambda p: (int(_PART.match(p.name)[1]), p.name))


def _read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        if columns is not None:
            available = pq.read_schema(path).names
            columns = [c for c in columns if c in available]
        table = pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise ExperimentError(f"{path}: damaged Parquet part ({exc}); expected a file written by `roundtrip sweep`") from None
    if "run_id" not in table.column_names or not pa.types.is_integer(table.schema.field("run_id").type):
        raise ExperimentError(f"{path}: foreign Parquet part (no integer run_id column); expected a file written by `roundtrip sweep`")
    return table


class ResultsStore:
    """The one writer of a results folder during a sweep."""

    def __init__(self, directory: str | Path, experiment: Any):
        self.dir = Path(directory)
        self.experiment = experiment
        self.status = np.zeros(experiment.n_runs, dtype=np.uint8)
        self.next_part = 0
        self.manifest: dict[str, Any] = {}
        self._last_flush = 0.0
        self._lock: int | None = None  # file descriptor of DIR/.lock while this store writes
        self._session = f"{os.getpid():x}{secrets.token_hex(3)}"  # makes this writer's part names unique

    # ------------------------------------------------------------------ opening

    def open(self) -> "ResultsStore":
        """Create the folder or check it belongs to this experiment; read what is already done.

        Every check happens before anything is written, so a foreign or damaged folder is left
        exactly as it was.
        """
        d = self.dir
        self._check_folder()  # read-only: a foreign folder is refused before the lock file is made
        self._ensure_writable()
        self._acquire_lock()
        try:
            self._check_folder()  # again, under the lock: another writer may have just finished
            manifest_path = d / MANIFEST
            if manifest_path.exists():
                self.manifest = _read_manifest(manifest_path)
                self._scan_parts()
            for kind in ("runs", "series"):
                (d / kind).mkdir(exist_ok=True)
                for leftover in (d / kind).glob("*.tmp"):
                    leftover.unlink()  # a part interrupted mid-write: its runs are not counted as done
            if not self.manifest:
                self._create()
        except BaseException:
            self.close()
            raise
        return self

    def _check_folder(self) -> None:
        d = self.dir
        if d.exists() and not d.is_dir():
            raise ExperimentError(f"--out {d}: exists and is not a folder; expected a results folder path")
        manifest_path = d / MANIFEST
        if manifest_path.exists():
            self._check_same_experiment(_read_manifest(manifest_path), manifest_path)
            for kind in ("runs", "series"):
                _parts(d, kind)  # a foreign file or a `runs` that is not a folder: refused here
        elif d.exists() and any(p.name != LOCK for p in d.iterdir()):
            raise ExperimentError(
                f"--out {d}: folder is not empty and has no {MANIFEST}; expected an empty folder or the results of this experiment"
            )

    def _acquire_lock(self) -> None:
        """An exclusive OS lock on DIR/.lock for as long as this store writes; the OS drops it when
        the process ends, however it ends, so a stale lock cannot outlive its writer."""
        path = self.dir / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise ExperimentError(f"--out {self.dir}: another sweep (PID {holder}) is writing there; "
                                  f"expected one writer per results folder: wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd

    def close(self) -> None:
        """Release the folder's lock (the lock file stays: removing it would race a waiting writer)."""
        if self._lock is not None:
            fd, self._lock = self._lock, None
            os.close(fd)

    def _ensure_writable(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            probe = self.dir / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ExperimentError(f"--out {self.dir}: cannot write there ({exc.strerror or exc}); expected a writable folder") from None

    def _check_same_experiment(self, manifest: dict[str, Any], path: Path) -> None:
        exp = self.experiment
        theirs = manifest.get("experiment", {})
        if theirs.get("sha256") != exp.sha256:
            raise ExperimentError(
                f"{path}: results of another experiment ({theirs.get('name')!r}, hash {str(theirs.get('sha256'))[:12]}); "
                f"expected {exp.name!r} with hash {exp.sha256[:12]} (from {exp.source}); choose another --out"
            )
        if manifest["design"].get("n_runs") != exp.n_runs:
            raise ExperimentError(f"{path}: damaged manifest: design.n_runs {manifest['design'].get('n_runs')}; expected {exp.n_runs}")

    def _scan_parts(self) -> None:
        top = -1
        for path in _parts(self.dir, "runs"):
            top = max(top, int(_PART.match(path.name)[1]))
            table = _read_part(path, ["run_id", "status"])
            if "run_id" not in table.column_names or "status" not in table.column_names:
                raise ExperimentError(f"{path}: damaged Parquet part (no run_id/status columns); expected a file written by `roundtrip sweep`")
            ids = table.column("run_id").to_numpy()
            if len(ids) and (ids.min() < 0 or ids.max() >= len(self.status)):
                raise ExperimentError(f"{path}: damaged: run ids outside 0..{len(self.status) - 1}")
            ok = np.array([s == "ok" for s in table.column("status").to_pylist()], dtype=bool)
            # an ok record wins over a failed one for the same run (a retried failure)
            self.status[ids[ok]] = OK
            failed_ids = ids[~ok]
            self.status[failed_ids[self.status[failed_ids] != OK]] = FAILED
        for path in _parts(self.dir, "series"):
            top = max(top, int(_PART.match(path.name)[1]))
        self.next_part = top + 1

    def _create(self) -> None:
        exp = self.experiment
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.manifest = {
            "format": FORMAT,
            "experiment": {
                "name": exp.name,
                "file": str(exp.source),
                "file_sha256": exp.file_sha256,
                "sha256": exp.sha256,
                "scenario_sha256": exp.scenario_sha256,
            },
            "code_version": code_version(),
            "created": now,
            "design": exp.describe(),
            "seeds": {
                "root_seed": exp.root_seed,
                "per_run": ("numpy.random.SeedSequence(root_seed, spawn_key=(replication,)): paired, every point's replication r on one seed"
                            if exp.spec.experiment.paired_seeds else
                            "numpy.random.SeedSequence(root_seed, spawn_key=(run_id,)) == SeedSequence(root_seed).spawn(n_runs)[run_id]"),
                "columns": "seed_root, seed_spawn_key in runs/*.parquet",
            },
            "runs": {},
            "sessions": [],
        }
        (self.dir / "experiment.toml").write_bytes(exp.source.read_bytes())
        design = pa.Table.from_pandas(exp.design_frame(), preserve_index=False)
        pq.write_table(design, self.dir / "design.parquet")
        self.flush_manifest(force=True)

    # ------------------------------------------------------------------ progress

    def done_ids(self, retry_failed: bool = False) -> np.ndarray:
        finished = self.status == OK if retry_failed else self.status != PENDING
        return np.flatnonzero(finished)

    def pending_ids(self, retry_failed: bool = False) -> np.ndarray:
        todo = self.status != OK if retry_failed else self.status == PENDING
        return np.flatnonzero(todo)

    def counts(self) -> dict[str, int]:
        return {name: int((self.status == code).sum()) for code, name in _STATUS_NAMES.items()}

    def start_session(self, info: dict[str, Any]) -> None:
        info = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "code_version": code_version(), **info}
        warning = self.mixed_code_warning(info["code_version"])
        if warning:
            print(warning, file=sys.stderr)
        self.manifest.setdefault("sessions", []).append(info)
        self.flush_manifest(force=True)

    def mixed_code_warning(self, current: str) -> str | None:
        """A line when finished runs here were made by another version of the code: the
        experiment's hash covers its files, not the model, so resuming after the model changed
        would mix runs of two models in one folder."""
        finished = int((self.status != PENDING).sum())
        earlier = {self.manifest.get("code_version")} | {s.get("code_version") for s in self.manifest.get("sessions", [])}
        earlier.discard(None)
        if not finished or not earlier or earlier == {current}:
            return None
        return (f"warning: {self.dir} holds {finished} finished runs made by {', '.join(sorted(earlier))}; this session "
                f"runs {current}: if the model changed, the folder will mix two models (use a new --out to keep them apart)")

    def end_session(self, **info: Any) -> None:
        if self.manifest.get("sessions"):
            self.manifest["sessions"][-1].update({"ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **info})
        self.flush_manifest(force=True)

    def flush_manifest(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < 2.0:
            return
        self._last_flush = now
        self.manifest["runs"] = {"total": int(len(self.status)), **self.counts(), "status_by_run": status_ranges(self.status)}
        self.manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        _atomic_write_text(self.dir / MANIFEST, json.dumps(self.manifest, indent=1, default=str))

    # ------------------------------------------------------------------ writing

    def write_chunk(self, records: list[dict[str, Any]], series: pa.Table | None = None) -> None:
        """Write one finished chunk: its summaries (and series) as the next part number."""
        if not records:
            return
        n = self.next_part
        self.next_part += 1
        name = f"part-{n:05d}-{self._session}.parquet"  # unique even if a second writer got past the lock
        if series is not None and series.num_rows:
            self._write_table(series, self.dir / "series" / name)
        # the runs part goes last: a run counts as done only once its summary is on disk
        self._write_table(records_table(records), self.dir / "runs" / name)
        for r in records:
            code = OK if r["status"] == "ok" else FAILED
            if self.status[r["run_id"]] != OK:
                self.status[r["run_id"]] = code
        self.flush_manifest()

    @staticmethod
    def _write_table(table: pa.Table, path: Path) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the results from the group
        try:
            with os.fdopen(fd, "wb") as f:
                pq.write_table(table, f)
            os.replace(tmp, path)  # atomic: readers see the whole part or none of it
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def records_table(records: Iterable[dict[str, Any]]) -> pa.Table:
    df = pd.DataFrame.from_records(list(records))
    return pa.Table.from_pandas(df, preserve_index=False)


# ---------------------------------------------------------------------- reading


def load_results(directory: str | Path, columns: list[str] | None = None, status: str | None = None) -> pd.DataFrame:
    """Every run of a results folder, one row per run, sorted by run_id.

    `columns` reads only those columns (plus run_id and status); `status="ok"` keeps finished
    runs only. A run retried after a failure appears once, with its latest successful record.
    """
    directory = Path(directory)
    load_manifest(directory)
    want = None if columns is None else list(dict.fromkeys(["run_id", "status", *columns]))
    frames = []
    for i, path in enumerate(_parts(directory, "runs")):
        df = _read_part(path, want).to_pandas()
        df["_part"] = i
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=want or ["run_id", "status"])
    df = pd.concat(frames, ignore_index=True, sort=False)
    df["_rank"] = (df["status"] != "ok").astype(int)
    df = df.sort_values(["run_id", "_rank", "_part"], ascending=[True, True, False], kind="stable")
    df = df.drop_duplicates("run_id", keep="first").drop(columns=["_rank", "_part"])
    if status is not None:
        df = df[df["status"] == status]
    df = df.reset_index(drop=True)
    # parts differ in which columns they hold (a part of failures has no summary columns):
    # make the missing values the same whichever part a run landed in
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def load_series(directory: str | Path, run_ids: Iterable[int] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Kept time series, long format: one row per (run_id, step)."""
    directory = Path(directory)
    load_manifest(directory)
    want = None if columns is None else list(dict.fromkeys(["run_id", "step", *columns]))
    ids = None if run_ids is None else set(int(r) for r in run_ids)
    frames = []
    for path in _parts(directory, "series"):
        table = _read_part(path, want)
        if ids is not None:
            mask = np.isin(table.column("run_id").to_numpy(), list(ids))
            table = table.filter(pa.array(mask))
        if table.num_rows:
            frames.append(table.to_pandas())
    if not frames:
        return pd.DataFrame(columns=want or ["run_id", "step"])
    df = pd.concat(frames, ignore_index=True, sort=False)
    return df.drop_duplicates(["run_id", "step"], keep="last").sort_values(["run_id", "step"]).reset_index(drop=True)
