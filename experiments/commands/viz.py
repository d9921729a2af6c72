"""`roundtrip viz [SCENARIO] [--host H] [--port N]`: serve the live page (Solara, Mesa's SolaraViz).

The page loads Solara's front-end assets from the project's own cache (`python -m viz.assets
fetch`, run by scripts/setup.sh), never from a CDN; a missing cache is fetched here first when
npm is at hand, else reported as a user error.
"""

from __future__ import annotations

import argparse
import os
import sys

from model.errors import UserError


class VizError(UserError):
    """The live page cannot start (missing assets, bad scenario, port in use)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "viz", help="serve the live page: watch the money loop step by step",
        description="Serve the live Solara page of the compute economy on HOST:PORT (loopback by default).",
    )
    parser.add_argument("scenario", nargs="?", default="baseline", help="bundled scenario name or path to a .toml file (default: baseline)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 = any free port)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model.scenario import load_scenario, resolve_scenario_path
    from viz import assets, serve

    load_scenario(args.scenario)  # a bad scenario is a one-line error here, not a traceback in the page
    path = resolve_scenario_path(args.scenario)
    scenario = args.scenario if path.parent == resolve_scenario_path("baseline").parent and path.stem == args.scenario else str(path.resolve())
    if not 0 <= args.port <= 65535:
        raise VizError(f"--port {args.port}: expected 0..65535")
    if assets.missing():
        try:
            assets.fetch()
        except RuntimeError as exc:
            raise VizError(f"Solara's front-end assets are missing in {assets.cache_dir()} and could not be fetched: {exc}") from None
    if not serve.is_loopback(args.host):  # a host that does not resolve: one line, before "serving"
        print(f"roundtrip viz: warning: --host {args.host} listens beyond this machine; anyone who can reach it "
              f"can use the page (there is no login)", file=sys.stderr, flush=True)
    serve.check_listen(args.host, args.port)  # a taken port: one line, before "serving"
    port = args.port or serve.free_port(args.host)
    command = serve.solara_command(serve.APP, args.host, port)
    print(f"roundtrip viz: serving {scenario} on http://{args.host}:{port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    # become the server: signals (Ctrl-C, a service manager's SIGTERM) reach solara itself,
    # so no orphan is left holding the port
    os.chdir(assets.REPO)
    os.execve(command[0], command, serve.server_env(scenario))
    return 0  # not reached
