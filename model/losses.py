"""The loss book: severity of a run, recorded as losses happen (issue 8, DESIGN.md 'Outcomes').

Capital lost at cost is money firms and investors paid in, for stakes and loans, and did not get
back:
- at a default, each holder's cost basis of its stake in the defaulter (what it paid for new
  shares, in secondary trades at the trade price, or the opening price for opening holdings;
  sales reduce it at average cost), and each lender's principal not recovered from the estate
  (unpaid face less what the estate's cash and assigned receivables paid);
- a realised discount below cost when a firm sells stakes in distress (cost of the shares sold
  less the proceeds, when positive).
Gains elsewhere do not offset it; marks to market (equity or distress marks on loans) are not
capital lost until realised. It is split by who lost it: investors (their equity), lenders
(investors' loans), vendors, clouds, labs, utilities (whatever they held).

The other measures: credit losses (face of loans written off, any holder), equity lost at market
(market value of stakes wiped out at default), vendor exposure lost (vendors' capital lost in
stakes and loans in their customers, labs and clouds), GPU GW stranded (installed, waiting for
power; peak) and scrapped unsold in fire sales, peak build-out, and the exposure still at risk at
the end: money owed by firms that are still alive but have negative net worth or breach their
loan-to-value covenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

SECTORS = ("investors", "lenders", "vendors", "clouds", "labs", "utilities")
_FIRM_SECTOR = {"vendor": "vendors", "cloud": "clouds", "lab": "labs", "utility": "utilities"}
CUSTOMER_KINDS = ("lab", "cloud")


def loss_sector(holder_kind: str, claim: str) -> str:
    """Who lost: an investor's loans are the lenders' sector, its stakes the investors'."""
    if holder_kind == "investor":
        return "lenders" if claim == "loan" else "investors"
    return _FIRM_SECTOR[holder_kind]


@dataclass
class LossBook:
    capital_lost: dict[str, float] = field(default_factory=lambda: {s: 0.0 for s in SECTORS})  # B$ by sector
    credit_losses: float = 0.0  # B$ of loan face written off
    equity_lost_at_market: float = 0.0  # B$ of stakes at market wiped out at default
    vendor_exposure_lost: float = 0.0  # B$ vendors put into customers and lost
    backlog_claims: float = 0.0  # B$ of take-or-pay backlog allowed as claims on defaulted labs
    backlog_recovered: float = 0.0  # B$ of it paid by the estates
    scrapped_gw: float = 0.0  # GW of a defaulter's GPUs nobody bought, scrapped
    stranded_gw_peak: float = 0.0  # GW installed and waiting for power, at the worst month
    build_out_gw_peak: float = 0.0  # GW installed, at the largest
    equity_peak: dict[str, float] = field(default_factory=dict)  # firm -> highest market value so far (distress marks)

    @property
    def capital_lost_at_cost(self) -> float:
        return sum(self.capital_lost.values())

    def _lose(self, holder_kind: str, issuer_kind: str, claim: str, amount: float) -> None:
        if amount <= 0:
            return
        self.capital_lost[loss_sector(holder_kind, claim)] += amount
        if holder_kind == "vendor" and issuer_kind in CUSTOMER_KINDS:
            self.vendor_exposure_lost += amount

    def stake_wiped(self, holder_kind: str, issuer_kind: str, cost: float, marked: float) -> None:
        """A stake in a defaulter goes to zero: its cost basis is lost, and its market value."""
        self._lose(holder_kind, issuer_kind, "stake", cost)
        self.equity_lost_at_market += marked

    def loan_written_off(self, holder_kind: str, issuer_kind: str, face: float) -> None:
        """Principal not recovered from a defaulter's estate."""
        self.credit_losses += face
        self._lose(holder_kind, issuer_kind, "loan", face)

    def distressed_sale(self, holder_kind: str, issuer_kind: str, cost_sold: float, proceeds: float) -> None:
        """Stakes sold in distress below what was paid for them."""
        self._lose(holder_kind, issuer_kind, "stake", cost_sold - proceeds)

    def observe(self, m: Any) -> None:
        """Once a month: peaks of build-out, stranded GW and every firm's market value."""
        clouds = [c for c in m.clouds if not c.defaulted]
        self.build_out_gw_peak = max(self.build_out_gw_peak, sum([c.fleet.gw for c in m.clouds]))
        self.stranded_gw_peak = max(self.stranded_gw_peak, sum([max(0.0, c.fleet.gw - c.connected_gw) for c in clouds]))
        market_value, peaks = m.registry.market_value, self.equity_peak
        for firm in m.firms:
            name = firm.name
            value = market_value(name)
            if value > peaks.get(name, 0.0):
                peaks[name] = value

    def summary(self, m: Any) -> dict[str, float]:
        out = {
            "capital_lost_at_cost": self.capital_lost_at_cost,
            **{f"capital_lost_{s}": self.capital_lost[s] for s in SECTORS},
            "credit_losses": self.credit_losses,
            "equity_lost_at_market": self.equity_lost_at_market,
            "vendor_exposure_lost": self.vendor_exposure_lost,
            "backlog_claims": self.backlog_claims,
            "backlog_recovered": self.backlog_recovered,
            "stranded_gw_peak": self.stranded_gw_peak,
            "scrapped_gw": self.scrapped_gw,
            "build_out_gw_peak": self.build_out_gw_peak,
            "exposure_at_risk_end": exposure_at_risk(m),
        }
        return {k: float(v) for k, v in out.items()}


