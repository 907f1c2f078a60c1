"""Pricing requests as the service takes them: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from crm.order.v1 import pricing_pb2 as pb
from crm_order.money import parse_fen
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, iso_date

MAX_PRODUCTS = 200
DEFAULT_PAST = 5
MAX_PAST = 20


@dataclass(frozen=True)
class AgreementPriceInput:
    price_id: str
    customer_id: str
    product_id: str
    price_fen: int
    valid_from: dt.date
    valid_until: dt.date | None
    expected_version: int


def agreement_price_input(request: pb.UpsertAgreementPriceRequest) -> AgreementPriceInput:
    if not request.price.strip():
        raise InvalidArgument("price", "is required / 必填")
    if not request.valid_from.strip():
        raise InvalidArgument("valid_from", "is required / 必填")
    valid_from = iso_date(request.valid_from, "valid_from")
    valid_until = iso_date(request.valid_until, "valid_until") if request.valid_until.strip() else None
    assert valid_from is not None
    if valid_until is not None and valid_until < valid_from:
        raise InvalidArgument("valid_until", "is before valid_from / 截止日期早于开始日期")
    if request.expected_version < 0:
        raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
    return AgreementPriceInput(
        price_id=identifier(request.id, "id", required=False),
        customer_id=identifier(request.customer_id, "customer_id"),
        product_id=identifier(request.product_id, "product_id"),
        price_fen=parse_fen(request.price, "price"),
        valid_from=valid_from,
        valid_until=valid_until,
        expected_version=request.expected_version,
    )


def product_ids(values: Sequence[str]) -> list[str]:
    if not values:
        raise InvalidArgument("product_ids", "name at least one product / 至少一个商品")
    if len(values) > MAX_PRODUCTS:
        raise InvalidArgument("product_ids", f"at most {MAX_PRODUCTS} products / 最多{MAX_PRODUCTS}个商品")
    ids = [identifier(value, f"product_ids[{i}]") for i, value in enumerate(values)]
    return list(dict.fromkeys(ids))


def past_limit(value: int) -> int:
    if value == 0:
        return DEFAULT_PAST
    if not 1 <= value <= MAX_PAST:
        raise InvalidArgument("limit", f"between 1 and {MAX_PAST} / 须在1到{MAX_PAST}之间")
    return value


def threshold_bp(value: str) -> int:
    """A percent from 1.00 to 100.00 with at most two decimals, in hundredths."""
    if not value.strip():
        raise InvalidArgument("approval_threshold", "is required / 必填")
    fen = parse_fen(value, "approval_threshold")
    if not 100 <= fen <= 10_000:
        raise InvalidArgument("approval_threshold", "between 1 and 100 percent / 须在1%到100%之间")
    return fen
