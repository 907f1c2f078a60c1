"""The contacts table (the people at a customer), a contact's input and its proto mapping."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.personal import ContactDetails, PersonalData
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
    # Personal details are only ever stored sealed (`contacts.personal`), each with its blind
    # index where duplicates are refused by it. NULL rather than empty when there is none, so the
    # unique indexes ignore contacts without one.
    mobile_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    mobile_index: Mapped[str | None] = mapped_column(String(32), nullable=True)
    wechat_id_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    wechat_id_index: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Id of the key that sealed this row's details: what key rotation looks for.
    key_id: Mapped[str | None] = mapped_column(String(8), nullable=True)
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
        Index("uq_contacts_tenant_mobile_index", "tenant_id", "mobile_index", unique=True),
        Index("uq_contacts_tenant_wechat_index", "tenant_id", "wechat_id_index", unique=True),
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

    def details(self) -> ContactDetails:
        return ContactDetails(mobile=self.mobile, wechat_id=self.wechat_id, email=self.email)


def new_contact(
    tenant_id: str,
    customer_id: str,
    data: ContactInput,
    now: dt.datetime,
    position: int,
    personal: PersonalData,
) -> Contact:
    contact = Contact(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        customer_id=customer_id,
        name=data.name,
        decision_role=data.decision_role,
        title=data.title,
        is_primary=data.primary,
        position=position,
        created_at=now,
        updated_at=now,
    )
    personal.seal(contact, data.details())
    return contact


# Decision roles are stored as words ("purchaser"); no role is "".
ROLES = ProtoEnum(pb.DecisionRole)


def contact_to_proto(contact: Contact, personal: PersonalData | None) -> pb.Contact:
    """The contact with its personal details opened, or without them when `personal` is None
    (as events carry it)."""
    details = ContactDetails() if personal is None else personal.details(contact)
    return pb.Contact(
        id=contact.id,
        customer_id=contact.customer_id,
        name=contact.name,
        mobile=details.mobile or "",
        wechat_id=details.wechat_id or "",
        email=details.email,
        decision_role=ROLES.to_proto(contact.decision_role),  # type: ignore[arg-type]
        title=contact.title,
        primary=contact.is_primary,
        create_time=timestamp_of(as_utc(contact.created_at)),
        update_time=timestamp_of(as_utc(contact.updated_at)),
    )
