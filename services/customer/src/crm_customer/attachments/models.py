"""The attachments table: files kept on a customer, their sniffed type and where they are stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import visits_pb2 as vpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

# Kinds are stored as words ("visit_photo"), as REST shows them.
ATTACHMENT_KINDS = ProtoEnum(vpb.AttachmentKind)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # Sniffed from the content, never taken from the upload's name or header.
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    # Random keys in object storage (crmkit.storage); nothing about them can be guessed.
    storage_key: Mapped[str] = mapped_column(String(120))
    thumbnail_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    uploader_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # A customer's attachments, newest first, keyset-paged (optionally of one kind).
        Index("ix_attachments_customer_created", "customer_id", "created_at", "id"),
        Index("ix_attachments_customer_kind_created", "customer_id", "kind", "created_at", "id"),
    )


def attachment_to_proto(attachment: Attachment, *, with_keys: bool = True) -> vpb.Attachment:
    """`with_keys`: the storage keys, for the gateway; events go without them."""
    return vpb.Attachment(
        id=attachment.id,
        customer_id=attachment.customer_id,
        kind=ATTACHMENT_KINDS.to_proto(attachment.kind),  # type: ignore[arg-type]
        content_type=attachment.content_type,
        size=attachment.size,
        filename=attachment.filename,
        has_thumbnail=bool(attachment.thumbnail_key),
        uploader_id=attachment.uploader_id,
        create_time=timestamp_of(as_utc(attachment.created_at)),
        storage_key=attachment.storage_key if with_keys else "",
        thumbnail_key=(attachment.thumbnail_key or "") if with_keys else "",
        width=attachment.width,
        height=attachment.height,
        sha256=attachment.sha256,
    )
