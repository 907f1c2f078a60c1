"""A tenant's custom-field definitions and the check of customers' values against them.

A tenant that has defined no fields keeps free-form custom fields (an import from a
spreadsheet can bring its own columns); once an admin defines them, every customer created, and
every change of a customer's custom fields, must fit: known keys, the right kind of value, the
required ones present.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from crmkit.errors import InvalidArgument

FieldType = Literal["text", "number", "date", "boolean", "choice"]
FIELD_TYPES: tuple[FieldType, ...] = ("text", "number", "date", "boolean", "choice")
KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DEFINITIONS = 50
MAX_OPTIONS = 50
MAX_TEXT_VALUE = 500
VALUES_FIELD = "customer.custom_fields"


@dataclass(frozen=True, slots=True)
class FieldDefinition:
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    required: bool = False


def _value_error(key: str, english: str, chinese: str) -> InvalidArgument:
    return InvalidArgument(f"{VALUES_FIELD}.{key}", f"{english} / {chinese}")


def _checked(definition: FieldDefinition, value: Any) -> Any:
    key = definition.key
    if definition.type == "text":
        if not isinstance(value, str):
            raise _value_error(key, "must be text", "应为文本")
        if len(value) > MAX_TEXT_VALUE:
            raise _value_error(key, f"longer than {MAX_TEXT_VALUE} characters", f"超过{MAX_TEXT_VALUE}个字符")
        return value
    if definition.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _value_error(key, "must be a number", "应为数字")
        return value
    if definition.type == "date":
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise _value_error(key, "must be a date YYYY-MM-DD", "应为日期 YYYY-MM-DD")
        try:
            dt.date.fromisoformat(value)
        except ValueError as exc:
            raise _value_error(key, "is not a calendar date", "日期不存在") from exc
        return value
    if definition.type == "boolean":
        if not isinstance(value, bool):
            raise _value_error(key, "must be true or false", "应为是或否")
        return value
    if not isinstance(value, str) or value not in definition.options:
        raise _value_error(key, f"must be one of {', '.join(definition.options)}", "不是可选值之一")
    return value


def check_values(definitions: Sequence[FieldDefinition], values: dict[str, Any]) -> dict[str, Any]:
    """The values to store, or InvalidArgument naming `customer.custom_fields.<key>`.

    Without definitions anything goes. With them, a null or empty value means "not filled in"
    and is dropped, which a required field refuses.
    """
    if not definitions:
        return values
    by_key = {d.key: d for d in definitions}
    for key in values:
        if key not in by_key:
            raise _value_error(key, "is not a custom field of this tenant", "不是本企业定义的自定义字段")
    checked: dict[str, Any] = {}
    for definition in definitions:
        value = values.get(definition.key)
        if value is None or value == "":
            if definition.required:
                raise _value_error(definition.key, "is required", "必填")
            continue
        checked[definition.key] = _checked(definition, value)
    return checked
