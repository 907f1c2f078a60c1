"""Closure tables: customers' closures (停工/放假), the tenant's templates (校历) and which
customers each template is applied to; and their proto mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

# Reasons are stored as words ("winter_break"), as REST shows them.
REASONS = ProtoEnum(cpb.ClosureReason)
REASON_LABELS = {
    "winter_break": "寒假",
    "summer_break": "暑假",
    "spring_festival": "春节",
    "factory_shutdown": "工厂停工",
    "renovation": "装修",
    "other": "其他",
}


class CustomerClosure(Base):
    """Days one customer is closed, both ends included (Asia/Shanghai dates). A customer's
    closures never overlap; one with `template_id` belongs to that template's range
    `template_range_id` and changes only with it."""

    __tablename__ = "customer_closures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")
    template_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    template_range_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # A batch of customers' closures within some days (closed_days), a customer's list and
        # its overlap check: customer_id IN (...) AND start_date <= b AND end_date >= a.
        Index("ix_customer_closures_customer_start", "customer_id", "start_date", "end_date"),
        # A template's closures, when it changes or a customer leaves it.
        Index("ix_customer_closures_template", "template_id", "customer_id"),
    )


class ClosureTemplate(Base):
    """A tenant's calendar applied to many customers. `ranges` is a list of
    {"id", "start_date", "end_date", "reason", "note"} (ISO dates), each id kept across updates."""

    __tablename__ = "closure_templates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(60))
    ranges: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("uq_closure_templates_tenant_name", "tenant_id", "name", unique=True),)


class ClosureTemplateMember(Base):
    """A customer a template is applied to (it holds one closure per range of the template)."""

    __tablename__ = "closure_template_members"

    template_id: Mapped[str] = mapped_column(ForeignKey("closure_templates.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    applied_by: Mapped[str] = mapped_column(String(36), default="")
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The templates of a customer (its closures' template names, removing it from one).
        Index("ix_closure_template_members_customer", "customer_id"),
    )


@dataclass(frozen=True)
class ClosureRange:
    """A range as a request gives it, validated (`closures.validation`)."""

    start_date: dt.date
    end_date: dt.date
    reason: str
    note: str = ""
    # A template range's id ("" for a new one).
    id: str = ""

    def as_stored(self, range_id: str) -> dict[str, Any]:
        return {
            "id": range_id,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "reason": self.reason,
            "note": self.note,
        }


def stored_range(value: dict[str, Any]) -> ClosureRange:
    return ClosureRange(
        start_date=dt.date.fromisoformat(value["start_date"]),
        end_date=dt.date.fromisoformat(value["end_date"]),
        reason=str(value["reason"]),
        note=str(value.get("note", "")),
        id=str(value["id"]),
    )


def closure_to_proto(closure: CustomerClosure, template_name: str = "") -> cpb.Closure:
    return cpb.Closure(
        id=closure.id,
        customer_id=closure.customer_id,
        start_date=closure.start_date.isoformat(),
        end_date=closure.end_date.isoformat(),
        reason=REASONS.to_proto(closure.reason),  # type: ignore[arg-type]
        note=closure.note,
        template_id=closure.template_id or "",
        template_name=template_name,
        version=closure.version,
        create_time=timestamp_of(as_utc(closure.created_at)),
        update_time=timestamp_of(as_utc(closure.updated_at)),
    )


def template_to_proto(template: ClosureTemplate, customer_count: int = 0) -> cpb.ClosureTemplate:
    return cpb.ClosureTemplate(
        id=template.id,
        name=template.name,
        ranges=[
            cpb.ClosureTemplateRange(
                id=r["id"],
                start_date=r["start_date"],
                end_date=r["end_date"],
                reason=REASONS.to_proto(r["reason"]),  # type: ignore[arg-type]
                note=r.get("note", ""),
            )
            for r in template.ranges or []
        ],
        customer_count=customer_count,
        version=template.version,
        create_time=timestamp_of(as_utc(template.created_at)),
        update_time=timestamp_of(as_utc(template.updated_at)),
    )


def overlaps_to_proto(closures: list[CustomerClosure], ranges: list[dict[str, Any]]) -> list[cpb.ClosureOverlap]:
    """Each of a customer's closures with each template range (as stored) it overlaps: the report
    of why a template was not applied to it."""
    overlaps = []
    for closure in closures:
        for value in ranges:
            template_range = stored_range(value)
            if closure.start_date <= template_range.end_date and closure.end_date >= template_range.start_date:
                overlaps.append(
                    cpb.ClosureOverlap(
                        closure=closure_to_proto(closure),
                        range=cpb.ClosureTemplateRange(
                            id=template_range.id,
                            start_date=value["start_date"],
                            end_date=value["end_date"],
                            reason=REASONS.to_proto(template_range.reason),  # type: ignore[arg-type]
                            note=template_range.note,
                        ),
                    )
                )
    return overlaps
