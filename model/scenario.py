"""Scenarios: typed, validated parameters for one run of the economy.

A scenario is a TOML file (see `experiments/scenarios/`). This module is the one place where
every parameter's default, unit and meaning is written; the CLI's `--set`, the experiment
designs and the live page's sliders all read them from here.

Validation is strict on purpose: an unknown key, a wrong type, a negative GW, a deal naming an
agent that does not exist or a rule name nobody registered is reported as one line naming the
file, the key and what was expected (`ScenarioError`).
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model.errors import ScenarioError

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "experiments" / "scenarios"


def param(default: Any, unit: str, doc: str, **constraints: Any) -> Any:
    """A parameter with its default, unit and meaning, written once."""
    return Field(default, description=doc, json_schema_extra={"unit": unit}, **constraints)


RESOLUTION = 1e-6  # of any unit (B$, GW, a share): finer than this is float noise to the model, not a scenario
# the fields whose tiny non-zero values broke the books (found by sweeping every field's extremes)
_RESOLVED = frozenset({"revenue_share", "compute_gw", "spot_share"})


class Section(BaseModel):
    # strict: a TOML string is not a number and true is not 1; finite: inf GW is a typo, not a scenario
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _resolution(cls, value: Any, info: Any) -> Any:
        """A number within a millionth of 0 (or of 1, for a share bounded by 1) but not on it is refused
        where the model divides by it:
        1e-12 GW or a spot share of 0.999999999999 drives prices and stakes to where float rounding
        breaks the books, and means nothing a scenario could want to say."""
        if isinstance(value, float) and info.field_name in _RESOLVED:
            bounded_by_one = any(getattr(m, "le", None) == 1 for m in cls.model_fields[info.field_name].metadata)
            if 0 < abs(value) < RESOLUTION or (bounded_by_one and 0 < 1 - value < RESOLUTION):
                raise ValueError(f"{value!r} is finer than the model's resolution; expected 0, 1 or a number at least "
                                 f"{RESOLUTION:g} away from them")
        return value


# ----------------------------------------------------------------------------- the world


class Meta(Section):
    name: str = param("unnamed", "", "scenario name")
    description: str = param("", "", "one line on what the scenario represents")
    start: str = param("2026-01", "YYYY-MM", "calendar month of step 0", pattern=r"^\d{4}-\d{2}$")
    steps: int = param(120, "months", "default horizon", ge=1, le=1200)


class EndMarket(Section):
    """Businesses and consumers paying the labs for AI services: the only organic revenue."""

    initial_spend: float = param(2.0, "B$/month", "end-market spending on AI services at step 0", ge=0.01, le=10_000)
    annual_growth: float = param(0.5, "1/year", "mean growth rate of spending while far from the ceiling", ge=-0.9, le=5)
    volatility: float = param(0.15, "1/sqrt(year)", "standard deviation of the yearly log change of demand from its surprises (AR(1) monthly, see growth_persistence)", ge=0, le=2)
    ceiling: float = param(60.0, "B$/month", "saturation level of end-market spending", ge=0.01, le=100_000)
    growth_persistence: float = param(0.9, "", "AR(1) persistence of monthly growth surprises", ge=0, lt=1)
    spot_share: float = param(0.1, "", "share of end-market spending that rents GPUs directly on the spot market", ge=0, le=1)
    income: float = param(100.0, "B$/month", "income of the businesses and households that buy AI services, at step 0: the budget AI spending comes out of", gt=0, le=1e5)
    income_growth: float = param(0.05, "1/year", "nominal growth of that income", ge=-0.5, le=1)
    cash_months: float = param(1.0, "months of income", "cash the end market keeps between months; AI spending never exceeds a month's income plus it", ge=0, le=24)


class Gpus(Section):
    book_life_years: float = param(6.0, "years", "depreciation life used in the books", gt=0, le=15)
    economic_life_years: float = param(4.0, "years", "life over which a GPU's rental value is lost", gt=0, le=15)
    physical_life_years: float = param(7.0, "years", "age at which a GPU is scrapped", gt=0, le=20)
    efficiency_gain: float = param(0.3, "1/year", "yearly fall in the cost of a unit of compute from newer chips", ge=0, le=1)
    fire_sale_discount: float = param(0.5, "", "share of economic value lost when a defaulter's GPUs are dumped", ge=0, le=1)
    fire_sale_depth: float = param(1.0, "", "depth of the GPU resale market as a multiple of the installed fleet: dumping q GW "
                                   "moves the spot price by exp(-q / (depth x fleet GW)); 1 = selling 10 % of the fleet moves "
                                   "prices about 10 % (Cont and Schaanning 2017)", gt=0, le=100)
    fire_sale_impact_persistence: float = param(0.9, "", "monthly persistence of a fire sale's price impact (0.9: half gone "
                                                "in about 7 months; ASSUMPTION, resale glut absorbed within a year)", ge=0, lt=1)
    fire_sale_buyer_cash_share: float = param(0.5, "", "most of its cash a surviving cloud spends on a defaulter's GPUs", ge=0, le=1)
    shell_cost_per_gw: float = param(15.0, "B$/GW", "cost of a powered data-centre shell (building, cooling, grid works)", ge=0, le=1000)
    build_lead_months: int = param(12, "months", "from signing a compute contract to first delivery (chips and shells)", ge=0, le=60)
    legacy_contract_months: int = param(36, "months", "remaining length of the take-or-pay contracts the starting compute sits "
                                        "on (staggered 0, 6, 12 months shorter by lab)", ge=13, le=240)
    opex_per_gw_month: float = param(0.12, "B$/GW-month", "cloud operating cost per installed GW, staff and maintenance", ge=0, le=10)


class Power(Section):
    lead_time_months: int = param(36, "months", "wait for a connection that needs new generation", ge=0, le=240)
    spare_lead_months: int = param(12, "months", "wait for a connection the grid's spare capacity can serve (substation, lines)", ge=0, le=120)
    base_price: float = param(70.0, "$/MWh", "power price with ample spare capacity", ge=1, le=10_000)
    scarcity_exponent: float = param(4.0, "", "how sharply price rises as use nears capacity", ge=0, le=20)
    scarcity_multiplier: float = param(2.0, "", "price multiple added at full use", ge=0, le=100)
    pue: float = param(1.3, "", "power drawn per GW of IT load (cooling overhead)", ge=1, le=3)
    min_take: float = param(0.85, "", "share of a connection's capacity a cloud pays for even when it draws less (large-load tariffs)", ge=0, le=1)
    fuel_cost_share: float = param(0.6, "", "share of power revenue the utility pays out for fuel and operations", ge=0, le=1)


class Credit(Section):
    risk_free: float = param(0.04, "1/year", "risk-free interest rate", ge=0, le=0.5)
    base_spread: float = param(0.025, "1/year", "spread for an investment-grade borrower", ge=0, le=0.5)
    leverage_spread: float = param(0.08, "1/year", "extra spread per unit of debt / assets", ge=0, le=1)
    tenant_spread: float = param(0.06, "1/year", "extra spread when tenants are all non-investment-grade", ge=0, le=1)
    default_spread: float = param(0.04, "1/year", "extra spread right after a default (fades over a year)", ge=0, le=1)
    sentiment_spread: float = param(0.03, "1/year", "spread added at the most pessimistic sentiment", ge=0, le=1)
    max_ltv: float = param(0.7, "", "loan-to-value covenant on GPU-backed loans", gt=0, le=1)
    loan_term_months: int = param(60, "months", "term of new loans, amortised evenly", ge=1, le=360)
    lending_share: float = param(0.3, "", "share of investors' wealth they are willing to hold in loans", ge=0, le=1)
    rationing_after_loss: float = param(3.0, "", "how strongly lenders cut new lending per unit of loss rate", ge=0, le=100)
    bond_term_months: int = param(120, "months", "term of corporate bonds when issued or rolled over, repaid at maturity; starting "
                                  "debt is a ladder whose three tranches mature at 1/6, 1/2 and 5/6 of it (ASSUMPTION: "
                                  "investment-grade issuers ladder 5-10 year bonds)", ge=1, le=1200)
    default_fade: float = param(0.92, "", "monthly persistence of a default's effect on spreads (0.92: fades over about a year)",
                                ge=0, lt=1)
    distress_loss_given_default: float = param(0.6, "", "share of a loan a holder marks down per unit of its borrower's "
                                               "relative equity loss from its peak (DebtRank-style distress mark; 0 = marks "
                                               "off; ASSUMPTION: senior unsecured recoveries average about 40 %)", ge=0, le=1)
    backlog_claim_share: float = param(0.5, "", "share of a defaulting lab's remaining take-or-pay payments a court allows "
                                       "the cloud as an unsecured claim on the estate (ASSUMPTION: damages net of "
                                       "re-letting the capacity)", ge=0, le=1)
    distressed_sale_price: float = param(0.9, "", "price of stakes a firm sells in distress, as a share of the market price",
                                         gt=0, le=1)


class Sentiment(Section):
    initial: float = param(0.5, "", "starting sentiment, -1 gloom to +1 euphoria", ge=-1, le=1)
    return_weight: float = param(2.0, "", "weight of the market's monthly return", ge=0, le=100)
    growth_weight: float = param(1.0, "", "weight of end-market growth above trend", ge=0, le=100)
    default_weight: float = param(0.6, "", "fall in sentiment per default (in atanh units: at neutral sentiment, 0.6 takes it to tanh(-0.6) = -0.54)", ge=0, le=100)
    persistence: float = param(0.9, "", "monthly persistence of sentiment", ge=0, lt=1)


class Investors(Section):
    """Investors of heterogeneous expectations who switch between strategies by their recent
    performance (Brock and Hommes 1998), trading through a log-linear
    market maker. The three strategy shares are the investors' predispositions: the mix they
    start with and return to when no strategy has outperformed."""

    count: int = param(30, "", "number of investor agents", ge=1, le=10000)
    wealth: float = param(3000.0, "B$", "investable wealth of all investors together (cash at start)", ge=1, le=500_000)
    fundamental: float = param(0.4, "", "predisposition to the fundamentalist strategy (valuing firms off revenue and profit): its share at the start and in a calm market", ge=0, le=1)
    trend: float = param(0.3, "", "predisposition to the trend-following strategy (extrapolating recent returns)", ge=0, le=1)
    sentiment: float = param(0.3, "", "predisposition to the sentiment-following strategy (expecting the market's mood)", ge=0, le=1)
    intensity_of_choice: float = param(5.0, "1/(monthly return)", "beta of the logit switching rule: how strongly investors move to the strategy that earned most lately (0: the shares stay at the predispositions)", ge=0, le=1000)
    memory: float = param(0.7, "", "weight of a strategy's past fitness in today's: U_t = last month's return + memory x U_t-1", ge=0, lt=1)
    risk_aversion: float = param(4.0, "", "tilt of a portfolio weight per unit of expected yearly return: weight = base weight x (1 + risk_aversion x expected return)", ge=0, le=100)
    max_equity_share: float = param(0.95, "", "most of its wealth an investor holds in shares", gt=0, le=1)
    trade_speed: float = param(0.2, "1/month", "share of the gap to target holdings investors close each month", gt=0, le=1)
    price_impact: float = param(0.4, "", "lambda of the log-linear market maker: log price move per unit of net demand over market value", ge=0, le=10)
    max_price_move: float = param(0.25, "", "largest monthly log move of a share price on order flow (a circuit breaker)", gt=0, le=5)
    revenue_multiple: float = param(12.0, "", "price-to-sales multiple a neutral fundamentalist pays", ge=0.1, le=200)


class FundingRounds(Section):
    """How a firm's new shares are sold to investors (model/markets.py `funding_round`). Vendors
    join a round only through a `round_participation` deal."""

    investor_appetite: float = param(0.03, "1/month", "share of their cash investors offer a month's rounds at full euphoria", ge=0, le=1)
    sentiment_floor: float = param(-0.3, "", "sentiment below which no investor joins a round", ge=-1, lt=1)
    max_dilution: float = param(0.25, "", "largest share of a company one round sells", gt=0, le=1)
    distressed_haircut: float = param(0.5, "", "share of the round valuation lost when a firm raises to pay what is due this month", ge=0, lt=1)
    lab_multiple_factor: float = param(2.0, "", "revenue multiple of a lab's round over investors' neutral multiple (growth priced in)", gt=0, le=20)
    max_up_round: float = param(1.0, "", "most a round prices a firm above its current market value (1 = at most double)", ge=0, le=10)
    max_down_round: float = param(0.5, "", "most a round (before any distress haircut) prices a firm below its current market value", ge=0, lt=1)


class Outcomes(Section):
    """Thresholds of the outcome classifier (DESIGN.md, 'Outcomes of a run')."""

    revenue_drawdown: float = param(0.5, "", "after a customer default, vendor trailing-12-month revenue fall below its pre-default peak that counts as collapse", gt=0, le=1)
    persistence_months: int = param(12, "months", "how long the revenue fall must last, counted from the default on; shorter is a correction (or pending at the horizon)", ge=1, le=240)
    equity_drawdown: float = param(0.8, "", "after a customer default, vendor market-value fall from its peak that counts as collapse", gt=0, le=1)
    stable_revenue_band: float = param(0.2, "", "vendor revenue within this share of its peak at the end counts as near the peak", ge=0, le=1)


# ----------------------------------------------------------------------------- agents


class Firm(Section):
    cash: float = param(10.0, "B$", "cash at start", ge=0, le=10_000)
    debt: float = param(0.0, "B$", "debt at start, held by investors", ge=0, le=10_000)
    debt_rate: float = param(0.07, "1/year", "interest rate on the starting debt", ge=0, le=1)
    shares: float = param(1.0, "B shares", "shares outstanding", ge=0.001, le=1000)
    share_price: float = param(100.0, "$/share", "share price (or last round's price) at start", ge=0.01, le=100_000)
    opex: float = param(0.5, "B$/month", "operating costs other than compute and power, paid to the rest of the world", ge=0, le=1000)
    other_assets: float = param(0.0, "B$", "book value at start of the firm's business outside the modelled chain (its other revenue's source); not traded, not pledged", ge=0, le=1e5)


class Lab(Firm):
    revenue_share: float = param(1.0, "", "weight of this lab in the end market at start (normalised over labs)", ge=0, le=100)
    compute_gw: float = param(1.0, "GW", "compute in use at start, on contracts with clouds", ge=0, le=1000)
    ambition: float = param(2.0, "", "compute spending the lab plans per unit of projected revenue", ge=0, le=20)
    horizon_months: int = param(24, "months", "how far ahead the lab plans compute", ge=1, le=120)
    runway_months: int = param(12, "months", "cash runway below which the lab raises money", ge=1, le=120)
    max_revenue_per_gw_month: float = param(1.5, "B$/GW-month", "most AI-services revenue one GW can serve", ge=0.05, le=100)
    opex_share: float = param(0.35, "", "operating costs (staff, sales) as a share of revenue, beyond compute", ge=0, le=5)
    contract_months: int = param(60, "months", "length of the take-or-pay contracts the lab signs during the run (Oracle-OpenAI: 5 years)", ge=1, le=240)
    burn_lookahead_months: int = param(3, "months", "contracts starting within this many months count in the burn the lab funds now", ge=0, le=60)
    burn_lookahead_share: float = param(0.5, "", "share of the rent of those soon-starting contracts counted (clouds rarely deliver a whole contract on its first day)", ge=0, le=1)


class Vendor(Firm):
    annual_revenue: float = param(100.0, "B$/year", "reported revenue over the year before start; the run's opening history is modelled instead (outside sales plus the modelled clouds' own purchases) and is checked against this figure", ge=0, le=100_000)
    gross_margin: float = param(0.7, "", "gross margin on chips", ge=0, lt=1)
    price_per_gw: float = param(35.0, "B$/GW", "price of a GW of accelerators", ge=0.1, le=1000)
    capacity_gw_month: float = param(1.0, "GW/month", "production capacity at start", ge=0.001, le=100)
    capacity_growth: float = param(0.4, "1/year", "highest yearly growth of production capacity", ge=0, le=5)
    financing_share: float = param(0.3, "", "circular exposure (equity, loans, backstops in customers) the vendor accepts, as a share of trailing-12-month revenue", ge=0, le=5)
    financing_cash_floor_months: float = param(6.0, "months of opex", "cash the vendor keeps before it finances customers (vendor loans, equity per GW, round participation)", ge=0, le=60)
    vendor_loan_share: float = param(0.2, "", "share of a cloud's chip purchase the vendor offers to lend", ge=0, le=1)
    vendor_loan_rate: float = param(0.095, "1/year", "rate on vendor loans (OEM financing)", ge=0, le=1)
    vendor_loan_months: int = param(48, "months", "term of vendor loans made at a purchase, amortised evenly (GPU economic life, about 4 years)", ge=1, le=360)
    outside_capex: float = param(0.0, "B$/year", "capital spending at start by the vendor's buyers outside the modelled chain (the rest of the industry)", ge=0, le=100_000)
    outside_capex_share: float = param(0.0, "", "share of that outside capital spending the vendor sells", ge=0, le=1)
    outside_growth: float = param(0.0, "1/year", "trend growth of outside capital spending", ge=-0.9, le=5)
    outside_sentiment_elasticity: float = param(0.0, "", "proportional change of outside spending per unit of investor sentiment away from its initial level (financed by the same capital markets)", ge=0, le=5)
    outside_spread_elasticity: float = param(0.0, "per 1/year", "proportional fall of outside spending per unit of the market-wide credit spread (what an unlevered investment-grade buyer pays: recent defaults, gloom) above its opening level (10 = -10 % per point)", ge=0, le=200)
    opening_history_months: int = param(24, "months", "months of an unreported burn-in from the opening state whose chain purchases seed the vendor's trailing revenue; the clouds buy in blocks as grid connections arrive, so the window spans a connection cycle", ge=1, le=36)


class Cloud(Firm):
    fleet_gw: float = param(1.0, "GW", "installed GPUs at start", ge=0, le=1000)
    fleet_age_months: float = param(12.0, "months", "average age of the starting fleet", ge=0, le=240)
    powered_gw: float = param(1.2, "GW", "grid connection at start (IT load it can power)", ge=0, le=1000)
    other_revenue: float = param(0.0, "B$/month", "revenue from business outside AI compute, paid by the end market", ge=0, le=1000)
    investment_grade: bool = param(False, "", "investment-grade credit (hyperscalers) or not (neoclouds)")
    vendor_mix: dict[str, float] = param({}, "", "share of chip purchases by vendor name; empty = equal split")
    utility: str = param("", "", "name of the utility that powers it; empty = the first one")
    max_backlog_ratio: float = param(5.0, "", "most GW under contract ahead the cloud signs, per GW in its fleet", gt=0, le=100)
    spot_buffer: float = param(0.05, "", "idle capacity the cloud keeps for the spot market, as a share of contracts", ge=0, le=1)
    order_cash_buffer_months: float = param(3.0, "months of fixed costs", "cash the cloud keeps when it pays for chips from its own cash", ge=0, le=60)
    loan_cash_buffer_months: float = param(6.0, "months of fixed costs", "cash the cloud borrows to hold on top of what it builds", ge=0, le=60)


class Utility(Firm):
    capacity_gw: float = param(20.0, "GW", "generation capacity available to data centres", ge=0.01, le=10_000)
    capacity_growth_gw_year: float = param(2.0, "GW/year", "capacity added per year when the queue asks for it", ge=0, le=1000)
    build_cost_per_gw: float = param(2.0, "B$/GW", "cost of new generation per GW", ge=0, le=100)


# ----------------------------------------------------------------------------- deals


class DealBase(Section):
    note: str = param("", "", "where the deal's terms come from")


class TakeOrPay(DealBase):
    type: Literal["take_or_pay"]
    lab: str
    cloud: str
    gw: float = param(1.0, "GW", "contracted compute", gt=0, le=1000)
    price_per_gw_month: float = param(1.0, "B$/GW-month", "price of a GW-month of compute", gt=0, le=100)
    start_step: int = param(0, "month", "first month of delivery", ge=0, le=1200)
    months: int = param(60, "months", "contract length", ge=1, le=1200)
    ramp_months: int = param(0, "months", "months over which delivery rises linearly to the full GW (0 = all at once)", ge=0, le=1200)


class EquityForDeployment(DealBase):
    type: Literal["equity_for_deployment"]
    vendor: str
    lab: str
    per_gw: float = param(10.0, "B$/GW", "equity invested per GW the lab deploys", ge=0, le=1000)
    cap: float = param(100.0, "B$", "total investment cap", ge=0, le=10_000)


class Warrants(DealBase):
    type: Literal["warrants"]
    vendor: str
    lab: str
    shares: float = param(0.16, "B shares", "vendor shares granted in all", gt=0, le=100)
    gw: float = param(6.0, "GW", "GW of the vendor's chips bought for full vesting", gt=0, le=1000)


class VendorLoanDeal(DealBase):
    type: Literal["vendor_loan"]
    vendor: str
    borrower: str
    amount: float = param(1.0, "B$", "drawn amount at start", gt=0, le=10_000)
    rate: float = param(0.095, "1/year", "interest rate", ge=0, le=1)
    months: int = param(60, "months", "term, amortised evenly", ge=1, le=360)


class CapacityBackstop(DealBase):
    type: Literal["capacity_backstop"]
    vendor: str
    cloud: str
    cap: float = param(6.3, "B$", "most the vendor pays in all", gt=0, le=10_000)
    price_per_gw_month: float = param(1.0, "B$/GW-month", "what the vendor pays per idle GW-month", gt=0, le=100)
    start_step: int = param(0, "month", "first month of the backstop", ge=0, le=1200)
    end_step: int = param(76, "month", "last month of the backstop", ge=0, le=1200)


class RoundParticipation(DealBase):
    """A vendor's promise to take part in a lab's equity rounds, on stated terms."""

    type: Literal["round_participation"]
    vendor: str
    lab: str
    share: float = param(0.3, "", "share of each round the vendor buys", gt=0, le=1)
    per_round_cap: float = param(10.0, "B$", "most the vendor puts into one round", gt=0, le=10_000)
    cap: float = param(30.0, "B$", "most the vendor puts in over all rounds", gt=0, le=10_000)
    min_sentiment: float = param(-1.0, "", "the vendor joins only rounds raised at sentiment at or above this", ge=-1, le=1)
    max_valuation: float = param(1e6, "B$", "the vendor joins only rounds priced at or below this pre-money valuation", gt=0, le=1e6)
    distressed: bool = param(False, "", "whether the vendor joins rounds a lab raises to pay what is due (distressed rounds)")
    start_step: int = param(0, "month", "first month of the commitment", ge=0, le=1200)
    end_step: int = param(1200, "month", "last month of the commitment", ge=0, le=1200)


class Guarantee(DealBase):
    """The vendor guarantees a customer's loan from investors: off the vendor's balance sheet
    until the customer defaults, then the vendor pays the lenders up to the guaranteed amount."""

    type: Literal["guarantee"]
    vendor: str
    borrower: str
    amount: float = param(1.0, "B$", "the guaranteed loan from investors, drawn at start", gt=0, le=10_000)
    cap: float = param(1.0, "B$", "most the vendor pays under the guarantee", gt=0, le=10_000)
    rate: float = param(0.1, "1/year", "interest rate of the guaranteed loan", ge=0, le=1)
    months: int = param(60, "months", "term of the guaranteed loan, amortised evenly", ge=1, le=360)


class FinancingCommitment(DealBase):
    """A vendor credit line: the customer draws it when short of cash for chip purchases or
    debt service, up to the committed amount; every draw is a vendor loan on the line's terms."""

    type: Literal["financing_commitment"]
    vendor: str
    borrower: str
    committed: float = param(1.0, "B$", "the line's size", gt=0, le=10_000)
    drawn: float = param(0.0, "B$", "drawn at start (a vendor loan on the line's terms)", ge=0, le=10_000)
    rate: float = param(0.1, "1/year", "interest rate on draws", ge=0, le=1)
    months: int = param(60, "months", "term of each draw, amortised evenly", ge=1, le=360)


