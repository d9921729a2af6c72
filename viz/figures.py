"""What the live page shows, as plain data: pure functions of the running model.

Figure builders (`*_figure`: plotly figure dicts; `*_rows`, `*_lines`: rows of numbers and
words) hold every number the page draws, so tests and the browser test compare the page with
them without a widget in sight. The widgets that draw them are in viz/components.py.

When the page runs the counterfactual twin (`model.twin`: the same scenario and seed without
vendor money, advanced in lockstep), every time chart draws it dashed beside the solid run, and
the key figures and losses give both arms and their difference.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from model.losses import SECTORS
from model.reporters import LUCENT_CIRCULARITY

FIRM_KINDS = ("lab", "vendor", "cloud", "utility")
KIND_LABEL = {"lab": "AI lab", "vendor": "chip vendor", "cloud": "cloud", "utility": "utility", "investor": "investor"}
FLOW_COLORS = {
    "equity": "rgba(44,160,44,0.55)",
    "loan": "rgba(31,119,180,0.55)",
    "chips": "rgba(214,39,40,0.55)",
    "compute": "rgba(148,103,189,0.55)",
    "power": "rgba(255,127,14,0.55)",
    "end_market": "rgba(23,190,207,0.55)",
    "other": "rgba(127,127,127,0.45)",  # operating costs, construction, fuel: out to the rest of the world
}
# a colour per firm, stable across charts (plotly's default cycle, then a few more)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939")
DEFAULT_COLOR = "#b00020"  # a default's vertical line and flash
TWIN_SUFFIX = " (no vendor money)"
CHART_HEIGHT = 290
CHART_WIDTH = 460  # two charts a row beside the sidebar at 1400 px; plotly widgets do not shrink to fit
SANKEY_WIDTH = 620
SANKEY_HEIGHT = 400


# ----------------------------------------------------------------------------- formatting


def fmt_money(value: float | None) -> str:
    """B$ with two decimals; the format the browser test reads back."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.2f}"


def fmt_share(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f} %"


# ----------------------------------------------------------------------------- reading the model


def firms(model: Any) -> list[Any]:
    """The firms (labs, vendors, clouds, utilities) in a stable order: by kind, then name."""
    found = [a for a in model.agents if getattr(a, "kind", None) in FIRM_KINDS]
    return sorted(found, key=lambda a: (FIRM_KINDS.index(a.kind), a.name))


def twin_of(model: Any) -> Any | None:
    """The counterfactual twin running beside the model, if the page turned it on."""
    return getattr(model, "twin", None)


LOSS_PREFIX = "loss:"  # `loss:<key>` reads a severity measure from the model's loss history


def series(model: Any, column: str) -> np.ndarray:
    """One measure over time (index = month); empty when the model has no such column. Collected
    measures come from the DataCollector, `loss:<key>` from the page's history of the severity
    measures (`LiveModel.loss_history`).

    An array, not a list: plotly checks and sends an array in one piece (a binary buffer),
    where a list is checked element by element."""
    if column.startswith(LOSS_PREFIX):
        key = column[len(LOSS_PREFIX):]
        return np.asarray([row.get(key, math.nan) for row in getattr(model, "loss_history", ())], dtype=float)
    return np.asarray(model.datacollector.model_vars.get(column, ()), dtype=float)


def has_series(model: Any, column: str) -> bool:
    if column.startswith(LOSS_PREFIX):
        history = getattr(model, "loss_history", None)
        return bool(history) and column[len(LOSS_PREFIX):] in history[0]
    return column in model.datacollector.model_vars


def severity_now(model: Any) -> dict[str, float]:
    history = getattr(model, "loss_history", None)
    return history[-1] if history else model.losses.summary(model)


def latest(model: Any, column: str) -> float:
    values = model.datacollector.model_vars.get(column)
    return float(values[-1]) if values else float("nan")


def step_flows(model: Any) -> list[Any]:
    """This step's transfers (payer, payee, kind, amount)."""
    return list(model.ledger.flows)


def events(model: Any) -> list[dict[str, Any]]:
    """The event log so far, oldest first: dicts with step, kind, agent, text."""
    return list(getattr(model, "events", []))


