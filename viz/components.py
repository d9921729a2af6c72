"""The live page's components: each takes the running model and draws one view of it.

Every component is a plain function of the model (SolaraViz wraps it so it re-renders after
each step). The figure builders (`*_figure`, `*_rows`) are separate pure functions of the model
so they can be tested without a browser, and the browser test can compare what the page shows
with what they compute.

Charts are plotly (`solara.FigurePlotly`): the plotted numbers stay in the browser's DOM
(`gd.data`), so a test can read them back.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from typing import Any, Callable, Iterable

import pandas as pd
import plotly.graph_objects as go
import solara

# Lucent's vendor financing peaked near 24 % of its revenue (1999-2000): the reference line
LUCENT_CIRCULARITY = 0.24
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
# secondary share trading between investors through the exchange: money changing hands among
# investors, not through the chain; it would dwarf every other flow
SANKEY_SKIP_KINDS = {"trade"}


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


def _line_figure(frame: pd.DataFrame, title: str, yaxis: str, percent: bool = False) -> go.Figure:
    fig = go.Figure()
    for column in frame.columns:
        fig.add_trace(go.Scatter(x=list(frame.index), y=list(frame[column]), name=str(column), mode="lines"))
    _style(fig, title, yaxis, percent)
    return fig


def _style(fig: go.Figure, title: str, yaxis: str, percent: bool = False) -> None:
    fig.update_layout(
        title=dict(text=title, font=dict(size=14)), height=CHART_HEIGHT, margin=dict(l=50, r=10, t=40, b=35),
        legend=dict(orientation="h", y=-0.2, font=dict(size=10)), xaxis_title="month", yaxis_title=yaxis,
        template="plotly_white",
    )
    if percent:
        fig.update_yaxes(tickformat=".0%")


def _pick(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Columns that exist, renamed to their chart labels."""
    present = {c: label for c, label in columns.items() if c in frame.columns}
    return frame[list(present)].rename(columns=present)


def firm_figure(model: Any, measure: str, title: str, yaxis: str) -> go.Figure:
    return _line_figure(firm_frame(model, measure), title, yaxis)


def revenue_profit_figure(model: Any) -> go.Figure:
    revenue, profit = firm_frame(model, "revenue"), firm_frame(model, "profit")
    fig = go.Figure()
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    for i, firm in enumerate(revenue.columns):
        color = palette[i % len(palette)]
        fig.add_trace(go.Scatter(x=list(revenue.index), y=list(revenue[firm]), name=f"{firm} revenue", mode="lines", line=dict(color=color)))
        if firm in profit.columns:
            fig.add_trace(go.Scatter(x=list(profit.index), y=list(profit[firm]), name=f"{firm} profit", mode="lines",
                                     line=dict(color=color, dash="dot"), showlegend=False))
    _style(fig, "Revenue (solid) and profit (dotted) by firm", "B$/month")
    return fig


def coverage_figure(model: Any) -> go.Figure:
    frame = _pick(model_frame(model), {"end_market_spend": "end-market revenue", "compute_spend": "total compute spending"})
    fig = _line_figure(frame, "End market vs compute spending (the organic coverage gap)", "B$/month")
    if len(frame.columns) == 2:
        # the gap between the two lines is what circular money has to fill
        fig.data[1].update(fill="tonexty", fillcolor="rgba(214,39,40,0.12)")
    return fig


def market_value_figure(model: Any) -> go.Figure:
    return firm_figure(model, "market_value", "Market values", "B$")


def circularity_figure(model: Any) -> go.Figure:
    frame = _pick(model_frame(model), {"circularity": "circularity ratio", "round_tripped_share": "round-tripped revenue share"})
    fig = _line_figure(frame, "Circularity: vendor money in its own customers / T12M revenue", "share", percent=True)
    fig.add_hline(y=LUCENT_CIRCULARITY, line=dict(color="black", dash="dash", width=1),
                  annotation_text="Lucent 2000: 24 %", annotation_position="top left")
    return fig


