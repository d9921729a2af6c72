"""Contracts: the deal types, each a small class with its terms and its payment schedule.

A contract's terms are data (they come from the scenario's `[[deals]]` or from a market that
just cleared); the ledger carries out the payments they schedule. Financial claims (loans,
shares) appear on two balance sheets: the holder's asset and the issuer's liability (loans) or
the share registry (equity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(slots=True)
class Loan:
    """A debt claim: holder lends to issuer; interest monthly, principal amortised or at maturity.

    An amortising loan (GPU-backed, vendor) repays in equal instalments over its term. A bond
    (`bullet`) pays interest only and its whole principal falls due at maturity, when the issuer
    rolls it over or repays it (model.settlement). One facility per (kind, issuer, holder): new
    draws add to it at a blended rate and restart its term (the facility is refinanced), so the
    number of claims stays bounded however long the run.

    The holder marks the loan to its borrower's credit with a contra-asset `allowance` (<= 0,
    on the holder's sheet as `allowance:ID`); the face stays on both sheets until default.
    """

    id: int
    kind: str  # "gpu_backed", "vendor_loan", "corporate"
    holder: str
    issuer: str
    outstanding: float  # B$, face
    rate: float  # per year
    term_months: int
    collateralised: bool = False
    months_left: int = -1  # months to maturity (bonds) or of amortisation left; -1 = the full term
    bullet: bool = False  # a bond: principal due at maturity, not amortised
    allowance: float = 0.0  # B$ (<= 0): the holder's distress mark against the face
    due_now: float = 0.0  # bond principal falling due this month that was not rolled over
    # the ledger accounts of the claim and of its allowance, named once (read at every payment)
    account: str = field(init=False, repr=False, compare=False)
    allowance_account: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.months_left < 0:
            self.months_left = self.term_months
        self.account = f"loan:{self.id}"
        self.allowance_account = f"allowance:{self.id}"

    def interest_due(self) -> float:
        return self.outstanding * self.rate / 12.0

    def principal_due(self) -> float:
        """Bonds: what matured and was not rolled over; otherwise equal instalments."""
        # min() and max() written as conditionals (the same numbers, without two calls: this is
        # asked for every loan every month, and again for the firms' cost estimates)
        outstanding = self.outstanding
        due = self.due_now if self.bullet else outstanding / (months if (months := self.months_left) > 1 else 1)
        return due if due < outstanding else outstanding

    def matures_now(self) -> bool:
        return self.bullet and self.months_left <= 1 and self.outstanding > 0

    def roll_over(self, rolled: float, rate: float) -> None:
        """At maturity: `rolled` of the face is refinanced by its holder at `rate` for a new term;
        the rest falls due this month."""
        self.due_now = self.outstanding - rolled
        if rolled > 0:
            self.rate = rate
        self.months_left = self.term_months + 1  # the month's instalment counts it down to the full term

    def paid_instalment(self) -> None:
        left = self.months_left - 1
        self.months_left = left if left > 0 else 0  # max(0, left), without the call
        self.due_now = 0.0

    def draw(self, amount: float, rate: float) -> None:
        if self.outstanding + amount > 0:
            self.rate = (self.rate * self.outstanding + rate * amount) / (self.outstanding + amount)
        self.outstanding += amount
        self.months_left = self.term_months


class LoanBook(dict):
    """The model's loans, (kind, issuer, holder) -> Loan: a dict that also indexes each issuer's
    loans, so "what does this firm owe" is one look-up instead of a scan of every loan (it is
    asked a few times per firm and step). Every way a dict can gain or lose an entry goes
    through the overrides below, so the index never drifts; an issuer's loans come out in the
    dict's own order (insertion order, a re-inserted key at the end in both)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        self._by_issuer: dict[str, dict] = {}
        self.update(*args, **kwargs)

    def issued_by(self, issuer: str):
        """A view of the issuer's loans, in the book's order (copy it before changing the book)."""
        return self._by_issuer.get(issuer, _NO_LOANS).values()

    def _unindex(self, key, loan) -> None:
        loans = self._by_issuer[loan.issuer]
        del loans[key]
        if not loans:
            del self._by_issuer[loan.issuer]

    def __setitem__(self, key, loan) -> None:
        old = self.get(key)
        if old is not None and old.issuer != loan.issuer:
            self._unindex(key, old)
        super().__setitem__(key, loan)
        self._by_issuer.setdefault(loan.issuer, {})[key] = loan

    def __delitem__(self, key) -> None:
        loan = self[key]
        super().__delitem__(key)
        self._unindex(key, loan)

    def pop(self, key, *default):
        if key in self:
            loan = super().pop(key)
            self._unindex(key, loan)
            return loan
        return super().pop(key, *default)

    def popitem(self):
        key, loan = super().popitem()
        self._unindex(key, loan)
        return key, loan

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs) -> None:
        for key, loan in dict(*args, **kwargs).items():
            self[key] = loan

    def __ior__(self, other):
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        self._by_issuer.clear()

    def __reduce__(self):
        # copies and pickles rebuild the book entry by entry, so the index is rebuilt with it
        return (type(self), (), None, None, iter(self.items()))


