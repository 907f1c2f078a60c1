"""Tier and grade requests at the gRPC edge."""

from __future__ import annotations

from collections.abc import Sequence

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.tiers.models import DIMENSIONS, VALUES
from crmkit.errors import InvalidArgument
from crmkit.validate import text


def dimension(value: int, field: str = "dimension", *, default: str | None = None) -> str:
    return DIMENSIONS.parse(value, field, default=default, unknown="unknown tier dimension / 未知的分层维度")


def tier_value(dimension_word: str, value: str, field: str = "value") -> str:
    """A value of the dimension ("" allowed: it clears)."""
    if value and value not in VALUES[dimension_word]:
        allowed = "、".join(VALUES[dimension_word])
        raise InvalidArgument(field, f"must be one of {', '.join(VALUES[dimension_word])} / 须为{allowed}之一")
    return value


def reason(value: str, *, required: bool) -> str:
    return text(value, "reason", max_len=200, required=required)


def tier_labels(values: Sequence[prpb.TierLabel]) -> list[tuple[str, str, str]]:
    """(dimension, value, label) of each label named, each value once; "" label: the default."""
    cleaned: list[tuple[str, str, str]] = []
    for index, label in enumerate(values):
        at = f"labels[{index}]"
        dimension_word = dimension(label.dimension, f"{at}.dimension")
        value = tier_value(dimension_word, label.value, f"{at}.value")
        if not value:
            raise InvalidArgument(f"{at}.value", "is required / 必填")
        if any((d, v) == (dimension_word, value) for d, v, _ in cleaned):
            raise InvalidArgument(f"{at}.value", f"{value!r} is named twice / 重复")
        cleaned.append((dimension_word, value, text(label.label, f"{at}.label", max_len=10)))
    return cleaned
