"""The one base for request bodies: unknown fields refused, no control characters in text."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from crmkit.errors import InvalidArgument

# JSON numbers beyond this lose digits in a protobuf Struct (a double); ERP ids belong in strings.
MAX_SAFE_INTEGER = 2**53
# A record's version as a client sends it back (an int64 in the protos).
MAX_VERSION = 2**63 - 1
NOT_SECRET = frozenset({"password"})


def has_control_characters(value: str) -> bool:
    return any(ord(ch) < 32 or ch == "\x7f" for ch in value)


def _check_text(value: Any) -> None:
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError("contains control characters / 含有控制字符")
    if isinstance(value, list):
        for item in value:
            _check_text(item)


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name not in NOT_SECRET:
            _check_text(value)
        return value


def whole_numbers(value: Any) -> Any:
    """Undo what a protobuf Struct does to integers (620 comes back as 620.0): every number in
    a Struct is a double, and integers up to 2^53 are exactly representable."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    if isinstance(value, list):
        return [whole_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: whole_numbers(item) for key, item in value.items()}
    return value


def json_safe(value: Any, depth: int = 0) -> Any:
    """Free-form JSON (custom fields) that survives a protobuf Struct unchanged."""
    if depth > 8:
        raise ValueError("nested too deeply / 嵌套层级过深")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("integer too large; send it as a string / 整数过大，请以字符串提交")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite / 数值无效")
        return value
    if isinstance(value, str):
        _check_text(value)
        return value
    if isinstance(value, list):
        return [json_safe(item, depth + 1) for item in value]
    if isinstance(value, dict):
        for key in value:
            _check_text(key)
        return {key: json_safe(item, depth + 1) for key, item in value.items()}
    raise ValueError(f"unsupported value {type(value).__name__} / 不支持的数据类型")


def path_id(value: str, field: str) -> str:
    """An id taken from the URL path."""
    if not value or len(value) > 64 or has_control_characters(value):
        raise InvalidArgument(field, "is not a valid id / 编号无效")
    return value
