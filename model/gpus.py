"""A cloud's GPU fleet by vintage: book value against economic value.

Books depreciate a vintage straight-line over the *book* life (what lenders and filings
assume: 4-6 years); its rental value is lost over the shorter *economic* life (heavy use and
newer chips: about 3 years). The economic value, marked to the spot market, is the collateral
behind GPU-backed loans, so the gap between the two lives is where a lender's cushion hides.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Vintage:
    gw: float
    cost_per_gw: float  # B$/GW paid
    age_months: float
    book_value: float  # B$


@dataclass
class Fleet:
    vintages: list[Vintage] = field(default_factory=list)

    @property
    def gw(self) -> float:
        # read many times a step; re-summed only when the vintages change
        if self._gw is None:
            gws = self._gws
            if gws is None:
                gws = self._gws = [v.gw for v in self.vintages]
            self._gw = sum(gws)
        return self._gw

    # caches, not state: left out of the constructor, repr and equality
    _gw: float | None = field(default=None, init=False, repr=False, compare=False)
    # each vintage's GW, in order: a purchase updates the last one
    _gws: list | None = field(default=None, init=False, repr=False, compare=False)
    # (economic life, each vintage's value at market factor 1, their sum or None until asked):
    # a purchase changes only the last vintage, so only its term is recomputed (the sum is
    # redone over the same terms in the same order, so it is the same number)
    _value_cache: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def _changed(self) -> None:
        self._gw = None
        self._gws = None
        self._value_cache = None

    @property
    def book_value(self) -> float:
        return sum([v.book_value for v in self.vintages])

    def average_age_years(self) -> float:
        gw = self.gw
        return sum([v.gw * v.age_months for v in self.vintages]) / gw / 12.0 if gw > 0 else 0.0

    def add(self, gw: float, cost_per_gw: float, age_months: float = 0.0, book_value: float | None = None) -> None:
        if gw > 0:
            value = gw * cost_per_gw if book_value is None else book_value
            last = self.vintages[-1] if self.vintages else None
            if last is not None and last.age_months == age_months:  # same month's purchases: one vintage
                last.cost_per_gw = (last.cost_per_gw * last.gw + cost_per_gw * gw) / (last.gw + gw)
                last.gw += gw
                last.book_value += value
                appended = False
            else:
                self.vintages.append(Vintage(gw, cost_per_gw, age_months, value))
                appended = True
            self._gw = None
            gws = self._gws
            if gws is not None:
                if appended:
                    gws.append(gw)
                else:
                    gws[-1] = last.gw
            cache = self._value_cache
            if cache is not None:
                life, terms, _ = cache
                v = self.vintages[-1]  # its term as economic_value computes it
                term = v.gw * v.cost_per_gw * (left if (left := 1.0 - v.age_months / life) > 0.0 else 0.0)
                if appended:
                    terms.append(term)
                else:
                    terms[-1] = term
                self._value_cache = (life, terms, None)

    def economic_value(self, market_factor: float, economic_life_months: float) -> float:
        """What the fleet would fetch: cost less value lost over the economic life, times the
        spot market's level against new-contract prices."""
        cache = self._value_cache
        if cache is None or cache[0] != economic_life_months:
            # max(0.0, left) written as a conditional: the same number, without a call per vintage
            terms = [v.gw * v.cost_per_gw * (left if (left := 1.0 - v.age_months / economic_life_months) > 0.0 else 0.0)
                     for v in self.vintages]
            value = sum(terms)
            self._value_cache = (economic_life_months, terms, value)
        else:
            value = cache[2]
            if value is None:
                value = sum(cache[1])
                self._value_cache = (economic_life_months, cache[1], value)
        return market_factor * value

    def age_one_month(self, book_life_months: float, physical_life_months: float) -> tuple[float, float, float]:
        """Age every vintage; returns (book depreciation B$, GW scrapped, book value scrapped B$)."""
        depreciation = scrapped_gw = scrapped_value = 0.0
        scrapped = False
        for v in self.vintages:
            v.age_months += 1.0
            book, due = v.book_value, v.gw * v.cost_per_gw / book_life_months
            step = due if due < book else book  # min(book, due), without the call
            v.book_value = book - step
            depreciation += step
            if v.age_months >= physical_life_months:
                scrapped_gw += v.gw
                scrapped_value += v.book_value
                scrapped = True
        if scrapped:  # most months scrap nothing: the list is rebuilt only when a vintage goes
            self.vintages = [v for v in self.vintages if v.age_months < physical_life_months]
            self._changed()
        else:  # the same vintages, older: their GW (and its cached sum) stand, their value does not
            self._value_cache = None
        return depreciation, scrapped_gw, scrapped_value

    def clear(self) -> None:
        """Remove every vintage (what a defaulter's buyers did not take leaves the economy)."""
        self.vintages = []
        self._changed()

    def take(self, share: float) -> "Fleet":
        """Remove `share` of every vintage and return it as a fleet of its own (for sales)."""
        taken = Fleet()
        for v in self.vintages:
            part = Vintage(v.gw * share, v.cost_per_gw, v.age_months, v.book_value * share)
            v.gw -= part.gw
            v.book_value -= part.book_value
            taken.vintages.append(part)
        self.vintages = [v for v in self.vintages if v.gw > 1e-12]
        self._changed()
        taken._changed()
        return taken

    def rebook(self, total_value: float) -> None:
        """Book the fleet at `total_value`, spread by book value (or, when the books already
        show nothing, by original cost)."""
        weights = [v.book_value for v in self.vintages]
        if sum(weights) <= 0:
            weights = [v.gw * v.cost_per_gw for v in self.vintages]
        total = sum(weights)
        for v, w in zip(self.vintages, weights):
            v.book_value = total_value * w / total if total > 0 else 0.0

    def absorb(self, other: "Fleet", price_paid: float) -> None:
        """Add another fleet's vintages, booked at the price paid."""
        other.rebook(price_paid)
        self.vintages.extend(other.vintages)
        self._changed()
