"""Start the live page's server: `solara run` with local assets, no telemetry, production mode.

Used by `roundtrip viz` (in the foreground) and by the browser tests (in the background, on a
free loopback port, stopped with its whole process group afterwards).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from viz import assets

APP = Path(__file__).resolve().parent / "app.py"
SCENARIO_ENV = "ROUNDTRIP_VIZ_SCENARIO"  # the scenario the page opens with


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def solara_command(app: Path | str = APP, host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    solara = Path(sys.executable).with_name("solara")
    head = [str(solara)] if solara.exists() else [sys.executable, "-m", "solara"]
    return [*head, "run", str(app), "--host", host, "--port", str(port), "--production", "--no-open"]


def server_env(scenario: str | None = None, cache: Path | None = None) -> dict[str, str]:
    env = assets.server_env(cache)
    # the app imports model/ and agents/ from the repository
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(assets.REPO), env.get("PYTHONPATH", "")]))
    if scenario:
        env[SCENARIO_ENV] = scenario
    return env


class SolaraServer:
    """A background `solara run`; a context manager that waits until the page answers.

    Output goes to `log` (a file: an unread pipe would fill up and stall the server). The
    server runs in its own session, so stopping it signals its whole process group.
    """

    def __init__(self, app: Path | str = APP, log: Path | str | None = None, host: str = "127.0.0.1",
                 port: int | None = None, scenario: str | None = None, cache: Path | None = None):
        self.app, self.host = Path(app), host
        self.port = port or free_port(host)
        self.log_path = Path(log) if log else Path(os.devnull)
        self.env = server_env(scenario, cache)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 60.0) -> "SolaraServer":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            solara_command(self.app, self.host, self.port), env=self.env, cwd=assets.REPO,
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"solara exited with {self.proc.returncode}; see {self.log_path}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"solara did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> "SolaraServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