_NO_LOANS = MappingProxyType({})  # read-only: shared by every issuer without loans


@dataclass(slots=True)
class TakeOrPay:
    """Compute rented by a lab from a cloud: the lab pays for delivered GW whether used or not."""

    id: int
    lab: str
    cloud: str
    gw: float
    price_per_gw_month: float
    start_step: int
    end_step: int  # exclusive
    ramp_months: int = 0  # GW rise linearly to `gw` over this many months (big campuses come online in phases)
    delivered_gw: float = 0.0  # set each step by the compute market
    active: bool = True

    def live(self, step: int) -> bool:
        return self.active and self.start_step <= step < self.end_step

    def gw_at(self, step: int) -> float:
        """GW due at `step`, the ramp included."""
        if not (self.active and self.start_step <= step < self.end_step):  # not live(step), inline: a hot path
            return 0.0
        if self.ramp_months <= 0:
            return self.gw
        return self.gw * min(1.0, (step - self.start_step + 1) / self.ramp_months)

    def schedule(self, first: int) -> "np.ndarray":
        """GW due in each month from `first` (>= start) to the end."""
        months = np.arange(max(first, self.start_step), self.end_step)
        if self.ramp_months <= 0:
            return np.full(months.size, self.gw)
        return self.gw * np.minimum(1.0, (months - self.start_step + 1) / self.ramp_months)

    def rent_due(self) -> float:
        return self.delivered_gw * self.price_per_gw_month

    def committed_value(self, step: int) -> float:
        """Remaining payments if fully delivered: the backlog (remaining performance obligation)."""
        months = max(0, self.end_step - max(step, self.start_step))
        return self.gw * self.price_per_gw_month * months


@dataclass(slots=True)
class EquityForDeployment:
    """Vendor buys the lab's new shares in tranches per GW the lab deploys, up to a cap."""

    vendor: str
    lab: str
    per_gw: float
    cap: float
    invested: float = 0.0
    active: bool = True

    def tranche(self, new_gw: float) -> float:
        return max(0.0, min(self.per_gw * new_gw, self.cap - self.invested)) if self.active else 0.0


@dataclass(slots=True)
class Warrants:
    """Vendor shares granted to the lab as it buys the vendor's chips (vesting per GW)."""

    vendor: str
    lab: str
    shares: float  # B shares in all
    gw: float  # GW for full vesting
    vested_gw: float = 0.0
    active: bool = True

    def vest(self, new_gw: float) -> float:
        """Shares vesting for `new_gw` more GW bought."""
        if not self.active:
            return 0.0
        take = max(0.0, min(new_gw, self.gw - self.vested_gw))
        self.vested_gw += take
        return self.shares * take / self.gw


@dataclass(slots=True)
class CapacityBackstop:
    """Vendor pays the cloud for capacity that finds no tenant, up to a cap, until a date."""

    vendor: str
    cloud: str
    cap: float
    price_per_gw_month: float
    end_step: int
    start_step: int = 0
    paid: float = 0.0
    active: bool = True

    def payment(self, idle_gw: float, step: int) -> float:
        if not self.active or not self.start_step <= step <= self.end_step:
            return 0.0
        return max(0.0, min(idle_gw * self.price_per_gw_month, self.cap - self.paid))

    def remaining(self, step: int) -> float:
        return 0.0 if not self.active or step > self.end_step else self.cap - self.paid


