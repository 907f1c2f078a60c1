"""The transfers table: one row per transfer (离职交接), its progress written by each batch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import transfers_pb2 as tpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.db import bytewise
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

MODES = ProtoEnum(tpb.TransferMode)
STATUSES = ProtoEnum(tpb.TransferStatus)
UNFINISHED = ("pending", "running")


class Transfer(Base):
    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    from_user_id: Mapped[str] = mapped_column(String(36))
    # Where the departing rep sits: supervisors above it see the transfer.
    from_org_unit_id: Mapped[str] = mapped_column(String(36))
    from_org_path: Mapped[str] = mapped_column(bytewise(400))
    # lifecycle_stage, type, province, city, tag: "" or absent means any.
    filter: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(12))
    to_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    pool_id: Mapped[str] = mapped_column(String(36), default="")
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    total: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    # The first skipped customers and why ([{"customer_id", "reason"}]).
    skips: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # How many each receiver got so far: {"owner:<id>" or "pool:<id>": count}.
    shares: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # The last customer id a batch looked at: customers are taken in id order, so a resumed run
    # starts after it and never looks at a customer twice.
    cursor: Mapped[str] = mapped_column(String(36), default="")
    error: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_transfers_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_transfers_status_created", "status", "created_at"),
    )


def transfer_to_proto(transfer: Transfer) -> tpb.Transfer:
    filters = transfer.filter or {}
    return tpb.Transfer(
        id=transfer.id,
        from_user_id=transfer.from_user_id,
        filter=tpb.TransferFilter(**filters),
        mode=MODES.to_proto(transfer.mode),  # type: ignore[arg-type]
        to_user_ids=list(transfer.to_user_ids or []),
        pool_id=transfer.pool_id,
        reason=transfer.reason,
        status=STATUSES.to_proto(transfer.status),  # type: ignore[arg-type]
        total=transfer.total,
        moved=transfer.moved,
        skipped=transfer.skipped,
        skips=[
            tpb.TransferSkip(customer_id=skip["customer_id"], reason=skip["reason"]) for skip in transfer.skips or []
        ],
        error=transfer.error,
        actor_id=transfer.actor_id,
        create_time=timestamp_of(as_utc(transfer.created_at)),
        finish_time=timestamp_of(as_utc(transfer.finished_at)) if transfer.finished_at else None,
    )