class EquityStake(DealBase):
    type: Literal["equity_stake"]
    holder: str
    issuer: str
    fraction: float = param(0.05, "", "share of the issuer's shares held at start", gt=0, lt=1)


Deal = Annotated[
    Union[TakeOrPay, EquityForDeployment, Warrants, VendorLoanDeal, CapacityBackstop, EquityStake, RoundParticipation,
          Guarantee, FinancingCommitment],
    Field(discriminator="type"),
]


class Shock(Section):
    """A scheduled event: the end market stalls, a lab misses a payment, a grid connection slips."""

    step: int = param(12, "month", "when the shock fires", ge=0, le=1200)
    kind: Literal["end_market_stall", "missed_payment", "grid_delay", "export_ban"]
    target: str = param("", "", "agent hit (lab, cloud, utility or vendor); empty = the whole market")
    size: float = param(1.0, "", "stall: new growth rate per year; grid_delay: extra months; export_ban: share of vendor capacity lost", ge=-0.9, le=240)

    @model_validator(mode="after")
    def _size_for_kind(self) -> "Shock":
        low, high, what = _SHOCK_SIZES[self.kind]
        if not low <= self.size <= high:
            raise ValueError(f"size: for a {self.kind} shock it is {what}; expected {low:g}..{high:g}, got {self.size!r}")
        return self


