"""The ledger: every balance sheet, every transfer, and the money-tag tracer.

Each agent (and the two outside accounts, the end market and the rest of the world) has a
`BalanceSheet` whose assets, liabilities and net worth are stored separately, never derived
from one another, so the identity assets = liabilities + net worth is a real check.

A transfer moves cash from a payer to a payee and books the other side on each sheet (an
expense, an asset bought, a debt repaid; a revenue, a debt taken on, an asset sold): one
double entry per sheet, so each sheet stays balanced on its own. Non-cash events (depreciation,
marking shares to market, write-offs) are single-sheet postings.

Money tags trace round-tripping: money a vendor puts into the chain (equity, loans, backstop
payments) carries that vendor's tag; every transfer moves tags in proportion to the payer's
cash (pro rata mixing), and when tagged money comes back to its vendor as revenue the tagged
part is the round-tripped revenue. Money that returns home loses its tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

END_MARKET = "end_market"
REST_OF_WORLD = "rest_of_world"
EXCHANGE = "exchange"  # the equity market's clearing account: net zero after every clearing
OUTSIDE = (END_MARKET, REST_OF_WORLD)

# Sides of an entry: where the other half of a cash movement is booked on a sheet.
NET_WORTH = "nw"
ASSET = "asset"
LIABILITY = "liability"


class BalanceSheet:
    """Stocks of one agent in B$: assets and liabilities by account, and net worth."""

    __slots__ = ("owner", "assets", "liabilities", "net_worth")

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.assets: dict[str, float] = {"cash": 0.0}
        self.liabilities: dict[str, float] = {}
        self.net_worth = 0.0

    @property
    def cash(self) -> float:
        return self.assets["cash"]

    @property
    def total_assets(self) -> float:
        return sum(self.assets.values())

    @property
    def total_liabilities(self) -> float:
        return sum(self.liabilities.values())

    def imbalance(self) -> float:
        return self.total_assets - self.total_liabilities - self.net_worth

    def debt(self) -> float:
        return sum((v for k, v in self.liabilities.items() if k.startswith("loan:")), 0.0)


@dataclass(slots=True)
class Flow:
    """One transfer, kept for the step's Sankey and the measures."""

    payer: str
    payee: str
    kind: str
    amount: float


