"""REST shapes of a customer's profile (issue 12): preferences, special requirements and the
alerts they raise, tier and grade with their labels and sources. The customer's own schemas
(`customers/schemas.py`) carry them; the profile routes (`profile/router.py`) change them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import profile_pb2 as prpb

HH_MM = r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$"
Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Specification = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# The value tier (分层) and the grade (分级).
Tier = Literal["vip", "key", "normal"]
Grade = Literal["S", "A", "B", "C"]
TierSource = Literal["manual", "automatic"]
MULTILINE = frozenset({"delivery_notes"})
RequirementKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,29}$")]


class _Strict(BaseModel):
    """Like `inputs.ApiModel` (unknown fields refused, no control characters), except that the
    delivery notes may run over several lines."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        allowed = "\n" if info.field_name in MULTILINE else ""
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and any((ord(ch) < 32 or ch == "\x7f") and ch not in allowed for ch in item):
                raise ValueError("contains control characters / 含有控制字符")
        return value


class DeliveryWindowIn(_Strict):
    weekday: int = Field(ge=1, le=7, description="1 周一 … 7 周日 (Monday … Sunday)")
    start: str = Field(pattern=HH_MM, description='"HH:MM", Asia/Shanghai')
    end: str = Field(pattern=HH_MM, description='"HH:MM", after start; windows of one day may not overlap')

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: ValidationInfo) -> str:
        # A field validator, so the error names delivery_windows[i].end.
        start = info.data.get("start")
        if start and end <= start:
            raise ValueError("end must be after start / 结束时间须晚于开始时间")
        return end


class PreferencesIn(_Strict):
    """食材偏好: what the customer buys and when it takes deliveries."""

    categories: list[Item] = Field(default_factory=list, max_length=30, description="品类，如 新鲜蔬菜、冷冻肉品")
    specifications: list[Specification] = Field(default_factory=list, max_length=30, description="规格，如 5kg/箱")
    quality_grade: str = Field("", max_length=20, description="品质等级，如 一级")
    brands: list[Item] = Field(default_factory=list, max_length=30, description="指定品牌")
    delivery_windows: list[DeliveryWindowIn] = Field(
        default_factory=list, max_length=28, description="收货时段：每天可有多个，同一天不得重叠"
    )
    delivery_notes: str = Field("", max_length=500, description="配送备注，可多行")

    def to_proto(self) -> prpb.CustomerPreferences:
        return prpb.CustomerPreferences(
            categories=self.categories,
            specifications=self.specifications,
            quality_grade=self.quality_grade,
            brands=self.brands,
            delivery_windows=[
                prpb.DeliveryWindow(weekday=w.weekday, start=w.start, end=w.end) for w in self.delivery_windows
            ],
            delivery_notes=self.delivery_notes,
        )


class SpecialRequirementIn(_Strict):
    kind: RequirementKey = Field(description="The kind's key (GET /api/v1/special-requirement-kinds), e.g. halal")
    details: list[Item] = Field(
        default_factory=list, max_length=30, description="For a kind that takes details: the items, e.g. 花生、虾"
    )
    note: str = Field("", max_length=200)


def requirements_to_proto(values: list[SpecialRequirementIn]) -> list[prpb.SpecialRequirement]:
    return [prpb.SpecialRequirement(kind=v.kind, details=v.details, note=v.note) for v in values]


class DeliveryWindowOut(BaseModel):
    weekday: int = Field(description="1 周一 … 7 周日")
    start: str
    end: str


class PreferencesOut(BaseModel):
    categories: list[str]
    specifications: list[str]
    quality_grade: str
    brands: list[str]
    delivery_windows: list[DeliveryWindowOut] = Field(description="By weekday, then start")
    delivery_notes: str


class SpecialRequirementOut(BaseModel):
    kind: str
    label: str = Field(description="The tenant's name of the kind, e.g. 清真; the key if the kind was removed")
    details: list[str]
    details_label: str = Field(description="What the details are, e.g. 过敏原")
    note: str


