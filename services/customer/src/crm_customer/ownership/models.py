"""Ownership tables: each customer's ownership history, and the caps on customers held."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import ownership_pb2 as opb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

# Kinds are stored as words ("claimed"), as REST shows them.
CHANGE_KINDS = ProtoEnum(opb.OwnerChangeKind)


class OwnerChange(Base):
    """How a customer came to its owner or left them; an empty owner id means a pool."""

    __tablename__ = "owner_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    from_owner_id: Mapped[str] = mapped_column(String(36), default="")
    to_owner_id: Mapped[str] = mapped_column(String(36), default="")
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[str] = mapped_column(String(36), default="")
    rule_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    pool_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # For a return by a pool rule: which one ("no_follow_up", "no_deal", "first_visit_missed").
    pool_rule: Mapped[str] = mapped_column(String(20), default="", server_default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_owner_changes_customer_occurred", "customer_id", "occurred_at", "id"),)


class CustomerCap(Base):
    """How many active customers a user may own; user_id "" holds the tenant's default."""

    __tablename__ = "customer_caps"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cap: Mapped[int] = mapped_column(Integer)


def owner_change_to_proto(change: OwnerChange) -> opb.OwnerChange:
    return opb.OwnerChange(
        id=change.id,
        customer_id=change.customer_id,
        from_owner_id=change.from_owner_id,
        to_owner_id=change.to_owner_id,
        kind=CHANGE_KINDS.to_proto(change.kind),  # type: ignore[arg-type]
        reason=change.reason,
        actor_id=change.actor_id,
        rule_id=change.rule_id or "",
        pool_id=change.pool_id or "",
        occur_time=timestamp_of(as_utc(change.occurred_at)),
    )
