"""Collaborators (协作人): users who work on a customer beside its owner, with read or read-write
access and an optional expiry, and the shares they add to a sales rep's data scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import ownership_pb2 as opb
from crm_customer.customers.models import Customer
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of
from crmkit.scope import Shares

# Stored as words ("read", "read_write"), as REST shows them.
ACCESS = ProtoEnum(opb.CollaboratorAccess)
READ_WRITE = "read_write"


class Collaborator(Base):
    __tablename__ = "customer_collaborators"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    access: Mapped[str] = mapped_column(String(12))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    added_by: Mapped[str] = mapped_column(String(36))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # A rep's shared customers, for the scope rule: one short range per caller.
        Index("ix_collaborators_user", "tenant_id", "user_id", "customer_id"),
        # The expiry job's walk.
        Index("ix_collaborators_expires", "expires_at"),
    )


# A rep sees the customers shared with them while they have an owner (one in a pool is nobody's
# to share); they change those shared with write access.
READ_SHARES = Shares(
    record_id=Customer.id,
    tenant=Collaborator.tenant_id,
    record=Collaborator.customer_id,
    user=Collaborator.user_id,
    expires_at=Collaborator.expires_at,
    owned=Customer.owner_id != "",
)
WRITE_SHARES = replace(READ_SHARES, only=Collaborator.access == READ_WRITE)


def collaborator_to_proto(row: Collaborator) -> opb.Collaborator:
    message = opb.Collaborator(
        customer_id=row.customer_id,
        user_id=row.user_id,
        access=ACCESS.to_proto(row.access),  # type: ignore[arg-type]
        added_by=row.added_by,
        add_time=timestamp_of(as_utc(row.added_at)),
    )
    if row.expires_at is not None:
        message.expire_time.CopyFrom(timestamp_of(as_utc(row.expires_at)))
    return message
