"""/api/v1/customers/{id}/attachments and /api/v1/attachments/...: files on a customer (visit
photos, licences, contracts). Uploads go to the customer service, which judges and stores them;
downloads are streamed here from object storage, only to callers the customer service lets see
the attachment (whoever may see its customer), or through a short-lived signed link."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from crm.customer.v1 import visits_pb2 as vpb
from crm_gateway.attachments.links import Variant
from crm_gateway.auth.service import identity_in
from crm_gateway.customers.schemas import shanghai
from crm_gateway.directory.models import OrgUnit, User
from crm_gateway.inputs import ApiModel, has_control_characters, path_id
from crm_gateway.problems import PROBLEM_JSON
from crm_gateway.web import Caller, DbSession, GatewayState, State, gateway_state
from crmkit.clock import SHANGHAI
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument, NotFound
from crmkit.identity import Identity, Role
from crmkit.storage import ObjectNotFound

router = APIRouter(prefix="/api/v1", tags=["attachments"])

AttachmentKind = Literal["visit_photo", "licence", "contract", "other"]
KINDS = ProtoEnum(vpb.AttachmentKind)
# The upload route, which EdgeGuard lets take a larger body than the others.
UPLOAD_PATH = re.compile(r"/api/v1/customers/[^/]+/attachments")
# Uploads reach the customer service as one message; thumbnails take it a moment.
UPLOAD_DEADLINE = 30.0
UNSUPPORTED = {
    415: {
        "description": "Not a JPEG, PNG, WebP, HEIC or PDF file (judged by its content) / 不支持的文件类型",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


class AttachmentOut(BaseModel):
    id: str
    customer_id: str
    kind: AttachmentKind = Field(description="拜访照片 visit_photo, 资质证照 licence, 合同 contract, 其他 other")
    content_type: str = Field(
        description="From the file's content: image/jpeg, image/png, image/webp, image/heic, application/pdf"
    )
    size: int = Field(description="Bytes")
    filename: str = Field(description="As it was named on the uploader's device")
    width: int | None = Field(description="Pixels, for images")
    height: int | None = Field(description="Pixels, for images")
    has_thumbnail: bool = Field(description="Images have a JPEG thumbnail (320 px) for lists")
    uploader_id: str
    uploader_name: str = Field(description="Empty if the user is gone")
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    content_url: str = Field(description="Streams the file; needs the Authorization header")
    thumbnail_url: str | None = Field(description="Streams the thumbnail; needs the Authorization header")
    signed_content_url: str = Field(description="The file without an Authorization header, until signed_until")
    signed_thumbnail_url: str | None = Field(description="The thumbnail without an Authorization header (<img src>)")
    signed_until: dt.datetime = Field(description="When the signed URLs stop working (Asia/Shanghai)")


class AttachmentPage(BaseModel):
    items: list[AttachmentOut]
    next_page_token: str | None


class SignedUrlsIn(ApiModel):
    seconds: int | None = Field(None, ge=10, le=3600, description="How long they work; default 300")


class SignedUrlsOut(BaseModel):
    content_url: str
    thumbnail_url: str | None
    expires_at: dt.datetime = Field(description="Asia/Shanghai")


def _metadata(state: GatewayState, identity: Identity) -> tuple[tuple[str, str], ...]:
    metadata: tuple[tuple[str, str], ...] = state.identity_metadata.for_caller(identity)
    return metadata


async def render_attachments(
    state: GatewayState, identity: Identity, attachments: list[vpb.Attachment]
) -> list[AttachmentOut]:
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={a.uploader_id for a in attachments}
    )
    shown = []
    for a in attachments:
        content = state.attachment_links.sign(identity, a.id, "content")
        thumbnail = state.attachment_links.sign(identity, a.id, "thumbnail") if a.has_thumbnail else None
        shown.append(
            AttachmentOut(
                id=a.id,
                customer_id=a.customer_id,
                kind=cast(AttachmentKind, KINDS.from_proto(a.kind)),
                content_type=a.content_type,
                size=a.size,
                filename=a.filename,
                width=a.width or None,
                height=a.height or None,
                has_thumbnail=a.has_thumbnail,
                uploader_id=a.uploader_id,
                uploader_name=names.get(a.uploader_id, ""),
                created_at=shanghai(a.create_time),
                content_url=f"/api/v1/attachments/{a.id}/content",
                thumbnail_url=f"/api/v1/attachments/{a.id}/thumbnail" if a.has_thumbnail else None,
                signed_content_url=content.url,
                signed_thumbnail_url=thumbnail.url if thumbnail else None,
                signed_until=content.expires_at.astimezone(SHANGHAI),
            )
        )
    return shown


@router.post(
    "/customers/{customer_id}/attachments",
    status_code=201,
    summary="Upload a file to a customer 上传附件",
    description="multipart/form-data with `file` and `kind`. The type comes from the file's content (JPEG, PNG, "
    "WebP, HEIC or PDF; anything else 415 `unsupported_media_type`), whatever its name says; each kind has its "
    "size limit (413 `payload_too_large`; visit photos 10 MiB, others 20 MiB by default). Whoever may change the "
    "customer (or log a follow-up on it) may upload. Reference a visit photo from a visit's "
    "`photo_attachment_ids`, a licence scan from the licence record's `attachment_id`.",
    responses=UNSUPPORTED,  # type: ignore[arg-type]
)
async def upload_attachment(
    customer_id: str,
    state: State,
    identity: Caller,
    file: Annotated[UploadFile, File(description="The file (at most 20 MiB)")],
    kind: Annotated[AttachmentKind, Form(description="visit_photo, licence, contract or other")],
    request_id: Annotated[str | None, Form(max_length=64, description="Idempotency key")] = None,
) -> AttachmentOut:
    filename = (file.filename or "").strip()[-200:]
    if has_control_characters(filename):
        filename = ""
    if request_id and has_control_characters(request_id):
        raise InvalidArgument("request_id", "contains control characters / 含有控制字符")
    content = await file.read()
    uploaded = await state.customers.UploadAttachment(
        vpb.UploadAttachmentRequest(
            request_id=request_id or str(uuid.uuid4()),
            customer_id=path_id(customer_id, "customer_id"),
            kind=KINDS.to_proto(kind),  # type: ignore[arg-type]
            filename=filename,
            content=content,
        ),
        metadata=_metadata(state, identity),
        timeout=UPLOAD_DEADLINE,
    )
    return (await render_attachments(state, identity, [uploaded.attachment]))[0]


@router.get("/customers/{customer_id}/attachments", summary="A customer's files, newest first 客户附件")
async def list_attachments(
    customer_id: str,
    state: State,
    identity: Caller,
    kind: AttachmentKind | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> AttachmentPage:
    found = await state.customers.ListAttachments(
        vpb.ListAttachmentsRequest(
            customer_id=path_id(customer_id, "customer_id"),
            kind=KINDS.to_proto(kind or ""),  # type: ignore[arg-type]
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=_metadata(state, identity),
    )
    items = await render_attachments(state, identity, list(found.attachments))
    return AttachmentPage(items=items, next_page_token=found.next_page_token or None)


async def _attachment(state: GatewayState, identity: Identity, attachment_id: str) -> vpb.Attachment:
    found = await state.customers.GetAttachment(
        vpb.GetAttachmentRequest(id=path_id(attachment_id, "attachment_id")), metadata=_metadata(state, identity)
    )
    return found.attachment


@router.get("/attachments/{attachment_id}", summary="A file's details and signed URLs 附件信息")
async def get_attachment(attachment_id: str, state: State, identity: Caller) -> AttachmentOut:
    return (await render_attachments(state, identity, [await _attachment(state, identity, attachment_id)]))[0]


@router.delete(
    "/attachments/{attachment_id}",
    status_code=204,
    summary="Delete a file 删除附件",
    description="Whoever may change the customer. A file a visit or a licence record refers to stays "
    "(412 `attachment_in_use`); the file leaves storage once the deletion is recorded, and its signed URLs stop "
    "working. Another tenant's or rep's file, or a missing one, is 404.",
)
async def delete_attachment(attachment_id: str, state: State, identity: Caller) -> Response:
    await state.customers.DeleteAttachment(
        vpb.DeleteAttachmentRequest(id=path_id(attachment_id, "attachment_id")), metadata=_metadata(state, identity)
    )
    return Response(status_code=204)


@router.post(
    "/attachments/{attachment_id}/signed-urls",
    summary="Short-lived URLs that open the file without an Authorization header 附件临时链接",
    description="For `<img src>` and downloads in the browser. They open the file only for you and only while "
    "you may still see the customer; an expired or altered URL answers 403.",
)
async def signed_urls(
    attachment_id: str, state: State, identity: Caller, body: SignedUrlsIn | None = None
) -> SignedUrlsOut:
    attachment = await _attachment(state, identity, attachment_id)
    lifetime = dt.timedelta(seconds=body.seconds) if body and body.seconds else None
    content = state.attachment_links.sign(identity, attachment.id, "content", lifetime)
    thumbnail = state.attachment_links.sign(identity, attachment.id, "thumbnail", lifetime)
    return SignedUrlsOut(
        content_url=content.url,
        thumbnail_url=thumbnail.url if attachment.has_thumbnail else None,
        expires_at=content.expires_at.astimezone(SHANGHAI),
    )


async def _stream(
    state: GatewayState, attachment: vpb.Attachment, variant: Variant, cache_control: str
) -> StreamingResponse:
    if variant == "thumbnail":
        if not attachment.has_thumbnail:
            raise NotFound("thumbnail", attachment.id)
        key, media_type, name = attachment.thumbnail_key, "image/jpeg", f"thumbnail-{attachment.id}.jpg"
    else:
        key, media_type, name = attachment.storage_key, attachment.content_type, attachment.filename or attachment.id
    try:
        stream = await state.storage.get(key)
    except ObjectNotFound:
        raise NotFound("attachment", attachment.id) from None

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in stream:
            yield chunk

    # The type is the sniffed one (images and PDF only) and the edge sends nosniff, so a browser
    # never takes a file for a page.
    headers = {
        "Content-Length": str(stream.size),
        "Cache-Control": cache_control,
        # Shown in the browser (images, PDF), saved under its own name; the name is never a path.
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(name, safe='')}",
    }
    return StreamingResponse(chunks(), media_type=media_type, headers=headers)


FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes",
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}, "application/pdf": {}},
    }
}


@router.get(
    "/attachments/{attachment_id}/{variant}",
    summary="Download a file or its thumbnail 下载附件/缩略图",
    description="`content` is the file as uploaded, `thumbnail` a JPEG of an image (404 for a PDF). 404 for "
    "anyone who may not see the customer.",
    response_class=StreamingResponse,
    responses=FILE_RESPONSES,
)
async def download(
    attachment_id: str, variant: Literal["content", "thumbnail"], state: State, identity: Caller
) -> StreamingResponse:
    attachment = await _attachment(state, identity, attachment_id)
    return await _stream(state, attachment, variant, "private, no-cache")


@router.get(
    "/signed/attachments/{attachment_id}/{variant}",
    summary="Download through a signed URL 临时链接下载",
    description="The URLs in `signed_content_url` / `signed_thumbnail_url`: no Authorization header. 403 "
    "`link_expired` or `link_invalid` (any part altered); 404 once their user may no longer see the customer.",
    response_class=StreamingResponse,
    responses=FILE_RESPONSES,
)
async def download_signed(
    attachment_id: str,
    variant: Literal["content", "thumbnail"],
    request: Request,
    session: DbSession,
    tenant: Annotated[str, Query(max_length=64)],
    user: Annotated[str, Query(max_length=64)],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=64)],
) -> StreamingResponse:
    state = gateway_state(request)
    holder = state.attachment_links.verify(
        attachment_id=attachment_id,
        variant=variant,
        tenant_id=tenant,
        user_id=user,
        expires=expires,
        signature=signature,
    )
    await state.limiter.admit("reads", f"user:{holder.user_id}")
    row = (
        await session.execute(
            select(User, OrgUnit)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(User.id == holder.user_id, User.tenant_id == holder.tenant_id, User.active.is_(True))
        )
    ).first()
    if row is None:
        raise NotFound("attachment", attachment_id)
    user_row, unit = row
    identity = identity_in(unit, principal_id=user_row.id, role=Role(user_row.role), display_name=user_row.display_name)
    attachment = await _attachment(state, identity, attachment_id)
    remaining = max(0, int((holder.expires_at - state.now()).total_seconds()))
    return await _stream(state, attachment, variant, f"private, max-age={remaining}")