def default_months(model: Any) -> list[tuple[int, str]]:
    """(month, firm) of every default so far, in order."""
    return [(int(d["step"]), str(d["agent"])) for d in getattr(model, "defaults", [])]


# the model's flow kinds by Sankey colour group; unknown kinds are matched by words below
FLOW_KIND_GROUP = {
    "equity": "equity", "stake_sale": "equity", "warrant": "equity",
    "vendor_loan": "loan", "gpu_backed": "loan", "interest": "loan", "principal": "loan", "recovery": "loan",
    "chip_sale": "chips",
    "compute_rent": "compute", "spot_rent": "compute", "backstop": "compute",
    "power": "power",
    "ai_services": "end_market", "other_revenue": "end_market",
}
# secondary share trading between investors through the exchange, and the end market's income and
# other spending (between the end market and the rest of the economy): money that never enters
# the chain; either would dwarf every other flow
SANKEY_SKIP_KINDS = {"trade", "end_market_income", "end_market_other_spending"}


def flow_group(kind: str) -> str:
    """The Sankey colour group of a flow kind ('compute_rent' -> 'compute')."""
    k = kind.lower()
    if k in FLOW_KIND_GROUP:
        return FLOW_KIND_GROUP[k]
    for group, words in (
        ("equity", ("equity", "share", "stake", "warrant", "dividend")),
        ("loan", ("loan", "interest", "principal", "bond", "debt", "credit")),
        ("chips", ("chip",)),
        ("compute", ("compute", "rent", "take_or_pay", "backstop")),
        ("power", ("power", "energy", "grid")),
        ("end_market", ("end_market", "ai_services", "service")),
    ):
        if any(w in k for w in words):
            return group
    return "other"


# ----------------------------------------------------------------------------- time charts


def _firm_colors(model: Any) -> dict[str, str]:
    return {f.name: PALETTE[i % len(PALETTE)] for i, f in enumerate(firms(model))}


def chain_lines(columns: dict[str, tuple[str, str]]) -> Callable[[Any], list[tuple[str, str, str, str]]]:
    """Lines of model-level measures: {column: (label, colour)} -> (column, label, colour, axis)."""
    def lines(model: Any) -> list[tuple[str, str, str, str]]:
        return [(col, label, color, "y") for col, (label, color) in columns.items() if has_series(model, col)]
    return lines


def firm_lines(measure: str) -> Callable[[Any], list[tuple[str, str, str, str]]]:
    """One line per firm of a per-firm measure (`revenue:OpenAI`, ...)."""
    def lines(model: Any) -> list[tuple[str, str, str, str]]:
        present = model.datacollector.model_vars
        colors = _firm_colors(model)
        return [(f"{measure}:{name}", name, color, "y") for name, color in colors.items() if f"{measure}:{name}" in present]
    return lines


def _with_right_axis(base: Callable[[Any], list], column: str, label: str, color: str) -> Callable[[Any], list]:
    def lines(model: Any) -> list[tuple[str, str, str, str]]:
        extra = [(column, label, color, "y2")] if column in model.datacollector.model_vars else []
        return base(model) + extra
    return lines


class TimeChart:
    """A chart of measures over months: which lines, titles, axes and reference levels."""

    def __init__(self, key: str, title: str, ytitle: str, lines: Callable[[Any], list], *,
                 percent: bool = False, y2title: str = "", y2range: tuple[float, float] | None = None,
                 hlines: Iterable[tuple[float, str]] = ()):
        self.key, self.title, self.ytitle, self.lines = key, title, ytitle, lines
        self.percent, self.y2title, self.y2range, self.hlines = percent, y2title, y2range, tuple(hlines)


