"""Experiments as data: a base scenario, the parameters to vary, replications, one root seed.

An experiment file is TOML (see `experiments/phase_diagram.toml`):

    [experiment]
    name = "phase_diagram"
    scenario = "baseline"           # a bundled scenario name or a path (relative to this file)
    replications = 10               # seeds per parameter point
    steps = 180                     # months per run (default: the scenario's meta.steps)
    root_seed = 20260101            # every run's seed is spawned from this one number
    check_invariants = false        # accounting checks cost time; sweeps switch them off

    [experiment.fixed]              # overrides applied to every run (dotted scenario paths)
    "credit.base_spread" = 0.02

    [design]
    method = "grid"                 # "grid" (full factorial), "lhs" (Latin hypercube), "sobol" (Saltelli, SALib), "morris" (SALib),
                                    # "list" (point i takes every parameter's i-th value: explicit arms)
    samples = 64                    # lhs: number of points; sobol: base sample N (N*(2D+2) points); morris: trajectories (N*(D+1) points)

    [[parameters]]
    path = "vendors.*.financing_share"   # any dotted scenario path, `*` = every entry of a table
    name = "circularity"                 # column name in the results (default: last path segment)
    low = 0.0
    high = 0.8
    levels = 10                          # grid only; or `values = [...]` for explicit levels

    [keep]
    series = "sample"               # "none", "sample" (first `series_replications` seeds per point) or "all"
    series_replications = 2

Runs are numbered point-major: `run_id = point_id * replications + replication`. Run `i`
uses `SeedSequence(root_seed, spawn_key=(i,))`, which is exactly `SeedSequence(root_seed).spawn(N)[i]`,
so any run can be reproduced alone from the two numbers stored with it. With
`paired_seeds = true` the spawn key is the replication instead, `SeedSequence(root_seed,
spawn_key=(replication,))`: replication r of every point runs on the same seed, which is how
`roundtrip compare` pairs its two arms.

Everything here is checked before anything is written: a malformed file, an unknown parameter
path, an empty range or a value the scenario rejects is an `ExperimentError` naming the file
and the key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.errors import ExperimentError, UserError

DEFAULT_EXPERIMENT = Path(__file__).resolve().parent / "phase_diagram.toml"
DEFAULT_SIMULATOR = "model.simulate:simulate"
# Morris grid levels per parameter: 4 is the usual choice (Saltelli et al. 2008, ch. 3); a
# constant, not a design key, so that adding Morris left every existing experiment's hash alone.
MORRIS_LEVELS = 4
MAX_RUNS = 10_000_000  # a bigger design is refused before it is expanded (`roundtrip sweep --max-runs`)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentSection(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="experiment name, also the default results folder")
    description: str = ""
    scenario: str = "baseline"
    replications: int = Field(1, ge=1, le=100_000)
    # The horizon of every run, months; None keeps the scenario's meta.steps. Written here (not
    # hidden in `fixed`) because it decides answers: a bust that circularity postpones falls
    # after month 120 (docs/experiments.md).
    steps: int | None = Field(None, ge=1, le=1200)
    root_seed: int = Field(0, ge=0, lt=2**63)
    check_invariants: bool = False
    # Paired designs (`roundtrip compare`): every point's replication r runs on the same seed,
    # so the arms of a pair see the same demand path (common random numbers).
    paired_seeds: bool = False
    fixed: dict[str, Any] = Field(default_factory=dict)
    # Which function runs one scenario. Advanced: lets a test or a researcher swap the model.
    simulator: str = DEFAULT_SIMULATOR


class Parameter(_Strict):
    path: str = Field(min_length=1)
    name: str = ""
    label: str = ""
    low: float | None = None
    high: float | None = None
    levels: int | None = Field(None, ge=1)
    values: list[Any] | None = None
    type: Literal["float", "int"] = "float"

    @model_validator(mode="after")
    def _range(self) -> "Parameter":
        if not self.name:
            self.name = self.path.rsplit(".", 1)[-1].replace("*", "all")
        if not self.label:
            self.label = self.name.replace("_", " ")
        if self.values is not None:
            if self.low is not None or self.high is not None or self.levels is not None:
                raise ValueError("give either `values` or `low`/`high`(/`levels`), not both")
            if not self.values:
                raise ValueError("empty range: `values` is an empty list")
            return self
        if self.low is None or self.high is None:
            raise ValueError("expected `values = [...]` or both `low` and `high`")
        if not self.high > self.low:
            raise ValueError(f"empty range: high ({self.high}) must be greater than low ({self.low})")
        return self

    @property
    def numeric(self) -> bool:
        return self.values is None or all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    def cast(self, x: float) -> Any:
        return int(round(x)) if self.type == "int" else float(x)


class DesignSection(_Strict):
    method: Literal["grid", "lhs", "sobol", "morris", "list"] = "grid"
    samples: int | None = Field(None, ge=1, le=10_000_000)
    second_order: bool = False


class KeepSection(_Strict):
    series: Literal["none", "sample", "all"] = "sample"
    series_replications: int = Field(2, ge=0)


class ExperimentFile(_Strict):
    experiment: ExperimentSection
    design: DesignSection = DesignSection()
    parameters: list[Parameter] = Field(min_length=1)
    keep: KeepSection = KeepSection()

    @model_validator(mode="after")
    def _consistent(self) -> "ExperimentFile":
        if self.experiment.steps is not None and "meta.steps" in self.experiment.fixed:
            raise ValueError("experiment.steps and experiment.fixed.\"meta.steps\" both set the horizon; keep one")
        if self.experiment.name in (".", ".."):
            raise ValueError(f"experiment.name: {self.experiment.name!r} would put the results outside results/; expected a folder name")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"parameters: names must be unique, got {names}")
        for i, a in enumerate(self.parameters):
            for b in self.parameters[i + 1:]:
                if _paths_overlap(a.path, b.path):
                    raise ValueError(f"parameters: {a.name!r} ({a.path}) and {b.name!r} ({b.path}) set the same scenario value; "
                                     f"expected each path in one parameter (only the last would be applied)")
        reserved = {"run_id", "point_id", "replication", "status", "error", "traceback", "seed_root", "seed_spawn_key", "elapsed_s"}
        if clash := reserved & set(names):
            raise ValueError(f"parameters: name {sorted(clash)[0]!r} is reserved for a results column")
        if self.design.method == "list":
            lengths = {len(p.values) if p.values is not None else -1 for p in self.parameters}
            if -1 in lengths or len(lengths) != 1:
                raise ValueError("design.method = \"list\": every parameter needs `values`, all of the same length (point i takes each one's i-th value)")
            if self.design.samples is not None:
                raise ValueError("design.samples: only for lhs and sobol designs (a list's size is its length)")
        elif self.design.method == "grid":
            for i, p in enumerate(self.parameters):
                if p.values is None and p.levels is None:
                    raise ValueError(f"parameters[{i}] ({p.path}): a grid needs `levels` or `values`")
            if self.design.samples is not None:
                raise ValueError("design.samples: only for lhs and sobol designs (a grid's size comes from the levels)")
        else:
            if self.design.samples is None:
                raise ValueError(f"design.samples: a {self.design.method} design needs the number of samples")
            for i, p in enumerate(self.parameters):
                if p.values is not None or p.levels is not None:
                    raise ValueError(f"parameters[{i}] ({p.path}): a {self.design.method} design samples `low`..`high`; `levels`/`values` are for grids")
        return self


def _paths_overlap(a: str, b: str) -> bool:
    """Whether two dotted paths can address the same value (`*` matches any one segment)."""
    if a.startswith("rules.") or b.startswith("rules."):
        return a == b  # a rule slot's own dots are part of its name
    pa, pb = a.split("."), b.split(".")
    return len(pa) == len(pb) and all(x == y or "*" in (x, y) for x, y in zip(pa, pb))


def planned_runs(spec: ExperimentFile) -> int:
    """How many runs the design expands to, computed from the file alone (nothing allocated)."""
    d = len(spec.parameters)
    method = spec.design.method
    if method == "grid":
        points = math.prod(len(p.values) if p.values is not None else p.levels for p in spec.parameters)
    elif method == "list":
        points = len(spec.parameters[0].values) if spec.parameters else 0
    elif method == "lhs":
        points = spec.design.samples
    elif method == "morris":
        points = spec.design.samples * (d + 1)
    else:
        points = spec.design.samples * (2 * d + 2 if spec.design.second_order else d + 2)
    return points * spec.experiment.replications


@dataclass(frozen=True)
class RunSpec:
    """One run: which point, which replication, which overrides, whether to keep its series."""

    run_id: int
    point_id: int
    replication: int
    overrides: dict[str, Any]
    keep_series: bool


class Experiment:
    """A parsed, validated experiment with its design expanded into points."""

    def __init__(self, spec: ExperimentFile, source: Path, text: bytes):
        self.spec = spec
        self.source = source
        self.file_sha256 = hashlib.sha256(text).hexdigest()
        self.points = _expand(spec)  # (n_points, n_params) object array

    # -------------------------------------------------------------- identity

    @property
    def name(self) -> str:
        return self.spec.experiment.name

    @property
    def parameters(self) -> list[Parameter]:
        return self.spec.parameters

    @property
    def replications(self) -> int:
        return self.spec.experiment.replications

    @property
    def root_seed(self) -> int:
        return self.spec.experiment.root_seed

    @property
    def n_points(self) -> int:
        return len(self.points)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replications

    @cached_property
    def base_scenario(self) -> Any:
        """The base scenario with the fixed overrides (and the invariant switch) applied."""
        from model.scenario import load_scenario

        fixed = dict(self.spec.experiment.fixed)
        if self.spec.experiment.steps is not None:
            fixed["meta.steps"] = self.spec.experiment.steps
        fixed.setdefault("check_invariants", self.spec.experiment.check_invariants)
        try:
            return load_scenario(self._scenario_ref(), overrides=fixed)
        except UserError as exc:
            raise ExperimentError(f"{self.source}: experiment.scenario / experiment.fixed: {exc}") from None

    @cached_property
    def base_scenario_json(self) -> str:
        # Not sort_keys: the order of agents in a table is part of the scenario (the model
        # iterates in that order, and float sums depend on it).
        return json.dumps(self.base_scenario.model_dump(mode="json"))

    @cached_property
    def scenario_sha256(self) -> str:
        return hashlib.sha256(self.base_scenario_json.encode()).hexdigest()

    @cached_property
    def sha256(self) -> str:
        """Identity of the experiment: its parsed content (not comments or layout) and the base scenario."""
        content = {"experiment": self.spec.model_dump(mode="json"), "scenario": self.scenario_sha256}
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    def _scenario_ref(self) -> str | Path:
        ref = self.spec.experiment.scenario
        local = (self.source.parent / ref)
        if ref.endswith(".toml") and local.is_file():
            return local
        return ref

    # -------------------------------------------------------------- runs

    def overrides(self, point_id: int) -> dict[str, Any]:
        return {p.path: _plain(v) for p, v in zip(self.parameters, self.points[point_id])}

    def point_values(self, point_id: int) -> dict[str, Any]:
        """Parameter values by column name (non-scalars as JSON text, so Parquet can hold them)."""
        out = {}
        for p, v in zip(self.parameters, self.points[point_id]):
            v = _plain(v)
            out[p.name] = v if isinstance(v, (int, float, str, bool)) else json.dumps(v, sort_keys=True)
        return out

    def run(self, run_id: int) -> RunSpec:
        if not 0 <= run_id < self.n_runs:
            raise IndexError(run_id)
        point_id, rep = divmod(run_id, self.replications)
        keep = self.spec.keep
        keep_series = keep.series == "all" or (keep.series == "sample" and rep < keep.series_replications)
        return RunSpec(run_id, point_id, rep, self.overrides(point_id), keep_series)

    def runs(self, run_ids: Iterator[int] | None = None) -> Iterator[RunSpec]:
        for run_id in (range(self.n_runs) if run_ids is None else run_ids):
            yield self.run(run_id)

    def seed(self, run_id: int) -> np.random.SeedSequence:
        return run_seed(self.root_seed, self.seed_key(run_id))

    def seed_key(self, run_id: int) -> int:
        """The spawn key of run `run_id`'s seed: the run id, or its replication when paired."""
        return seed_spawn_key(run_id, run_id % self.replications, self.spec.experiment.paired_seeds)

    def validate_points(self, limit: int = 2000) -> None:
        """Apply every point's overrides (up to `limit` points) to the base scenario: bad paths and values fail here."""
        base = self.base_scenario
        ids = range(self.n_points) if self.n_points <= limit else np.linspace(0, self.n_points - 1, limit).astype(int)
        seen: set[str] = set()
        for pid in ids:
            ov = self.overrides(int(pid))
            key = json.dumps(ov, sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            try:
                base.with_overrides(ov, source="parameters")
            except UserError as exc:
                hint = "; set type = \"int\" on that parameter" if "valid integer" in str(exc) else ""
                raise ExperimentError(f"{self.source}: {exc}{hint}") from None

    def design_frame(self):
        import pandas as pd

        rows = [{"point_id": i, **self.point_values(i)} for i in range(self.n_points)]
        return pd.DataFrame(rows)

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.spec.design.method,
            "samples": self.spec.design.samples,
            "second_order": self.spec.design.second_order,
            "parameters": [p.model_dump(mode="json") for p in self.parameters],
            "n_points": self.n_points,
            "replications": self.replications,
            "n_runs": self.n_runs,
            "run_numbering": "run_id = point_id * replications + replication",
            "keep": self.spec.keep.model_dump(mode="json"),
            "fixed": self.spec.experiment.fixed,
            "steps": self.spec.experiment.steps,
            "check_invariants": self.spec.experiment.check_invariants,
            "paired_seeds": self.spec.experiment.paired_seeds,
            "scenario": self.spec.experiment.scenario,
            "simulator": self.spec.experiment.simulator,
        }

    def salib_problem(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.parameters),
            "names": [p.name for p in self.parameters],
            "bounds": [[p.low, p.high] for p in self.parameters],
        }