class AlertOut(BaseModel):
    """One line of the banner the console and the H5 show wherever the customer appears."""

    kind: str
    label: str = Field(description="e.g. 清真")
    text: str = Field(description="The whole line, e.g. 过敏原：花生、虾")


@dataclass(frozen=True)
class ProfileLabels:
    """A tenant's names: requirement kinds by key (label, details label, description) and tier
    and grade values by (dimension, value)."""

    kinds: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    tiers: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def tier(self, dimension: str, value: str) -> str:
        return self.tiers.get((dimension, value), value)


def preferences_out(value: prpb.CustomerPreferences) -> PreferencesOut:
    return PreferencesOut(
        categories=list(value.categories),
        specifications=list(value.specifications),
        quality_grade=value.quality_grade,
        brands=list(value.brands),
        delivery_windows=[
            DeliveryWindowOut(weekday=w.weekday, start=w.start, end=w.end) for w in value.delivery_windows
        ],
        delivery_notes=value.delivery_notes,
    )


def requirements_out(values: list[prpb.SpecialRequirement], labels: ProfileLabels) -> list[SpecialRequirementOut]:
    shown = []
    for value in values:
        label, details_label, _ = labels.kinds.get(value.kind, (value.kind, "", ""))
        shown.append(
            SpecialRequirementOut(
                kind=value.kind, label=label, details=list(value.details), details_label=details_label, note=value.note
            )
        )
    return shown


def alerts_of(requirements: list[SpecialRequirementOut]) -> list[AlertOut]:
    """The banner: one line per requirement, its items and note after its name."""
    alerts = []
    for requirement in requirements:
        parts = [requirement.label]
        if requirement.details:
            parts = [f"{requirement.details_label or requirement.label}：{'、'.join(requirement.details)}"]
        if requirement.note:
            parts.append(requirement.note)
        alerts.append(AlertOut(kind=requirement.kind, label=requirement.label, text="，".join(parts)))
    return alerts


def row_alerts(values: Iterable[prpb.SpecialRequirement], labels: ProfileLabels) -> list[AlertOut]:
    """The alerts of a row that names a customer (a pool row, a claim, a task, a skipped customer)."""
    return alerts_of(requirements_out(list(values), labels))


ALERTS_DESCRIPTION = "特殊要求提醒 of the customer (e.g. 清真): show them as chips on the row"

SOURCES = {prpb.TIER_SOURCE_MANUAL: "manual", prpb.TIER_SOURCE_AUTOMATIC: "automatic"}


def profile_out(customer: pb.Customer, labels: ProfileLabels) -> dict[str, Any]:
    """The profile fields of `customer` as keyword arguments of CustomerOut."""
    requirements = requirements_out(list(customer.special_requirements), labels)
    return {
        "preferences": preferences_out(customer.preferences),
        "special_requirements": requirements,
        "alerts": alerts_of(requirements),
        "tier_label": labels.tier("value", customer.tier or "normal"),
        "tier_source": SOURCES.get(customer.tier_source),
        "automatic_tier": customer.automatic_tier or None,
        "grade": customer.grade or None,
        "grade_label": labels.tier("grade", customer.grade) if customer.grade else "",
        "grade_source": SOURCES.get(customer.grade_source),
        "automatic_grade": customer.automatic_grade or None,
        "parent_customer_id": customer.parent_customer_id or None,
    }


class TierChangeOut(BaseModel):
    id: str
    dimension: Literal["tier", "grade"]
    source: TierSource
    from_value: str | None = Field(description="The manual (or automatic) value before; null: none")
    to_value: str | None = Field(description="… and after; null: cleared")
    effective_value: str | None = Field(description="What the customer carried after the change")
    reason: str
    actor_id: str
    actor_name: str
    occurred_at: dt.datetime = Field(description="Asia/Shanghai")