@dataclass(slots=True)
class RoundParticipation:
    """Vendor buys a share of a lab's equity rounds, within per-round and total caps, only at a
    sentiment and a valuation its terms accept, and in distressed rounds only if they say so."""

    vendor: str
    lab: str
    share: float
    per_round_cap: float
    cap: float
    min_sentiment: float
    max_valuation: float
    distressed: bool
    start_step: int
    end_step: int
    invested: float = 0.0
    active: bool = True

    def offer(self, round_size: float, valuation: float, sentiment: float, distressed: bool, step: int) -> float:
        """B$ the vendor would put into a round of `round_size` on these terms."""
        if (not self.active or not self.start_step <= step <= self.end_step or sentiment < self.min_sentiment
                or valuation > self.max_valuation or (distressed and not self.distressed)):
            return 0.0
        return max(0.0, min(self.share * round_size, self.per_round_cap, self.cap - self.invested))

    def remaining(self, step: int) -> float:
        """What the terms could still pay in (the lab counts on it when it signs contracts)."""
        return 0.0 if not self.active or step > self.end_step else self.cap - self.invested


@dataclass(slots=True)
class Guarantee:
    """Vendor guarantees a customer's loans from investors, up to `cap`: off the vendor's books
    until the borrower defaults; then the vendor pays the lenders and takes over their claim."""

    vendor: str
    borrower: str
    cap: float
    loans: list = field(default_factory=list)  # the guaranteed Loan facilities
    paid: float = 0.0
    active: bool = True

    def remaining(self, step: int) -> float:
        """The vendor's contingent liability: the guaranteed loans still outstanding, up to the cap."""
        if not self.active:
            return 0.0
        return max(0.0, min(self.cap - self.paid, sum(loan.outstanding for loan in self.loans)))


@dataclass(slots=True)
class FinancingCommitment:
    """A vendor credit line: the customer draws it, up to `committed` in all, when short of
    cash for chip purchases or debt service; each draw is a vendor loan at `rate` over `months`."""

    vendor: str
    borrower: str
    committed: float
    rate: float
    months: int
    drawn: float = 0.0
    active: bool = True

    def available(self) -> float:
        return max(0.0, self.committed - self.drawn) if self.active else 0.0

    def remaining(self, step: int) -> float:
        """The undrawn part: committed vendor money not yet lent (drawn parts are vendor loans)."""
        return self.available()


@dataclass(slots=True)
class PowerRequest:
    """A grid connection asked of a utility: waits the lead time, then the GW are connected."""

    cloud: str
    utility: str
    gw: float
    requested_step: int
    ready_step: int


@dataclass
class ShareRegistry:
    """Shares outstanding of every firm and who holds them; prices in $/share (= B$ per B shares)."""

    outstanding: dict[str, float] = field(default_factory=dict)
    holdings: dict[str, dict[str, float]] = field(default_factory=dict)  # issuer -> holder -> shares
    price: dict[str, float] = field(default_factory=dict)

    def list_firm(self, issuer: str, shares: float, price: float) -> None:
        self.outstanding[issuer] = shares
        self.holdings[issuer] = {}
        self.price[issuer] = price

    def market_value(self, issuer: str) -> float:
        return self.outstanding[issuer] * self.price[issuer]

    def held(self, issuer: str, holder: str) -> float:
        return self.holdings[issuer].get(holder, 0.0)

    def move(self, issuer: str, seller: str, buyer: str, shares: float) -> None:
        h = self.holdings[issuer]
        h[seller] = h.get(seller, 0.0) - shares
        h[buyer] = h.get(buyer, 0.0) + shares
        if abs(h[seller]) < 1e-15:
            del h[seller]

    def issue(self, issuer: str, holder: str, shares: float) -> None:
        self.outstanding[issuer] += shares
        h = self.holdings[issuer]
        h[holder] = h.get(holder, 0.0) + shares