@dataclass
class Ledger:
    vendor_tags: tuple[str, ...] = ()
    sheets: dict[str, BalanceSheet] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    # tags[account][k]: the part of the account's cash that vendor k put into the chain
    tags: dict[str, list[float]] = field(default_factory=dict)
    # round-tripped revenue received this step, by vendor
    round_tripped: dict[str, float] = field(default_factory=dict)
    money_total: float = 0.0

    def __post_init__(self) -> None:
        self._tag_index = {vendor: k for k, vendor in enumerate(self.vendor_tags)}
        self._no_tags = (0.0,) * len(self.vendor_tags)
        for name in (*OUTSIDE, EXCHANGE):
            self.open(name)

    # ------------------------------------------------------------------ accounts

    def open(self, owner: str) -> BalanceSheet:
        sheet = BalanceSheet(owner)
        self.sheets[owner] = sheet
        self.tags[owner] = [0.0] * len(self.vendor_tags)
        return sheet

    def opening_balance(self, owner: str, account: str, amount: float, side: str = ASSET) -> None:
        """Book a starting stock against net worth (the books before step 0)."""
        sheet = self.sheets[owner]
        if side == ASSET:
            sheet.assets[account] = sheet.assets.get(account, 0.0) + amount
            sheet.net_worth += amount
            if account == "cash":
                self.money_total += amount
        else:
            sheet.liabilities[account] = sheet.liabilities.get(account, 0.0) + amount
            sheet.net_worth -= amount

    def total_money(self) -> float:
        return sum(s.assets["cash"] for s in self.sheets.values())

    # ------------------------------------------------------------------ entries

    # `transfer` is the hot path of a run (about 16,000 calls): it writes `_move_tags`,
    # `_cap_tags` and `_book` out inline, the same operations in the same order.

    def transfer(
        self,
        payer: str,
        payee: str,
        amount: float,
        kind: str,
        payer_side: tuple[str, str] = (NET_WORTH, ""),
        payee_side: tuple[str, str] = (NET_WORTH, ""),
        source_tag: str | None = None,
    ) -> None:
        """Move `amount` of cash from payer to payee, booking each side's counter-entry.

        `payer_side`/`payee_side` say what the cash is exchanged for on each sheet:
        (NET_WORTH, "") an expense or a revenue; (ASSET, account) an asset bought or sold;
        (LIABILITY, account) a debt repaid or taken on. `source_tag` names the vendor whose
        money this is, for circular injections (the whole amount then carries its tag).
        """
        if amount <= 0.0:
            return
        sheets = self.sheets
        a, b = sheets[payer], sheets[payee]
        a_assets, b_assets = a.assets, b.assets
        tag_index = self._tag_index
        if tag_index:  # _move_tags, then _cap_tags on the payee, written out
            tags = self.tags
            src, dst = tags[payer], tags[payee]
            payer_cash = a_assets["cash"]
            traced = amount
            if source_tag is not None:
                own = min(amount, max(0.0, payer_cash - sum(src)))
                dst[tag_index[source_tag]] += own
                traced = amount - own
                payer_cash -= own
            if traced > 0.0:
                share = traced / payer_cash if payer_cash > traced else 1.0
                k = 0  # a counter, not enumerate: no (k, held) tuple per tag on the hot path
                for held in src:
                    if held:  # tags are never negative and share > 0: an empty tag moves nothing
                        moved = held * share
                        src[k] -= moved
                        dst[k] += moved
                    k += 1
            if payee in OUTSIDE:
                dst[:] = self._no_tags
            else:
                k = tag_index.get(payee)
                if k is not None:
                    if kind == "chip_sale":
                        self.round_tripped[payee] = self.round_tripped.get(payee, 0.0) + dst[k]
                    dst[k] = 0.0
            a_assets["cash"] -= amount
            cash = b_assets["cash"] + amount
            b_assets["cash"] = cash
            total = sum(dst)
            if total > cash and total > 0.0:
                scale = max(cash, 0.0) / total
                for k in range(len(dst)):
                    dst[k] *= scale
        else:
            a_assets["cash"] -= amount
            b_assets["cash"] += amount
        side, account = payer_side
        if side == NET_WORTH:  # _book(a, payer_side, amount, +1)
            a.net_worth -= amount
        elif side == ASSET:
            a_assets[account] = a_assets.get(account, 0.0) + amount
        else:
            liabilities = a.liabilities
            liabilities[account] = liabilities.get(account, 0.0) - amount
        side, account = payee_side
        if side == NET_WORTH:  # _book(b, payee_side, amount, -1)
            b.net_worth += amount
        elif side == ASSET:
            b_assets[account] = b_assets.get(account, 0.0) - amount
        else:
            liabilities = b.liabilities
            liabilities[account] = liabilities.get(account, 0.0) + amount
        self.flows.append(Flow(payer, payee, kind, amount))

    def service_debt(self, debtor: str, creditor: str, interest: float, principal: float, account: str) -> None:
        """Interest and principal of one loan in one cash movement: on each sheet the interest
        is an expense or income (net worth) and the principal reduces the claim."""
        amount = interest + principal
        if amount <= 0.0:
            return
        a, b = self.sheets[debtor], self.sheets[creditor]
        a_assets, b_assets = a.assets, b.assets
        if self.vendor_tags:
            self._move_tags(debtor, creditor, a_assets["cash"], amount, "interest", None)
        a_assets["cash"] -= amount
        b_assets["cash"] += amount
        if self.vendor_tags:
            self._cap_tags(creditor, b_assets["cash"])
        a.net_worth -= interest
        b.net_worth += interest
        a.liabilities[account] -= principal
        b_assets[account] -= principal
        if interest > 0.0:
            self.flows.append(Flow(debtor, creditor, "interest", interest))
        if principal > 0.0:
            self.flows.append(Flow(debtor, creditor, "principal", principal))

    def settle_trades(self, holder: str, counterparty: str, values: dict[str, float], kind: str = "trade") -> None:
        """Net cash settlement of several asset purchases (+) and sales (-) in one movement.

        The holder's cash changes by minus the net value and each asset account by its own
        value; the counterparty (the exchange) books the net against its settlement liability.
        """
        net = sum(values.values())
        holder_sheet, counter_sheet = self.sheets[holder], self.sheets[counterparty]
        assets = holder_sheet.assets
        tagged = bool(self.vendor_tags)
        if tagged:
            if net > 0:
                self._move_tags(holder, counterparty, assets["cash"], net, kind, None)
            elif net < 0:
                self._move_tags(counterparty, holder, counter_sheet.assets["cash"], -net, kind, None)
        assets["cash"] -= net
        if tagged:
            self._cap_tags(holder, assets["cash"])
        for account, value in values.items():
            assets[account] = assets.get(account, 0.0) + value
        counter_sheet.assets["cash"] += net
        liabilities = counter_sheet.liabilities
        liabilities["settlement"] = liabilities.get("settlement", 0.0) + net
        if net:
            payer, payee = (holder, counterparty) if net > 0 else (counterparty, holder)
            self.flows.append(Flow(payer, payee, kind, abs(net)))

    def settle_trade_rows(self, holders: list[str], counterparty: str, accounts: list[str], rows: list[list[float]],
                          kind: str = "trade") -> None:
        """Every holder's trades of one clearing, each netted into one movement with the
        counterparty: the same entries, in the same order, as one `settle_trades` call per holder
        with its row's non-zero values by account (a row of zeros, no trade, books nothing).

        Holders who pay in settle before those who are paid out (by net payment, largest first;
        ties in the given order), so the counterparty pays sellers with the buyers' money and its
        tags. One call instead of a dict and a call per holder.
        """
        nets = list(map(sum, rows))  # a row's zeros add nothing to its sum
        payers_first = sorted(range(len(rows)), key=[-net for net in nets].__getitem__)  # stable
        tag_index = self._tag_index
        if counterparty in OUTSIDE or counterparty in tag_index:  # tags leave or come home: the general path
            for k in payers_first:
                if any(rows[k]):
                    self.settle_trades(holders[k], counterparty,
                                       {a: v for a, v in zip(accounts, rows[k]) if v}, kind)
            return
        counter_sheet = self.sheets[counterparty]
        counter_assets, liabilities = counter_sheet.assets, counter_sheet.liabilities
        sheets, flows = self.sheets, self.flows
        for k in payers_first:
            row = rows[k]
            if not any(row):
                continue
            holder, net = holders[k], nets[k]
            assets = sheets[holder].assets
            if tag_index:
                if net > 0:
                    self._move_tags(holder, counterparty, assets["cash"], net, kind, None)
                elif net < 0:
                    self._move_tags(counterparty, holder, counter_assets["cash"], -net, kind, None)
                cash = assets["cash"] - net
                assets["cash"] = cash
                self._cap_tags(holder, cash)
            else:
                assets["cash"] -= net
            for account, value in zip(accounts, row):
                if value:  # a zero is no trade and opens no account
                    assets[account] = assets.get(account, 0.0) + value
            counter_assets["cash"] += net
            liabilities["settlement"] = liabilities.get("settlement", 0.0) + net
            if net:
                flows.append(Flow(holder, counterparty, kind, net) if net > 0 else Flow(counterparty, holder, kind, -net))

    def post(self, owner: str, debit: tuple[str, str], credit: tuple[str, str], amount: float) -> None:
        """A non-cash entry on one sheet: debit one account, credit another."""
        if amount == 0.0:
            return
        sheet = self.sheets[owner]
        _book(sheet, debit, amount, +1)
        _book(sheet, credit, amount, -1)

    # ------------------------------------------------------------------ tags

    def _move_tags(self, payer: str, payee: str, payer_cash: float, amount: float, kind: str, source_tag: str | None) -> None:
        tags = self.tags
        src, dst = tags[payer], tags[payee]
        traced = amount
        if source_tag is not None:
            # a vendor's injection is its own money as far as its untagged cash goes; only the
            # rest is other vendors' money passing through, moved pro rata below
            own = min(amount, max(0.0, payer_cash - sum(src)))
            dst[self._tag_index[source_tag]] += own
            traced = amount - own
            payer_cash -= own
        if traced > 0.0:
            share = traced / payer_cash if payer_cash > traced else 1.0
            k = 0
            for held in src:
                if held:  # tags are never negative and share > 0: an empty tag moves nothing
                    moved = held * share
                    src[k] -= moved
                    dst[k] += moved
                k += 1
        if payee in OUTSIDE:
            dst[:] = self._no_tags  # money that leaves the economy is no longer traced
        else:
            k = self._tag_index.get(payee)
            if k is not None:
                if kind == "chip_sale":
                    self.round_tripped[payee] = self.round_tripped.get(payee, 0.0) + dst[k]
                dst[k] = 0.0  # money that comes home loses its tag

    def _cap_tags(self, owner: str, cash: float) -> None:
        """Tagged money can never exceed the cash it sits in: money received while an account
        is overdrawn first fills the hole, untraced."""
        tags = self.tags[owner]
        total = sum(tags)
        if total > cash and total > 0.0:
            scale = max(cash, 0.0) / total
            for k in range(len(tags)):
                tags[k] *= scale

    def untag_all(self, owner: str) -> None:
        self.tags[owner] = [0.0] * len(self.vendor_tags)


def _book(sheet: BalanceSheet, side: tuple[str, str], amount: float, sign: int) -> None:
    """Book the non-cash half of an entry. sign=+1 for the payer (debit), -1 for the payee (credit)."""
    kind, account = side
    if kind == NET_WORTH:
        sheet.net_worth -= sign * amount
    elif kind == ASSET:
        sheet.assets[account] = sheet.assets.get(account, 0.0) + sign * amount
    else:
        sheet.liabilities[account] = sheet.liabilities.get(account, 0.0) - sign * amount
