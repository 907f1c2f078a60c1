"""Customer, contact, search-term, custom-field and idempotency tables, and their proto mapping."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.customers.custom_fields import FieldDefinition, FieldType
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.events import timestamp_of

DECISION_ROLES = ("decision_maker", "purchaser", "user", "payer")

# Prefix matches (org subtree, search-term ranges) need byte order, whatever the database's
# default collation is; SQLite compares bytes already.
BYTEWISE_32 = String(32, collation="C").with_variant(String(32), "sqlite")
BYTEWISE_400 = String(400, collation="C").with_variant(String(400), "sqlite")

DEFAULT_CUSTOMER_TYPES = (
    "中餐",
    "西餐",
    "团膳",
    "学校食堂",
    "企业食堂",
    "连锁酒店",
    "养殖场",
    "经销商",
    "网店客户",
)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    # Materialised path of the org unit ("/hq/sub/shop/"): subtree scope is a prefix match.
    org_path: Mapped[str] = mapped_column(BYTEWISE_400)
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
        Index("uq_customers_tenant_credit_code", "tenant_id", "credit_code", unique=True),
    )


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    # NULL rather than "" so the unique indexes ignore contacts without one.
    mobile: Mapped[str | None] = mapped_column(String(11), nullable=True)
    wechat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    decision_role: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(String(50), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    # Contacts are listed by (created_at, position, id): in the order they were entered, which
    # edits never change. Contacts entered together share their created_at, and position keeps
    # their order. Time leads, so a contact written by a replica that predates this column
    # (position 0, during a rolling upgrade) still goes last rather than first.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    __table_args__ = (
        Index("uq_contacts_tenant_mobile", "tenant_id", "mobile", unique=True),
        Index("uq_contacts_tenant_wechat", "tenant_id", "wechat_id", unique=True),
    )


class SearchTerm(Base):
    """Our own n-gram/pinyin index: works for 2-character Chinese queries and any DB ctype."""

    __tablename__ = "customer_search_terms"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    term: Mapped[str] = mapped_column(BYTEWISE_32, primary_key=True)
    # Lower is a better match; part of the key so one index both finds and orders.
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The customer's owner, copied here so a sales rep's search (the common case) is one ordered
    # range of the owner index instead of probing the rep's whole book against the term.
    owner_id: Mapped[str] = mapped_column(String(36))

    __table_args__ = (
        Index("ix_search_terms_customer", "customer_id", "term"),
        Index("ix_search_terms_owner", "tenant_id", "owner_id", "term", "rank", "customer_id"),
    )


class CreateRequest(Base):
    """Remembers create request ids so a retried create returns the first result."""

    __tablename__ = "create_requests"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Per caller: another user's request id must neither return their customer nor block ours.
    principal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CustomFieldDefinitionRow(Base):
    """One of a tenant's custom fields (see custom_fields.py for what values it accepts)."""

    __tablename__ = "custom_field_definitions"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(10))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


def definition_of(row: CustomFieldDefinitionRow) -> FieldDefinition:
    return FieldDefinition(row.key, row.label, cast(FieldType, row.type), tuple(row.options), row.required)


def definition_to_proto(definition: FieldDefinition) -> pb.CustomFieldDefinition:
    return pb.CustomFieldDefinition(
        key=definition.key,
        label=definition.label,
        type=pb.CustomFieldType.Value(f"CUSTOM_FIELD_TYPE_{definition.type.upper()}"),
        options=definition.options,
        required=definition.required,
    )


class CustomerType(Base):
    __tablename__ = "customer_types"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


def stage_to_proto(stage: str) -> pb.LifecycleStage.ValueType:
    return pb.LifecycleStage.Value(f"LIFECYCLE_STAGE_{stage.upper()}")


def stage_from_proto(value: int) -> str:
    return pb.LifecycleStage.Name(value).removeprefix("LIFECYCLE_STAGE_").lower()  # type: ignore[arg-type]


def role_to_proto(role: str) -> pb.DecisionRole.ValueType:
    if not role:
        return pb.DECISION_ROLE_UNSPECIFIED
    return pb.DecisionRole.Value(f"DECISION_ROLE_{role.upper()}")


def role_from_proto(value: int) -> str:
    if value == pb.DECISION_ROLE_UNSPECIFIED:
        return ""
    return pb.DecisionRole.Name(value).removeprefix("DECISION_ROLE_").lower()  # type: ignore[arg-type]


def contact_to_proto(contact: Contact) -> pb.Contact:
    return pb.Contact(
        id=contact.id,
        customer_id=contact.customer_id,
        name=contact.name,
        mobile=contact.mobile or "",
        wechat_id=contact.wechat_id or "",
        email=contact.email,
        decision_role=role_to_proto(contact.decision_role),
        title=contact.title,
        primary=contact.is_primary,
        create_time=timestamp_of(as_utc(contact.created_at)),
        update_time=timestamp_of(as_utc(contact.updated_at)),
    )


def customer_to_proto(customer: Customer) -> pb.Customer:
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
        contacts=[contact_to_proto(c) for c in customer.contacts],
        contract_start=customer.contract_start.isoformat() if customer.contract_start else "",
        contract_end=customer.contract_end.isoformat() if customer.contract_end else "",
        tags=list(customer.tags or []),
        custom_fields=custom,
        lifecycle_stage=stage_to_proto(customer.lifecycle_stage),
        owner_id=customer.owner_id,
        archived=customer.archived,
        version=customer.version,
        create_time=timestamp_of(as_utc(customer.created_at)),
        update_time=timestamp_of(as_utc(customer.updated_at)),
    )


def struct_to_dict(value: Struct) -> dict[str, Any]:
    return dict(json_format.MessageToDict(value))