def run_seed(root_seed: int, run_id: int) -> np.random.SeedSequence:
    """The seed of run `run_id`: child `run_id` of `SeedSequence(root_seed).spawn(...)`."""
    return np.random.SeedSequence(root_seed, spawn_key=(run_id,))


def seed_spawn_key(run_id: int, replication: int, paired: bool) -> int:
    """Which child of the root seed a run draws from: its run id, or its replication when paired."""
    return replication if paired else run_id


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _expand(spec: ExperimentFile) -> np.ndarray:
    params = spec.parameters
    method = spec.design.method
    if method == "list":
        rows = list(zip(*([p.cast(v) if p.numeric and isinstance(v, (int, float)) else v for v in p.values] for p in params)))
    elif method == "grid":
        axes = []
        for p in params:
            if p.values is not None:
                axes.append([p.cast(v) if p.numeric and isinstance(v, (int, float)) else v for v in p.values])
            else:
                axes.append([p.cast(v) for v in np.linspace(p.low, p.high, p.levels)])
        rows = list(itertools.product(*axes))
    else:
        matrix = sample_matrix(spec)
        rows = [tuple(p.cast(x) for p, x in zip(params, row)) for row in matrix]
    out = np.empty((len(rows), len(params)), dtype=object)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):  # one by one: a value may itself be a list (a deals table)
            out[i, j] = value
    return out


