"""Tiers and grades (分层分级): the history of their manual and automatic values, the tenant's
names for them, and the rule that decides which value a customer carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

if TYPE_CHECKING:
    from crm_customer.customers.models import Customer

# Stored as words: dimension "value" (the value tier, Customer.tier) or "grade"; source
# "manual" or "automatic".
DIMENSIONS = ProtoEnum(prpb.TierDimension)
SOURCES = ProtoEnum(prpb.TierSource)
VALUE, GRADE = "value", "grade"
MANUAL, AUTOMATIC = "manual", "automatic"

TIER_VALUES = ("vip", "key", "normal")
GRADE_VALUES = ("S", "A", "B", "C")
VALUES = {VALUE: TIER_VALUES, GRADE: GRADE_VALUES}
# What a customer carries when neither a person nor analytics set a value.
UNSET = {VALUE: "normal", GRADE: ""}
DEFAULT_LABELS = {
    VALUE: {"vip": "VIP", "key": "重点", "normal": "一般"},
    GRADE: {"S": "S", "A": "A", "B": "B", "C": "C"},
}
# The customers columns of each dimension: effective value, manual value, automatic value.
COLUMNS = {VALUE: ("tier", "tier_manual", "tier_automatic"), GRADE: ("grade", "grade_manual", "grade_automatic")}


class TierChangeRow(Base):
    """The manual or automatic value of a customer's tier or grade changed."""

    __tablename__ = "tier_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    dimension: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    from_value: Mapped[str] = mapped_column(String(10), default="")
    to_value: Mapped[str] = mapped_column(String(10), default="")
    effective_value: Mapped[str] = mapped_column(String(10), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[str] = mapped_column(String(36), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_tier_changes_customer_occurred", "customer_id", "occurred_at", "id"),)


class TierLabelRow(Base):
    """A tenant's own name for one tier or grade value (else DEFAULT_LABELS)."""

    __tablename__ = "tier_labels"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(10), primary_key=True)
    label: Mapped[str] = mapped_column(String(10))


@dataclass(frozen=True)
class Ranking:
    """One dimension of a customer: what it carries, from where, and both candidates."""

    effective: str
    source: str
    manual: str
    automatic: str


def ranking(customer: Customer, dimension: str) -> Ranking:
    """A manual value wins until cleared; else the automatic one; else the unset default."""
    _, manual_column, automatic_column = COLUMNS[dimension]
    manual = getattr(customer, manual_column) or ""
    automatic = getattr(customer, automatic_column) or ""
    if manual:
        return Ranking(manual, MANUAL, manual, automatic)
    if automatic:
        return Ranking(automatic, AUTOMATIC, manual, automatic)
    return Ranking(UNSET[dimension], "", manual, automatic)


def source_to_proto(customer: Customer, dimension: str) -> prpb.TierSource.ValueType:
    return SOURCES.to_proto(ranking(customer, dimension).source)  # type: ignore[return-value]


def tier_state(customer: Customer) -> prpb.CustomerTierState:
    tier, grade = ranking(customer, VALUE), ranking(customer, GRADE)
    return prpb.CustomerTierState(
        customer_id=customer.id,
        tier=tier.effective,
        tier_source=SOURCES.to_proto(tier.source),  # type: ignore[arg-type]
        manual_tier=tier.manual,
        automatic_tier=tier.automatic,
        grade=grade.effective,
        grade_source=SOURCES.to_proto(grade.source),  # type: ignore[arg-type]
        manual_grade=grade.manual,
        automatic_grade=grade.automatic,
        version=customer.version,
    )


def tier_change_to_proto(row: TierChangeRow) -> prpb.TierChange:
    return prpb.TierChange(
        id=row.id,
        customer_id=row.customer_id,
        dimension=DIMENSIONS.to_proto(row.dimension),  # type: ignore[arg-type]
        source=SOURCES.to_proto(row.source),  # type: ignore[arg-type]
        from_value=row.from_value,
        to_value=row.to_value,
        effective_value=row.effective_value,
        reason=row.reason,
        actor_id=row.actor_id,
        occur_time=timestamp_of(as_utc(row.occurred_at)),
    )
