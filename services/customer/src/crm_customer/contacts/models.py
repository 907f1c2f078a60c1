"""The contacts table (the people at a customer), a contact's input and its proto mapping."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

if TYPE_CHECKING:
    from crm_customer.customers.models import Customer

DECISION_ROLES = ("decision_maker", "purchaser", "user", "payer")


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


@dataclass
class ContactInput:
    """A contact as a request gives it, validated (`contacts.validation.contact_input`)."""

    name: str
    mobile: str | None
    wechat_id: str | None
    email: str
    decision_role: str
    title: str
    primary: bool


def new_contact(tenant_id: str, customer_id: str, data: ContactInput, now: dt.datetime, position: int) -> Contact:
    return Contact(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        customer_id=customer_id,
        name=data.name,
        mobile=data.mobile,
        wechat_id=data.wechat_id,
        email=data.email,
        decision_role=data.decision_role,
        title=data.title,
        is_primary=data.primary,
        position=position,
        created_at=now,
        updated_at=now,
    )


# Decision roles are stored as words ("purchaser"); no role is "".
ROLES = ProtoEnum(pb.DecisionRole)


def contact_to_proto(contact: Contact) -> pb.Contact:
    return pb.Contact(
        id=contact.id,
        customer_id=contact.customer_id,
        name=contact.name,
        mobile=contact.mobile or "",
        wechat_id=contact.wechat_id or "",
        email=contact.email,
        decision_role=ROLES.to_proto(contact.decision_role),  # type: ignore[arg-type]
        title=contact.title,
        primary=contact.is_primary,
        create_time=timestamp_of(as_utc(contact.created_at)),
        update_time=timestamp_of(as_utc(contact.updated_at)),
    )
