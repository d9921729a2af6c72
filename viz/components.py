"""The live page's components: each takes the running model and draws one view of it.

Every component is a plain function of the model (SolaraViz wraps it so it re-renders after
each step). The figure builders (`*_figure`, `*_rows`) are separate pure functions of the model
so they can be tested without a browser, and the browser test can compare what the page shows
with what they compute.

History charts are matplotlib PNGs (cheap for the browser: each plotly widget costs about a
second to create and redraw in a headless chromium). The coverage chart and the Sankey are
plotly (`solara.FigurePlotly`): their numbers stay in the browser's DOM (`gd.data`), so the
browser test reads the plotted values back and compares them with the model.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from typing import Any, Callable, Iterable

import pandas as pd
import plotly.graph_objects as go
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

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
CHART_HEIGHT = 300
PLOTLY_WIDTH = 530  # a grid cell beside the sidebar at 1500 px; plotly widgets do not shrink to fit


# ----------------------------------------------------------------------------- formatting


def fmt_money(value: float) -> str:
    """B$ with two decimals; the format the browser test reads back."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.2f}"


def fmt_share(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f} %"


# ----------------------------------------------------------------------------- reading the model


def firms(model: Any) -> list[Any]:
    """The firms (labs, vendors, clouds, utilities) in a stable order: by kind, then name."""
    found = [a for a in model.agents if getattr(a, "kind", None) in FIRM_KINDS]
    return sorted(found, key=lambda a: (FIRM_KINDS.index(a.kind), a.name))


def model_frame(model: Any) -> pd.DataFrame:
    """The model-level time series collected so far, indexed by step."""
    frame = model.datacollector.get_model_vars_dataframe()
    frame.index.name = "step"
    return frame


def firm_frame(model: Any, measure: str) -> pd.DataFrame:
    """A per-firm measure over time (reporter columns `measure:<firm>`): one column per firm."""
    frame = model_frame(model)
    prefix = f"{measure}:"
    order = [f.name for f in firms(model)]
    columns = {col: col[len(prefix):] for col in frame.columns if col.startswith(prefix)}
    picked = frame[list(columns)].rename(columns=columns)
    return picked[[n for n in order if n in picked.columns] + [n for n in picked.columns if n not in order]]


def step_flows(model: Any) -> list[Any]:
    """This step's transfers (payer, payee, kind, amount)."""
    return list(model.ledger.flows)


def events(model: Any) -> list[Any]:
    """The event log so far, oldest first: (step, kind, agent, text)."""
    return list(getattr(model, "events", []))


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


# ----------------------------------------------------------------------------- charts


def _mpl_lines(frame: pd.DataFrame, title: str, ylabel: str, percent: bool = False, styles: dict[str, dict] | None = None) -> Figure:
    """A small line chart (matplotlib: a PNG in the page, cheap for the browser to redraw)."""
    fig = Figure(figsize=(6.2, 3.0), dpi=90)
    fig.subplots_adjust(left=0.12, right=0.88, top=0.9, bottom=0.16)  # fixed: constrained layout doubles the cost
    ax = fig.subplots()
    for column in frame.columns:
        ax.plot(frame.index, frame[column], label=str(column), **(styles or {}).get(column, {}))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if len(frame.columns):
        ax.legend(fontsize=7, ncol=min(4, len(frame.columns)), loc="best", frameon=False)
    return fig


