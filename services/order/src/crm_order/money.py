"""Money, quantities and rates as exact integers: fen, thousandths of a unit, ten-thousandths.

Requests and events carry them as decimal strings ("128.50"); tables keep integers, exact on
PostgreSQL and SQLite alike, and arithmetic goes through `Decimal`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crmkit.errors import InvalidArgument

# Prices up to 100 million yuan, quantities up to a million units: far beyond any order line.
MAX_FEN = 10_000_000_000
MAX_MILLI = 1_000_000_000
MAX_DIGITS = 12


def _decimal(value: str, field: str, places: int) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation as exc:
        raise InvalidArgument(field, "must be a decimal number / 须为数字") from exc
    if not number.is_finite():
        raise InvalidArgument(field, "must be a decimal number / 须为数字")
    if number.adjusted() > MAX_DIGITS:
        # Refused before it is multiplied out: "1E+1000000" would build a million-digit integer.
        raise InvalidArgument(field, "too large / 数值过大")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise InvalidArgument(field, f"at most {places} decimals / 最多{places}位小数")
    return number


def parse_fen(value: str, field: str) -> int:
    """CNY with at most two decimals, at least 0, as fen."""
    amount = _decimal(value, field, 2)
    if amount < 0:
        raise InvalidArgument(field, "must not be negative / 不能为负数")
    fen = int(amount * 100)
    if fen > MAX_FEN:
        raise InvalidArgument(field, "too large / 金额过大")
    return fen


def parse_milli(value: str, field: str) -> int:
    """A quantity above 0 with at most three decimals, in thousandths."""
    quantity = _decimal(value, field, 3)
    if quantity <= 0:
        raise InvalidArgument(field, "must be more than 0 / 须大于0")
    milli = int(quantity * 1000)
    if milli > MAX_MILLI:
        raise InvalidArgument(field, "too large / 数量过大")
    return milli


def parse_rate(value: str, field: str) -> int:
    """A rate from 0 to 1 with at most four decimals, in ten-thousandths."""
    rate = _decimal(value, field, 4)
    if not 0 <= rate <= 1:
        raise InvalidArgument(field, "must be between 0 and 1 / 须在0到1之间")
    return int(rate * 10_000)


def yuan(fen: int) -> str:
    return str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def quantity_text(milli: int) -> str:
    return str((Decimal(milli) / 1000).normalize().quantize(Decimal(1)) if milli % 1000 == 0 else Decimal(milli) / 1000)


def rate_text(basis: int) -> str:
    return str((Decimal(basis) / 10_000).normalize())


def line_amount_fen(milli: int, unit_price_fen: int) -> int:
    """quantity × unit price, rounded half up to the fen."""
    exact = Decimal(milli) * Decimal(unit_price_fen) / 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
