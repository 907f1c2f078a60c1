"""The customers and create-request tables, a customer's input and its proto mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from sqlalchemy import JSON, Boolean, Date, DateTime, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.models import Contact, ContactInput, contact_to_proto
from crm_customer.contacts.personal import PersonalData
from crm_customer.database import Base
from crm_customer.preferences.models import preferences_to_proto, requirements_to_proto
from crm_customer.tiers.models import GRADE, VALUE, source_to_proto
from crmkit.clock import as_utc
from crmkit.db import bytewise
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    # Materialised path of the org unit ("/hq/sub/shop/"): subtree scope is a prefix match.
    org_path: Mapped[str] = mapped_column(bytewise(400))
    owner_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(50), default="")
    type: Mapped[str] = mapped_column(String(30), default="")
    credit_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    addresses: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    contract_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    contract_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    pinyin_full: Mapped[str] = mapped_column(String(600), default="")
    pinyin_initials: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Follow-up bookkeeping (follow_ups.service): the latest follow-up's time, and the next
    # follow-up the latest entry asked for, which is its owner's task on that day.
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_follow_up_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    product_lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    # trade_show, online, referral, phone, other; "" when unknown.
    source: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # "vip", "key" or "normal": how soon pool rules take it back from an owner who neglects it.
    tier: Mapped[str] = mapped_column(String(10), default="normal", server_default="normal")
    # Ownership (pools.service): while a pool holds the customer, owner_id is "" and pool_id
    # names the pool, entered when and how; an owner holds it since owned_since, and after a
    # claim must log a visit or call by first_visit_due.
    pool_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    pool_entered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pool_enter_kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    pool_enter_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    owned_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_visit_due: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The return date its owner was last warned of (pools.sweep), so each deadline warns once.
    return_warned_for: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Its latest confirmed order's time, kept from the order service's events (pools.last_orders)
    # for the "no order in M days" pool rule.
    last_order_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The assignment rule that chose its current owner or pool (assignment.service); "" if none.
    assigned_rule_id: Mapped[str] = mapped_column(String(36), default="", server_default="")
    # Profile (issue 12). Preferences and special requirements (preferences/): JSON as
    # preferences/models.py describes. Tier and grade (tiers/): `tier` above and `grade` hold the
    # effective values, a manual value winning over the automatic one (tiers.models.ranking).
    # The group (groups/): the parent account of a branch.
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    special_requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tier_manual: Mapped[str | None] = mapped_column(String(10), nullable=True)
    tier_automatic: Mapped[str | None] = mapped_column(String(10), nullable=True)
    grade: Mapped[str] = mapped_column(String(10), default="", server_default="")
    grade_manual: Mapped[str | None] = mapped_column(String(10), nullable=True)
    grade_automatic: Mapped[str | None] = mapped_column(String(10), nullable=True)
    parent_customer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # Where the customer is (WGS-84 degrees), both or neither (visits measure check-ins against it).
    latitude: Mapped[float | None] = mapped_column(Double, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Double, nullable=True)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", order_by=lambda: (Contact.created_at, Contact.position, Contact.id), lazy="selectin"
    )

    # Every UPDATE carries "AND version = <read version>": on SQLite, where FOR UPDATE is a no-op,
    # two concurrent edits cannot both win; the loser gets ABORTED. We bump `version` ourselves.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012  (SQLAlchemy reads it once)

    __table_args__ = (
        Index("ix_customers_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_customers_tenant_owner", "tenant_id", "owner_id", "created_at"),
        Index("ix_customers_tenant_org_path", "tenant_id", "org_path"),
        Index("ix_customers_tenant_stage", "tenant_id", "lifecycle_stage", "created_at", "id"),
        Index("ix_customers_tenant_type", "tenant_id", "type", "created_at", "id"),
        Index("ix_customers_tenant_updated", "tenant_id", "updated_at", "id"),
        Index("ix_customers_tenant_pinyin", "tenant_id", "pinyin_full", "id"),
        # A sales rep's own list in those orders.
        Index("ix_customers_tenant_owner_pinyin", "tenant_id", "owner_id", "pinyin_full", "id"),
        Index("ix_customers_tenant_owner_updated", "tenant_id", "owner_id", "updated_at", "id"),
        Index("uq_customers_tenant_credit_code", "tenant_id", "credit_code", unique=True),
        # Follow-up tasks: a rep's due customers, and a tenant's (narrowed by org path) by day.
        Index("ix_customers_tenant_owner_follow_up", "tenant_id", "owner_id", "next_follow_up_date"),
        Index("ix_customers_tenant_follow_up", "tenant_id", "next_follow_up_date"),
        # A pool's customers, longest in it first.
        Index("ix_customers_pool_entered", "pool_id", "pool_entered_at", "id"),
        # A group's branches, level by level (groups.service).
        Index("ix_customers_parent", "parent_customer_id"),
        # An import's duplicates by name (rows without a credit code).
        Index("ix_customers_tenant_name", "tenant_id", "name"),
    )


@dataclass
class CustomerInput:
    """A new customer as a request gives it, validated (`customers.validation.customer_input`)."""

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
    tier: str = "normal"
    grade: str = ""
    preferences: dict[str, Any] = field(default_factory=dict)
    special_requirements: list[dict[str, Any]] = field(default_factory=list)
    product_lines: list[str] = field(default_factory=list)
    source: str = ""
    owner_id: str = ""
    org_unit_id: str = ""
    org_path: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class ListFilter:
    lifecycle_stage: str | None = None
    type: str | None = None
    owner_id: str | None = None
    org_unit_id: str | None = None
    tag: str | None = None
    include_archived: bool = False


# Stages are stored as words ("signed"), as the analytics read model and REST show them.
STAGES = ProtoEnum(pb.LifecycleStage)


def customer_to_proto(customer: Customer, personal: PersonalData | None) -> pb.Customer:
    """The customer, its contacts' personal details opened unless `personal` is None."""
    custom = Struct()
    custom.update(customer.custom_fields or {})
    return pb.Customer(
        id=customer.id,
        tenant_id=customer.tenant_id,
        org_unit_id=customer.org_unit_id,
        org_path=customer.org_path,
        name=customer.name,
        short_name=customer.short_name,
        type=customer.type,
        credit_code=customer.credit_code or "",
        addresses=[pb.Address(**address) for address in customer.addresses or []],
        contacts=[contact_to_proto(c, personal) for c in customer.contacts],
        contract_start=customer.contract_start.isoformat() if customer.contract_start else "",
        contract_end=customer.contract_end.isoformat() if customer.contract_end else "",
        tags=list(customer.tags or []),
        custom_fields=custom,
        lifecycle_stage=STAGES.to_proto(customer.lifecycle_stage),  # type: ignore[arg-type]
        owner_id=customer.owner_id,
        archived=customer.archived,
        version=customer.version,
        create_time=timestamp_of(as_utc(customer.created_at)),
        update_time=timestamp_of(as_utc(customer.updated_at)),
        last_interaction_time=timestamp_of(as_utc(customer.last_interaction_at))
        if customer.last_interaction_at
        else None,
        next_follow_up_date=customer.next_follow_up_date.isoformat() if customer.next_follow_up_date else "",
        pool_id=customer.pool_id or "",
        tier=customer.tier,
        product_lines=list(customer.product_lines or []),
        source=customer.source or "",
        assigned_rule_id=customer.assigned_rule_id or "",
        owned_since=timestamp_of(as_utc(customer.owned_since)) if customer.owned_since else None,
        first_visit_due=timestamp_of(as_utc(customer.first_visit_due)) if customer.first_visit_due else None,
        preferences=preferences_to_proto(customer.preferences),
        special_requirements=requirements_to_proto(customer.special_requirements),
        grade=customer.grade or "",
        tier_source=source_to_proto(customer, VALUE),
        grade_source=source_to_proto(customer, GRADE),
        automatic_tier=customer.tier_automatic or "",
        automatic_grade=customer.grade_automatic or "",
        parent_customer_id=customer.parent_customer_id or "",
        latitude=customer.latitude,
        longitude=customer.longitude,
    )


def struct_to_dict(value: Struct) -> dict[str, Any]:
    return dict(json_format.MessageToDict(value))