# what `size` means for each kind of shock, and the range the model handles
_SHOCK_SIZES: dict[str, tuple[float, float, str]] = {
    "end_market_stall": (-0.9, 5.0, "the new annual growth rate (as end_market.annual_growth)"),
    "missed_payment": (-0.9, 240.0, "not used"),
    "grid_delay": (-0.9, 240.0, "extra months of waiting (below 1: no delay)"),
    "export_ban": (-0.9, 1.0, "the share of vendor capacity lost (below 0: none)"),
}


# ----------------------------------------------------------------------------- the scenario


class Scenario(Section):
    meta: Meta = Meta()
    end_market: EndMarket = EndMarket()
    gpus: Gpus = Gpus()
    power: Power = Power()
    credit: Credit = Credit()
    sentiment: Sentiment = Sentiment()
    investors: Investors = Investors()
    funding_rounds: FundingRounds = FundingRounds()
    outcomes: Outcomes = Outcomes()
    labs: dict[str, Lab] = Field(default_factory=lambda: {"Lab": Lab()})
    vendors: dict[str, Vendor] = Field(default_factory=lambda: {"Vendor": Vendor()})
    clouds: dict[str, Cloud] = Field(default_factory=lambda: {"Cloud": Cloud()})
    utilities: dict[str, Utility] = Field(default_factory=lambda: {"Utility": Utility()})
    deals: list[Deal] = Field(default_factory=list)
    shocks: list[Shock] = Field(default_factory=list)
    rules: dict[str, str] = Field(default_factory=dict, description="rule slot -> rule name or dotted path")
    check_invariants: bool = param(True, "", "check the accounting identities every step (off for speed)")

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        for kind in ("labs", "vendors", "clouds", "utilities"):
            if not getattr(self, kind):
                raise ValueError(f"{kind}: at least one agent is needed")
        names = [n for kind in ("labs", "vendors", "clouds", "utilities") for n in getattr(self, kind)]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"agent names must be unique across kinds, repeated: {sorted(dupes)}")
        firms = set(names)
        roles = {"lab": self.labs, "vendor": self.vendors, "cloud": self.clouds}
        for i, deal in enumerate(self.deals):
            for role, agents in roles.items():
                name = getattr(deal, role, None)
                if name is not None and name not in agents:
                    raise ValueError(
                        f"deals[{i}].{role}: {name!r} is not a {role} of this scenario; expected one of {sorted(agents)}"
                    )
            for role in ("borrower", "holder", "issuer"):
                name = getattr(deal, role, None)
                if name is not None and name not in firms:
                    raise ValueError(f"deals[{i}].{role}: {name!r} is not an agent of this scenario; expected one of {sorted(firms)}")
            if isinstance(deal, FinancingCommitment) and deal.drawn > deal.committed:
                raise ValueError(f"deals[{i}].drawn: {deal.drawn:g} B$ drawn exceeds the {deal.committed:g} B$ committed; "
                                 f"expected drawn <= committed")
            if isinstance(deal, (Guarantee, FinancingCommitment)) and deal.borrower not in self.clouds:
                raise ValueError(f"deals[{i}].borrower: {deal.borrower!r} is not a cloud of this scenario; "
                                 f"expected one of {sorted(self.clouds)}")
            if isinstance(deal, CapacityBackstop) and deal.end_step < deal.start_step:
                raise ValueError(f"deals[{i}].end_step: the backstop ends (month {deal.end_step}) before it starts "
                                 f"(month {deal.start_step}); expected end_step >= start_step")
        for name, cloud in self.clouds.items():
            for vendor in cloud.vendor_mix:
                if vendor not in self.vendors:
                    raise ValueError(f"clouds.{name}.vendor_mix: {vendor!r} is not a vendor; expected one of {sorted(self.vendors)}")
            if cloud.utility and cloud.utility not in self.utilities:
                raise ValueError(f"clouds.{name}.utility: {cloud.utility!r} is not a utility; expected one of {sorted(self.utilities)}")
        for i, shock in enumerate(self.shocks):
            if shock.target and shock.target not in firms:
                raise ValueError(f"shocks[{i}].target: {shock.target!r} is not an agent; expected one of {sorted(firms)}")
        if self.gpus.economic_life_years > self.gpus.physical_life_years:
            raise ValueError("gpus.economic_life_years: must not exceed gpus.physical_life_years")
        from agents.rules import validate_rule_choices  # agents own the registry

        validate_rule_choices(self.rules)
        return self

    # ------------------------------------------------------------------ overrides

    def with_overrides(self, overrides: dict[str, Any], source: str = "--set") -> "Scenario":
        """A copy with `{"dotted.path": value}` applied and validated like the file.

        A `*` segment addresses every entry of a table: `vendors.*.financing_share`.
        """
        data = self.model_dump()
        for path, value in overrides.items():
            _set_path(data, path.split("."), value, path, source)
        return validate_scenario(data, source)


