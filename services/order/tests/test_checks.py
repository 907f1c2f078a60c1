"""The rules an order is checked by against its customer's facts, without a database."""

from __future__ import annotations

import datetime as dt

from crm_order.money import line_amount_fen, parse_fen, parse_milli, quantity_text, yuan
from crm_order.orders.checks import (
    LineGoods,
    closure_covering,
    expired_kinds,
    outside_delivery_windows,
    requirement_conflicts,
)
from crmkit.errors import InvalidArgument

PORK = LineGoods(line_no=1, sku="PK-01", halal=False, organic=False, contains_pork=True, allergens=())
BEEF_HALAL = LineGoods(line_no=2, sku="NR-01", halal=True, organic=True, contains_pork=False, allergens=("芝麻",))
SHRIMP = LineGoods(line_no=3, sku="XR-01", halal=True, organic=False, contains_pork=False, allergens=("虾",))


def test_a_halal_customer_conflicts_with_every_non_halal_line() -> None:
    found = requirement_conflicts([{"kind": "halal", "details": []}], [PORK, BEEF_HALAL])
    assert [(c.sku, c.requirement) for c in found] == [("PK-01", "halal")]


def test_no_pork_excluded_allergens_and_organic_each_find_their_lines() -> None:
    requirements = [
        {"kind": "no_pork", "details": []},
        {"kind": "allergens", "details": ["虾", "花生"]},
        {"kind": "organic", "details": []},
    ]
    found = requirement_conflicts(requirements, [PORK, BEEF_HALAL, SHRIMP])
    assert {(c.sku, c.requirement) for c in found} == {
        ("PK-01", "no_pork"),
        ("PK-01", "organic"),
        ("XR-01", "allergens"),
        ("XR-01", "organic"),
    }


def test_kinds_that_shape_delivery_do_not_refuse_goods() -> None:
    assert requirement_conflicts([{"kind": "cold_chain", "details": []}], [PORK, SHRIMP]) == []


def test_a_closure_covers_its_first_and_last_day_only() -> None:
    winter = (dt.date(2027, 1, 20), dt.date(2027, 2, 20))
    assert closure_covering([winter], dt.date(2027, 1, 20)) == winter
    assert closure_covering([winter], dt.date(2027, 2, 20)) == winter
    assert closure_covering([winter], dt.date(2027, 2, 21)) is None


def test_delivery_windows_warn_only_on_days_the_customer_takes_none() -> None:
    monday_to_friday = [{"weekday": d} for d in range(1, 6)]
    assert outside_delivery_windows(monday_to_friday, dt.date(2026, 12, 5)) is True  # Saturday
    assert outside_delivery_windows(monday_to_friday, dt.date(2026, 12, 7)) is False
    assert outside_delivery_windows([], dt.date(2026, 12, 5)) is False


def test_a_renewed_licence_supersedes_the_expired_one() -> None:
    today = dt.date(2026, 12, 3)
    old, new = dt.date(2026, 6, 30), dt.date(2027, 6, 30)
    assert expired_kinds([("food_licence", old)], today) == ["food_licence"]
    assert expired_kinds([("food_licence", old), ("food_licence", new)], today) == []
    assert expired_kinds([("food_licence", old), ("food_licence", None)], today) == []


def test_money_and_quantities_are_exact() -> None:
    assert parse_fen("128.5", "price") == 12850
    assert yuan(parse_fen("0.10", "price") * 3) == "0.30"
    assert line_amount_fen(parse_milli("2.5", "q"), parse_fen("3.33", "p")) == 833  # 8.325 → 8.33
    assert quantity_text(parse_milli("12.500", "q")) == "12.5"
    assert quantity_text(parse_milli("12", "q")) == "12"


def test_bad_numbers_name_their_field() -> None:
    for value, parse in (
        ("1.234", parse_fen),
        ("-1", parse_fen),
        ("abc", parse_fen),
        ("0", parse_milli),
        ("NaN", parse_milli),
    ):
        try:
            parse(value, "lines[0].quantity")
        except InvalidArgument as refusal:
            assert refusal.field == "lines[0].quantity"
        else:
            raise AssertionError(f"{value} was accepted")


def test_a_huge_exponent_is_refused_before_it_is_multiplied_out() -> None:
    for parse in (parse_fen, parse_milli):
        try:
            parse("1E+1000000", "lines[0].quantity")
        except InvalidArgument as refusal:
            assert "too large" in refusal.reason
        else:
            raise AssertionError("accepted")
