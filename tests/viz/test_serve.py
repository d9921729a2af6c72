"""`roundtrip viz` refuses what it cannot serve, and the server it starts is locked down (issue 10, item 6)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest

from experiments.cli import main
from viz import assets
from viz.serve import SolaraServer


def one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("roundtrip viz: error: "), err
    assert "serving" not in err
    return lines[0]


def test_a_port_in_use_is_one_line_before_serving(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(capsys, ["viz", "--port", str(port)])
    assert f"--port {port}" in line and "in use" in line


def test_a_host_that_does_not_resolve_is_one_line(capsys):
    line = one_line_error(capsys, ["viz", "--host", "no-such-host.invalid", "--port", "0"])
    assert "--host no-such-host.invalid" in line


def test_listening_beyond_loopback_warns(capsys):
    with socket.socket() as taken:  # a taken port stops the command right after the warning
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["viz", "--host", "0.0.0.0", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "warning: --host 0.0.0.0 listens beyond this machine" in err


def test_loopback_does_not_warn(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["viz", "--port", str(taken.getsockname()[1])]) == 2
    assert "warning" not in capsys.readouterr().err


def status(url: str, timeout: float = 10.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory):
    if assets.missing():
        pytest.skip(f"Solara assets missing in {assets.cache_dir()}; run `python -m viz.assets fetch`")
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with SolaraServer(log=log) as server:
        yield server


def test_resourcez_is_off(locked_server):
    assert status(locked_server.url + "resourcez") == 404
    assert status(locked_server.url + "readyz") == 200  # the liveness probe stays


def test_the_cdn_proxy_serves_only_the_pages_packages_from_the_cache(locked_server):
    cdn = locked_server.url + "_solara/cdn/"
    assert status(cdn + "requirejs@2.3.6/require.js") == 200
    before = sorted(p.name for p in assets.cache_dir().iterdir())
    t0 = time.monotonic()
    assert status(cdn + "left-pad@1.3.0/index.js") == 404  # any npm package: refused at once, not fetched
    assert status(cdn + "requirejs@2.3.6/no-such-file.js") == 404  # a needed package's missing file: not fetched either
    assert time.monotonic() - t0 < 5
    assert sorted(p.name for p in assets.cache_dir().iterdir()) == before
    assert "Could not load URL" not in locked_server.log_tail()
