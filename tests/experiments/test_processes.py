"""A sweep's worker processes end with it, however it is stopped (issue 10, item 1).

The sweep runs in a session of its own; its runs of the high financing share are held by a file
(fake_model's `hold`), so the workers are surely busy when the parent is signalled. After the
parent is gone, every process of its session must be gone within 5 s: the forkserver, the
resource tracker and the workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_fixtures import ROOT, subprocess_env, write_experiment

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def session_members(sid: int) -> list[str]:
    """`pid cmdline` of every live process in session `sid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(f"{entry} {Path(f'/proc/{entry}/cmdline').read_text().replace(chr(0), ' ')[:120]}")
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
    return found


def wait_for(condition, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the sweep ended (exit {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_workers_die_with_the_parent(tmp_path, signum):
    hold = tmp_path / "hold"
    hold.write_text("")
    path = write_experiment(tmp_path, shares="[0.1, 0.7]", levels=2, replications=4, hold=hold)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(path), "--out", str(out), "--workers", "2", "--chunk-size", "1"]
    with open(tmp_path / "log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        # the low-share runs finish, the high-share ones hold both workers
        wait_for(lambda: any((out / "runs").glob("part-*.parquet")), 60, "the first part file", proc)
        wait_for(lambda: len(session_members(proc.pid)) >= 4, 30, "the parent, forkserver and two workers", proc)
        os.kill(proc.pid, signum)  # the parent only, as `timeout`, Slurm or the OOM killer do
        proc.wait(timeout=30)
        # generous: on a loaded machine a dying worker can take seconds to be reaped; the loop
        # ends as soon as the session is empty, so a healthy run waits no longer
        deadline = time.monotonic() + 30
        while session_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = session_members(proc.pid)
        assert not left, f"left behind after {signal.Signals(signum).name} of the parent: {left}"
        if signum != signal.SIGKILL:
            assert proc.returncode == 128 + signum, (tmp_path / "log").read_text()
    finally:
        hold.unlink(missing_ok=True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