def _set_path(node: Any, parts: list[str], value: Any, path: str, source: str) -> None:
    head, rest = parts[0], parts[1:]
    if head == "rules" and rest and isinstance(node, dict) and "meta" in node:
        rest = [".".join(rest)]  # rule slots have dots of their own: rules.lab.funding
        node["rules"] = dict(node.get("rules") or {})
        node["rules"][rest[0]] = value
        return
    if isinstance(node, list):
        if head == "*":
            targets = list(range(len(node)))
        elif head.isdigit() and int(head) < len(node):
            targets = [int(head)]
        else:
            raise ScenarioError(f"{source}: {path}: {head!r} is not an index of a list of {len(node)}")
    elif isinstance(node, dict):
        if head == "*":
            targets = list(node)
        elif head in node:
            targets = [head]
        else:
            raise ScenarioError(f"{source}: {path}: unknown key {head!r}{_suggest(head, node)}")
    else:
        raise ScenarioError(f"{source}: {path}: {head!r} cannot be set inside a value")
    for key in targets:
        if rest:
            _set_path(node[key], rest, value, path, source)
        else:
            node[key] = value


def _suggest(key: str, options: Any) -> str:
    close = difflib.get_close_matches(str(key), [str(o) for o in options], n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of {sorted(map(str, options))}"


def _describe(error: dict[str, Any], data: Any) -> str:
    """One pydantic error as `key: what was expected, got what`."""
    clean: list[str] = []
    for part in map(str, error["loc"]):
        if part.startswith(("function-", "tagged-union")):
            continue
        if part in _DEAL_TYPES and len(clean) >= 2 and clean[-2] == "deals":
            continue  # pydantic's discriminator tag: deals.0.take_or_pay.gw -> deals.0.gw
        clean.append(part)
    key = ".".join(clean) or "(top level)"
    if error["type"] == "extra_forbidden":
        parent = _parent_fields(data, clean)
        return f"{key}: unknown key{_suggest(clean[-1], parent) if parent else ''}"
    msg = error["msg"]
    if error["type"] == "value_error":
        return (f"{key}: " if clean else "") + msg.removeprefix("Value error, ")
    got = error.get("input")
    got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"
    return f"{key}: expected {msg[0].lower() + msg[1:]}{got_text}"


def _parent_fields(data: Any, path: list[str]) -> list[str]:
    """The valid keys at the level of an unknown key, for 'did you mean'."""
    model: Any = Scenario
    for part in path[:-1]:
        if model is None:
            return []
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is not None:
            model = _inner_model(field.annotation)
        elif part.isdigit() and isinstance(data, dict):
            model = None
        else:  # a name in a dict of agents: keep the dict's value model
            pass
        if model is None and path[0] == "deals" and len(path) >= 3:
            deal = data.get("deals", [])[int(path[1])] if path[1].isdigit() else {}
            model = _DEAL_TYPES.get(deal.get("type")) if isinstance(deal, dict) else None
    return list(model.model_fields) if model is not None and hasattr(model, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None and found is not str:
            return found
    return None


_DEAL_TYPES = {
    "take_or_pay": TakeOrPay,
    "equity_for_deployment": EquityForDeployment,
    "warrants": Warrants,
    "vendor_loan": VendorLoanDeal,
    "capacity_backstop": CapacityBackstop,
    "equity_stake": EquityStake,
    "round_participation": RoundParticipation,
    "guarantee": Guarantee,
    "financing_commitment": FinancingCommitment,
}


def validate_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Validate a raw mapping; the first problem becomes a one-line `ScenarioError`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScenarioError(f"{source}: {_describe(first, data)}") from None
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A bundled scenario's name (`baseline`) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        bundled = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
        raise ScenarioError(f"{name_or_path}: no such scenario file; expected a path to a .toml file or one of {bundled}")
    return path


def load_scenario(name_or_path: str | Path = "baseline", overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, parse and validate a scenario file, then apply `overrides` (dotted paths)."""
    path = resolve_scenario_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not a text file (byte {exc.start} is not UTF-8); expected a scenario TOML file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc}); expected a readable scenario TOML file") from None
    scenario = validate_scenario(data, str(path))
    if overrides:
        scenario = scenario.with_overrides(overrides, source=f"{path} --set")
    return scenario


def parse_assignment(text: str) -> tuple[str, Any]:
    """`"a.b=0.3"` -> `("a.b", 0.3)`; values are read as TOML, else kept as strings."""
    if "=" not in text:
        raise ScenarioError(f"--set {text}: expected dotted.key=value")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def parameter_info(scenario: Scenario) -> list[dict[str, Any]]:
    """Every resolved parameter: dotted path, value, unit and meaning (for `scenarios show`)."""
    rows: list[dict[str, Any]] = []

    def walk(obj: Any, prefix: str) -> None:
        if isinstance(obj, BaseModel):
            for name, field in type(obj).model_fields.items():
                value = getattr(obj, name)
                path = f"{prefix}{name}"
                if isinstance(value, (BaseModel, dict, list)) and not (isinstance(value, dict) and name in ("vendor_mix", "rules")):
                    walk(value, path + ".")
                else:
                    extra = field.json_schema_extra or {}
                    rows.append({"path": path, "value": value, "unit": extra.get("unit", ""), "doc": field.description or ""})
        elif isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{prefix}{key}.")
        elif isinstance(obj, list):
            for i, value in enumerate(obj):
                walk(value, f"{prefix}{i}.")

    walk(scenario, "")
    return rows
