"""Preferences and special requirements (食材偏好画像): the tenant's requirement kinds, and how a
customer's preferences and requirements (JSON columns of `customers`) map to the proto."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.database import Base


@dataclass(frozen=True)
class RequirementKind:
    key: str
    label: str
    description: str = ""
    takes_details: bool = False
    details_label: str = ""


# What a food distributor's customers most often ask for; a tenant replaces the list as it likes.
DEFAULT_REQUIREMENT_KINDS = (
    RequirementKind("halal", "清真", "清真食品，须使用清真专用器具与车辆，不与非清真食品混装"),
    RequirementKind("organic", "有机认证", "仅限有机认证产品"),
    RequirementKind("allergens", "过敏原", "须排除所列过敏原", takes_details=True, details_label="过敏原"),
    RequirementKind("no_pork", "不含猪肉", "不得配送猪肉及含猪肉成分的产品"),
    RequirementKind("cold_chain", "冷链", "全程冷链配送，到货温度须达标"),
)


class SpecialRequirementKindRow(Base):
    """One of a tenant's special-requirement kinds; a tenant without rows has the defaults."""

    __tablename__ = "special_requirement_kinds"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(30), primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(100), default="")
    takes_details: Mapped[bool] = mapped_column(Boolean, default=False)
    details_label: Mapped[str] = mapped_column(String(20), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


def kind_of_row(row: SpecialRequirementKindRow) -> RequirementKind:
    return RequirementKind(row.key, row.label, row.description, row.takes_details, row.details_label)


def kind_to_proto(kind: RequirementKind) -> prpb.SpecialRequirementKind:
    return prpb.SpecialRequirementKind(
        key=kind.key,
        label=kind.label,
        description=kind.description,
        takes_details=kind.takes_details,
        details_label=kind.details_label,
    )


# Stored shapes. Preferences: {"categories": [...], "specifications": [...], "quality_grade": "",
# "brands": [...], "delivery_windows": [{"weekday": 1, "start": "06:00", "end": "08:00"}],
# "delivery_notes": ""}. Requirements: [{"kind": "halal", "details": [], "note": ""}].


def preferences_to_proto(values: dict[str, Any] | None) -> prpb.CustomerPreferences:
    values = values or {}
    return prpb.CustomerPreferences(
        categories=values.get("categories", []),
        specifications=values.get("specifications", []),
        quality_grade=values.get("quality_grade", ""),
        brands=values.get("brands", []),
        delivery_windows=[prpb.DeliveryWindow(**window) for window in values.get("delivery_windows", [])],
        delivery_notes=values.get("delivery_notes", ""),
    )


def requirements_to_proto(values: list[dict[str, Any]] | None) -> list[prpb.SpecialRequirement]:
    return [
        prpb.SpecialRequirement(kind=value["kind"], details=value.get("details", []), note=value.get("note", ""))
        for value in values or []
    ]
