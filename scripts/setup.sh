#!/usr/bin/env bash
# Set up a fresh machine: a Python 3.12 virtual environment in .venv with the project and
# its test tools, Debian's chromium for the browser tests, and Solara's front-end assets
# (served locally, so the live page needs no outside host). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    for candidate in python3.12 "$HOME/.pyenv/versions/3.12"*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ]; then
    PY=$(find_python) || { echo "setup: Python 3.12 not found (Mesa 3.4+ needs it)" >&2; exit 1; }
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

# --- Live visualization (issue 4): Debian's chromium for the browser tests, and Solara's
# front-end assets from the npm registry, so the page loads nothing from outside hosts.
if [ ! -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        # a failed install leaves the browser tests skipped (they say why), not the whole setup broken
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
            || echo "setup: apt-get could not install chromium; the browser tests will be skipped" >&2
    else
        echo "setup: /usr/bin/chromium missing and apt-get unusable (need root); browser tests will be skipped" >&2
    fi
fi
if command -v npm >/dev/null 2>&1; then
    .venv/bin/python -m viz.assets fetch
else
    echo "setup: npm not found; Solara's assets not fetched, so the live page needs a CDN (see docs/viz.md)" >&2
fi
