"""The accounting identities of DESIGN.md hold every step, and a break is caught and reported.

Property tests draw scenarios (demand, deal terms, GPU lives, power lead times, covenants,
investor counts, shocks) and seeds, run 36-60 months with the check on after every step, and
also re-check a few identities the check itself does not cover (no cash vanishes into a
defaulted firm, GW powered never exceed GW installed). Then the check is shown to bite:
a transfer that skips one counter-entry, a loan, a stake or money changed behind the ledger's
back each stop the run with the step, the agent, the account and the difference.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from model import ledger as ledger_module
from model.economy import RoundtripModel
from model.errors import InvariantViolation
from model.invariants import check_invariants
from model.ledger import Ledger, _book
from model.scenario import load_scenario

STEPS = 36
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def run_checked(scenario, seed, overrides, steps):
    """Run with the check after every step (the model's own and ours)."""
    model = RoundtripModel(scenario, rng=seed, overrides=overrides, check_invariants=True)
    check_invariants(model)  # the opening books
    for _ in range(steps):
        model.step()
        check_invariants(model)
        assert_extra_identities(model)
    return model


def note_defaults(model):
    """Coverage of the default code, shown by --hypothesis-show-statistics."""
    event("some default" if model.defaults else "no default")


def assert_extra_identities(model):
    for cloud in model.clouds:
        assert cloud.powered_fleet_gw() <= cloud.fleet.gw + 1e-9, (model.steps, cloud.name, "powered > installed")
    for name, sheet in model.ledger.sheets.items():
        for account, value in (*sheet.assets.items(), *sheet.liabilities.items()):
            assert math.isfinite(value), (model.steps, name, account, value)
        assert math.isfinite(sheet.net_worth), (model.steps, name)
    assert model.gw_scrapped >= 0.0 and model.gw_built >= 0.0


overrides_strategy = st.fixed_dictionaries({
    "end_market.annual_growth": st.floats(-0.5, 2.0),
    "end_market.volatility": st.floats(0.0, 0.6),
    "vendors.*.financing_share": st.floats(0.0, 3.0),
    "gpus.economic_life_years": st.floats(1.0, 7.0),  # baseline physical life: 7 years
    "power.lead_time_months": st.integers(0, 72),
    "credit.max_ltv": st.floats(0.2, 1.0),
    "investors.count": st.integers(1, 40),
    # credit mechanics: short bond terms make rollovers (and failed ones) happen within the run
    "credit.bond_term_months": st.integers(6, 240),
    "credit.distress_loss_given_default": st.floats(0.0, 1.0),
    "credit.backlog_claim_share": st.floats(0.0, 1.0),
    "gpus.fire_sale_depth": st.floats(0.1, 5.0),
})

shock_strategy = st.lists(
    st.fixed_dictionaries({
        "step": st.integers(1, 30),
        "kind": st.sampled_from(["end_market_stall", "missed_payment", "grid_delay", "export_ban"]),
        "target": st.sampled_from(["", "OpenAI", "CoreWeave", "Oracle", "PJM", "Nvidia"]),
        "size": st.floats(-0.5, 1.0),
    }),
    max_size=3,
)


def valid_shock(shock):
    targets = {"missed_payment": ("", "OpenAI"), "grid_delay": ("", "CoreWeave", "Oracle", "PJM"),
               "export_ban": ("", "Nvidia"), "end_market_stall": ("",)}
    return shock["target"] in targets[shock["kind"]]


def rule_choices():
    from agents.rules import slots

    return st.fixed_dictionaries({slot: st.sampled_from(names) for slot, names in slots().items()})


@PROPERTY_SETTINGS
@given(overrides=overrides_strategy, seed=st.integers(0, 2**32 - 1), steps=st.integers(36, 60))
def test_invariants_hold_every_step_over_random_scenarios(baseline, overrides, seed, steps):
    note_defaults(run_checked(baseline, seed, overrides, steps))


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_choices(), no_deals=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_whichever_registered_rules_are_chosen(baseline, rules, no_deals, seed):
    overrides = {"rules": rules}
    if no_deals:
        overrides["deals"] = []
    note_defaults(run_checked(baseline, seed, overrides, STEPS))


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(shocks=shock_strategy.map(lambda xs: [s for s in xs if valid_shock(s)]),
       growth=st.floats(-0.8, 0.3), financing=st.floats(0.5, 3.0), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_through_shocks_and_defaults(baseline, shocks, growth, financing, seed):
    """Harsh worlds (stalling demand, missed payments, export bans) exercise the default code."""
    note_defaults(run_checked(baseline, seed, {"shocks": shocks, "end_market.annual_growth": growth,
                                               "vendors.*.financing_share": financing}, STEPS))


def test_invariants_hold_in_a_cascade_of_defaults(baseline):
    """A run built to default: demand collapses and a lab misses its payments early."""
    model = run_checked(baseline, 3, {
        "end_market.annual_growth": -0.9,
        "end_market.initial_spend": 0.5,
        "shocks": [{"step": 2, "kind": "missed_payment", "target": "OpenAI", "size": 1.0},
                   {"step": 3, "kind": "end_market_stall", "size": -0.9}],
    }, 48)
    assert model.defaults, "the scenario was meant to produce at least one default"


def test_invariants_hold_in_the_default_scenario_with_one_agent_of_each_kind():
    from model.scenario import Scenario

    run_checked(Scenario(), 0, None, 60)


# ----------------------------------------------------------------------------- the check bites


def test_a_transfer_that_skips_the_payees_counter_entry_is_caught(baseline, monkeypatch):
    """Break compute rent: the cloud receives cash but books no revenue."""
    original = Ledger.transfer
    skipped: dict[tuple[int, str], float] = {}
    step = {"now": 0}

    def broken(self, payer, payee, amount, kind, payer_side=(ledger_module.NET_WORTH, ""),
               payee_side=(ledger_module.NET_WORTH, ""), source_tag=None):
        original(self, payer, payee, amount, kind, payer_side, payee_side, source_tag)
        if kind == "compute_rent" and amount > 0:
            _book(self.sheets[payee], payee_side, amount, +1)  # undo the payee's counter-entry
            key = (step["now"], payee)
            skipped[key] = skipped.get(key, 0.0) + amount

    model = RoundtripModel(baseline, rng=1, check_invariants=True)
    monkeypatch.setattr(Ledger, "transfer", broken)
    with pytest.raises(InvariantViolation) as info:
        for _ in range(12):
            step["now"] = model.steps + 1
            model.step()
    exc = info.value
    assert skipped, "no compute rent was paid, so nothing was broken"
    first_step = min(s for s, _ in skipped)
    assert exc.step == first_step == model.steps
    assert (exc.step, exc.agent) in skipped
    assert exc.account == "balance sheet"
    # the sheet has the cash but not the revenue: assets exceed liabilities + net worth by the rent
    assert exc.difference == pytest.approx(skipped[(exc.step, exc.agent)], rel=1e-9)
    text = str(exc)
    assert f"step {exc.step}" in text and repr(exc.agent) in text and "'balance sheet'" in text
    assert f"{exc.difference:.6g}" in text


def test_a_loan_changed_behind_the_ledgers_back_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    for _ in range(3):
        model.step()
    loan = next(iter(model.loans.values()))
    loan.outstanding += 0.25  # a draw with no cash and no entries
    with pytest.raises(InvariantViolation) as info:
        model.step()
    exc = info.value
    assert exc.step == 4
    assert exc.agent == loan.holder
    assert exc.account == loan.account
    # the loan amortised during the step, so the gap is the 0.25 less its share of repayment
    assert -0.25 <= exc.difference < 0.0
    assert f"step 4" in str(exc) and loan.account in str(exc) and loan.holder in str(exc)


def test_a_stake_booked_at_the_wrong_value_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.step()
    sheet = model.ledger.sheets["Nvidia"]
    sheet.assets["shares:CoreWeave"] += 1.0
    sheet.net_worth += 1.0  # balanced sheet, but the stake no longer equals shares x price
    with pytest.raises(InvariantViolation) as info:
        check_invariants(model)
    exc = info.value
    assert (exc.step, exc.agent, exc.account) == (1, "Nvidia", "shares:CoreWeave")
    assert exc.difference == pytest.approx(1.0)


def test_a_stake_off_by_less_than_the_tolerance_passes(baseline):
    """The check clears an issuer whose stakes equal shares x price to the bit in one list
    comparison; a stake a rounding error away takes the tolerance test, and passes it."""
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.step()
    sheet = model.ledger.sheets["Nvidia"]
    booked = sheet.assets["shares:CoreWeave"]
    nudged = math.nextafter(booked, math.inf)
    sheet.assets["shares:CoreWeave"] = nudged
    sheet.net_worth += nudged - booked
    check_invariants(model)


def test_shares_held_not_equal_to_outstanding_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.registry.outstanding["OpenAI"] += 0.01
    with pytest.raises(InvariantViolation) as info:
        check_invariants(model)
    assert (info.value.agent, info.value.account) == ("OpenAI", "shares")
    assert info.value.difference == pytest.approx(-0.01)


def test_money_created_outside_the_ledger_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.step()
    sheet = model.ledger.sheets["CoreWeave"]
    sheet.assets["cash"] += 0.5
    sheet.net_worth += 0.5  # balanced, but money appeared from nowhere
    with pytest.raises(InvariantViolation) as info:
        model.step()
    exc = info.value
    assert (exc.step, exc.agent, exc.account) == (2, "(all)", "cash")
    assert exc.difference == pytest.approx(0.5)


def test_gpus_lost_from_the_fleet_are_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.gw_built += 0.3
    with pytest.raises(InvariantViolation) as info:
        check_invariants(model)
    assert (info.value.agent, info.value.account) == ("(all)", "gpus")
    assert info.value.difference == pytest.approx(0.3)


def test_a_stake_left_on_the_books_after_its_shares_are_gone_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.step()
    del model.registry.holdings["CoreWeave"]["Nvidia"]  # the shares leave the registry ...
    model.registry.outstanding["CoreWeave"] = sum(model.registry.holdings["CoreWeave"].values())
    with pytest.raises(InvariantViolation) as info:  # ... but the asset stays on Nvidia's sheet
        check_invariants(model)
    assert (info.value.agent, info.value.account) == ("Nvidia", "shares:CoreWeave")
    assert "no shares in the registry" in str(info.value)


def test_a_loan_account_without_its_loan_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.step()
    key, loan = next(iter(model.loans.items()))
    del model.loans[key]  # the claim disappears, both sheets keep it
    with pytest.raises(InvariantViolation) as info:
        check_invariants(model)
    assert info.value.account == loan.account
    assert "no longer exists" in str(info.value)


def test_traced_money_above_the_cash_it_sits_in_is_caught(baseline):
    model = RoundtripModel(baseline, rng=2, check_invariants=True)
    model.step()
    excess = sum(model.ledger.tags["OpenAI"]) + 1.0  # tags beyond the cash after the change
    model.ledger.tags["OpenAI"][0] += model.ledger.sheets["OpenAI"].cash + 1.0
    with pytest.raises(InvariantViolation) as info:
        check_invariants(model)
    assert (info.value.agent, info.value.account) == ("OpenAI", "cash tags")
    assert info.value.difference == pytest.approx(excess)


def test_switching_the_check_off_lets_a_broken_run_continue(baseline):
    """The check is the only guard: with it off the run goes on (so tests must keep it on)."""
    model = RoundtripModel(baseline, rng=2, check_invariants=False)
    model.ledger.sheets["CoreWeave"].assets["cash"] += 0.5
    model.step()
    with pytest.raises(InvariantViolation):
        check_invariants(model)
