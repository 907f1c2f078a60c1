"""After-sale requests as the service takes them: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crm.order.v1 import after_sales_pb2 as pb
from crm_order.money import parse_fen, parse_milli
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, text

AFTER_SALE_TYPES = ProtoEnum(pb.AfterSaleType)
AFTER_SALE_STATES = ProtoEnum(pb.AfterSaleState)
AFTER_SALE_DECISIONS = ProtoEnum(pb.AfterSaleDecision)
# Types that refund money; the others ship goods again.
REFUNDING = frozenset({"return_refund", "refund_only"})
SHIPPING = frozenset({"exchange", "reissue"})
MAX_LINES = 200
MAX_PHOTOS = 9


@dataclass(frozen=True)
class AfterSaleLineInput:
    line_no: int
    quantity_milli: int


def line_inputs(lines: Sequence[pb.AfterSaleLineInput]) -> list[AfterSaleLineInput]:
    if not lines:
        raise InvalidArgument("lines", "at least one line / 至少一行")
    if len(lines) > MAX_LINES:
        raise InvalidArgument("lines", f"at most {MAX_LINES} lines / 最多{MAX_LINES}行")
    seen: set[int] = set()
    inputs = []
    for i, line in enumerate(lines):
        if line.line_no < 1:
            raise InvalidArgument(f"lines[{i}].line_no", "is required / 必填")
        if line.line_no in seen:
            raise InvalidArgument(f"lines[{i}].line_no", "named twice / 订单行重复")
        seen.add(line.line_no)
        if not line.quantity.strip():
            raise InvalidArgument(f"lines[{i}].quantity", "is required / 必填")
        inputs.append(
            AfterSaleLineInput(line_no=line.line_no, quantity_milli=parse_milli(line.quantity, f"lines[{i}].quantity"))
        )
    return inputs


def refund_amount(value: str) -> int | None:
    """None: computed from the lines."""
    return parse_fen(value, "refund_amount") if value.strip() else None


def reason(value: str) -> str:
    return text(value, "reason", max_len=500, required=True, multiline=True)


def comment(value: str, *, required: bool) -> str:
    return text(value, "comment", max_len=200, required=required)


def photo_ids(values: Sequence[str]) -> list[str]:
    if len(values) > MAX_PHOTOS:
        raise InvalidArgument("photo_ids", f"at most {MAX_PHOTOS} photos / 最多{MAX_PHOTOS}张照片")
    ids = [identifier(value, f"photo_ids[{i}]") for i, value in enumerate(values)]
    return list(dict.fromkeys(ids))
