"""A quote's rates and totals, and the approval threshold, to the fen."""

from __future__ import annotations

from decimal import Decimal

from crm_order.quotes.pricing import PricedLine, quote_totals


def line(quantity: str, list_price: str, quoted: str) -> PricedLine:
    return PricedLine(Decimal(quantity), Decimal(list_price), Decimal(quoted))


def test_totals_are_sums_of_lines_rounded_to_the_fen() -> None:
    # 3 × 0.335 = 1.005 → 1.01 per line (half up), so three lines total 3.03, not round(3.015).
    totals = quote_totals([line("3", "0.335", "0.335")] * 3)
    assert totals.total == Decimal("3.03")
    assert totals.list_total == Decimal("3.03")
    assert totals.discount_rate == Decimal("100.00")


def test_one_deep_line_needs_approval_even_when_the_whole_quote_is_above_the_threshold() -> None:
    totals = quote_totals([line("100", "10.00", "10.00"), line("1", "10.00", "8.00")])
    assert totals.discount_rate == Decimal("99.80")
    assert totals.lowest_line_rate == Decimal("80.00")
    assert totals.needs_approval()
    assert not totals.needs_approval(Decimal("80.00"))


def test_a_quote_at_the_threshold_needs_no_approval() -> None:
    totals = quote_totals([line("2", "50.00", "45.00")])
    assert totals.discount_rate == Decimal("90.00")
    assert not totals.needs_approval()


def test_a_line_without_a_list_price_has_no_rate_and_triggers_nothing() -> None:
    totals = quote_totals([line("1", "0.00", "5.00"), line("1", "10.00", "9.50")])
    assert totals.lowest_line_rate == Decimal("95.00")
    assert not totals.needs_approval()
