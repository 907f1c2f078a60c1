"""gRPC edge of attachments: check the upload (size for its kind, type from its content), store
it and its thumbnail under random keys, record it; read one or a customer's list; delete one
and, once that commits, its files."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import visits_pb2 as vpb
from crm_customer.attachments import content, service
from crm_customer.attachments.models import ATTACHMENT_KINDS, Attachment, attachment_to_proto
from crm_customer.models import CREATE_REQUESTS
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.errors import NotFound
from crmkit.grpc_server import RpcContext
from crmkit.idempotency import earlier_resource
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.uploads import PayloadTooLarge, UnsupportedMediaType
from crmkit.validate import identifier, text

log = logging.getLogger(__name__)
ACCEPTED = "JPEG, PNG, WebP, HEIC or PDF / 仅支持 JPEG、PNG、WebP、HEIC 图片或 PDF"


def _kind(value: int, field: str, *, required: bool = True) -> str:
    return ATTACHMENT_KINDS.parse(
        value, field, default=None if required else "", unknown="unknown attachment kind / 未知的附件类型"
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


class AttachmentRpcs(CustomerServicerBase):
    """UploadAttachment, GetAttachment, ListAttachments, DeleteAttachment."""

    def _checked_upload(self, request: vpb.UploadAttachmentRequest) -> tuple[str, content.Sniffed]:
        kind = _kind(request.kind, "kind")
        limit = self._upload_policy.max_bytes[kind]
        if len(request.content) > limit:
            raise PayloadTooLarge(
                f"content: larger than {_mib(limit)} allowed for {kind} / 文件超过{_mib(limit)}上限", field="content"
            )
        if not request.content:
            raise UnsupportedMediaType("content", "is empty / 文件为空")
        try:
            sniffed = content.sniff(request.content)
        except content.TooManyPixels as exc:
            raise PayloadTooLarge(
                f"content: image of {exc} pixels is too large / 图片像素过多", field="content"
            ) from exc
        if sniffed is None:
            raise UnsupportedMediaType("content", ACCEPTED)
        if kind == "visit_photo" and not sniffed.is_image:
            raise UnsupportedMediaType("content", "a visit photo must be an image / 拜访照片须为图片")
        return kind, sniffed

    async def UploadAttachment(
        self, request: vpb.UploadAttachmentRequest, context: RpcContext
    ) -> vpb.UploadAttachmentResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        customer_id = identifier(request.customer_id, "customer_id")
        filename = text(request.filename, "filename", max_len=200)
        kind, sniffed = self._checked_upload(request)
        identity = current_identity()
        now = self._clock()

        async def replay(session: AsyncSession, attachment_id: str) -> vpb.UploadAttachmentResponse:
            attachment = await session.get(Attachment, attachment_id)
            if attachment is None or attachment.customer_id != customer_id:
                raise NotFound("attachment", attachment_id)
            return vpb.UploadAttachmentResponse(attachment=attachment_to_proto(attachment))

        # Refuse before storing anything: a retry of a finished upload, a customer the caller may
        # not change.
        async with self._reads() as session:
            if request_id and (earlier := await earlier_resource(session, CREATE_REQUESTS, identity, request_id)):
                return await replay(session, earlier)
            await service.may_upload(session, identity=identity, customer_id=customer_id, now=now)

        data = bytes(request.content)
        storage = self._object_storage()
        thumbnail = await self._thumbnail(data) if sniffed.is_image else None
        upload = service.StoredUpload(
            kind=kind,
            filename=filename,
            content_type=sniffed.content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=sniffed.width,
            height=sniffed.height,
            storage_key=service.new_storage_key(identity.tenant_id),
            thumbnail_key=None,
        )
        # Stored before the row is written: a row never points at nothing. A failed write
        # leaves an object no row names, which is removed here (or, if the process dies first,
        # stays as unreachable bytes under a random key).
        await storage.put(upload.storage_key, data)
        stored = [upload.storage_key]
        try:
            if thumbnail is not None:
                thumbnail_key = f"{upload.storage_key}-thumb"
                await storage.put(thumbnail_key, thumbnail)
                stored.append(thumbnail_key)
                upload = dataclasses.replace(upload, thumbnail_key=thumbnail_key)

            async def record(session: AsyncSession) -> tuple[str, vpb.UploadAttachmentResponse]:
                attachment = await service.record_upload(
                    session, identity=identity, customer_id=customer_id, upload=upload, events=self._events, now=now
                )
                return attachment.id, vpb.UploadAttachmentResponse(attachment=attachment_to_proto(attachment))

            response = await self._writes.create_once(
                identity=identity, request_id=request_id, create=record, replay=replay
            )
        except BaseException:
            await self._forget(stored)
            raise
        if response.attachment.storage_key != upload.storage_key:
            # A concurrent retry of the same request recorded its own copy first.
            await self._forget(stored)
        return response

    async def _thumbnail(self, data: bytes) -> bytes:
        try:
            return await asyncio.to_thread(content.thumbnail, data, px=self._upload_policy.thumbnail_px)
        except (OSError, ValueError, SyntaxError) as exc:
            # Its header said image, its body does not decode (truncated, corrupt).
            raise UnsupportedMediaType("content", "the image cannot be read / 图片无法读取") from exc

    async def _forget(self, keys: list[str]) -> None:
        for key in keys:
            try:
                await self._object_storage().delete(key)
            except Exception:
                log.warning("could not remove unrecorded object %s", key, exc_info=True)

    async def GetAttachment(self, request: vpb.GetAttachmentRequest, context: RpcContext) -> vpb.GetAttachmentResponse:
        attachment_id = identifier(request.id, "id")
        async with self._reads() as session:
            attachment = await service.get_attachment(
                session, identity=current_identity(), attachment_id=attachment_id, now=self._clock()
            )
            return vpb.GetAttachmentResponse(attachment=attachment_to_proto(attachment))

    async def ListAttachments(
        self, request: vpb.ListAttachmentsRequest, context: RpcContext
    ) -> vpb.ListAttachmentsResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        kind = _kind(request.kind, "kind", required=False)
        size = page_size(request.page_size)
        async with self._reads() as session:
            rows, token = await service.list_attachments(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                kind=kind,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
            )
            return vpb.ListAttachmentsResponse(
                attachments=[attachment_to_proto(row) for row in rows], next_page_token=token
            )

    async def DeleteAttachment(
        self, request: vpb.DeleteAttachmentRequest, context: RpcContext
    ) -> vpb.DeleteAttachmentResponse:
        attachment_id = identifier(request.id, "id")
        async with self._writes.transaction() as session:
            keys = await service.delete_attachment(
                session,
                identity=current_identity(),
                attachment_id=attachment_id,
                events=self._events,
                now=self._clock(),
            )
        # After the commit: a rolled-back deletion keeps its file. A failure here leaves bytes
        # no row names under a random key (logged), never a row without its file.
        await self._forget(keys)
        return vpb.DeleteAttachmentResponse()
