"""Licence tables: the tenant's kinds of licence (资质证照类型) with the customer types that must
hold them, and customers' licences; their status (valid / expiring / expired) and proto mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

STATUSES = ProtoEnum(cpb.LicenceStatus)
# A licence is "expiring" from this many days before its last valid day.
EXPIRING_WITHIN = 30
# The notices the expiry job sends, in order: 30 and 7 days before, and the day after.
NOTICE_NONE, NOTICE_30, NOTICE_7, NOTICE_EXPIRED = 0, 1, 2, 3
NOTICE_DAYS_BEFORE = {NOTICE_30: 30, NOTICE_7: 7}

# The defaults a tenant starts with, and which of the default customer types
# (tenant_settings.models.DEFAULT_CUSTOMER_TYPES) must hold each.
_FOOD_BUSINESSES = ("中餐", "西餐", "团膳", "学校食堂", "企业食堂", "连锁酒店")
DEFAULT_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("营业执照", ("中餐", "西餐", "团膳", "连锁酒店", "养殖场", "经销商", "网店客户")),
    ("食品经营许可证", _FOOD_BUSINESSES),
    ("卫生许可证", ()),
    ("清真认证", ()),
    ("有机认证", ()),
    ("动物防疫条件合格证", ("养殖场",)),
    ("质检报告", ()),
)


class LicenceKindRow(Base):
    __tablename__ = "licence_kinds"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    required_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Licence(Base):
    """One licence or certificate a customer holds. `valid_until` is its last valid day (None:
    never expires). The expiry job's bookkeeping: `notice_stage` is the last notice sent for the
    current `valid_until`, `next_notice_on` the day the next one falls due (None: none)."""

    __tablename__ = "licences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(100), default="")
    valid_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    attachment_id: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    notice_stage: Mapped[int] = mapped_column(Integer, default=NOTICE_NONE)
    next_notice_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        # A customer's licences by kind, and whether a later one of a kind supersedes another.
        Index("ix_licences_customer_kind", "customer_id", "kind", "valid_until"),
        # The expiry job: the licences whose next notice is due.
        Index("ix_licences_next_notice", "next_notice_on", "id"),
        # Expiring and expired licences of a tenant, earliest first.
        Index("ix_licences_tenant_valid_until", "tenant_id", "valid_until", "id"),
    )


@dataclass(frozen=True)
class LicenceKind:
    name: str
    required_for: tuple[str, ...] = ()


@dataclass
class LicenceInput:
    """A licence as a request gives it, validated (`licences.validation`)."""

    kind: str
    number: str
    issuer: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    attachment_id: str = ""
    notes: str = ""


def status_of(valid_until: dt.date | None, today: dt.date) -> tuple[str, int]:
    """("valid" | "expiring" | "expired", days from today to its last valid day)."""
    if valid_until is None:
        return "valid", 0
    days_left = (valid_until - today).days
    if days_left < 0:
        return "expired", days_left
    if days_left <= EXPIRING_WITHIN:
        return "expiring", days_left
    return "valid", days_left


def due_notice(valid_until: dt.date | None, today: dt.date) -> int:
    """The latest notice that should have gone out by today."""
    if valid_until is None:
        return NOTICE_NONE
    days_left = (valid_until - today).days
    if days_left < 0:
        return NOTICE_EXPIRED
    if days_left <= NOTICE_DAYS_BEFORE[NOTICE_7]:
        return NOTICE_7
    if days_left <= NOTICE_DAYS_BEFORE[NOTICE_30]:
        return NOTICE_30
    return NOTICE_NONE


def next_notice_on(valid_until: dt.date | None, stage: int) -> dt.date | None:
    """The day the notice after `stage` falls due."""
    if valid_until is None or stage >= NOTICE_EXPIRED:
        return None
    if stage == NOTICE_7:
        return valid_until + dt.timedelta(days=1)
    return valid_until - dt.timedelta(days=NOTICE_DAYS_BEFORE[stage + 1])


def licence_to_proto(licence: Licence, today: dt.date) -> cpb.Licence:
    status, days_left = status_of(licence.valid_until, today)
    return cpb.Licence(
        id=licence.id,
        customer_id=licence.customer_id,
        kind=licence.kind,
        number=licence.number,
        issuer=licence.issuer,
        valid_from=licence.valid_from.isoformat() if licence.valid_from else "",
        valid_until=licence.valid_until.isoformat() if licence.valid_until else "",
        attachment_id=licence.attachment_id,
        notes=licence.notes,
        status=STATUSES.to_proto(status),  # type: ignore[arg-type]
        days_left=days_left,
        version=licence.version,
        create_time=timestamp_of(as_utc(licence.created_at)),
        update_time=timestamp_of(as_utc(licence.updated_at)),
    )


def kind_to_proto(kind: LicenceKind) -> cpb.LicenceKind:
    return cpb.LicenceKind(name=kind.name, required_for_types=list(kind.required_for))
