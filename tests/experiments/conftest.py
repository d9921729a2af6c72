"""Tiny experiments for the runner tests.

Most tests run the stand-in simulator `fake_model.simulate` (a few ms per run, raises for a
financing share of exactly 0.5) through the experiment's `simulator` key, so they test the
runner, the storage and the CLI alone. `test_real_model.py` runs the real model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from sweep_fixtures import write_experiment  # noqa: E402  (needs HERE on the path)


@pytest.fixture
def make_experiment(tmp_path):
    def make(**kwargs) -> Path:
        return write_experiment(tmp_path, **kwargs)

    return make