def _pick(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Columns that exist, renamed to their chart labels."""
    present = {c: label for c, label in columns.items() if c in frame.columns}
    return frame[list(present)].rename(columns=present)


def revenue_profit_figure(model: Any) -> Figure:
    revenue, profit = firm_frame(model, "revenue"), firm_frame(model, "profit")
    fig = _mpl_lines(revenue, "Revenue (solid) and profit (dotted) by firm", "B$/month")
    ax = fig.axes[0]
    colors = {line.get_label(): line.get_color() for line in ax.get_lines()}
    for firm in profit.columns:
        ax.plot(profit.index, profit[firm], linestyle=":", color=colors.get(firm))
    ax.axhline(0, color="black", linewidth=0.6)
    return fig


def coverage_figure(model: Any) -> go.Figure:
    """Plotly, not matplotlib: the browser test reads these numbers back from the page."""
    frame = _pick(model_frame(model), {"end_market_spend": "end-market revenue", "compute_spend": "total compute spending"})
    fig = go.Figure()
    for column in frame.columns:
        fig.add_trace(go.Scatter(x=list(frame.index), y=list(frame[column]), name=column, mode="lines"))
    if len(fig.data) == 2:
        # the gap between the two lines is what circular money has to fill
        fig.data[1].update(fill="tonexty", fillcolor="rgba(214,39,40,0.12)")
    fig.update_layout(
        title=dict(text="End market vs compute spending (the organic coverage gap)", font=dict(size=13)),
        height=CHART_HEIGHT, width=PLOTLY_WIDTH, margin=dict(l=50, r=10, t=40, b=35), legend=dict(orientation="h", y=-0.2, font=dict(size=10)),
        xaxis_title="month", yaxis_title="B$/month", template="plotly_white",
    )
    # explicit ranges: FigurePlotly merges each new layout into the widget's, so autoranged
    # axes would keep their first extent
    top = float(frame.max().max()) if len(frame) and len(frame.columns) else 1.0
    fig.update_xaxes(range=[0, max(1, len(frame) - 1)])
    fig.update_yaxes(range=[0, 1.08 * top if top > 0 else 1.0])
    return fig


def market_value_figure(model: Any) -> Figure:
    return _mpl_lines(firm_frame(model, "market_value"), "Market values", "B$")


def circularity_figure(model: Any) -> Figure:
    frame = _pick(model_frame(model), {"circularity": "circularity ratio", "round_tripped_share": "round-tripped revenue share"})
    fig = _mpl_lines(frame, "Circularity: vendor money in its customers / T12M revenue", "share", percent=True)
    ax = fig.axes[0]
    ax.axhline(LUCENT_CIRCULARITY, color="black", linestyle="--", linewidth=1)
    ax.annotate(f"Lucent 2000: {LUCENT_CIRCULARITY * 100:.0f} %", (0.01, LUCENT_CIRCULARITY), xycoords=("axes fraction", "data"),
                xytext=(0, 3), textcoords="offset points", fontsize=8)
    return fig


def capacity_figure(model: Any) -> Figure:
    frame = _pick(model_frame(model), {"gw_contracted": "contracted", "gw_built": "built", "gw_powered": "powered", "gw_idle": "idle"})
    return _mpl_lines(frame, "Compute capacity", "GW")


def prices_figure(model: Any) -> Figure:
    frame = model_frame(model)
    fig = _mpl_lines(_pick(frame, {"gpu_spot_price": "GPU spot", "contract_price": "contract"}), "GPU rental and power prices", "B$/GW-month")
    if "power_price" in frame:
        twin = fig.axes[0].twinx()
        twin.plot(frame.index, frame["power_price"], color="tab:red", linestyle="--", label="power (right)")
        twin.set_ylabel("power, $/MWh", fontsize=8)
        twin.tick_params(labelsize=8)
        twin.legend(fontsize=7, loc="lower right", frameon=False)
    return fig


def credit_figure(model: Any) -> Figure:
    frame = model_frame(model)
    spreads = [c for c in frame.columns if c.startswith("spread") or c.endswith("_spread") or c == "credit_spread"]
    fig = _mpl_lines(frame[spreads].rename(columns=lambda c: c.replace("_", " ")), "Credit spreads and sentiment", "spread (1/year)", percent=True)
    if "sentiment" in frame:
        twin = fig.axes[0].twinx()
        twin.plot(frame.index, frame["sentiment"], color="black", linestyle=":", label="sentiment (right)")
        twin.set_ylim(-1, 1)
        twin.set_ylabel("sentiment", fontsize=8)
        twin.tick_params(labelsize=8)
        twin.legend(fontsize=7, loc="lower right", frameon=False)
    return fig


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


def loop_summary(model: Any) -> dict[str, float]:
    """B$ this step along each leg of the circle, by kind pair ('vendor→lab', ...)."""
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}
    legs = {f"{a}→{b}": 0.0 for a, b in sorted(LOOP_EDGES)}
    for (src, dst, _group), value in loop_totals(model).items():
        pair = (kinds.get(src), kinds.get(dst))
        if pair in LOOP_EDGES:
            legs[f"{pair[0]}→{pair[1]}"] += value
    return legs


def sankey_figure(model: Any) -> go.Figure | None:
    """Who paid whom this step: payers on the left, payees on the right, links by kind.

    Every agent appears twice (as payer and as payee), so the diagram has no cycles: plotly's
    circular Sankey fails on this economy's money loops ("Invalid array length"). The legs of
    the vendor -> lab -> cloud -> vendor circle are drawn solid, every other flow faint.
    """
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}
    totals = loop_totals(model)
    biggest = max(totals.values(), default=0.0)
    links = [(k, v) for k, v in totals.items() if v >= 1e-3 * biggest]
    if not links:
        return None  # plotly's Sankey throws on empty data ("Invalid array length")
    payers = sorted({s for (s, _d, _g), _v in links}, key=lambda n: (_node_rank(n, kinds), n))
    payees = sorted({d for (_s, d, _g), _v in links}, key=lambda n: (_node_rank(n, kinds), n))
    labels = [f"{n.replace('_', ' ')} pays" for n in payers] + [f"{n.replace('_', ' ')} gets" for n in payees]
    left, right = {n: i for i, n in enumerate(payers)}, {n: len(payers) + i for i, n in enumerate(payees)}

    def color(src: str, dst: str, group: str) -> str:
        base = FLOW_COLORS[group]
        in_loop = (kinds.get(src), kinds.get(dst)) in LOOP_EDGES
        return base.rsplit(",", 1)[0] + (",0.85)" if in_loop else ",0.25)")

    fig = go.Figure(go.Sankey(
        node=dict(label=labels, pad=6, thickness=12),
        arrangement="snap",
        link=dict(
            source=[left[s] for (s, _d, _g), _v in links], target=[right[d] for (_s, d, _g), _v in links],
            value=[v for _k, v in links], color=[color(s, d, g) for (s, d, g), _v in links],
            label=[g.replace("_", " ") for (_s, _d, g), _v in links],
            hovertemplate="%{source.label} → %{target.label}<br>%{label}: %{value:.2f} B$<extra></extra>",
        ),
    ))
    legend = " ".join(f"<span style='color:{c.rsplit(',', 1)[0]},1)'>■</span>{g.replace('_', ' ')}" for g, c in FLOW_COLORS.items())
    fig.update_layout(title=dict(text=f"Money flows this month (B$; solid = the vendor→lab→cloud→vendor loop)<br><sup>{legend}</sup>",
                                 font=dict(size=12)),
                      height=CHART_HEIGHT + 20, width=PLOTLY_WIDTH, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def _node_rank(name: str, kinds: dict[str, str]) -> int:
    order = ["end_market", "investors", "vendor", "lab", "cloud", "utility", "rest_of_world"]
    kind = name if name in ("end_market", "investors", "rest_of_world") else kinds.get(name, "")
    return order.index(kind) if kind in order else len(order)


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


def balance_table_html(rows: Iterable[dict[str, Any]]) -> str:
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in ("firm", "kind", *BALANCE_COLUMNS))
    body = []
    for row in rows:
        style = " style='color:#b00020;text-decoration:line-through'" if row["defaulted"] else ""
        cells = [f"<td>{html.escape(row['firm'])}</td>", f"<td>{KIND_LABEL.get(row['kind'], row['kind'])}</td>"]
        cells += [f"<td data-col='{c}' style='text-align:right'>{fmt_money(row[c])}</td>" for c in BALANCE_COLUMNS]
        body.append(f"<tr data-firm='{html.escape(row['firm'])}'{style}>{''.join(cells)}</tr>")
    return (
        "<table class='rt-balance' style='border-collapse:collapse;width:100%;font-size:13px'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "<style>.rt-balance td,.rt-balance th{padding:2px 6px;border-bottom:1px solid #ddd}</style>"
    )


def event_rows(model: Any, limit: int = 200) -> list[tuple[int, str, str, str]]:
    """The newest `limit` events, newest first, as (step, kind, agent, text)."""
    out = []
    for e in reversed(events(model)[-limit:]):
        if isinstance(e, dict):
            out.append((e.get("step"), e.get("kind", ""), e.get("agent", ""), e.get("text", "")))
        elif isinstance(e, tuple):
            out.append(tuple(e))  # type: ignore[arg-type]
        else:
            out.append((e.step, e.kind, e.agent, e.text))
    return out


# ----------------------------------------------------------------------------- components


def KeyFigures(model: Any):
    """Headline numbers of the current month, each in a cell the browser test can find."""
    frame = model_frame(model)
    last = frame.iloc[-1] if len(frame) else pd.Series(dtype=float)
    cells = [
        ("month", str(getattr(model, "date_label", model.steps))),
        ("end-market spending", fmt_money(last.get("end_market_spend", float("nan"))) + " B$"),
        ("compute spending", fmt_money(last.get("compute_spend", float("nan"))) + " B$"),
        ("organic coverage", fmt_share(last.get("organic_coverage", float("nan")))),
        ("circularity", fmt_share(last.get("circularity", float("nan")))),
        ("defaults", str(sum(1 for f in firms(model) if getattr(f, "defaulted", False)))),
    ]
    body = "".join(
        f"<div style='margin-right:22px'><div style='font-size:11px;color:#666'>{k}</div>"
        f"<div data-key='{k}' style='font-size:18px;font-weight:600'>{v}</div></div>" for k, v in cells
    )
    return solara.HTML(tag="div", unsafe_innerHTML=f"<div class='rt-key' style='display:flex;flex-wrap:wrap'>{body}</div>")


def _chart(builder: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def Chart(model: Any):
        fig = builder(model)
        if isinstance(fig, Figure):
            return solara.FigureMatplotlib(fig, format="png")
        return solara.FigurePlotly(fig)

    Chart.__name__ = builder.__name__.replace("_figure", "").title().replace("_", "") + "Chart"
    return Chart


RevenueProfitChart = _chart(revenue_profit_figure)
CoverageChart = _chart(coverage_figure)
MarketValueChart = _chart(market_value_figure)
CircularityChart = _chart(circularity_figure)
CapacityChart = _chart(capacity_figure)
PricesChart = _chart(prices_figure)
CreditChart = _chart(credit_figure)


def MoneyLoop(model: Any):
    fig = sankey_figure(model)
    if fig is None:
        return solara.Text("Money flows this month: none yet, press Step.", style={"color": "#666"})
    return solara.FigurePlotly(fig)


def BalanceSheets(model: Any):
    with solara.Column(gap="4px") as main:
        solara.Markdown("**Balance sheets** (B$; struck through = defaulted)")
        solara.HTML(tag="div", unsafe_innerHTML=balance_table_html(balance_rows(model)))
    return main


def EventLog(model: Any):
    rows = event_rows(model)
    body = "".join(
        f"<tr><td>{s}</td><td>{html.escape(str(k))}</td><td>{html.escape(str(a))}</td><td>{html.escape(str(t))}</td></tr>"
        for s, k, a, t in rows
    ) or "<tr><td colspan='4' style='color:#888'>nothing yet</td></tr>"
    table = (
        "<div style='max-height:260px;overflow-y:auto'><table class='rt-events' style='border-collapse:collapse;width:100%;font-size:12px'>"
        f"<thead><tr><th>month</th><th>event</th><th>who</th><th>what</th></tr></thead><tbody>{body}</tbody></table></div>"
        "<style>.rt-events td,.rt-events th{padding:1px 6px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}</style>"
    )
    with solara.Column(gap="4px") as main:
        solara.Markdown(f"**Event log** ({len(events(model))} events, newest first)")
        solara.HTML(tag="div", unsafe_innerHTML=table)
    return main


# ----------------------------------------------------------------------------- shocks


# (button label, shock kind, size): sizes in the units of model.scenario.Shock
SHOCKS = {
    "stall": ("End market stalls", "end_market_stall", 0.0),  # growth falls to 0 %/year
    "missed_payment": ("Lab misses a payment", "missed_payment", 1.0),
    "grid_delay": ("Grid connections delayed 12 months", "grid_delay", 12.0),
}


def fire_shock(model: Any, which: str, target: str = "") -> None:
    """Hit the running model now; the effect shows in the next step's figures."""
    _label, kind, size = SHOCKS[which]
    model.apply_shock(kind, target, size)


@solara.component
def ShockButtons(model: Any):
    """Buttons that hit the running model: watch the contagion on the next steps."""
    from mesa.visualization.utils import force_update, update_counter

    update_counter.get()
    labs = [f.name for f in firms(model) if f.kind == "lab" and not getattr(f, "defaulted", False)]
    lab, set_lab = solara.use_state(labs[0] if labs else "")
    last, set_last = solara.use_state("")
    if labs and lab not in labs:
        lab = labs[0]

    def hit(which: str, target: str = ""):
        fire_shock(model, which, target)
        set_last(f"{SHOCKS[which][0]}{' (' + target + ')' if target else ''} at month {model.steps}: shows from the next step")
        force_update()

    with solara.Column(gap="6px") as main:
        solara.Markdown("**Shocks** (hit the running model now)")
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button(SHOCKS["stall"][0], color="error", outlined=True, on_click=lambda: hit("stall"))
            solara.Button(SHOCKS["grid_delay"][0], color="error", outlined=True, on_click=lambda: hit("grid_delay"))
        with solara.Row(gap="6px", style={"align-items": "center"}):
            if labs:
                solara.Select("Lab", values=labs, value=lab, on_value=set_lab, style={"max-width": "180px"})
            solara.Button(SHOCKS["missed_payment"][0], color="error", outlined=True, disabled=not labs,
                          on_click=lambda: hit("missed_payment", lab))
        if last:
            solara.Text(last, style={"font-size": "12px", "color": "#b00020"})
    return main


def KeyFiguresAndShocks(model: Any):
    """The month's headline numbers, this month's legs of the loop, and the shock buttons."""
    legs = loop_summary(model)
    loop = " · ".join(f"{k}: {fmt_money(v)} B$" for k, v in legs.items())
    with solara.Column(gap="8px") as main:
        KeyFigures(model)
        solara.Text(f"Loop this month: {loop}", style={"font-size": "12px", "color": "#444"})
        ShockButtons(model)
    return main
