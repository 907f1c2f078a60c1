"""A quote's sums: line amounts, discount rates per line and overall, and whether it needs approval.

Rates are quoted price over list price as a percentage with two places (88.50 means 88.50%), the
way sales staff read them; amounts are rounded half-up to the fen once per line, and totals are
sums of those rounded lines, so a printed quote adds up to the fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
HUNDRED = Decimal(100)
# The tenant default (issue 13): a rate below 90% needs a supervisor's approval.
DEFAULT_APPROVAL_THRESHOLD = Decimal("90.00")


@dataclass(frozen=True)
class PricedLine:
    quantity: Decimal
    list_price: Decimal
    quoted_price: Decimal

    @property
    def list_amount(self) -> Decimal:
        return to_fen(self.quantity * self.list_price)

    @property
    def amount(self) -> Decimal:
        return to_fen(self.quantity * self.quoted_price)

    @property
    def discount_rate(self) -> Decimal | None:
        return discount_rate(self.list_price, self.quoted_price)


@dataclass(frozen=True)
class QuoteTotals:
    list_total: Decimal
    total: Decimal
    discount_rate: Decimal | None
    lowest_line_rate: Decimal | None

    def needs_approval(self, threshold: Decimal = DEFAULT_APPROVAL_THRESHOLD) -> bool:
        """Any line's rate or the overall rate below the threshold."""
        rates = [rate for rate in (self.discount_rate, self.lowest_line_rate) if rate is not None]
        return any(rate < threshold for rate in rates)


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def discount_rate(list_amount: Decimal, quoted_amount: Decimal) -> Decimal | None:
    """Quoted over list as a percentage; none when there is no list price to compare with (a
    free line, or a product without a list price), which never triggers an approval on its own."""
    if list_amount <= 0:
        return None
    return to_fen(quoted_amount * HUNDRED / list_amount)


def quote_totals(lines: Sequence[PricedLine]) -> QuoteTotals:
    list_total = sum((line.list_amount for line in lines), Decimal("0.00"))
    total = sum((line.amount for line in lines), Decimal("0.00"))
    line_rates = [rate for rate in (line.discount_rate for line in lines) if rate is not None]
    return QuoteTotals(
        list_total=list_total,
        total=total,
        discount_rate=discount_rate(list_total, total),
        lowest_line_rate=min(line_rates, default=None),
    )
