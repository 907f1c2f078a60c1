"""Request validation every feature's servicer shares: text and ids in, clean values out, or
INVALID_ARGUMENT naming the field. Each feature keeps its own rules in its `validation.py`."""

from __future__ import annotations

from crmkit.errors import InvalidArgument

# Ids are UUIDs kept in 36-character columns; a longer one could only fail in the database.
ID_MAX = 36


def text(value: str, field_name: str, *, max_len: int, required: bool = False) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidArgument(field_name, "is required / 必填")
    if len(cleaned) > max_len:
        raise InvalidArgument(field_name, f"longer than {max_len} characters / 超过{max_len}个字符")
    if any(ord(ch) < 32 for ch in cleaned):
        raise InvalidArgument(field_name, "contains control characters / 含有控制字符")
    return cleaned


def identifier(value: str, field_name: str, *, required: bool = True) -> str:
    cleaned = text(value, field_name, max_len=ID_MAX, required=required)
    return cleaned
