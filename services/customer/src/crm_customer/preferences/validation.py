"""Preferences and special requirements at the gRPC edge: shapes and ranges, each refusal naming
its field (`customer.preferences.delivery_windows[2].end`). Whether a requirement's kind is one
the tenant lists is the service's check (`preferences.service.check_requirements`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.preferences.models import RequirementKind
from crmkit.errors import InvalidArgument
from crmkit.validate import text

MAX_ITEMS = 30
MAX_WINDOWS = 28
MAX_REQUIREMENTS = 20
MAX_DETAILS = 30
MAX_KINDS = 30
HH_MM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
KIND_KEY = re.compile(r"[a-z][a-z0-9_]{0,29}")


def _names(values: Sequence[str], field: str, *, max_len: int, label: str) -> list[str]:
    if len(values) > MAX_ITEMS:
        raise InvalidArgument(field, f"at most {MAX_ITEMS} / {label}最多{MAX_ITEMS}项")
    cleaned: list[str] = []
    for index, value in enumerate(values):
        name = text(value, f"{field}[{index}]", max_len=max_len, required=True)
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def _minutes(value: str, field: str) -> int:
    if not HH_MM.fullmatch(value):
        raise InvalidArgument(field, 'must be a time "HH:MM" / 时间格式须为 HH:MM')
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def delivery_windows(values: Sequence[prpb.DeliveryWindow], field: str) -> list[dict[str, Any]]:
    """Windows by weekday (1 Monday … 7 Sunday), each start before its end, none overlapping
    another of the same day; stored in order of weekday and start."""
    if len(values) > MAX_WINDOWS:
        raise InvalidArgument(field, f"at most {MAX_WINDOWS} windows / 收货时段最多{MAX_WINDOWS}个")
    checked: list[tuple[int, int, int, int]] = []
    for index, window in enumerate(values):
        at = f"{field}[{index}]"
        if not 1 <= window.weekday <= 7:
            raise InvalidArgument(f"{at}.weekday", "must be 1 (Monday) to 7 (Sunday) / 星期须为1（周一）到7（周日）")
        start = _minutes(window.start, f"{at}.start")
        end = _minutes(window.end, f"{at}.end")
        if end <= start:
            raise InvalidArgument(f"{at}.end", "must be after start / 结束时间须晚于开始时间")
        for other_index, (weekday, other_start, other_end, _) in enumerate(checked):
            if weekday == window.weekday and start < other_end and other_start < end:
                raise InvalidArgument(
                    f"{at}.start",
                    f"overlaps delivery_windows[{other_index}] on the same day"
                    f" / 与同一天的第{other_index + 1}个时段重叠",
                )
        checked.append((window.weekday, start, end, index))
    ordered = sorted(checked)
    return [{"weekday": values[i].weekday, "start": values[i].start, "end": values[i].end} for *_, i in ordered]


def preferences(value: prpb.CustomerPreferences, field: str = "customer.preferences") -> dict[str, Any]:
    return {
        "categories": _names(value.categories, f"{field}.categories", max_len=30, label="品类"),
        "specifications": _names(value.specifications, f"{field}.specifications", max_len=50, label="规格"),
        "quality_grade": text(value.quality_grade, f"{field}.quality_grade", max_len=20),
        "brands": _names(value.brands, f"{field}.brands", max_len=30, label="品牌"),
        "delivery_windows": delivery_windows(value.delivery_windows, f"{field}.delivery_windows"),
        "delivery_notes": text(value.delivery_notes, f"{field}.delivery_notes", max_len=500, multiline=True),
    }


def requirements(
    values: Sequence[prpb.SpecialRequirement], field: str = "customer.special_requirements"
) -> list[dict[str, Any]]:
    """Each kind once; details and note within their limits (whether the kind is the tenant's,
    and whether it takes details, the service checks)."""
    if len(values) > MAX_REQUIREMENTS:
        raise InvalidArgument(field, f"at most {MAX_REQUIREMENTS} / 特殊要求最多{MAX_REQUIREMENTS}项")
    cleaned: list[dict[str, Any]] = []
    for index, value in enumerate(values):
        at = f"{field}[{index}]"
        kind = text(value.kind, f"{at}.kind", max_len=30, required=True)
        if any(c["kind"] == kind for c in cleaned):
            raise InvalidArgument(f"{at}.kind", f"{kind!r} is listed twice / 特殊要求重复")
        if len(value.details) > MAX_DETAILS:
            raise InvalidArgument(f"{at}.details", f"at most {MAX_DETAILS} / 最多{MAX_DETAILS}项")
        details: list[str] = []
        for position, detail in enumerate(value.details):
            item = text(detail, f"{at}.details[{position}]", max_len=30, required=True)
            if item not in details:
                details.append(item)
        cleaned.append({"kind": kind, "details": details, "note": text(value.note, f"{at}.note", max_len=200)})
    return cleaned


def requirement_kinds(values: Sequence[prpb.SpecialRequirementKind]) -> list[RequirementKind]:
    if not values or len(values) > MAX_KINDS:
        raise InvalidArgument("kinds", f"give 1 to {MAX_KINDS} kinds / 特殊要求类型须为1到{MAX_KINDS}个")
    cleaned: list[RequirementKind] = []
    for index, value in enumerate(values):
        at = f"kinds[{index}]"
        key = value.key.strip()
        if not KIND_KEY.fullmatch(key):
            raise InvalidArgument(
                f"{at}.key",
                "a lowercase letter, then lowercase letters, digits or _, at most 30 / 须以小写字母开头，最多30位",
            )
        if any(k.key == key for k in cleaned):
            raise InvalidArgument(f"{at}.key", f"{key!r} is defined twice / 类型重复")
        label = text(value.label, f"{at}.label", max_len=20, required=True)
        if any(k.label == label for k in cleaned):
            raise InvalidArgument(f"{at}.label", f"{label!r} is used twice / 名称重复")
        cleaned.append(
            RequirementKind(
                key=key,
                label=label,
                description=text(value.description, f"{at}.description", max_len=100),
                takes_details=value.takes_details,
                details_label=text(value.details_label, f"{at}.details_label", max_len=20),
            )
        )
    return cleaned