def in_covenant_breach(m: Any, cloud: Any) -> bool:
    debt = m.secured_debt(cloud.name)
    collateral = cloud.fleet.economic_value(m.prices.collateral_factor, m.economic_life_months)
    return debt > m.params.credit.max_ltv * collateral + 1e-9


def exposure_at_risk(m: Any) -> float:
    """B$ still owed by live firms with negative net worth or in breach of a loan-to-value covenant."""
    total = 0.0
    for firm in m.active_firms():
        weak = firm.books.net_worth < 0 or (firm.kind == "cloud" and in_covenant_breach(m, firm))
        if weak:
            total += sum(loan.outstanding for loan in m.debts_of(firm.name))
    return total


def record_secondary_trades(m: Any, listed: list[str], investors: list[str], held: np.ndarray, delta: np.ndarray,
                            price: np.ndarray, keys: list[tuple[str, str]] | None = None,
                            value: np.ndarray | None = None, every_basis: Callable | None = None) -> None:
    """Cost basis through secondary trades: a buyer adds what it paid, a seller's basis falls at
    average cost (in proportion to the shares it sold). `keys` are the (investor, firm) pairs of
    the matrices in row-major order, `value` is delta * price and `every_basis` an itemgetter of
    the keys, if the caller keeps them.

    Computed on the whole investors x firms matrix (the same float operations, element by
    element, as one update per trade); only the look-ups and write-backs go through the dict."""
    if not delta.any():
        return
    cost = m.invested_at_cost
    if keys is None:
        keys = [(holder, firm) for holder in investors for firm in listed]
    present = None
    try:  # every pair has a basis (the usual case): one look-up call; floats only, so fromiter is exact
        if every_basis is None:
            raise KeyError
        basis = np.fromiter(every_basis(cost), float, len(keys))
    except KeyError:
        old = list(map(cost.get, keys))
        basis = np.array(old)
        if basis.dtype == object:  # some pair has no basis yet (None): it counts as 0 and is written only by a purchase
            present = [v is not None for v in old]
            basis = np.array([0.0 if v is None else v for v in old])
    basis = basis.reshape(delta.shape)
    bought = basis + (delta * price if value is None else value)
    # the share of the stake kept: 1 + delta / held, nothing of a stake of no shares (-1 + 1);
    # never -0.0 (1.0 + x is not), so fmax(kept, 0) is where(kept > 0, kept, 0), NaN included
    kept = 1.0 + np.divide(delta, held, out=np.full_like(delta, -1.0), where=held > 0)
    sold = basis * np.fmax(kept, 0.0)
    # delta != 0 is also true for NaN, which the per-trade rule treated as a sale
    new = np.where(delta > 0, bought, np.where(delta != 0, sold, basis)).ravel().tolist()
    if present is None:  # every pair has a basis already: rewriting an untouched one changes nothing
        cost.update(zip(keys, new))
    else:  # a pair without a basis gets one only by buying, in row-major order as trades were booked
        cost.update((key, value) for key, value, had, change in zip(keys, new, present, delta.ravel().tolist())
                    if had or change > 0)
