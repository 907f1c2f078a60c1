"""Request validators every servicer shares: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import datetime as dt
import math

from crmkit.cn import normalize_credit_code, normalize_mobile
from crmkit.errors import InvalidArgument

# Ids are UUIDs kept in 36-character columns; a longer one could only fail in the database.
ID_MAX = 36


LINE_BREAKS = frozenset("\n\r\t")


def text(value: str, field_name: str, *, max_len: int, required: bool = False, multiline: bool = False) -> str:
    """Stripped text of at most `max_len` characters without control characters (a `multiline`
    one may hold line breaks and tabs)."""
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidArgument(field_name, "is required / 必填")
    if len(cleaned) > max_len:
        raise InvalidArgument(field_name, f"longer than {max_len} characters / 超过{max_len}个字符")
    allowed = LINE_BREAKS if multiline else frozenset()
    if any((ord(ch) < 32 or ch == "\x7f") and ch not in allowed for ch in cleaned):
        raise InvalidArgument(field_name, "contains control characters / 含有控制字符")
    return cleaned


def identifier(value: str, field_name: str, *, required: bool = True, max_len: int = ID_MAX) -> str:
    return text(value, field_name, max_len=max_len, required=required)


def iso_date(value: str, field_name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidArgument(field_name, "must be a date YYYY-MM-DD / 日期格式应为YYYY-MM-DD") from exc


def credit_code(value: str, field_name: str) -> str | None:
    """A unified social credit code, normalised, or None when empty."""
    if not value.strip():
        return None
    try:
        return normalize_credit_code(value)
    except ValueError as exc:
        raise InvalidArgument(field_name, str(exc)) from exc


def mobile(value: str, field_name: str) -> str | None:
    """A mainland mobile number, normalised, or None when empty."""
    if not value.strip():
        return None
    try:
        return normalize_mobile(value)
    except ValueError as exc:
        raise InvalidArgument(field_name, str(exc)) from exc


def latitude(value: float, field_name: str) -> float:
    """WGS-84 degrees north, −90 to 90."""
    if not math.isfinite(value) or not -90 <= value <= 90:
        raise InvalidArgument(field_name, "must be between -90 and 90 / 纬度须在-90到90之间")
    return value


def longitude(value: float, field_name: str) -> float:
    """WGS-84 degrees east, −180 to 180."""
    if not math.isfinite(value) or not -180 <= value <= 180:
        raise InvalidArgument(field_name, "must be between -180 and 180 / 经度须在-180到180之间")
    return value
