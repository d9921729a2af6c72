"""Benchmark of the assumption screen and its analysis: time, ranking stability, memory.

    .venv/bin/python benchmarks/bench_screen.py --trajectories 30            # run the screen, analyse it
    .venv/bin/python benchmarks/bench_screen.py --reuse results/screen_baseline   # analyse a finished (or partial) screen
    .venv/bin/python benchmarks/bench_screen.py --memory-only                # analyze on 10,000 vs 100,000 synthetic rows

1. `roundtrip sweep --screen baseline --trajectories R --workers 1`: wall time and CPU time of
   the sweep (CPU time is what the wall time would be on a machine nobody else is using).
2. `roundtrip analyze DIR`: wall time and peak RSS, in a fresh process.
3. Is R enough? mu* of P(collapse) (and of each severity measure) from the first R/2
   trajectories against all R, and from the two halves against each other: Spearman rank
   correlation over the union of the two top-10 lists, and how many of the top 10 agree. A
   ranking that barely changes when the trajectories double is stable enough to act on.
4. Memory of `analyze` on 10,000 and 100,000 synthetic summary rows (an LHS design over five
   parameters; every part also carries a long traceback column that the analysis must not read):
   peak RSS of a fresh process and the tracemalloc peak of the analysis itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of a command run to the end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out.stdout


# ---------------------------------------------------------------------------- stability


def ranking_stability(directory: Path, top: int = 10) -> list[dict]:
    """mu* rankings from the first half of the trajectories against all of them, and half against half."""
    import numpy as np
    import pandas as pd
    from SALib.util import _compute_delta

    from experiments.design import MORRIS_LEVELS
    from experiments.sensitivity import _design_matrix, elementary_effects, measure_names, point_means, read_runs, spearman_top

    runs = read_runs(directory)
    points = point_means(runs).sort_values("point_id")
    X = _design_matrix(directory)
    names = [p["name"] for p in runs.parameters]
    size = len(names) + 1
    rows = []
    for measure in measure_names(runs):
        y = points[measure].to_numpy(float)
        ee = elementary_effects(X, y, len(names), _compute_delta(MORRIS_LEVELS))
        started = np.flatnonzero(np.isfinite(ee).any(axis=1))  # trajectories with at least one effect on disk
        if len(started) < 4:
            continue
        half = len(started) // 2

        def mu_star(trajs):
            return pd.Series(np.nanmean(np.abs(ee[trajs]), axis=0), index=names).fillna(0.0)

        first, second, whole = mu_star(started[:half]), mu_star(started[half:2 * half]), mu_star(started)
        def top_set(s):
            return set(s.sort_values(ascending=False).index[:top])

        rows.append({
            "measure": measure, "trajectories": len(started), "points_per_trajectory": size,
            "spearman_half_vs_all": round(spearman_top(first, whole, top), 3),
            "top10_shared_half_vs_all": len(top_set(whole) & top_set(first)),
            "spearman_half_vs_half": round(spearman_top(first, second, top), 3),
            "top10_shared_half_vs_half": len(top_set(first) & top_set(second)),
            "top3": list(whole.sort_values(ascending=False).index[:3]),
        })
    return rows


# ---------------------------------------------------------------------------- memory


SYNTHETIC = """
[experiment]
name = "synthetic_{n}"
scenario = "baseline"
root_seed = 9
[design]
method = "lhs"
samples = {n}
[keep]
series = "none"
"""
SYNTH_PARAMS = [("end_market.annual_growth", -0.1, 0.9), ("end_market.volatility", 0.05, 0.5),
                ("vendors.*.financing_share", 0.0, 0.8), ("credit.max_ltv", 0.3, 0.9), ("gpus.fire_sale_discount", 0.1, 0.9)]


def synthetic_folder(parent: Path, n: int) -> Path:
    """A results folder of n runs with made-up summaries (collapse more likely at high circularity and low growth)."""
    import numpy as np

    from experiments.design import load_experiment
    from experiments.storage import ResultsStore

    text = SYNTHETIC.format(n=n) + "".join(
        f'\n[[parameters]]\npath = "{p}"\nname = "{p.split(".")[-1]}"\nlow = {lo}\nhigh = {hi}\n' for p, lo, hi in SYNTH_PARAMS)
    source = parent / f"synthetic_{n}.toml"
    source.write_text(text)
    experiment = load_experiment(source, check_points=False)
    out = parent / f"synthetic_{n}"
    store = ResultsStore(out, experiment).open()
    rng = np.random.default_rng(n)
    design = experiment.design_frame()
    chunk = 5000
    for start in range(0, n, chunk):
        ids = range(start, min(n, start + chunk))
        records = []
        for i in ids:
            row = design.iloc[i]
            risk = 1 / (1 + np.exp(-(6 * row["financing_share"] - 5 * row["annual_growth"] - 1)))
            collapse = rng.random() < risk
            records.append({
                "run_id": i, "point_id": i, "replication": 0, **{c: float(row[c]) for c in design.columns if c != "point_id"},
                "seed_root": 9, "seed_spawn_key": i, "status": "ok", "error": None, "traceback": "x" * 2000,
                "outcome": "collapse" if collapse else "stable_growth",
                "first_default_step": float(rng.integers(1, 120)) if collapse else float("nan"),
                "vendor_revenue_drawdown": float(rng.random() * (0.9 if collapse else 0.3)),
                "vendor_equity_drawdown": float(rng.random()), "n_defaults": float(collapse), "steps": 120.0, "elapsed_s": 0.1,
            })
        store.write_chunk(records)
    store.flush_manifest(force=True)
    return out


MEASURE = """
import resource, sys, time, tracemalloc
tracemalloc.start()
t0 = time.perf_counter()
from experiments.sensitivity import analyze, write_tables
from experiments.html_report import write_html_report
result = analyze(sys.argv[1], resamples=200)
write_tables(result)
write_html_report(result)
elapsed = time.perf_counter() - t0
current, peak = tracemalloc.get_traced_memory()
print(f"{elapsed:.1f} {peak / 2**20:.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
"""


def memory_check(sizes=(10_000, 100_000)) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = synthetic_folder(Path(tmp), n)
            out = subprocess.run([PY, "-c", MEASURE, str(folder)], env=_env(), capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(out.stderr[-3000:])
            seconds, traced, rss = out.stdout.split()[-3:]
            parquet_mb = sum(p.stat().st_size for p in (folder / "runs").glob("*.parquet")) / 2**20
            rows.append({"rows": n, "runs_parquet_MiB": round(parquet_mb, 1), "analyze_s": float(seconds),
                         "tracemalloc_peak_MiB": float(traced), "peak_rss_MiB": float(rss)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


# ---------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trajectories", type=int, default=30)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=None, help="results folder of the screen (default: a scratch folder)")
    ap.add_argument("--reuse", default=None, metavar="DIR", help="analyse this screen folder instead of running one")
    ap.add_argument("--memory-only", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    report: dict = {}
    if not args.memory_only:
        if args.reuse:
            out = Path(args.reuse)
        else:
            out = Path(args.out or tempfile.mkdtemp(prefix="bench-screen-")) / "screen_baseline"
            wall, cpu, _ = timed([PY, "-m", "experiments.cli", "sweep", "--screen", "baseline", "--trajectories", str(args.trajectories),
                                  "--workers", str(args.workers), "--out", str(out), "--no-figures", "--no-progress"])
            manifest = json.loads((out / "manifest.json").read_text())
            report["sweep"] = {"runs": manifest["design"]["n_runs"], "parameters": len(manifest["design"]["parameters"]),
                               "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
            print(json.dumps(report["sweep"]), flush=True)
        wall, cpu, _ = timed([PY, "-m", "experiments.cli", "analyze", str(out), "--resamples", "1000"])
        report["analyze"] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
        print(json.dumps(report["analyze"]), flush=True)
        report["stability"] = ranking_stability(out)
        for row in report["stability"]:
            print(json.dumps(row), flush=True)
    if not args.skip_memory:
        report["memory"] = memory_check()
        a, b = report["memory"][0], report["memory"][-1]
        print(f"analyze memory, {b['rows']} vs {a['rows']} rows: peak RSS x{b['peak_rss_MiB'] / a['peak_rss_MiB']:.2f}, "
              f"tracemalloc peak x{b['tracemalloc_peak_MiB'] / a['tracemalloc_peak_MiB']:.2f}")


if __name__ == "__main__":
    main()