TIME_CHARTS = (
    TimeChart("circularity", "Circularity: vendor money in its customers / T12M revenue", "share",
              chain_lines({"circularity": ("circularity ratio", PALETTE[0]),
                           "round_tripped_share": ("round-tripped revenue share", PALETTE[1])}),
              percent=True, hlines=[(LUCENT_CIRCULARITY, f"Lucent 2000: {LUCENT_CIRCULARITY * 100:.0f} %")]),
    TimeChart("coverage", "End market vs compute spending (the organic coverage gap)", "B$/month",
              chain_lines({"end_market_spend": ("end-market revenue", PALETTE[9]),
                           "compute_spend": ("total compute spending", PALETTE[4])})),
    TimeChart("revenue", "Revenue by firm", "B$/month", firm_lines("revenue")),
    TimeChart("market_value", "Market values", "B$", firm_lines("market_value")),
    TimeChart("losses", "Losses so far: capital lost at cost, credit losses, exposure at risk", "B$",
              chain_lines({"loss:capital_lost_at_cost": ("capital lost at cost", PALETTE[3]),
                           "loss:credit_losses": ("credit losses (loan face)", PALETTE[1]),
                           "loss:vendor_exposure_lost": ("vendor exposure lost", PALETTE[4]),
                           "loss:exposure_at_risk_end": ("exposure at risk now", PALETTE[7])})),
    TimeChart("capacity", "Compute capacity", "GW",
              chain_lines({"gw_contracted": ("contracted", PALETTE[0]), "gw_built": ("built", PALETTE[1]),
                           "gw_powered": ("powered", PALETTE[2]), "gw_idle": ("idle", PALETTE[3])})),
    TimeChart("prices", "GPU rental and power prices", "B$/GW-month",
              _with_right_axis(chain_lines({"gpu_spot_price": ("GPU spot", PALETTE[0]), "contract_price": ("contract", PALETTE[1])}),
                               "power_price", "power, $/MWh (right)", PALETTE[3]),
              y2title="$/MWh"),
    TimeChart("credit", "Credit spread and sentiment", "spread (1/year)",
              _with_right_axis(chain_lines({"credit_spread": ("credit spread", PALETTE[0])}), "sentiment", "sentiment (right)", "#000000"),
              percent=True, y2title="sentiment", y2range=(-1.0, 1.0)),
)
CHARTS_BY_KEY = {chart.key: chart for chart in TIME_CHARTS}


def _trace(name: str, y: np.ndarray, color: str, axis: str, dash: str, legend: bool, group: str) -> dict[str, Any]:
    # no x: plotly places point i at month i, so a step sends only the new y values
    return {"type": "scatter", "mode": "lines", "name": name, "y": y,
            "line": {"color": color, "width": 1.6, "dash": dash}, "yaxis": axis,
            "legendgroup": group, "showlegend": legend}


def default_shapes(model: Any, twin: Any | None = None) -> list[dict[str, Any]]:
    """A vertical line at the month of every default (dotted for the twin's)."""
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": m, "x1": m, "y0": 0, "y1": 1,
               "line": {"color": DEFAULT_COLOR, "width": 1.2}, "name": f"default:{firm}"} for m, firm in default_months(model)]
    if twin is not None:
        shapes += [{"type": "line", "xref": "x", "yref": "paper", "x0": m, "x1": m, "y0": 0, "y1": 1,
                    "line": {"color": "#777777", "width": 1.0, "dash": "dot"}, "name": f"twin-default:{firm}"}
                   for m, firm in default_months(twin)]
    return shapes


