"""Start the live page's server: `solara run` with local assets, no telemetry, production mode.

Used by `roundtrip viz` (in the foreground) and by the browser tests (in the background, on a
free loopback port, stopped with its whole process group afterwards).

The server is locked down (`lock_down`, run inside it by viz/served_app.py): `/resourcez`
(thread and websocket internals) is gone, and the CDN proxy serves only the packages the page
needs (`viz.assets.PACKAGES`) from the local cache; it never fetches at request time, so nobody
who can reach the server can make it download an npm package into the cache.
"""

from __future__ import annotations

import errno
import ipaddress
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

APP = Path(__file__).resolve().parent / "served_app.py"  # viz/app.py's page behind lock_down()
SCENARIO_ENV = "ROUNDTRIP_VIZ_SCENARIO"  # the scenario the page opens with


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def check_listen(host: str, port: int) -> list[str]:
    """Refuse (VizError) a host that does not resolve or a port already taken; return the addresses.

    Checked before "serving..." is printed, so the user gets one line instead of uvicorn's exit 3.
    """
    from model.errors import UserError

    addresses = []
    for family, kind, proto, _, address in _resolve(host, port):
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UserError(f"--port {port}: already in use on {host}; expected a free port (or --port 0 for any)") from None
                raise UserError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
        addresses.append(address[0])
    return addresses


def _resolve(host: str, port: int) -> list[tuple]:
    from model.errors import UserError

    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UserError(f"--host {host}: cannot resolve ({exc}); expected an interface name or address such as 127.0.0.1") from None


def is_loopback(host: str) -> bool:
    """Whether every address `host` stands for is this machine's loopback (a bad host: VizError)."""
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in _resolve(host, 0))


def lock_down() -> None:
    """Inside the server: drop /resourcez and make the CDN proxy serve the local cache only.

    Solara has no setting for either (its /resourcez only redacts labels in production, and its
    proxy fetches any `/_solara/cdn/<package>` missing from the cache), so the routes are
    edited after solara built them and before the first request (the app module, which calls
    this, is imported at server start-up). Idempotent.
    """
    from solara.server import starlette as server
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    class LocalCdn(server.StaticCdn):
        def lookup_path(self, path: str):
            if not any(path.startswith(spec + "/") for spec in assets.PACKAGES):
                return "", None  # not a package the page needs: 404, never a fetch
            return StaticFiles.lookup_path(self, path)

    routes = server.app.router.routes
    routes[:] = [r for r in routes if not (isinstance(r, Route) and r.path == "/resourcez")]
    for route in routes:
        if isinstance(route, Mount) and route.path == "/_solara/cdn" and not isinstance(route.app, LocalCdn):
            cdn = LocalCdn(directory=str(assets.cache_dir()))
            route.app = route._base_app = cdn


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