def capacity_figure(model: Any) -> go.Figure:
    frame = _pick(model_frame(model), {"gw_contracted": "contracted", "gw_built": "built", "gw_powered": "powered", "gw_idle": "idle"})
    return _line_figure(frame, "Compute capacity", "GW")


def prices_figure(model: Any) -> go.Figure:
    frame = model_frame(model)
    fig = go.Figure()
    if "gpu_spot_price" in frame:
        fig.add_trace(go.Scatter(x=list(frame.index), y=list(frame["gpu_spot_price"]), name="GPU spot (B$/GW-month)", mode="lines"))
    if "power_price" in frame:
        fig.add_trace(go.Scatter(x=list(frame.index), y=list(frame["power_price"]), name="power ($/MWh)", mode="lines", yaxis="y2"))
    _style(fig, "GPU spot and power prices", "B$/GW-month")
    fig.update_layout(yaxis2=dict(title="$/MWh", overlaying="y", side="right", showgrid=False), margin=dict(r=50))
    return fig


def credit_figure(model: Any) -> go.Figure:
    frame = model_frame(model)
    fig = go.Figure()
    spreads = [c for c in frame.columns if c.startswith("spread") or c.endswith("_spread") or c == "credit_spread"]
    for column in spreads:
        fig.add_trace(go.Scatter(x=list(frame.index), y=list(frame[column]), name=column.replace("_", " "), mode="lines"))
    if "sentiment" in frame:
        fig.add_trace(go.Scatter(x=list(frame.index), y=list(frame["sentiment"]), name="sentiment (right)", mode="lines",
                                 yaxis="y2", line=dict(color="black", dash="dot")))
    _style(fig, "Credit spreads and sentiment", "spread (1/year)", percent=True)
    fig.update_layout(yaxis2=dict(title="sentiment", overlaying="y", side="right", range=[-1, 1], showgrid=False), margin=dict(r=50))
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


def sankey_figure(model: Any) -> go.Figure:
    """Who paid whom this step: payers on the left, payees on the right, links by kind.

    Every agent appears twice (as payer and as payee), so the diagram has no cycles: plotly's
    circular Sankey fails on this economy's money loops ("Invalid array length"). The legs of
    the vendor -> lab -> cloud -> vendor circle are drawn solid, every other flow faint.
    """
    kinds = {a.name: a.kind for a in model.agents if hasattr(a, "name")}
    totals = loop_totals(model)
    biggest = max(totals.values(), default=0.0)
    links = [(k, v) for k, v in totals.items() if v >= 1e-3 * biggest]
    if not links:  # plotly's Sankey throws on empty data ("Invalid array length")
        fig = go.Figure()
        fig.add_annotation(text="No money has moved yet this month: press Step", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
        fig.update_layout(title=dict(text="Money flows this month (B$)", font=dict(size=12)), height=CHART_HEIGHT + 20,
                          xaxis=dict(visible=False), yaxis=dict(visible=False), template="plotly_white")
        return fig
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
                      height=CHART_HEIGHT + 20, margin=dict(l=10, r=10, t=50, b=10))
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


def _chart(builder: Callable[[Any], go.Figure]) -> Callable[[Any], Any]:
    def Chart(model: Any):
        return solara.FigurePlotly(builder(model))

    Chart.__name__ = builder.__name__.replace("_figure", "").title().replace("_", "") + "Chart"
    return Chart


RevenueProfitChart = _chart(revenue_profit_figure)
CoverageChart = _chart(coverage_figure)
MarketValueChart = _chart(market_value_figure)
CircularityChart = _chart(circularity_figure)
CapacityChart = _chart(capacity_figure)
PricesChart = _chart(prices_figure)
CreditChart = _chart(credit_figure)
MoneyLoop = _chart(sankey_figure)


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
