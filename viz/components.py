"""The live page's widgets: each draws one view of the running model from viz/figures.py.

Charts are plotly widgets created once and then updated in place (`LiveFigure`): a month sends
only the traces' new values as one batched restyle, so the browser redraws a few lines instead
of rebuilding charts (the matplotlib PNGs of the first page took 1-2.6 s a step; matplotlib
stays for the static report, viz/report.py). Tables and key figures are HTML built here from
the figure builders' rows; the balance table is a small Vue template that reports clicks.
"""

from __future__ import annotations

import html
from typing import Any, Callable

import numpy as np
import solara
from plotly.graph_objs import FigureWidget

from model.reporters import LUCENT_CIRCULARITY
from viz.figures import (
    BALANCE_COLUMNS, DEFAULT_COLOR, KIND_LABEL, SANKEY_HEIGHT, SANKEY_WIDTH, TIME_CHARTS, TimeChart,
    balance_rows, balance_sheet_lines, contract_lines, event_rows, events, firms, fmt_money, fmt_share, key_figures,
    latest, loop_summary, sankey_figure, severity_rows, time_figure, twin_of,
)


# ----------------------------------------------------------------------------- live figures


def _changed(new: Any, old: Any) -> bool:
    if isinstance(new, np.ndarray) or isinstance(old, np.ndarray):
        return not (isinstance(new, np.ndarray) and isinstance(old, np.ndarray) and np.array_equal(new, old))
    return new != old


@solara.component
def LiveFigure(figure: dict[str, Any] | None, testid: str = ""):
    """A plotly widget created once and then updated in place: each render sends only what
    changed (usually the traces' y values) as one batched update, so the browser restyles the
    lines it has instead of rebuilding the chart. `figure=None` leaves the chart as it is (it is
    off screen; it catches up when it is scrolled to)."""
    sent = solara.use_ref({"data": [], "layout": {}})  # what the widget shows
    # no data or layout as element arguments: reacton would assign them again on every render
    element = FigureWidget.element()

    def sync():
        if figure is None or sent.current is figure:
            return
        widget = solara.get_widget(element)
        old, data = sent.current, figure["data"]
        same_shape = len(widget.data) == len(data) and all(
            t.type == d["type"] and t.name == d.get("name") for t, d in zip(widget.data, data))
        if not same_shape:  # first draw, or traces came or went (the twin was turned on or off)
            widget.data = []
            widget.add_traces(data)
            old = {"data": data, "layout": old["layout"]}
        with widget.batch_update():
            for trace, new, prev in zip(widget.data, data, old["data"]):
                for key, value in new.items():
                    if key != "type" and _changed(value, prev.get(key)):
                        trace[key] = value
            for key, value in figure["layout"].items():
                if _changed(value, old["layout"].get(key)):
                    widget.layout[key] = value
        sent.current = figure

    solara.use_effect(sync, None)
    return solara.v.Html(tag="div", class_="rt-figure", attributes={"data-figure": testid}, children=[element])


def time_chart_component(chart: TimeChart) -> Callable[..., Any]:
    def Chart(model: Any, on_screen: bool = True):
        return LiveFigure(time_figure(model, chart) if on_screen else None, testid=chart.key)

    Chart.__name__ = "".join(part.title() for part in chart.key.split("_")) + "Chart"
    return Chart


TIME_CHART_COMPONENTS = {chart.key: time_chart_component(chart) for chart in TIME_CHARTS}


# ----------------------------------------------------------------------------- components


def KeyFigures(model: Any):
    """Headline figures of the month; with the twin on, its value and the difference beside each."""
    rows = key_figures(model)
    twin = twin_of(model) is not None
    cells = []
    for name, mine, other, delta in rows:
        extra = ""
        if twin and other is not None:
            extra = (f"<div style='font-size:11px;color:#555'>twin <span data-twin='{name}'>{html.escape(other)}</span>"
                     + (f" · Δ <span data-delta='{name}'>{html.escape(delta)}</span>" if delta is not None else "") + "</div>")
        cells.append(f"<div style='margin-right:20px'><div style='font-size:11px;color:#666'>{name}</div>"
                     f"<div data-key='{name}' style='font-size:18px;font-weight:600'>{html.escape(mine)}</div>{extra}</div>")
    return solara.HTML(tag="div", unsafe_innerHTML=f"<div class='rt-key' style='display:flex;flex-wrap:wrap'>{''.join(cells)}</div>")


# (button label, shock kind, size): sizes in the units of model.scenario.Shock
SHOCKS = {
    "stall": ("End market stalls", "end_market_stall", 0.0),  # growth falls to 0 %/year
    "missed_payment": ("Lab misses a payment", "missed_payment", 1.0),
    "grid_delay": ("Grid connections delayed 12 months", "grid_delay", 12.0),
}


def fire_shock(model: Any, which: str, target: str = "") -> None:
    """Hit the running model now (and its twin, if running); the effect shows in the next step."""
    _label, kind, size = SHOCKS[which]
    fire = getattr(model, "fire_shock", None) or model.apply_shock
    fire(kind, target, size)


