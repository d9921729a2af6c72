"""`roundtrip run`: one scenario, one seed; a readable summary, the time series and a figure."""

from __future__ import annotations

import json
import math
from pathlib import Path

from model.errors import UserError
from model.losses import SECTORS
from model.reporters import LUCENT_CIRCULARITY
from model.scenario import load_scenario, parse_assignment

DEFAULT_OUT = Path("results") / "run"


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run one scenario and summarise its outcome",
                              description="Run one scenario for one seed; print the outcome, defaults, drawdowns and "
                                          "circularity peak; write the time series and an overview figure to --out.")
    p.add_argument("scenario", nargs="?", default="baseline", help="bundled scenario name or path to a TOML file (default: baseline)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--steps", type=int, default=None, help="months to simulate (default: the scenario's horizon)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="dotted.key=value",
                   help="override any scenario parameter, e.g. --set end_market.annual_growth=0.2 (repeatable; * matches every agent)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the time series and figure (default: {DEFAULT_OUT})")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the readable summary")
    p.add_argument("--no-checks", action="store_true", help="skip the per-step invariant checks (faster)")
    p.set_defaults(func=main)


def main(args) -> int:
    from model.simulate import simulate

    if not 0 <= args.seed < 2**63:
        raise UserError(f"--seed {args.seed}: expected an integer from 0 to 2**63 - 1")
    overrides = dict(parse_assignment(text) for text in args.overrides)
    scenario = load_scenario(args.scenario, overrides)
    if args.steps is not None:
        # the same cap as the scenario's meta.steps: --steps is that field given on the command line
        scenario.with_overrides({"meta.steps": args.steps}, source="--steps")
    result = simulate(scenario, seed=args.seed, steps=args.steps, keep_series=True,
                      check_invariants=False if args.no_checks else None)
    paths = _write_outputs(result, scenario.meta.name, args.out)
    report = _report(result, paths)
    if args.json:
        print(json.dumps(report, allow_nan=False, default=str))
    else:
        _print_readable(report, scenario.meta.name)
    return 0


def _clean(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _report(result, paths: dict[str, str]) -> dict:
    s = result.summary
    report = {
        "outcome": s["outcome"],
        "time_to_collapse": _clean(s["time_to_collapse"]),
        "defaults": [{"agent": d["agent"], "step": d["step"], "cause": d["cause"]} for d in result.defaults],
        "vendor_revenue_drawdown": s["vendor_revenue_drawdown"],
        "vendor_equity_drawdown": s["vendor_equity_drawdown"],
        "circularity_peak": s["circularity_peak"],
        "round_tripped_share_peak": s["round_tripped_share_peak"],
        "cascade_size": s["cascade_size"],
        "organic_coverage_start": s["organic_coverage_start"],
        "organic_coverage_end": s["organic_coverage_end"],
        "losses_by_sector": {k.removeprefix("losses_"): v for k, v in s.items() if k.startswith("losses_")},
        "first_default_step": _clean(s["first_default_step"]),
        "capital_lost_at_cost": s["capital_lost_at_cost"],
        "capital_lost_by_sector": {sector: s[f"capital_lost_{sector}"] for sector in SECTORS},
        "credit_losses": s["credit_losses"],
        "equity_lost_at_market": s["equity_lost_at_market"],
        "vendor_exposure_lost": s["vendor_exposure_lost"],
        "backlog_claims": s["backlog_claims"],
        "backlog_recovered": s["backlog_recovered"],
        "stranded_gw_peak": s["stranded_gw_peak"],
        "scrapped_gw": s["scrapped_gw"],
        "build_out_gw_peak": s["build_out_gw_peak"],
        "exposure_at_risk_end": s["exposure_at_risk_end"],
        "steps": s["steps"],
        "seed": s["seed"],
        "files": paths,
    }
    return {k: _clean(v) for k, v in report.items()}


def _write_outputs(result, name: str, out: Path) -> dict[str, str]:
    from viz.report import run_overview

    try:
        out.mkdir(parents=True, exist_ok=True)
        series_path = out / "series.parquet"
        result.series.to_parquet(series_path)
        figure_path = out / "overview.png"
        run_overview(result.series, result.defaults, title=f"{name}, seed {result.summary['seed']}: "
                                                           f"{result.summary['outcome']}").savefig(figure_path, dpi=110)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write results ({exc.strerror or exc})") from None
    return {"series": str(series_path), "figure": str(figure_path)}


def _print_readable(r: dict, name: str) -> None:
    ttc = f" at month {r['time_to_collapse']:.0f}" if r["time_to_collapse"] is not None else ""
    print(f"{name}, seed {r['seed']}, {r['steps']} months: {r['outcome'].replace('_', ' ').upper()}{ttc}")
    if r["defaults"]:
        print(f"defaults ({len(r['defaults'])}, largest cascade {r['cascade_size']} in one month):")
        for d in r["defaults"]:
            print(f"  month {d['step']:>3}  {d['agent']:<12} {d['cause']}")
    else:
        print("defaults: none")
    print(f"vendor revenue drawdown (trailing 12 m): {r['vendor_revenue_drawdown']:.0%}")
    print(f"vendor equity drawdown:                  {r['vendor_equity_drawdown']:.0%}")
    print(f"{f'circularity peak (Lucent 2000: {LUCENT_CIRCULARITY * 100:.0f} %):':<41}{r['circularity_peak']:.0%}")
    print(f"round-tripped share of vendor revenue:   {r['round_tripped_share_peak']:.1%} at peak")
    print(f"organic coverage, start -> end:          {r['organic_coverage_start']:.2f} -> {r['organic_coverage_end']:.2f}")
    losses = ", ".join(f"{k} {v:.1f}" for k, v in r["losses_by_sector"].items() if v > 0) or "none"
    print(f"write-offs by holder (B$):               {losses}")
    lost = ", ".join(f"{k} {v:.1f}" for k, v in r["capital_lost_by_sector"].items() if v > 0) or "none"
    print(f"capital lost at cost (B$):               {r['capital_lost_at_cost']:.1f} ({lost})")
    print(f"credit losses / exposure at risk (B$):   {r['credit_losses']:.1f} / {r['exposure_at_risk_end']:.1f} at the end")
    print(f"time series: {r['files']['series']}")
    print(f"figure:      {r['files']['figure']}")
