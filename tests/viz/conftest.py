"""Browser-test harness: a real `solara run` on a free loopback port, driven by Debian's chromium.

`playwright install` downloads its own browser, which this machine cannot reach; we launch
`/usr/bin/chromium` (installed by scripts/setup.sh) instead. Every request the page makes to a
host other than the server is aborted and recorded, so a test can assert the page is offline.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from viz import assets
from viz.serve import APP, SolaraServer

CHROMIUM = Path(os.environ.get("ROUNDTRIP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _require_browser_stack() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (bash scripts/setup.sh)")
    gone = assets.missing()
    if gone:
        pytest.fail(f"Solara assets missing in {assets.cache_dir()}: {gone}; run `python -m viz.assets fetch`")


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, launched once for the session: playwright's sync API allows one running
    instance per process, so every browser fixture shares this one."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (bash scripts/setup.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def browser(chromium):
    """Chromium for the live page: the Solara assets must be in the cache too."""
    _require_browser_stack()
    return chromium


@pytest.fixture(scope="session")
def static_browser(chromium):
    """Debian's chromium alone, for static pages such as a results folder's report.html (no Solara assets needed)."""
    return chromium


@pytest.fixture(scope="session")
def app_path() -> Path:
    """The app under test; a scratch harness check overrides this."""
    return APP


@pytest.fixture(scope="session")
def app_scenario() -> str | None:
    return None


@pytest.fixture(scope="session")
def server(app_path, app_scenario, tmp_path_factory):
    _require_browser_stack()
    log = tmp_path_factory.mktemp("solara") / "server.log"
    srv = SolaraServer(app_path, log=log, scenario=app_scenario)
    srv.start(timeout=90)
    try:
        yield srv
    finally:
        pid = srv.proc.pid if srv.proc else None
        srv.stop()
        if pid is not None:
            left = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True).stdout.split()
            assert not left, f"processes of the solara server left running: {left}"
        # the assets were all local: the server never had to go to the CDN
        text = log.read_text(errors="replace")
        assert "Could not load URL" not in text, f"server reached for the CDN:\n{text[-3000:]}"


class PageProbe:
    """A playwright page plus what it tried to fetch from outside and what it logged."""

    def __init__(self, page, server):
        self.page, self.server = page, server
        self.outside: list[str] = []
        self.errors: list[str] = []
        local = urlsplit(server.url).netloc
        page.route("**/*", self._route(local))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, local: str):
        def handle(route):
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob") or parts.netloc == local:
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()

        return handle

    # ipywidgets logs this when a widget is replaced while a message for it is in flight
    BENIGN = ("no comm channel defined",)

    def real_errors(self) -> list[str]:
        return [e for e in self.errors if not any(b in e for b in self.BENIGN)]

    def open(self, timeout: float = 30_000):
        self.page.goto(self.server.url, wait_until="domcontentloaded")
        return self.page


@pytest.fixture
def probe(browser, server):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    probe = PageProbe(page, server)
    try:
        yield probe
    finally:
        context.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the live page in Debian's chromium (tests/viz)")
