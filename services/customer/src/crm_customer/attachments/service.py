"""Attachments: record an upload already stored, read one or a customer's list, delete one no
record refers to, and check the attachments a record refers to. Whoever may see the customer may
see its attachments; whoever may change it (or log a follow-up on it) may add or delete one.
Functions take the session and never commit."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.attachments.models import Attachment
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.service import get_customer, refuse_if_archived
from crm_customer.licences.models import Licence
from crm_customer.visits.models import VisitRecord
from crmkit.errors import FailedPrecondition, InvalidArgument, NotFound
from crmkit.identity import Identity
from crmkit.paging import KeysetOrder

NEWEST_FIRST = KeysetOrder("created_desc", Attachment.created_at, Attachment.id, descending=True, value_kind="time")


def new_storage_key(tenant_id: str) -> str:
    """128 random bits under the tenant's folder: nothing about a file tells where another is."""
    return f"attachments/{tenant_id}/{secrets.token_hex(16)}"


@dataclass(frozen=True)
class StoredUpload:
    """An upload checked and already in object storage, to be recorded."""

    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    storage_key: str
    thumbnail_key: str | None


async def may_upload(session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime) -> None:
    """Refuses (NOT_FOUND, PERMISSION_DENIED for a read-only collaborator, FAILED_PRECONDITION
    when archived) before anything is stored."""
    customer = await get_customer(session, identity=identity, customer_id=customer_id, now=now, access="write")
    refuse_if_archived(customer)


async def record_upload(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    upload: StoredUpload,
    events: CustomerEvents,
    now: dt.datetime,
) -> Attachment:
    customer = await get_customer(session, identity=identity, customer_id=customer_id, now=now, access="write")
    refuse_if_archived(customer)
    attachment = Attachment(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        kind=upload.kind,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        filename=upload.filename,
        width=upload.width,
        height=upload.height,
        storage_key=upload.storage_key,
        thumbnail_key=upload.thumbnail_key,
        uploader_id=identity.principal_id,
        created_at=now,
    )
    session.add(attachment)
    await session.flush()
    await events.attachment_uploaded(session, customer, attachment, identity.principal_id, now)
    return attachment


async def get_attachment(
    session: AsyncSession, *, identity: Identity, attachment_id: str, now: dt.datetime
) -> Attachment:
    """Another tenant's attachment, or one of a customer the caller may not see, is not found."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.tenant_id != identity.tenant_id:
        raise NotFound("attachment", attachment_id)
    try:
        await get_customer(session, identity=identity, customer_id=attachment.customer_id, now=now)
    except NotFound:
        raise NotFound("attachment", attachment_id) from None
    return attachment


class AttachmentInUse(FailedPrecondition):
    code = "attachment_in_use"


async def delete_attachment(
    session: AsyncSession, *, identity: Identity, attachment_id: str, events: CustomerEvents, now: dt.datetime
) -> list[str]:
    """Deletes the row and writes attachment_deleted; answers the storage keys the caller removes
    once the transaction commits (removing them earlier would lose the file if it rolled back).
    Another tenant's attachment, or one of a customer the caller may not see, is not found."""
    attachment = await session.get(Attachment, attachment_id, with_for_update=True)
    if attachment is None or attachment.tenant_id != identity.tenant_id:
        raise NotFound("attachment", attachment_id)
    try:
        customer = await get_customer(
            session, identity=identity, customer_id=attachment.customer_id, now=now, access="write"
        )
    except NotFound:
        raise NotFound("attachment", attachment_id) from None
    refuse_if_archived(customer)
    await _refuse_if_referred_to(session, attachment)
    keys = [key for key in (attachment.storage_key, attachment.thumbnail_key) if key]
    await events.attachment_deleted(session, customer, attachment, identity.principal_id, now)
    await session.delete(attachment)
    await session.flush()
    return keys


async def _refuse_if_referred_to(session: AsyncSession, attachment: Attachment) -> None:
    licence = await session.scalar(
        select(Licence.id).where(Licence.customer_id == attachment.customer_id, Licence.attachment_id == attachment.id)
    )
    if licence is not None:
        raise AttachmentInUse("a licence record refers to this file / 该附件被资质证照记录引用，不能删除")
    # A customer has tens of visits, not millions: their photo lists are read here, not indexed.
    photo_lists = await session.scalars(
        select(VisitRecord.photo_attachment_ids).where(VisitRecord.customer_id == attachment.customer_id)
    )
    if any(attachment.id in (ids or []) for ids in photo_lists):
        raise AttachmentInUse("a visit refers to this photo / 该照片属于一次拜访记录，不能删除")


async def list_attachments(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    kind: str,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[Attachment], str]:
    await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    query = select(Attachment).where(Attachment.customer_id == customer_id)
    if kind:
        query = query.where(Attachment.kind == kind)
    rows = (await session.scalars(NEWEST_FIRST.apply(query, page_token).limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda row: (row.created_at, row.id))


async def check_attachments_of(
    session: AsyncSession, *, customer_id: str, tenant_id: str, kind: str, ids: Sequence[str], field: str
) -> None:
    """Each id names an attachment of this kind on this customer (of this tenant); the refusal
    names the first that does not (`field[i]`), and says no more than that."""
    if not ids:
        return
    found = {
        row.id: row for row in (await session.scalars(select(Attachment).where(Attachment.id.in_(list(ids))))).all()
    }
    for index, attachment_id in enumerate(ids):
        row = found.get(attachment_id)
        if row is None or row.tenant_id != tenant_id or row.customer_id != customer_id:
            raise InvalidArgument(f"{field}[{index}]", "no such attachment of this customer / 该客户没有这个附件")
        if row.kind != kind:
            raise InvalidArgument(f"{field}[{index}]", f"must be an attachment of kind {kind} / 附件类型须为 {kind}")


@dataclass(frozen=True)
class UploadPolicy:
    """How large each kind may be (bytes) and how large thumbnails are (CustomerSettings)."""

    max_bytes: dict[str, int]
    thumbnail_px: int = 320
