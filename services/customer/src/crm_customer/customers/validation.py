"""Customer validation at the gRPC edge: a new customer and the fields an update mask names."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.validation import contact_input
from crm_customer.customers.models import STAGES, CustomerInput, ListFilter, struct_to_dict
from crm_customer.preferences import validation as preference_validation
from crm_customer.tenant_settings.validation import product_line_names
from crm_customer.tiers.models import GRADE_VALUES
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.validate import credit_code, identifier, iso_date, latitude, longitude, text

MAX_ADDRESSES = 10
MAX_CONTACTS = 30
MAX_TAGS = 20
MAX_CUSTOM_FIELDS_BYTES = 8192


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
    return STAGES.parse(
        value, "customer.lifecycle_stage", default=default, unknown="unknown lifecycle stage / 未知的客户阶段"
    )


ORDERS = ProtoEnum(pb.CustomerOrder)


def list_order(value: int) -> str:
    """The list order a request names, as a key of `service.ORDERS` (default: newest first)."""
    return ORDERS.parse(value, "order_by", default="created_desc", unknown="unknown order / 未知的排序方式")


def list_filter(
    *, lifecycle_stage: int, type: str, owner_id: str, org_unit_id: str, tag: str, prefix: str = ""
) -> ListFilter:
    """Filters of a list or search request, validated; `prefix` names where they sit in it."""
    return ListFilter(
        lifecycle_stage=STAGES.parse(
            lifecycle_stage, f"{prefix}lifecycle_stage", default="", unknown="unknown lifecycle stage / 未知的客户阶段"
        )
        or None,
        type=text(type, f"{prefix}type", max_len=30) or None,
        owner_id=identifier(owner_id, f"{prefix}owner_id", required=False) or None,
        org_unit_id=identifier(org_unit_id, f"{prefix}org_unit_id", required=False) or None,
        tag=text(tag, f"{prefix}tag", max_len=20) or None,
    )


def contract_dates(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise InvalidArgument("customer.contract_end", "is before contract_start / 合同结束日期早于开始日期")


TIERS = ("vip", "key", "normal")


def tier(value: str, *, default: str | None = "normal") -> str:
    """A customer's tier: vip, key (重点) or normal (一般)."""
    if not value:
        if default is None:
            raise InvalidArgument("customer.tier", "is required / 必填")
        return default
    if value not in TIERS:
        raise InvalidArgument("customer.tier", "must be vip, key or normal / 客户等级须为 vip、key 或 normal")
    return value


def grade(value: str) -> str:
    """A customer's grade: S, A, B or C, or "" for none."""
    if value and value not in GRADE_VALUES:
        raise InvalidArgument("customer.grade", "must be S, A, B or C / 客户分级须为 S、A、B 或 C")
    return value


SOURCES = ("trade_show", "online", "referral", "phone", "other")


def source(value: str) -> str:
    """How the customer came: one of SOURCES, or "" when unknown."""
    if value and value not in SOURCES:
        raise InvalidArgument(
            "customer.source",
            "must be trade_show, online, referral, phone or other / 客户来源须为展会、网络推广、客户推荐、电话或其他",
        )
    return value


def location(customer: pb.Customer) -> tuple[float | None, float | None]:
    """The customer's (latitude, longitude): both or neither, each in range."""
    has_latitude, has_longitude = customer.HasField("latitude"), customer.HasField("longitude")
    if has_latitude != has_longitude:
        missing = "customer.longitude" if has_latitude else "customer.latitude"
        raise InvalidArgument(missing, "latitude and longitude go together / 纬度和经度须同时填写")
    if not has_latitude:
        return None, None
    return latitude(customer.latitude, "customer.latitude"), longitude(customer.longitude, "customer.longitude")


def customer_input(customer: pb.Customer) -> CustomerInput:
    """Everything a create may carry, validated."""
    if len(customer.contacts) > MAX_CONTACTS:
        raise InvalidArgument("customer.contacts", f"at most {MAX_CONTACTS} contacts / 联系人最多{MAX_CONTACTS}个")
    start = iso_date(customer.contract_start, "customer.contract_start")
    end = iso_date(customer.contract_end, "customer.contract_end")
    contract_dates(start, end)
    lat, lng = location(customer)
    return CustomerInput(
        name=text(customer.name, "customer.name", max_len=200, required=True),
        short_name=text(customer.short_name, "customer.short_name", max_len=50),
        type=text(customer.type, "customer.type", max_len=30),
        credit_code=credit_code(customer.credit_code, "customer.credit_code"),
        addresses=addresses(list(customer.addresses)),
        contacts=[contact_input(c, f"customer.contacts[{i}]") for i, c in enumerate(customer.contacts)],
        contract_start=start,
        contract_end=end,
        tags=tags(list(customer.tags)),
        custom_fields=custom_fields(customer),
        lifecycle_stage=lifecycle_stage(customer.lifecycle_stage),
        tier=tier(customer.tier),
        grade=grade(customer.grade),
        preferences=preference_validation.preferences(customer.preferences),
        special_requirements=preference_validation.requirements(customer.special_requirements),
        product_lines=product_line_names(list(customer.product_lines), "customer.product_lines"),
        source=source(customer.source),
        owner_id=identifier(customer.owner_id, "customer.owner_id", required=False),
        org_unit_id=identifier(customer.org_unit_id, "customer.org_unit_id", required=False),
        org_path=text(customer.org_path, "customer.org_path", max_len=400),
        latitude=lat,
        longitude=lng,
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
        "tier",
        "grade",
        "preferences",
        "special_requirements",
        "product_lines",
        "source",
        "owner_id",
        "latitude",
        "longitude",
    }
)


def customer_changes(customer: pb.Customer, paths: list[str]) -> dict[str, Any]:
    """The fields an update mask names, validated. owner_id brings org_unit_id/org_path along."""
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    changes: dict[str, Any] = {}
    if {"latitude", "longitude"} & set(paths):
        # A location changes whole: a new pin, or none.
        for path in ("latitude", "longitude"):
            if path not in paths:
                raise InvalidArgument(f"customer.{path}", "latitude and longitude go together / 纬度和经度须同时填写")
        changes["latitude"], changes["longitude"] = location(customer)
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
            changes["credit_code"] = credit_code(customer.credit_code, "customer.credit_code")
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
        elif path == "product_lines":
            changes["product_lines"] = product_line_names(list(customer.product_lines), "customer.product_lines")
        elif path == "source":
            changes["source"] = source(customer.source)
        elif path == "tier":
            changes["tier"] = tier(customer.tier, default=None)
        elif path == "grade":
            changes["grade"] = grade(customer.grade)
        elif path == "preferences":
            changes["preferences"] = preference_validation.preferences(customer.preferences)
        elif path == "special_requirements":
            changes["special_requirements"] = preference_validation.requirements(customer.special_requirements)
        elif path in ("latitude", "longitude"):
            continue  # above
        elif path == "owner_id":
            changes["owner_id"] = identifier(customer.owner_id, "customer.owner_id")
            changes["org_unit_id"] = identifier(customer.org_unit_id, "customer.org_unit_id")
            changes["org_path"] = text(customer.org_path, "customer.org_path", max_len=400, required=True)
    return changes