def sample_matrix(spec: ExperimentFile) -> np.ndarray:
    """The raw (unrounded) sampled design of an lhs, sobol or morris experiment, one row per point.

    Morris analysis needs these exact rows: rounding an integer parameter can hide which
    parameter a trajectory step moved.
    """
    params = spec.parameters
    method = spec.design.method
    problem = {"num_vars": len(params), "names": [p.name for p in params], "bounds": [[p.low, p.high] for p in params]}
    # The design's own randomness also comes from the root seed (a spawn key no run uses).
    design_seed = int(np.random.SeedSequence(spec.experiment.root_seed, spawn_key=(2**63,)).generate_state(1)[0])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns when N is not a power of 2
        if method == "lhs":
            from SALib.sample import latin

            return latin.sample(problem, spec.design.samples, seed=design_seed)
        if method == "morris":
            from SALib.sample import morris

            return morris.sample(problem, spec.design.samples, num_levels=MORRIS_LEVELS, seed=design_seed)
        from SALib.sample import sobol

        return sobol.sample(problem, spec.design.samples, calc_second_order=spec.design.second_order, seed=design_seed)


def _describe_error(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    if err["type"] == "missing":
        return f"{loc}: missing (required)"
    if err["type"] == "value_error":
        return f"{loc + ': ' if loc else ''}{msg}"
    got = err.get("input")
    got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"
    return f"{loc or '(top level)'}: expected {msg[0].lower() + msg[1:]}{got_text}"


def load_experiment(path: str | Path | None = None, check_points: bool = True, max_runs: int = MAX_RUNS) -> Experiment:
    """Read and validate an experiment file (the default phase diagram when `path` is None).

    A design of more than `max_runs` runs is refused before it is expanded."""
    source = Path(path) if path is not None else DEFAULT_EXPERIMENT
    try:
        text = source.read_bytes()
    except FileNotFoundError:
        raise ExperimentError(f"{source}: no such experiment file") from None
    except OSError as exc:
        raise ExperimentError(f"{source}: cannot read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"{source}: malformed TOML: {exc}") from None
    try:
        spec = ExperimentFile.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(f"{source}: {_describe_error(exc.errors()[0])}") from None
    n_runs = planned_runs(spec)
    if n_runs > max_runs:
        raise ExperimentError(f"{source}: design: {n_runs:,} runs; expected at most {max_runs:,} "
                              f"(raise the limit with --max-runs if you mean it)")
    try:
        experiment = Experiment(spec, source, text)
    except ValueError as exc:  # SALib rejects a problem
        raise ExperimentError(f"{source}: design: {exc}") from None
    if check_points:
        experiment.validate_points()
    return experiment
