"""The interactions table: follow-ups (跟进记录) logged on a customer, never deleted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm_customer.database import Base
from crm_customer.visits.models import VisitInput, VisitRecord, check_in_to_proto
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

# Kinds are stored as words ("visit"), as REST shows them.
KINDS = ProtoEnum(fpb.InteractionKind)
# How long the author may still edit an entry; after that a correction is a new entry.
EDIT_WINDOW = dt.timedelta(hours=24)


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    author_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    contact_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    content: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(500), default="")
    next_follow_up_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    corrects_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # A visit's check-in and photos (visits/), loaded with the entry; None for other entries.
    visit: Mapped[VisitRecord | None] = relationship(lazy="selectin", uselist=False)

    __table_args__ = (
        # A customer's timeline, newest first, keyset-paged.
        Index("ix_interactions_customer_occurred", "customer_id", "occurred_at", "id"),
        # A rep's own entries over time (follow-up coverage).
        Index("ix_interactions_tenant_author_occurred", "tenant_id", "author_id", "occurred_at"),
    )


@dataclass
class InteractionInput:
    """A follow-up as a request gives it, validated (`follow_ups.validation`)."""

    kind: str = ""
    occurred_at: dt.datetime | None = None
    contact_ids: list[str] = field(default_factory=list)
    content: str = ""
    outcome: str = ""
    next_follow_up_date: dt.date | None = None
    corrects_id: str | None = None
    visit: VisitInput = field(default_factory=VisitInput)


def interaction_to_proto(interaction: Interaction) -> fpb.Interaction:
    visit = interaction.visit
    return fpb.Interaction(
        id=interaction.id,
        customer_id=interaction.customer_id,
        kind=KINDS.to_proto(interaction.kind),  # type: ignore[arg-type]
        occur_time=timestamp_of(as_utc(interaction.occurred_at)),
        contact_ids=list(interaction.contact_ids or []),
        content=interaction.content,
        outcome=interaction.outcome,
        next_follow_up_date=interaction.next_follow_up_date.isoformat() if interaction.next_follow_up_date else "",
        author_id=interaction.author_id,
        corrects_id=interaction.corrects_id or "",
        create_time=timestamp_of(as_utc(interaction.created_at)),
        update_time=timestamp_of(as_utc(interaction.updated_at)),
        check_in=check_in_to_proto(visit) if visit is not None else None,
        photo_attachment_ids=list(visit.photo_attachment_ids or []) if visit is not None else [],
    )