@solara.component
def ShockButtons(model: Any, version: int = 0):
    """Buttons that hit the running model: watch the contagion on the next steps."""
    labs = [firm.name for firm in firms(model) if firm.kind == "lab" and not getattr(firm, "defaulted", False)]
    lab, set_lab = solara.use_state(labs[0] if labs else "")
    last, set_last = solara.use_state("")
    if labs and lab not in labs:
        lab = labs[0]

    def hit(which: str, target: str = ""):
        fire_shock(model, which, target)
        arms = " (both arms)" if twin_of(model) is not None else ""
        set_last(f"{SHOCKS[which][0]}{' (' + target + ')' if target else ''}{arms} at month {model.steps}: shows from the next step")

    with solara.Column(gap="6px") as main:
        with solara.Row(gap="6px", style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Text("Shocks (hit the running model now):", style={"font-weight": "600"})
            solara.Button(SHOCKS["stall"][0], color="error", outlined=True, small=True, on_click=lambda: hit("stall"))
            solara.Button(SHOCKS["grid_delay"][0], color="error", outlined=True, small=True, on_click=lambda: hit("grid_delay"))
            if labs:
                solara.Select("Lab", values=labs, value=lab, on_value=set_lab, style={"max-width": "140px"})
            solara.Button(SHOCKS["missed_payment"][0], color="error", outlined=True, small=True, disabled=not labs,
                          on_click=lambda: hit("missed_payment", lab))
        if last:
            solara.Text(last, style={"font-size": "12px", "color": "#b00020"})
    return main


def circularity_panel_html(model: Any) -> str:
    """The month's circularity beside the Sankey: the ratio, the round-tripped share, the legs."""
    legs = loop_summary(model)
    twin = twin_of(model)
    rows = [("circularity", fmt_share(latest(model, "circularity")), "vendor money in its customers / trailing-12-month revenue"),
            ("round-tripped", fmt_share(latest(model, "round_tripped_share")), "share of vendor revenue that is its own money coming back"),
            ("Lucent 2000", fmt_share(LUCENT_CIRCULARITY), "for reference")]
    if twin is not None:
        rows.insert(1, ("twin", fmt_share(latest(twin, "circularity")), "the same run without vendor money"))
    body = "".join(f"<div style='margin-bottom:8px'><div style='font-size:11px;color:#666'>{k}</div>"
                   f"<div data-circ='{k}' style='font-size:20px;font-weight:600'>{v}</div>"
                   f"<div style='font-size:11px;color:#888'>{why}</div></div>" for k, v, why in rows)
    leg_rows = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{fmt_money(v)}</td></tr>" for k, v in legs.items())
    return (f"<div class='rt-circ'>{body}<div style='font-size:12px;font-weight:600;margin-top:6px'>Legs of the loop this month (B$)</div>"
            f"<table style='font-size:12px;border-collapse:collapse'>{leg_rows}</table></div>")


def MoneyLoop(model: Any, on_screen: bool = True):
    fig = sankey_figure(model)
    with solara.Row(gap="12px", style={"align-items": "flex-start", "flex-wrap": "nowrap"}) as main:
        with solara.Div(classes=["rt-sankey-card"], style={"flex": "none", "width": f"{SANKEY_WIDTH}px", "min-height": f"{SANKEY_HEIGHT}px", "overflow": "hidden"}):
            if fig is None:
                solara.Text("Money flows this month: none yet, press Step.", style={"color": "#666"})
            else:
                LiveFigure(fig if on_screen else None, testid="sankey")
        solara.HTML(tag="div", unsafe_innerHTML=circularity_panel_html(model), style={"min-width": "200px"})
    return main


@solara.component_vue("balance_table.vue")
def BalanceTable(headers: list[str], columns: list[str], rows: list[dict[str, Any]], chosen: str,
                 event_choose: Callable[[str], None]):
    """The balance-sheet table as one small Vue template: one widget whose rows update in place
    each month, and a click on a row reports its firm."""


def balance_table_rows(model: Any) -> list[dict[str, Any]]:
    """The table's rows as the page shows them (formatted B$)."""
    return [{"firm": r["firm"], "kind": KIND_LABEL.get(r["kind"], r["kind"]), "defaulted": r["defaulted"],
             "cells": {col: fmt_money(r[col]) for col in BALANCE_COLUMNS}} for r in balance_rows(model)]


@solara.component
def BalanceSheets(model: Any, version: int = 0):
    """Balance sheets per firm; clicking a row opens its lines by account and its contracts."""
    chosen, set_chosen = solara.use_state("")
    rows = balance_table_rows(model)
    if chosen and chosen not in {r["firm"] for r in rows}:
        chosen = ""
    with solara.Column(gap="4px") as main:
        solara.Markdown("**Balance sheets** (B$; struck through = defaulted; click a firm for its books and contracts)")
        BalanceTable(headers=[h.replace("_", " ") for h in ("firm", "kind", *BALANCE_COLUMNS)], columns=list(BALANCE_COLUMNS),
                     rows=rows, chosen=chosen, event_choose=lambda firm: set_chosen("" if firm == chosen else firm))
        if chosen:
            FirmBooks(model, chosen)
    return main


def firm_books_html(model: Any, name: str) -> str:
    lines = balance_sheet_lines(model, name)

    def table(title: str, items: list[tuple[str, float]], total: float) -> str:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{fmt_money(v)}</td></tr>" for k, v in items)
        return (f"<table class='rt-lines' data-side='{title}' style='border-collapse:collapse;font-size:12px;min-width:260px'>"
                f"<thead><tr><th style='text-align:left'>{title}</th><th style='text-align:right'>B$</th></tr></thead>"
                f"<tbody>{rows}</tbody><tfoot><tr><td><b>total</b></td><td style='text-align:right'><b>{fmt_money(total)}</b></td></tr></tfoot></table>")

    contracts = contract_lines(model, name)
    contract_html = "".join(f"<li>{html.escape(c)}</li>" for c in contracts) or "<li style='color:#888'>none</li>"
    cause = f"<div style='color:#b00020'>defaulted: {html.escape(lines['default_cause'])}</div>" if lines["defaulted"] else ""
    return (
        f"<div class='rt-books' data-books='{html.escape(name)}' style='border:1px solid #ddd;padding:6px;margin-top:4px'>"
        f"<div style='font-weight:600'>{html.escape(name)} ({KIND_LABEL.get(lines['kind'], lines['kind'])}): net worth "
        f"<span data-books-net-worth>{fmt_money(lines['net_worth'])}</span> B$ = assets {fmt_money(lines['total_assets'])} "
        f"− liabilities {fmt_money(lines['total_liabilities'])}</div>{cause}"
        f"<div style='display:flex;gap:18px;flex-wrap:wrap'>{table('assets', lines['assets'], lines['total_assets'])}"
        f"{table('liabilities', lines['liabilities'], lines['total_liabilities'])}</div>"
        f"<div style='font-weight:600;margin-top:4px;font-size:12px'>Contracts</div><ul style='font-size:12px;margin:0'>{contract_html}</ul></div>"
    )


def FirmBooks(model: Any, name: str):
    return solara.HTML(tag="div", unsafe_innerHTML=firm_books_html(model, name))


def event_log_html(model: Any) -> str:
    """The event log, newest first; this month's defaults flash."""
    rows = event_rows(model)
    now = model.steps
    body = []
    for s, k, a, t in rows:
        cls = ""
        if k == "default":
            cls = " class='rt-default rt-flash'" if s == now else " class='rt-default'"
        body.append(f"<tr{cls}><td>{s}</td><td>{html.escape(str(k))}</td><td>{html.escape(str(a))}</td><td>{html.escape(str(t))}</td></tr>")
    rows_html = "".join(body) or "<tr><td colspan='4' style='color:#888'>nothing yet</td></tr>"
    return (
        "<div style='max-height:260px;overflow-y:auto'><table class='rt-events' style='border-collapse:collapse;width:100%;font-size:12px'>"
        f"<thead><tr><th>month</th><th>event</th><th>who</th><th>what</th></tr></thead><tbody>{rows_html}</tbody></table></div>"
        "<style>.rt-events td,.rt-events th{padding:1px 6px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}"
        f".rt-default td{{color:{DEFAULT_COLOR};font-weight:600}}"
        ".rt-flash{animation:rt-flash 0.6s ease-in-out 4}"
        "@keyframes rt-flash{0%{background:#fff}50%{background:#ffcdd2}100%{background:#fff}}</style>"
    )


def severity_html(model: Any) -> str:
    twin = twin_of(model) is not None
    head = "<th style='text-align:left'>loss so far</th><th>with vendor money</th>" + ("<th>twin (none)</th><th>difference</th>" if twin else "")
    body = []
    for key, label, mine, other, delta in severity_rows(model):
        cells = f"<td>{html.escape(label)}</td><td data-sev='{key}'>{mine}</td>"
        if twin:
            cells += f"<td data-sev-twin='{key}'>{other}</td><td data-sev-delta='{key}'>{delta}</td>"
        body.append(f"<tr>{cells}</tr>")
    return ("<table class='rt-severity' style='border-collapse:collapse;font-size:12px;width:100%'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "<style>.rt-severity td,.rt-severity th{padding:1px 6px;border-bottom:1px solid #eee}"
            ".rt-severity td:not(:first-child){text-align:right}</style>")


def Severity(model: Any):
    """Losses as they happen (model/losses.py), beside the twin's when it runs."""
    with solara.Column(gap="4px") as main:
        solara.Markdown("**Losses so far** (who lost what they paid in; B$ unless said)")
        solara.HTML(tag="div", unsafe_innerHTML=severity_html(model))
    return main


def EventLog(model: Any):
    with solara.Column(gap="4px") as main:
        solara.Markdown(f"**Event log** ({len(events(model))} events, newest first; a default flashes)")
        solara.HTML(tag="div", unsafe_innerHTML=event_log_html(model))
    return main
