"""Tenant settings validation at the gRPC edge: a list of customer types, custom-field definitions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.tenant_settings.custom_fields import KEY, MAX_DEFINITIONS, MAX_OPTIONS, FieldDefinition, FieldType
from crmkit.errors import InvalidArgument
from crmkit.validate import text

MAX_CUSTOMER_TYPES = 50


def _distinct_names(values: list[str], field: str, *, label: str) -> list[str]:
    """Names of 1 to 30 characters, each once; a repeat is refused naming its place."""
    cleaned: list[str] = []
    for index, value in enumerate(values):
        name = text(value, f"{field}[{index}]", max_len=30, required=True)
        if name in cleaned:
            raise InvalidArgument(f"{field}[{index}]", f"{name!r} is listed twice / {label}重复")
        cleaned.append(name)
    return cleaned


def customer_type_names(values: list[str]) -> list[str]:
    if not values or len(values) > MAX_CUSTOMER_TYPES:
        raise InvalidArgument("types", f"give 1 to {MAX_CUSTOMER_TYPES} types / 客户类型须为1到{MAX_CUSTOMER_TYPES}个")
    return _distinct_names(values, "types", label="客户类型")


MAX_PRODUCT_LINES = 50


def product_line_names(values: list[str], field: str = "product_lines") -> list[str]:
    """A list of product-line names: at most 50, distinct, 1 to 30 characters each."""
    if len(values) > MAX_PRODUCT_LINES:
        raise InvalidArgument(field, f"at most {MAX_PRODUCT_LINES} product lines / 产品线最多{MAX_PRODUCT_LINES}个")
    return _distinct_names(values, field, label="产品线")


def custom_field_definitions(values: Sequence[pb.CustomFieldDefinition]) -> list[FieldDefinition]:
    if len(values) > MAX_DEFINITIONS:
        raise InvalidArgument("definitions", f"at most {MAX_DEFINITIONS} fields / 自定义字段最多{MAX_DEFINITIONS}个")
    cleaned: list[FieldDefinition] = []
    for index, value in enumerate(values):
        at = f"definitions[{index}]"
        key = value.key.strip()
        if not KEY.fullmatch(key):
            raise InvalidArgument(
                f"{at}.key",
                "a letter, then letters, digits or _, at most 40 / 须以字母开头，仅含字母、数字、下划线，最多40位",
            )
        if any(d.key == key for d in cleaned):
            raise InvalidArgument(f"{at}.key", f"{key!r} is defined twice / 字段重复")
        label = text(value.label, f"{at}.label", max_len=30, required=True)
        if value.type == pb.CUSTOM_FIELD_TYPE_UNSPECIFIED or value.type not in pb.CustomFieldType.values():
            raise InvalidArgument(f"{at}.type", "is required / 必填")
        kind = cast(FieldType, pb.CustomFieldType.Name(value.type).removeprefix("CUSTOM_FIELD_TYPE_").lower())
        options: list[str] = []
        if kind == "choice":
            if not value.options or len(value.options) > MAX_OPTIONS:
                raise InvalidArgument(
                    f"{at}.options", f"give 1 to {MAX_OPTIONS} options / 可选值须为1到{MAX_OPTIONS}个"
                )
            for position, raw in enumerate(value.options):
                option = text(raw, f"{at}.options[{position}]", max_len=30, required=True)
                if option in options:
                    raise InvalidArgument(f"{at}.options[{position}]", f"{option!r} is listed twice / 可选值重复")
                options.append(option)
        elif value.options:
            raise InvalidArgument(f"{at}.options", "only choice fields have options / 仅选项字段可设可选值")
        cleaned.append(FieldDefinition(key, label, kind, tuple(options), value.required))
    return cleaned
