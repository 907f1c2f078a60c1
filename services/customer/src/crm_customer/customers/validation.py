"""Request validation at the gRPC edge: proto in, clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.customers.custom_fields import KEY, MAX_DEFINITIONS, MAX_OPTIONS, FieldDefinition, FieldType
from crm_customer.customers.models import DECISION_ROLES, role_from_proto, stage_from_proto, struct_to_dict
from crmkit.cn import normalize_credit_code, normalize_mobile
from crmkit.errors import InvalidArgument

WECHAT_ID = re.compile(r"^[A-Za-z][-_A-Za-z0-9]{5,19}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ADDRESSES = 10
MAX_CONTACTS = 30
MAX_TAGS = 20
MAX_CUSTOM_FIELDS_BYTES = 8192
# Ids are UUIDs kept in 36-character columns; a longer one could only fail in the database.
ID_MAX = 36


@dataclass
class ContactInput:
    name: str
    mobile: str | None
    wechat_id: str | None
    email: str
    decision_role: str
    title: str
    primary: bool


@dataclass
class CustomerInput:
    name: str = ""
    short_name: str = ""
    type: str = ""
    credit_code: str | None = None
    addresses: list[dict[str, str]] = field(default_factory=list)
    contacts: list[ContactInput] = field(default_factory=list)
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    lifecycle_stage: str = "lead"
    owner_id: str = ""
    org_unit_id: str = ""
    org_path: str = ""


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


def iso_date(value: str, field_name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidArgument(field_name, "must be a date YYYY-MM-DD / 日期格式应为YYYY-MM-DD") from exc


def credit_code(value: str, field_name: str = "customer.credit_code") -> str | None:
    if not value.strip():
        return None
    try:
        return normalize_credit_code(value)
    except ValueError as exc:
        raise InvalidArgument(field_name, str(exc)) from exc


def mobile(value: str, field_name: str) -> str | None:
    if not value.strip():
        return None
    try:
        return normalize_mobile(value)
    except ValueError as exc:
        raise InvalidArgument(field_name, str(exc)) from exc


def wechat(value: str, field_name: str) -> str | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    if not WECHAT_ID.match(cleaned):
        raise InvalidArgument(
            field_name, "WeChat id is 6-20 letters, digits, - or _, starting with a letter / 微信号格式不正确"
        )
    return cleaned


def contact_input(contact: pb.Contact, prefix: str) -> ContactInput:
    email = text(contact.email, f"{prefix}.email", max_len=254)
    if email and not EMAIL.match(email):
        raise InvalidArgument(f"{prefix}.email", "not a valid email address / 邮箱格式不正确")
    role = role_from_proto(contact.decision_role) if contact.decision_role in pb.DecisionRole.values() else None
    if role is None or (role and role not in DECISION_ROLES):
        raise InvalidArgument(f"{prefix}.decision_role", "unknown decision role / 未知的决策角色")
    return ContactInput(
        name=text(contact.name, f"{prefix}.name", max_len=50, required=True),
        mobile=mobile(contact.mobile, f"{prefix}.mobile"),
        wechat_id=wechat(contact.wechat_id, f"{prefix}.wechat_id"),
        email=email,
        decision_role=role,
        title=text(contact.title, f"{prefix}.title", max_len=50),
        primary=contact.primary,
    )


def addresses(values: list[pb.Address]) -> list[dict[str, str]]:
    if len(values) > MAX_ADDRESSES:
        raise InvalidArgument("customer.addresses", f"at most {MAX_ADDRESSES} addresses / 地址最多{MAX_ADDRESSES}个")
    cleaned = []
    for index, address in enumerate(values):
        prefix = f"customer.addresses[{index}]"
        cleaned.append(
            {
                "label": text(address.label, f"{prefix}.label", max_len=20),
                "province": text(address.province, f"{prefix}.province", max_len=20),
                "city": text(address.city, f"{prefix}.city", max_len=30),
                "district": text(address.district, f"{prefix}.district", max_len=30),
                "detail": text(address.detail, f"{prefix}.detail", max_len=200),
            }
        )
    return cleaned


def tags(values: list[str]) -> list[str]:
    if len(values) > MAX_TAGS:
        raise InvalidArgument("customer.tags", f"at most {MAX_TAGS} tags / 标签最多{MAX_TAGS}个")
    cleaned: list[str] = []
    for index, tag in enumerate(values):
        value = text(tag, f"customer.tags[{index}]", max_len=20, required=True)
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def custom_fields(customer: pb.Customer) -> dict[str, Any]:
    try:
        values = struct_to_dict(customer.custom_fields)
    except ValueError as exc:
        raise InvalidArgument("customer.custom_fields", "numbers must be finite / 数值无效") from exc
    if len(json.dumps(values, ensure_ascii=False).encode()) > MAX_CUSTOM_FIELDS_BYTES:
        raise InvalidArgument("customer.custom_fields", f"larger than {MAX_CUSTOM_FIELDS_BYTES} bytes / 自定义字段过大")
    return values


def lifecycle_stage(value: int, *, default: str | None = "lead") -> str:
    if value == pb.LIFECYCLE_STAGE_UNSPECIFIED:
        if default is None:
            raise InvalidArgument("customer.lifecycle_stage", "is required / 必填")
        return default
    if value not in pb.LifecycleStage.values():
        raise InvalidArgument("customer.lifecycle_stage", "unknown lifecycle stage / 未知的客户阶段")
    return stage_from_proto(value)


def contract_dates(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise InvalidArgument("customer.contract_end", "is before contract_start / 合同结束日期早于开始日期")


def customer_input(customer: pb.Customer) -> CustomerInput:
    """Everything a create may carry, validated."""
    if len(customer.contacts) > MAX_CONTACTS:
        raise InvalidArgument("customer.contacts", f"at most {MAX_CONTACTS} contacts / 联系人最多{MAX_CONTACTS}个")
    start = iso_date(customer.contract_start, "customer.contract_start")
    end = iso_date(customer.contract_end, "customer.contract_end")
    contract_dates(start, end)
    return CustomerInput(
        name=text(customer.name, "customer.name", max_len=200, required=True),
        short_name=text(customer.short_name, "customer.short_name", max_len=50),
        type=text(customer.type, "customer.type", max_len=30),
        credit_code=credit_code(customer.credit_code),
        addresses=addresses(list(customer.addresses)),
        contacts=[contact_input(c, f"customer.contacts[{i}]") for i, c in enumerate(customer.contacts)],
        contract_start=start,
        contract_end=end,
        tags=tags(list(customer.tags)),
        custom_fields=custom_fields(customer),
        lifecycle_stage=lifecycle_stage(customer.lifecycle_stage),
        owner_id=identifier(customer.owner_id, "customer.owner_id", required=False),
        org_unit_id=identifier(customer.org_unit_id, "customer.org_unit_id", required=False),
        org_path=text(customer.org_path, "customer.org_path", max_len=400),
    )


UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "short_name",
        "type",
        "credit_code",
        "addresses",
        "contract_start",
        "contract_end",
        "tags",
        "custom_fields",
        "lifecycle_stage",
        "owner_id",
    }
)


def customer_changes(customer: pb.Customer, paths: list[str]) -> dict[str, Any]:
    """The fields an update mask names, validated. owner_id brings org_unit_id/org_path along."""
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    changes: dict[str, Any] = {}
    for path in paths:
        if path not in UPDATABLE_FIELDS:
            raise InvalidArgument("update_mask", f"field {path!r} cannot be updated / 字段不可修改")
        if path == "name":
            changes["name"] = text(customer.name, "customer.name", max_len=200, required=True)
        elif path == "short_name":
            changes["short_name"] = text(customer.short_name, "customer.short_name", max_len=50)
        elif path == "type":
            changes["type"] = text(customer.type, "customer.type", max_len=30)
        elif path == "credit_code":
            changes["credit_code"] = credit_code(customer.credit_code)
        elif path == "addresses":
            changes["addresses"] = addresses(list(customer.addresses))
        elif path == "contract_start":
            changes["contract_start"] = iso_date(customer.contract_start, "customer.contract_start")
        elif path == "contract_end":
            changes["contract_end"] = iso_date(customer.contract_end, "customer.contract_end")
        elif path == "tags":
            changes["tags"] = tags(list(customer.tags))
        elif path == "custom_fields":
            changes["custom_fields"] = custom_fields(customer)
        elif path == "lifecycle_stage":
            changes["lifecycle_stage"] = lifecycle_stage(customer.lifecycle_stage, default=None)
        elif path == "owner_id":
            changes["owner_id"] = identifier(customer.owner_id, "customer.owner_id")
            changes["org_unit_id"] = identifier(customer.org_unit_id, "customer.org_unit_id")
            changes["org_path"] = text(customer.org_path, "customer.org_path", max_len=400, required=True)
    return changes


CONTACT_FIELDS = frozenset({"name", "mobile", "wechat_id", "email", "decision_role", "title", "primary"})


def contact_changes(contact: pb.Contact, paths: list[str]) -> dict[str, Any]:
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    unknown = [p for p in paths if p not in CONTACT_FIELDS]
    if unknown:
        raise InvalidArgument("update_mask", f"field {unknown[0]!r} cannot be updated / 字段不可修改")
    full = contact_input(
        pb.Contact(
            name=contact.name if "name" in paths else "x",
            mobile=contact.mobile,
            wechat_id=contact.wechat_id,
            email=contact.email,
            decision_role=contact.decision_role,
            title=contact.title,
            primary=contact.primary,
        ),
        "contact",
    )
    mapping = {
        "name": full.name,
        "mobile": full.mobile,
        "wechat_id": full.wechat_id,
        "email": full.email,
        "decision_role": full.decision_role,
        "title": full.title,
        "primary": full.primary,
    }
    return {("is_primary" if p == "primary" else p): mapping[p] for p in paths}


MAX_CUSTOMER_TYPES = 50


def customer_type_names(values: list[str]) -> list[str]:
    if not values or len(values) > MAX_CUSTOMER_TYPES:
        raise InvalidArgument("types", f"give 1 to {MAX_CUSTOMER_TYPES} types / 客户类型须为1到{MAX_CUSTOMER_TYPES}个")
    cleaned: list[str] = []
    for index, value in enumerate(values):
        name = text(value, f"types[{index}]", max_len=30, required=True)
        if name in cleaned:
            raise InvalidArgument(f"types[{index}]", f"{name!r} is listed twice / 客户类型重复")
        cleaned.append(name)
    return cleaned


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
