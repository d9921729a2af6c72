"""Results folder bookkeeping and the per-point statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.analysis import wilson_interval
from experiments.storage import OK, PENDING, parse_ranges, status_ranges


@given(st.lists(st.integers(0, 2), max_size=200))
def test_status_ranges_round_trip(codes):
    status = np.array(codes, dtype=np.uint8)
    ranges = status_ranges(status)
    for code, name in ((0, "pending"), (1, "ok"), (2, "failed")):
        assert parse_ranges(ranges[name]) == list(np.flatnonzero(status == code))


@pytest.mark.parametrize(
    "k,n,lo,hi",
    [(0, 10, 0.0, 0.27753), (3, 10, 0.10779, 0.60322), (10, 10, 0.72247, 1.0), (50, 100, 0.40383, 0.59617)],
)
def test_wilson_interval_matches_reference_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-5)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_interval_contains_the_estimate(k, n):
    k = min(k, n)
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_interval_without_runs_is_nan():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_resuming_with_another_code_version_warns_that_two_models_would_mix(tmp_path, capsys):
    """The experiment's hash covers its files, not the model: a folder resumed after the code
    changed says so, instead of silently mixing runs of two models."""
    from experiments.storage import ResultsStore

    store = ResultsStore.__new__(ResultsStore)
    store.dir = tmp_path
    store.status = np.array([OK, PENDING], dtype=np.int8)
    store.manifest = {"code_version": "git:aaa", "sessions": [{"code_version": "git:aaa"}]}
    assert store.mixed_code_warning("git:aaa") is None
    line = store.mixed_code_warning("git:bbb")
    assert line and "1 finished runs made by git:aaa" in line and "git:bbb" in line
    store.status = np.array([PENDING, PENDING], dtype=np.int8)
    assert store.mixed_code_warning("git:bbb") is None  # nothing finished yet: nothing to mix
