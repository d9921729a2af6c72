"""The page's parts without a browser: the main area renders for 24 months of every bundled
scenario (an exception in any component would replace the whole page with a traceback), and
the figure builders say what the page will show."""

from __future__ import annotations

import pytest
import solara

from model.reporters import LUCENT_CIRCULARITY
from viz import components as c
from viz import figures as f
from viz.app import LiveModel, LiveSession, MainArea, Sidebar, bundled_scenarios

STEPS = 24


@solara.component
def Rendered(model, version):
    MainArea(model, version)


@pytest.mark.parametrize("scenario", bundled_scenarios())
def test_the_main_area_renders_for_24_months(scenario):
    model = LiveModel(scenario_name=scenario)
    _box, rc = solara.render(Rendered(model, 0), handle_error=False)
    try:
        for i in range(STEPS):
            if i == STEPS // 2:  # the shock buttons' actions, mid-run
                c.fire_shock(model, "stall")
                c.fire_shock(model, "grid_delay")
                labs = [firm.name for firm in f.firms(model) if firm.kind == "lab" and not firm.defaulted]
                if labs:
                    c.fire_shock(model, "missed_payment", labs[0])
            model.advance()
            rc.render(Rendered(model, i + 1))
    finally:
        rc.close()
    assert model.steps == STEPS
    for chart in f.TIME_CHARTS:
        figure = f.time_figure(model, chart)
        assert figure["data"], chart.key
        assert all(len(t["y"]) == STEPS + 1 for t in figure["data"]), chart.key
    assert [e["kind"] for e in model.events].count("shock") == 3
    assert model.page_shocks == [(STEPS // 2, "end_market_stall", "", 0.0), (STEPS // 2, "grid_delay", "", 12.0),
                                 *([(STEPS // 2, "missed_payment", labs[0], 1.0)] if labs else [])]


def test_the_sidebar_renders():
    session = LiveSession("baseline")
    _box, rc = solara.render(Sidebar(session), handle_error=False)
    try:
        session.step()
        session.set_value("annual_growth", 0.9)
        session.reset()
        assert session.model.value.params.end_market.annual_growth == pytest.approx(0.9)
        assert session.model.value.steps == 0
    finally:
        rc.close()


@pytest.fixture(scope="module")
def month6():
    model = LiveModel(scenario_name="baseline")
    for _ in range(6):
        model.advance()
    return model


def test_sankey_runs_in_the_loops_order(month6):
    """Payers vendor, lab, cloud face payees lab, cloud, vendor, so the legs of the circle run
    straight across; small nodes are pooled into "other"."""
    trace = f.sankey_figure(month6)["data"][0]
    labels = trace["node"]["label"]
    kinds = {firm.name: firm.kind for firm in f.firms(month6)}
    payers = labels[: trace["node"]["x"].count(0.001)]
    payees = labels[len(payers):]

    def kind_order(column, order):
        ranks = [order.index(kinds.get(label.rsplit(" ", 1)[0], label.rsplit(" ", 1)[0].replace(" ", "_"))) for label in column
                 if kinds.get(label.rsplit(" ", 1)[0], label.rsplit(" ", 1)[0].replace(" ", "_")) in order]
        return ranks == sorted(ranks)

    assert kind_order(payers, f.PAYER_ORDER) and kind_order(payees, f.PAYEE_ORDER)
    assert len(payers) <= f.SANKEY_MAX_NODES and len(payees) <= f.SANKEY_MAX_NODES
    edges = {(kinds.get(labels[s].rsplit(" ", 1)[0]), kinds.get(labels[t].rsplit(" ", 1)[0]))
             for s, t in zip(trace["link"]["source"], trace["link"]["target"])}
    assert ("lab", "cloud") in edges  # compute rent
    assert ("cloud", "vendor") in edges  # chip sales
    # pooling keeps every B$: the links carry all of the month's flows
    assert sum(trace["link"]["value"]) == pytest.approx(sum(f.loop_totals(month6).values()))
    ys = trace["node"]["y"]
    assert ys[: len(payers)] == sorted(ys[: len(payers)]) and ys[len(payers):] == sorted(ys[len(payers):])


def test_small_flows_are_pooled():
    kinds = {"A": "lab", "B": "lab", "C": "cloud", "D": "cloud", "E": "cloud"}
    nodes, where = f._pool({"A": 50.0, "B": 40.0, "C": 8.0, "D": 1.0, "E": 1.0}, kinds, f.PAYER_ORDER)
    assert nodes == ["A", "B", "C", "other"] and where["D"] == where["E"] == "other"
    nodes, where = f._pool({"A": 50.0, "B": 49.0, "C": 1.0}, kinds, f.PAYER_ORDER)
    assert nodes == ["A", "B", "C"]  # one small node keeps its name: "other" would hide it for nothing


def test_a_firms_books_add_up_and_name_each_loan(month6):
    for firm in f.firms(month6):
        lines = f.balance_sheet_lines(month6, firm.name)
        assert sum(v for _k, v in lines["assets"]) == pytest.approx(lines["total_assets"], abs=1e-9)
        assert sum(v for _k, v in lines["liabilities"]) == pytest.approx(lines["total_liabilities"], abs=1e-9)
        assert lines["total_assets"] - lines["total_liabilities"] == pytest.approx(lines["net_worth"], abs=1e-6)
        labels = [label for label, _v in lines["assets"] + lines["liabilities"]]
        assert not any(label.startswith(("loan:", "shares:")) or "loan loan" in label for label in labels), labels
    clouds = [firm.name for firm in f.firms(month6) if firm.kind == "cloud"]
    assert any("take-or-pay" in line for name in clouds for line in f.contract_lines(month6, name))


def test_time_figures_draw_defaults_and_references(month6):
    figure = f.time_figure(month6, f.CHARTS_BY_KEY["circularity"])
    refs = [s for s in figure["layout"]["shapes"] if s["name"].startswith("ref:")]
    assert refs and refs[0]["y0"] == pytest.approx(LUCENT_CIRCULARITY)
    month6.defaults.append({"agent": "X", "kind": "lab", "step": 5, "cause": "test"})
    try:
        figure = f.time_figure(month6, f.CHARTS_BY_KEY["revenue"])
        assert [s["x0"] for s in figure["layout"]["shapes"] if s["name"] == "default:X"] == [5]
    finally:
        month6.defaults.pop()


def test_the_twin_runs_in_lockstep_on_the_same_demand():
    """The twin: the same scenario and seed without vendor money, stepped with the run; common
    random numbers give it the same demand path; a page shock hits both arms."""
    model = LiveModel(scenario_name="baseline", twin=True)
    for i in range(8):
        if i == 4:
            c.fire_shock(model, "stall")
        model.advance()
    twin = model.twin
    assert twin.steps == model.steps == 8
    assert not any(v.financing_share or v.vendor_loan_share for v in twin.params.vendors.values())
    assert list(f.series(twin, "end_market_spend")) == list(f.series(model, "end_market_spend"))
    assert [e["kind"] for e in twin.events].count("shock") == 1
    assert len(twin.loss_history) == len(model.loss_history) == 9
    figure = f.time_figure(model, f.CHARTS_BY_KEY["coverage"])
    dashes = [t["line"]["dash"] for t in figure["data"]]
    assert dashes == ["solid", "dash"] * 2
    assert list(figure["data"][1]["y"]) == list(f.series(twin, "end_market_spend"))
    rows = {name: (mine, other, delta) for name, mine, other, delta in f.key_figures(model)}
    for name in ("vendor revenue", "defaults", "capital lost at cost", "first default"):
        assert rows[name][1] is not None and rows[name][2] is not None, name


def test_a_twin_started_late_catches_up_with_the_pages_shocks():
    early = LiveModel(scenario_name="baseline", twin=True)
    late = LiveModel(scenario_name="baseline")
    for model in (early, late):
        for i in range(10):
            if i == 3:
                c.fire_shock(model, "stall")
            model.advance()
    late.start_twin()
    for column in ("vendor_revenue", "end_market_spend", "compute_spend"):
        assert list(f.series(late.twin, column)) == list(f.series(early.twin, column)), column
    assert late.twin.loss_history == early.twin.loss_history
    late.stop_twin()
    assert f.twin_of(late) is None and f.time_figure(late, f.CHARTS_BY_KEY["coverage"])["data"][1]["line"]["dash"] == "solid"


def test_severity_panel_shows_both_arms():
    model = LiveModel(scenario_name="baseline")
    for _ in range(3):
        model.advance()
    assert [row[3] for row in f.severity_rows(model)] == [None] * len(f.severity_rows(model))
    model.start_twin()
    rows = f.severity_rows(model)
    assert rows[0][0] == "capital_lost_at_cost"
    assert all(other is not None and delta is not None for _k, _l, _m, other, delta in rows)


def test_a_default_flashes_in_the_log_in_its_month():
    model = LiveModel(scenario_name="baseline")
    while not model.defaults and model.steps < 120:
        model.advance()
    assert model.defaults, "no default in the baseline's first 120 months: pick a run that has one"
    flashing, marked = "class='rt-default rt-flash'", "class='rt-default'"
    assert flashing in c.event_log_html(model)
    while True:  # the first month without a new default: the old ones stay red, none flashes
        before = len(model.defaults)
        model.advance()
        if len(model.defaults) == before:
            break
    assert flashing not in c.event_log_html(model) and marked in c.event_log_html(model)


def test_flow_groups():
    assert f.flow_group("equity") == "equity"
    assert f.flow_group("gpu_backed") == "loan"
    assert f.flow_group("other_revenue") == "end_market"
    assert f.flow_group("interest") == "loan"
    assert f.flow_group("chip_sale") == "chips"
    assert f.flow_group("compute_rent") == "compute"
    assert f.flow_group("power") == "power"
    assert f.flow_group("something_else") == "other"
