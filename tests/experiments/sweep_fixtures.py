"""Helpers shared by the runner tests: tiny experiment files and the child-process environment.

(A module of its own, not conftest.py, so that `from sweep_fixtures import ...` cannot pick up
another package's conftest when several test folders run together.)
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

SCENARIO = """
[meta]
name = "tiny"
steps = 24
description = "{description}"
"""

EXPERIMENT = """
[experiment]
name = "{name}"
scenario = "scen.toml"
replications = {replications}
root_seed = 7
simulator = "{simulator}"

[design]
method = "grid"

[[parameters]]
path = "vendors.*.financing_share"
name = "circularity"
values = {shares}

[[parameters]]
path = "end_market.annual_growth"
name = "growth"
low = 0.0
high = 0.6
levels = {levels}

[keep]
series = "sample"
series_replications = 1
"""


def write_experiment(folder: Path, name: str = "tiny", replications: int = 3, shares: str = "[0.1, 0.7]",
                     levels: int = 2, simulator: str = "fake_model:simulate", work_s: float = 0.0,
                     hold: Path | None = None) -> Path:
    """`hold`: while this file exists, runs with a financing share above 0.6 wait (fake_model only)."""
    folder.mkdir(parents=True, exist_ok=True)
    knobs = [f"work_s={work_s}"] if work_s else []
    knobs += [f"hold={hold}"] if hold else []
    (folder / "scen.toml").write_text(SCENARIO.format(description=";".join(knobs)))
    path = folder / f"{name}.toml"
    path.write_text(EXPERIMENT.format(name=name, replications=replications, shares=shares, levels=levels, simulator=simulator))
    return path


def subprocess_env() -> dict[str, str]:
    """Environment for child processes (CLI, Dask) that must import the project and fake_model."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    return env