def time_figure(model: Any, chart: TimeChart) -> dict[str, Any]:
    """The chart as a plotly figure dict: solid lines for the run, dashed for its twin (if on)."""
    twin = twin_of(model)
    data = []
    for column, label, color, axis in chart.lines(model):
        data.append(_trace(label, series(model, column), color, axis, "solid", True, label))
        if twin is not None:
            data.append(_trace(label + TWIN_SUFFIX, series(twin, column), color, axis, "dash", False, label))
    shapes = default_shapes(model, twin)
    annotations = []
    for level, text in chart.hlines:
        shapes.append({"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": level, "y1": level,
                       "line": {"color": "black", "width": 1, "dash": "dash"}, "name": f"ref:{text}"})
        annotations.append({"xref": "paper", "yref": "y", "x": 0.01, "y": level, "text": text, "showarrow": False,
                            "xanchor": "left", "yanchor": "bottom", "font": {"size": 10}})
    subtitle = "solid: with vendor money · dashed: twin without" if twin is not None else ""
    layout: dict[str, Any] = {
        "title": {"text": chart.title + (f"<br><sup>{subtitle}</sup>" if subtitle else ""), "font": {"size": 13}},
        "height": CHART_HEIGHT, "width": CHART_WIDTH,
        "margin": {"l": 55, "r": 55 if chart.y2title else 25, "t": 45 if subtitle else 35, "b": 30},
        "xaxis": {"title": {"text": "month"}, "gridcolor": "#eeeeee", "zeroline": False},
        "yaxis": {"title": {"text": chart.ytitle}, "gridcolor": "#eeeeee", "tickformat": ".0%" if chart.percent else ""},
        "legend": {"orientation": "h", "y": -0.18, "font": {"size": 10}},
        "plot_bgcolor": "white", "paper_bgcolor": "white",
        "shapes": shapes, "annotations": annotations,
    }
    if chart.y2title:
        layout["yaxis2"] = {"title": {"text": chart.y2title}, "overlaying": "y", "side": "right", "showgrid": False}
        if chart.y2range:
            layout["yaxis2"]["range"] = list(chart.y2range)
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------- the loop


def loop_totals(model: Any) -> dict[tuple[str, str, str], float]:
    """This step's flows summed by (payer, payee, colour group); investors pooled into one node."""
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}

    def node(name: str) -> str:
        return "investors" if kinds.get(name) == "investor" else name

    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for f in step_flows(model):
        src, dst = node(f.payer), node(f.payee)
        if src != dst and f.amount > 0 and f.kind not in SANKEY_SKIP_KINDS:
            totals[(src, dst, flow_group(f.kind))] += f.amount
    return dict(totals)


# the circle: vendor money goes to labs (equity) and clouds (loans), labs rent compute from
# clouds, clouds buy the vendor's chips
LOOP_EDGES = {("vendor", "lab"), ("vendor", "cloud"), ("lab", "cloud"), ("cloud", "vendor")}
# Sankey columns in the loop's order, so its legs run straight across: payers vendor, lab, cloud
# face payees lab, cloud, vendor; everyone else below
PAYER_ORDER = ("vendor", "lab", "cloud", "investors", "end_market", "utility", "rest_of_world", "other")
PAYEE_ORDER = ("lab", "cloud", "vendor", "utility", "investors", "end_market", "rest_of_world", "other")
SANKEY_MIN_SHARE = 0.03  # a node with less than this share of its column's money is pooled into "other"
SANKEY_MAX_NODES = 8  # per column, "other" included


def loop_summary(model: Any) -> dict[str, float]:
    """B$ this step along each leg of the circle, by kind pair ('vendor→lab', ...)."""
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}
    legs = {f"{a}→{b}": 0.0 for a, b in sorted(LOOP_EDGES)}
    for (src, dst, _group), value in loop_totals(model).items():
        pair = (kinds.get(src), kinds.get(dst))
        if pair in LOOP_EDGES:
            legs[f"{pair[0]}→{pair[1]}"] += value
    return legs


def _node_kind(name: str, kinds: dict[str, str]) -> str:
    return name if name in ("end_market", "investors", "rest_of_world", "other") else kinds.get(name, "other")


