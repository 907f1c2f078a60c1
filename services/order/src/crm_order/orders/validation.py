"""Order requests as the service takes them: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from crm.order.v1 import order_pb2 as pb
from crm_order.money import parse_fen, parse_milli
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, iso_date, text

PAYMENT_MODES = ProtoEnum(pb.PaymentMode)
ORDER_STATES = ProtoEnum(pb.OrderState)
ORDER_ACTIONS = ProtoEnum(pb.OrderAction)
MAX_LINES = 200
UPDATABLE = ("lines", "delivery_date", "delivery_address", "notes", "urgent")
# How far ahead an order may be booked.
MAX_DAYS_AHEAD = 366


@dataclass(frozen=True)
class LineInput:
    product_id: str
    quantity_milli: int
    # None: the product's list price.
    unit_price_fen: int | None


def line_inputs(lines: Sequence[pb.OrderLineInput]) -> list[LineInput]:
    if not lines:
        raise InvalidArgument("lines", "at least one line / 至少一行")
    if len(lines) > MAX_LINES:
        raise InvalidArgument("lines", f"at most {MAX_LINES} lines / 最多{MAX_LINES}行")
    return [
        LineInput(
            product_id=identifier(line.product_id, f"lines[{i}].product_id"),
            quantity_milli=parse_milli(_required(line.quantity, f"lines[{i}].quantity"), f"lines[{i}].quantity"),
            unit_price_fen=parse_fen(line.unit_price, f"lines[{i}].unit_price") if line.unit_price.strip() else None,
        )
        for i, line in enumerate(lines)
    ]


def delivery_date(value: str, today: dt.date) -> dt.date:
    day = iso_date(_required(value, "delivery_date"), "delivery_date")
    assert day is not None
    if day < today:
        raise InvalidArgument("delivery_date", "is in the past / 送货日期已过")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise InvalidArgument("delivery_date", f"more than {MAX_DAYS_AHEAD} days ahead / 送货日期过远")
    return day


def address(value: str) -> str:
    return text(value, "delivery_address", max_len=300)


def notes(value: str) -> str:
    return text(value, "notes", max_len=500, multiline=True)


def reason(value: str, field: str = "reason", *, required: bool = False) -> str:
    return text(value, field, max_len=200, required=required)


def update_fields(fields: Sequence[str]) -> set[str]:
    if not fields:
        raise InvalidArgument("update_fields", "name at least one field / 请指定要修改的字段")
    unknown = [f for f in fields if f not in UPDATABLE]
    if unknown:
        raise InvalidArgument("update_fields", f"unknown field {unknown[0][:40]} / 未知字段")
    return set(fields)


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidArgument(field, "is required / 必填")
    return value
