"""Quote requests as the service takes them: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from crm.order.v1 import quotes_pb2 as pb
from crm_order.money import parse_fen, parse_milli
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, iso_date, text

QUOTE_STATES = ProtoEnum(pb.QuoteState)
QUOTE_DECISIONS = ProtoEnum(pb.QuoteDecision)
MAX_LINES = 200
UPDATABLE = ("lines", "valid_until", "notes")
# A quote holds for at most a year.
MAX_DAYS_VALID = 366
# Units counted whole: nobody sells 2.5 boxes. Weights (斤, 公斤, 吨, …) keep three decimals.
WHOLE_UNITS = frozenset({"箱", "件", "袋", "个", "瓶", "包", "盒", "桶", "罐", "只", "条", "台", "套", "张", "提"})


@dataclass(frozen=True)
class QuoteLineInput:
    product_id: str
    quantity_milli: int
    # None: the product's list price.
    quoted_price_fen: int | None


def line_inputs(lines: Sequence[pb.QuoteLineInput]) -> list[QuoteLineInput]:
    if not lines:
        raise InvalidArgument("lines", "at least one line / 至少一行")
    if len(lines) > MAX_LINES:
        raise InvalidArgument("lines", f"at most {MAX_LINES} lines / 最多{MAX_LINES}行")
    return [
        QuoteLineInput(
            product_id=identifier(line.product_id, f"lines[{i}].product_id"),
            quantity_milli=parse_milli(_required(line.quantity, f"lines[{i}].quantity"), f"lines[{i}].quantity"),
            quoted_price_fen=(
                parse_fen(line.quoted_price, f"lines[{i}].quoted_price") if line.quoted_price.strip() else None
            ),
        )
        for i, line in enumerate(lines)
    ]


def check_unit_precision(unit: str, quantity_milli: int, field: str) -> None:
    """Known only once the product is: a whole-unit product's quantity has no decimals."""
    if unit in WHOLE_UNITS and quantity_milli % 1000:
        raise InvalidArgument(field, f"counted in whole {unit} / 以“{unit}”计的数量须为整数")


def valid_until(value: str, today: dt.date) -> dt.date:
    day = iso_date(_required(value, "valid_until"), "valid_until")
    assert day is not None
    if day < today:
        raise InvalidArgument("valid_until", "is in the past / 有效期已过")
    if (day - today).days > MAX_DAYS_VALID:
        raise InvalidArgument("valid_until", f"more than {MAX_DAYS_VALID} days ahead / 有效期过长")
    return day


def notes(value: str) -> str:
    return text(value, "notes", max_len=500, multiline=True)


def comment(value: str, *, required: bool) -> str:
    return text(value, "comment", max_len=200, required=required)


def update_fields(fields: Sequence[str]) -> set[str]:
    if not fields:
        raise InvalidArgument("update_fields", "name at least one field / 请指定要修改的字段")
    unknown = [f for f in fields if f not in UPDATABLE]
    if unknown:
        raise InvalidArgument("update_fields", f"unknown field {unknown[0][:40]} / 未知字段")
    return set(fields)


def company(value: str, field: str, max_len: int = 100) -> str:
    return text(value, field, max_len=max_len)


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidArgument(field, "is required / 必填")
    return value