def _pool(totals: dict[str, float], kinds: dict[str, str], order: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The nodes of one column in loop order, and where each name goes ("other" for small ones)."""
    column_total = sum(totals.values())
    ranked = sorted(totals, key=lambda n: -totals[n])
    kept = [n for n in ranked if totals[n] >= SANKEY_MIN_SHARE * column_total][: SANKEY_MAX_NODES - 1]
    if len(kept) == len(ranked) - 1:  # pooling a single node into "other" hides its name for nothing
        kept = ranked
    where = {n: (n if n in kept else "other") for n in totals}
    nodes = sorted(set(where.values()), key=lambda n: (order.index(_node_kind(n, kinds)) if _node_kind(n, kinds) in order else len(order), n))
    return nodes, where


def sankey_figure(model: Any) -> dict[str, Any] | None:
    """Who paid whom this month: payers on the left, payees on the right, links by kind.

    Every agent appears twice (as payer and as payee), so the diagram has no cycles: plotly's
    circular Sankey fails on this economy's money loops ("Invalid array length"). Columns run in
    the loop's order, small payers and payees are pooled into "other", and the legs of the
    vendor -> lab -> cloud -> vendor circle are drawn solid, every other flow faint.
    """
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}
    totals = loop_totals(model)
    if not totals:
        return None  # plotly's Sankey throws on empty data ("Invalid array length")
    paid, got = defaultdict(float), defaultdict(float)
    for (src, dst, _g), value in totals.items():
        paid[src] += value
        got[dst] += value
    payers, payer_of = _pool(paid, kinds, PAYER_ORDER)
    payees, payee_of = _pool(got, kinds, PAYEE_ORDER)
    links: dict[tuple[str, str, str], float] = defaultdict(float)
    for (src, dst, group), value in totals.items():
        links[(payer_of[src], payee_of[dst], group)] += value
    left = {n: i for i, n in enumerate(payers)}
    right = {n: len(payers) + i for i, n in enumerate(payees)}

    def label(name: str, amount: float) -> str:
        return f"{name.replace('_', ' ')} {amount:,.1f}"

    pooled_paid = {n: sum(v for m, v in paid.items() if payer_of[m] == n) for n in payers}
    pooled_got = {n: sum(v for m, v in got.items() if payee_of[m] == n) for n in payees}
    labels = [label(n, pooled_paid[n]) for n in payers] + [label(n, pooled_got[n]) for n in payees]
    xs = [0.001] * len(payers) + [0.999] * len(payees)
    ys = _stack(pooled_paid, payers) + _stack(pooled_got, payees)

    def color(src: str, dst: str, group: str) -> str:
        base = FLOW_COLORS[group]
        in_loop = (kinds.get(src), kinds.get(dst)) in LOOP_EDGES
        return base.rsplit(",", 1)[0] + (",0.85)" if in_loop else ",0.25)")

    ordered = sorted(links.items(), key=lambda kv: (left[kv[0][0]], right[kv[0][1]], kv[0][2]))
    trace = {
        "type": "sankey", "arrangement": "fixed",
        "node": {"label": labels, "x": xs, "y": ys, "pad": 8, "thickness": 12,
                 "color": ["#555555"] * len(labels), "hovertemplate": "%{label} B$<extra></extra>"},
        "link": {"source": [left[s] for (s, _d, _g), _v in ordered], "target": [right[d] for (_s, d, _g), _v in ordered],
                 "value": [v for _k, v in ordered], "color": [color(s, d, g) for (s, d, g), _v in ordered],
                 "label": [g.replace("_", " ") for (_s, _d, g), _v in ordered],
                 "hovertemplate": "%{source.label} → %{target.label}<br>%{label}: %{value:.2f} B$<extra></extra>"},
        "textfont": {"size": 11},
    }
    legend = " ".join(f"<span style='color:{c.rsplit(',', 1)[0]},1)'>■</span>{g.replace('_', ' ')}" for g, c in FLOW_COLORS.items())
    layout = {
        "title": {"text": f"Money flows this month, B$ (payers left, payees right; solid = the loop)<br><sup>{legend}</sup>",
                  "font": {"size": 12}},
        "height": SANKEY_HEIGHT, "width": SANKEY_WIDTH, "margin": {"l": 10, "r": 10, "t": 55, "b": 10},
        "paper_bgcolor": "white",
    }
    return {"data": [trace], "layout": layout}


def _stack(amounts: dict[str, float], order: list[str]) -> list[float]:
    """Node centres (0 = top) for a column stacked in `order`, heights in proportion to money
    and a gap between nodes, so the order on the page is the order given."""
    total = sum(amounts[n] for n in order) or 1.0
    gap = 0.04
    usable = 1.0 - gap * (len(order) - 1) - 0.02
    ys, top = [], 0.01
    for n in order:
        h = usable * amounts[n] / total
        ys.append(min(0.999, max(0.001, top + h / 2)))
        top += h + gap
    return ys


# ----------------------------------------------------------------------------- key figures


def key_figures(model: Any) -> list[tuple[str, str, str | None, str | None]]:
    """Headline figures of the month: (name, the run's value, the twin's, the difference run - twin)."""
    twin = twin_of(model)

    def both(fmt: Callable[[Any], str], read: Callable[[Any], Any],
             delta: Callable[[Any, Any], str] | None = None) -> tuple[str, str | None, str | None]:
        mine = read(model)
        if twin is None:
            return fmt(mine), None, None
        other = read(twin)
        return fmt(mine), fmt(other), (delta or (lambda a, b: fmt(a - b)))(mine, other)

    def defaults(m: Any) -> int:
        return len(getattr(m, "defaults", []))

    def first_default(m: Any) -> int | None:
        months = default_months(m)
        return months[0][0] if months else None

    def months_apart(a: int | None, b: int | None) -> str:
        return "–" if a is None or b is None else f"{a - b:+d} months"

    def money(v: float) -> str:
        return fmt_money(v) + " B$"

    return [
        ("month", str(getattr(model, "date_label", model.steps)), None, None),
        ("end-market spending", *both(money, lambda m: latest(m, "end_market_spend"))),
        ("compute spending", *both(money, lambda m: latest(m, "compute_spend"))),
        ("vendor revenue", *both(money, lambda m: latest(m, "vendor_revenue"))),
        ("organic coverage", *both(fmt_share, lambda m: latest(m, "organic_coverage"))),
        ("circularity", *both(fmt_share, lambda m: latest(m, "circularity"))),
        ("capital lost at cost", *both(money, lambda m: severity_now(m)["capital_lost_at_cost"])),
        ("defaults", *both(str, defaults, lambda a, b: f"{a - b:+d}")),
        ("first default", *both(lambda v: "none" if v is None else f"month {v}", first_default, months_apart)),
    ]


# the live severity panel: (key of model/losses.py's summary, label, unit)
SEVERITY_ROWS = (
    ("capital_lost_at_cost", "capital lost at cost", "B$"),
    *((f"capital_lost_{sector}", f"… by {sector}" + (" (equity)" if sector == "investors" else ""), "B$")
      for sector in SECTORS),
    ("credit_losses", "credit losses (loan face written off)", "B$"),
    ("equity_lost_at_market", "equity lost at market", "B$"),
    ("vendor_exposure_lost", "vendor exposure lost", "B$"),
    ("exposure_at_risk_end", "exposure at risk now", "B$"),
    ("stranded_gw_peak", "GPUs stranded waiting for power (peak)", "GW"),
    ("scrapped_gw", "GPUs scrapped", "GW"),
    ("build_out_gw_peak", "build-out (peak)", "GW"),
)


def severity_rows(model: Any) -> list[tuple[str, str, str, str | None, str | None]]:
    """(key, label, the run's value, the twin's, run - twin), formatted, for the severity panel."""
    twin = twin_of(model)
    mine = severity_now(model)
    other = severity_now(twin) if twin is not None else None
    rows = []
    for key, label, unit in SEVERITY_ROWS:
        if key not in mine:
            continue
        a = mine[key]
        b = other.get(key) if other is not None else None
        rows.append((key, f"{label}, {unit}", fmt_money(a), None if b is None else fmt_money(b),
                     None if b is None else fmt_money(a - b)))
    return rows


# ----------------------------------------------------------------------------- books and events


BALANCE_COLUMNS = ("assets", "liabilities", "net_worth", "cash", "debt")


def balance_rows(model: Any) -> list[dict[str, Any]]:
    """One row per firm: its balance sheet totals in B$ and whether it has defaulted."""
    rows = []
    for firm in firms(model):
        sheet = firm.books
        rows.append({
            "firm": firm.name, "kind": firm.kind,
            "assets": sheet.total_assets, "liabilities": sheet.total_liabilities, "net_worth": sheet.net_worth,
            "cash": sheet.cash, "debt": sheet.debt(), "defaulted": bool(getattr(firm, "defaulted", False)),
        })
    return rows


def _loan_by_account(model: Any) -> dict[tuple[str, str], Any]:
    """(owner, account) -> the loan behind a `loan:N` line, on the holder's and the issuer's sheet."""
    found = {}
    for loan in getattr(model, "loans", {}).values():
        found[(loan.issuer, loan.account)] = loan
        found[(loan.holder, loan.account)] = loan
    return found


def _account_label(model: Any, owner: str, account: str, loans: dict[tuple[str, str], Any]) -> str:
    loan = loans.get((owner, account))
    if loan is None:
        if account.startswith("shares:"):
            return f"shares in {account.split(':', 1)[1]}"
        return account.replace("_", " ")
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}

    def who(name: str) -> str:
        return "investors" if kinds.get(name) == "investor" else name

    kind = loan.kind.replace("_", " ")
    kind = kind if kind.endswith("loan") else f"{kind} loan"  # "vendor loan", "gpu backed loan"
    if loan.issuer == owner:
        return f"{kind} from {who(loan.holder)} at {100 * loan.rate:.1f} %/year"
    return f"{kind} to {who(loan.issuer)} at {100 * loan.rate:.1f} %/year"


def balance_sheet_lines(model: Any, name: str) -> dict[str, Any]:
    """A firm's balance sheet by account (B$), each loan named by its counterparty, so a
    negative net worth can be traced to the line that causes it."""
    firm = model.by_name[name]
    sheet = firm.books
    loans = _loan_by_account(model)
    assets = [(_account_label(model, name, k, loans), v) for k, v in sheet.assets.items() if abs(v) > 1e-9]
    liabilities = [(_account_label(model, name, k, loans), v) for k, v in sheet.liabilities.items() if abs(v) > 1e-9]
    return {
        "firm": name, "kind": firm.kind, "defaulted": bool(getattr(firm, "defaulted", False)),
        "assets": sorted(assets, key=lambda kv: -abs(kv[1])), "liabilities": sorted(liabilities, key=lambda kv: -abs(kv[1])),
        "total_assets": sheet.total_assets, "total_liabilities": sheet.total_liabilities, "net_worth": sheet.net_worth,
        "default_cause": getattr(firm, "default_cause", "") if getattr(firm, "defaulted", False) else "",
    }


def contract_lines(model: Any, name: str) -> list[str]:
    """A firm's contracts in words: take-or-pay leases, vendor deals, and its loans either way."""
    step = model.steps
    out = []
    firm = model.by_name[name]
    for c in getattr(firm, "contracts", ()):
        if not getattr(c, "active", True):
            continue
        other = c.cloud if c.lab == name else c.lab
        role = "rents from" if c.lab == name else "leases to"
        left = max(0, c.end_step - max(step, c.start_step))
        out.append(f"take-or-pay: {role} {other}, {c.gw:.2f} GW at {c.price_per_gw_month:.2f} B$/GW-month, "
                   f"{left} months left ({fmt_money(c.committed_value(step))} B$ committed)")
    for deal in getattr(model, "deals", []):
        parties = {getattr(deal, f, None) for f in ("vendor", "lab", "cloud")}
        if name in parties and getattr(deal, "active", True):
            terms = ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
                              for k, v in _fields(deal).items() if k not in ("active",))
            out.append(f"{type(deal).__name__}: {terms}")
    for loan in getattr(model, "loans", {}).values():
        if loan.outstanding <= 1e-9 or name not in (loan.issuer, loan.holder):
            continue
        out.append(f"loan: {_account_label(model, name, loan.account, {(name, loan.account): loan})}, "
                   f"{fmt_money(loan.outstanding)} B$ outstanding, {loan.months_left} months left")
    return out


def _fields(obj: Any) -> dict[str, Any]:
    names = getattr(obj, "__dataclass_fields__", None) or getattr(obj, "__slots__", ())
    return {n: getattr(obj, n) for n in names}


def event_rows(model: Any, limit: int = 80) -> list[tuple[int, str, str, str]]:
    """The newest `limit` events, newest first, as (step, kind, agent, text)."""
    return [(e.get("step"), e.get("kind", ""), e.get("agent", ""), e.get("text", "")) for e in reversed(events(model)[-limit:])]
