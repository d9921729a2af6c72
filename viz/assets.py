"""Solara's front-end assets, served by the project itself so the live page needs no CDN.

Solara's page loads its JavaScript and CSS from a CDN (jsdelivr) through a proxy in the
server, which looks in a cache folder first (`SOLARA_ASSETS_PROXY_CACHE_DIR`). The folder's
layout is the CDN's: `CACHE/<name>@<version>/<file in the npm package>`. Here we fill that
folder from the npm registry with `npm pack`, one tarball per package, unpacked to exactly the
path the page asks for. On a machine without internet (air-gapped, or a CI box that reaches
only package registries) this is what makes the page render at all.

    python -m viz.assets fetch      # idempotent: packages already unpacked are skipped
    python -m viz.assets check      # exit 1 and list what is missing
    python -m viz.assets path       # print the folder

The folder is `.solara-assets/` in the repository unless `ROUNDTRIP_ASSETS_DIR` says
otherwise. For an air-gapped machine, run `fetch` where npm works and copy the folder.
The package set gave zero misses for solara 1.64.1; the page asks
for `vega@5` and friends by major version, so those folders keep the major-version name.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV_VAR = "ROUNDTRIP_ASSETS_DIR"
COMPLETE = ".roundtrip-complete"  # written last: a folder without it is a broken unpack

# The specs exactly as the page requests them (the folder name is the spec).
PACKAGES: tuple[str, ...] = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "vega@5",
    "vega-lite@5",
    "vega-embed@6",
    # solara.Markdown (mesa's model description) asks for these two
    "mermaid@10.8.0",
    "katex@0.16.9",
)


def cache_dir() -> Path:
    """Where the assets live: `$ROUNDTRIP_ASSETS_DIR`, else `.solara-assets/` in the repo."""
    return Path(os.environ.get(ENV_VAR) or REPO / ".solara-assets").resolve()


def missing(cache: Path | None = None, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """The package specs not (completely) unpacked in `cache`."""
    cache = cache or cache_dir()
    return [spec for spec in packages if not (cache / spec / COMPLETE).is_file()]


def server_env(cache: Path | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for `solara run`: local assets, no telemetry."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(cache or cache_dir())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    return env


def fetch(cache: Path | None = None, packages: tuple[str, ...] = PACKAGES, npm: str = "npm", quiet: bool = False) -> list[str]:
    """`npm pack` every missing package and unpack it to `cache/<spec>/`; return what was fetched.

    Safe to run again and to interrupt: each package is unpacked beside its final place and
    renamed into it, then marked complete.
    """
    cache = cache or cache_dir()
    todo = missing(cache, packages)
    if not todo:
        if not quiet:
            print(f"solara assets: all {len(packages)} packages present in {cache}")
        return []
    if shutil.which(npm) is None:
        raise RuntimeError(f"npm not found; needed to fetch {todo} (or copy a filled {cache} here)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".npm-pack-", dir=cache) as tmp:
        tarballs = _npm_pack(todo, Path(tmp), npm)
        for spec, tarball in zip(todo, tarballs):
            _unpack(tarball, cache / spec, Path(tmp))
            if not quiet:
                print(f"solara assets: {spec} -> {cache / spec}")
    return todo


def _npm_pack(specs: list[str], dest: Path, npm: str) -> list[Path]:
    # One npm call for all packages: npm's start-up dominates the time.
    result = subprocess.run(
        [npm, "pack", *specs, "--json", "--pack-destination", str(dest), "--ignore-scripts"],
        cwd=dest, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm pack failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    info = json.loads(result.stdout)
    if len(info) != len(specs):
        raise RuntimeError(f"npm pack returned {len(info)} tarballs for {len(specs)} packages")
    tarballs = [dest / entry["filename"] for entry in info]
    absent = [t.name for t in tarballs if not t.is_file()]
    if absent:
        raise RuntimeError(f"npm pack reported tarballs it did not write: {absent}")
    return tarballs


def _unpack(tarball: Path, target: Path, tmp: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=tmp))
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            # npm tarballs hold one top folder ("package/" mostly); drop it
            parts = Path(member.name).parts[1:]
            if not parts:
                continue
            member.name = str(Path(*parts))
            tar.extract(member, staging, filter="data")
    (staging / COMPLETE).write_text(tarball.name + "\n")
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m viz.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("fetch", "check", "path"))
    args = parser.parse_args(argv)
    cache = cache_dir()
    if args.action == "path":
        print(cache)
        return 0
    if args.action == "check":
        gone = missing(cache)
        for spec in gone:
            print(f"missing: {cache / spec}")
        return 1 if gone else 0
    try:
        fetch(cache)
    except RuntimeError as exc:
        print(f"solara assets: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
