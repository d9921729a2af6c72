"""Replay the attacks of issue 10 against the `roundtrip` command and tabulate what happened.

    python benchmarks/fuzz_inputs.py [--timeout 60] [--only SUBSTRING]

Each attack is a real command in a subprocess (as a user would type it) in a scratch folder.
Its outcome is one of:

    clean result         exit 0
    clean exit 2         exit 2 with one line on stderr naming the input
    invariant violation  the accounting broke and the run said so (not silent)
    traceback            a Python traceback on stderr (a bug)
    hang                 still running after --timeout seconds (killed with its process group)
    other                any other exit status

Afterwards every results folder a sweep wrote is read back: a run whose books broke but which
is stored as `ok` would be a silent invariant violation (there is no way to see one from the
outside; the end-of-run totals check turns it into a failed run whose error names the invariant).
Exit status 1 if there is any traceback, hang or other.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ("clean result", "clean exit 2", "invariant violation", "traceback", "hang", "other")

EXPERIMENT = """
[experiment]
name = "{name}"
scenario = "{scenario}"
replications = 1
root_seed = 3
simulator = "{simulator}"

[experiment.fixed]
"meta.steps" = 6

[design]
method = "{method}"
{samples}

[[parameters]]
path = "vendors.*.financing_share"
name = "{pname}"
{prange}
{extra}
"""

GRID = "values = [0.1, 0.5]"
LHS_RANGE = "low = 0.1\nhigh = 0.5"


def experiment(folder: Path, name: str = "fuzz", scenario: str = "baseline", simulator: str = "model.simulate:simulate",
               method: str = "grid", samples: str = "", pname: str = "circularity", prange: str = GRID, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.strip('.') or 'dots'}-{len(list(folder.glob('*.toml')))}.toml"
    path.write_text(EXPERIMENT.format(name=name, scenario=scenario, simulator=simulator, method=method,
                                      samples=samples, pname=pname, prange=prange, extra=extra))
    return path


class Service:
    """A loopback TCP service that is not Dask: an HTTP-ish answer, or silence."""

    def __init__(self, reply: bytes | None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.reply, self.stop, self.conns = reply, threading.Event(), []
        threading.Thread(target=self._loop, daemon=True).start()

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.reply is not None:
                conn.sendall(self.reply)


def classify(code: int | None, stderr: str) -> str:
    if code is None:
        return "hang"
    if "Traceback (most recent call last)" in stderr:
        return "invariant violation" if "InvariantViolation" in stderr else "traceback"
    if code == 0:
        return "clean result"
    if code == 2 and len(stderr.strip().splitlines()) == 1:
        return "clean exit 2"
    if "invariant broken" in stderr:
        return "invariant violation"
    return "other"


def run(argv: list[str], cwd: Path, timeout: float) -> tuple[int | None, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return None, err


def attacks(tmp: Path) -> list[tuple[str, list[str]]]:
    """(label, argv) in the order of the issue."""
    e = tmp / "exp"
    binary = tmp / "binary.toml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00binary")
    r = ["--out", str(tmp / "run"), "--json"]
    good = experiment(e)
    swept = tmp / "swept"
    out = lambda name: ["--out", str(tmp / name), "--workers", "1", "--no-figures"]  # noqa: E731
    bad_scenario_exp = experiment(e, scenario=str(binary))
    yield "a sweep to damage afterwards", ["sweep", str(good), "--out", str(swept), "--workers", "1", "--no-figures"]
    # not UTF-8
    yield "run /bin/ls", ["run", "/bin/ls", *r]
    yield "run binary.toml", ["run", str(binary), *r]
    yield "scenarios show /bin/ls", ["scenarios", "show", "/bin/ls"]
    yield "viz /bin/ls", ["viz", "/bin/ls", "--port", "0"]
    yield "sweep: scenario = binary", ["sweep", str(bad_scenario_exp), *out("s-bin")]
    # seeds and steps
    yield "run --seed -1", ["run", "--seed", "-1", *r]
    yield "run --seed 1.5", ["run", "--seed", "1.5", *r]
    yield "run --seed 2**64", ["run", "--seed", str(2**64), *r]
    yield "run --steps 1000000000", ["run", "--steps", "1000000000", *r]
    yield "run --steps 0", ["run", "--steps", "0", *r]
    # rules
    yield "--set rules.lab.compute_target=os.system", ["run", "--steps", "6", "--set", "rules.lab.compute_target=os.system", *r]
    yield "--set rules.vendor.pricing=json.dumps", ["run", "--steps", "6", "--set", "rules.vendor.pricing=json.dumps", *r]
    yield "--set rules.lab.funding=builtins.print", ["run", "--steps", "6", "--set", "rules.lab.funding=builtins.print", *r]
    # values the schema used to accept
    for assignment in ("labs.*.max_revenue_per_gw_month=1e-20", "labs.*.max_revenue_per_gw_month=1e-9", "investors.wealth=1e308",
                       "labs.*.cash=1e308", "clouds.*.debt=1e300", "labs.*.shares=1e-300", "investors.revenue_multiple=1e300",
                       "labs.*.revenue_share=5e-324", "end_market.spot_share=0.999999999999",
                       'shocks=[{kind="end_market_stall", size=-1.0, step=3}]',
                       'shocks=[{kind="export_ban", size=3.0, step=3}]', "end_market.initial_spend=1e-300"):
        yield f"--set {assignment}", ["run", "--steps", "12", "--no-checks", "--set", assignment, *r]
    yield "--set at the bounds (wealth 500000, cash 10000)", ["run", "--steps", "12", "--no-checks", "--set", "investors.wealth=500000",
                                                             "--set", "labs.*.cash=10000", *r]
    # experiment files
    yield "parameter named outcome", ["sweep", str(experiment(e, pname="outcome")), *out("s-outcome")]
    yield "parameter named n_defaults", ["sweep", str(experiment(e, pname="n_defaults")), *out("s-nd")]
    yield "two parameters, one path", ["sweep", str(experiment(e, extra='[[parameters]]\npath = "vendors.Nvidia.financing_share"\nname = "nv"\nvalues = [0.2]')), *out("s-two")]
    yield 'name = ".." without --out', ["sweep", str(experiment(e, name="..")), "--workers", "1", "--no-figures"]
    yield "--out .", ["sweep", str(good), "--out", ".", "--workers", "1", "--no-figures"]
    yield "grid 100,000 x 100,000", ["sweep", str(experiment(e, prange="low = 0.0\nhigh = 0.9\nlevels = 100000",
                                                                extra='[[parameters]]\npath = "end_market.annual_growth"\nlow = 0.0\nhigh = 0.5\nlevels = 100000')), *out("s-huge")]
    yield "sobol 10 M samples", ["sweep", str(experiment(e, method="sobol", samples="samples = 10000000", prange=LHS_RANGE)), *out("s-sobol")]
    yield "--max-runs 1 on a 2-run design", ["sweep", str(good), *out("s-max"), "--max-runs", "1"]
    yield 'simulator = "nonexistent.fn"', ["sweep", str(experiment(e, simulator="nonexistent.fn")), *out("s-sim")]
    # schedulers
    http = Service(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>not dask</html>\r\n")
    silent = Service(None)
    yield "--scheduler garbage", ["sweep", str(good), *out("s-garbage"), "--scheduler", "garbage"]
    yield "--scheduler http://...", ["sweep", str(good), *out("s-http"), "--scheduler", "http://127.0.0.1:8786"]
    yield "--scheduler tcp:// at an HTTP service", ["sweep", str(good), *out("s-tcp-http"), "--scheduler", http.address]
    yield "--scheduler tcp:// at a silent service", ["sweep", str(good), *out("s-tcp-silent"), "--scheduler", silent.address]
    yield "--scheduler tcp:// nobody listening", ["sweep", str(good), *out("s-tcp-none"), "--scheduler", "tcp://127.0.0.1:9"]
    # summarize
    yield "summarize --csv /nonexist/x.csv", ["summarize", str(swept), "--csv", "/nonexist/x.csv"]
    # damaged manifests and foreign files, each on a fresh copy of the swept folder
    manifest = swept / "manifest.json"
    original = manifest.read_text()
    for label, edit in (('"design": null', lambda m: m.update(design=None)), ('"experiment": "x"', lambda m: m.update(experiment="x")),
                        ("design.parameters missing", lambda m: m["design"].pop("parameters")), ('"runs": null', lambda m: m.update(runs=None))):
        data = json.loads(original)
        edit(data)
        manifest.write_text(json.dumps(data))
        yield f"summarize, manifest {label}", ["summarize", str(swept)]
        yield f"resume, manifest {label}", ["sweep", str(good), "--out", str(swept), "--workers", "1", "--no-figures"]
    manifest.write_text(original)
    runs = swept / "runs"
    foreign = runs / "part-abc.parquet"
    foreign.write_bytes(b"PAR1 not really")
    yield "summarize, runs/part-abc.parquet", ["summarize", str(swept)]
    yield "resume, runs/part-abc.parquet", ["sweep", str(good), "--out", str(swept), "--workers", "1", "--no-figures"]
    foreign.unlink()
    import pyarrow as pa
    import pyarrow.parquet as pq

    floats = runs / "part-00077-f00.parquet"
    pq.write_table(pa.table({"run_id": [0.0], "status": ["ok"]}), floats)
    yield "summarize, a part with float run_id", ["summarize", str(swept)]
    yield "resume, a part with float run_id", ["sweep", str(good), "--out", str(swept), "--workers", "1", "--no-figures"]
    floats.unlink()
    moved = swept / "runs-moved"
    runs.rename(moved)
    runs.write_text("a file, not a folder")
    yield "summarize, runs is a file", ["summarize", str(swept)]
    yield "resume, runs is a file", ["sweep", str(good), "--out", str(swept), "--workers", "1", "--no-figures"]
    runs.unlink()
    moved.rename(runs)
    # viz
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield "viz, port in use", ["viz", "--port", str(taken.getsockname()[1])]
    yield "viz --host no-such-host.invalid", ["viz", "--host", "no-such-host.invalid", "--port", "0"]
    http.stop.set()
    silent.stop.set()


def two_writers(tmp: Path, timeout: float) -> list[tuple[str, str, str]]:
    """Two sweeps into one folder at once: the second is refused with the first's PID; the first,
    stopped afterwards with SIGTERM, ends cleanly (143, resumable) and leaves only whole parts."""
    good = experiment(tmp / "exp2", name="writers", prange="values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]")
    good.write_text(good.read_text().replace("replications = 1", "replications = 2000"))  # long enough to overlap
    out = tmp / "writers"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "experiments.cli", "sweep", str(good), "--out", str(out), "--workers", "1",
            "--no-figures", "--chunk-size", "20"]
    first = subprocess.Popen(argv, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not list((out / "runs").glob("part-*.parquet")) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    code, err = run(argv[3:], tmp, timeout)
    holder = f"PID {first.pid}" in err
    rows = [("second writer while the first runs", classify(code, err) if holder or code != 2 else "other",
             err.strip().splitlines()[-1] if err.strip() else "")]
    first.send_signal(signal.SIGTERM)
    try:
        _, err1 = first.communicate(timeout=timeout)
        ok = first.returncode == 128 + signal.SIGTERM and "Traceback" not in err1
        rows.append(("first writer, then SIGTERM", "clean result" if ok else classify(first.returncode, err1),
                     err1.strip().splitlines()[-1] if err1.strip() else ""))
    except subprocess.TimeoutExpired:
        os.killpg(first.pid, signal.SIGKILL)
        rows.append(("first writer, then SIGTERM", "hang", ""))
    return rows


def silent_violations(folders: list[Path]) -> int:
    """Runs stored `ok` whose books are broken: each ok run of each sweep is run again with every
    per-step invariant checked."""
    sys.path.insert(0, str(ROOT))
    from experiments.design import load_experiment
    from experiments.storage import load_results
    from model.errors import InvariantViolation
    from model.simulate import simulate

    count = 0
    for folder in folders:
        try:
            df = load_results(folder, status="ok")
            exp = load_experiment(folder / "experiment.toml", check_points=False)
        except Exception:  # noqa: BLE001 - a folder the attacks damaged on purpose
            continue
        for run_id in df["run_id"]:
            spec = exp.run(int(run_id))
            scenario = exp.base_scenario.with_overrides(spec.overrides) if spec.overrides else exp.base_scenario
            try:
                simulate(scenario, seed=exp.seed(int(run_id)), keep_series=False, check_invariants=True)
            except InvariantViolation:
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before an attack counts as a hang")
    parser.add_argument("--only", default="", help="run only attacks whose label contains this")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="roundtrip-fuzz-") as scratch:
        tmp = Path(scratch)
        for label, command in attacks(tmp):
            if args.only and args.only not in label and label != "a sweep to damage afterwards":
                continue
            t0 = time.perf_counter()
            code, err = run(command, tmp, args.timeout)
            outcome = classify(code, err)
            last = err.strip().splitlines()[-1] if err.strip() else ""
            rows.append((label, outcome, f"{time.perf_counter() - t0:4.1f}s  {last[:150]}"))
        if not args.only or "writer" in args.only:
            rows.extend(two_writers(tmp, args.timeout))
        folders = [p.parent for p in tmp.glob("*/manifest.json")]
        silent = silent_violations(folders)
    width = max(len(r[0]) for r in rows)
    for label, outcome, note in rows:
        print(f"{label:<{width}}  {outcome:<19}  {note}")
    counts = Counter(r[1] for r in rows)
    print()
    print(f"{'outcome':<21}count")
    for name in OUTCOMES:
        print(f"{name:<21}{counts.get(name, 0)}")
    print(f"{"silent violation":<21}{silent}  (runs stored ok whose books break with every check on)")
    print(f"attacks: {len(rows)}")
    return 1 if counts["traceback"] or counts["hang"] or counts["other"] or silent else 0


if __name__ == "__main__":
    sys.exit(main())
