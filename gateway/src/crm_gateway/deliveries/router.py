"""/api/v1/orders/{id}/delivery: how an order left (vehicle, driver, planned time, batch numbers per
line) and how it was received (signed by, time, photo, exception), forwarded to the order service.
Photos are streamed from object storage only to callers who may see the order."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import order_pb2 as pb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, has_control_characters, path_id
from crm_gateway.orders.router import OrderOut, order_out
from crm_gateway.problems import PROBLEM_JSON
from crm_gateway.web import Caller, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument, NotFound
from crmkit.identity import Identity
from crmkit.storage import ObjectNotFound

router = APIRouter(prefix="/api/v1", tags=["deliveries"])

ExceptionKind = Literal["partial", "refused", "damaged"]
EXCEPTIONS = ProtoEnum(dpb.DeliveryExceptionKind)
# The upload route, which EdgeGuard lets take a larger body than the others.
PHOTO_UPLOAD_PATH = re.compile(r"/api/v1/orders/[^/]+/delivery/photos")
# A photo reaches the order service as one message.
UPLOAD_DEADLINE = 30.0
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, description="More than 0, 3 decimals")]
Delivered = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3, description="0 or more, 3 decimals")]
PHOTO_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: {
        "description": "Larger than the photo limit (10 MiB by default) / 照片过大",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
    415: {
        "description": "Not a JPEG, PNG or WebP image (judged by its content) / 仅支持 JPEG、PNG、WebP 照片",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


class BatchIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    line_no: int = Field(ge=1, le=10_000)
    batch_no: str = Field(min_length=1, max_length=64, description="批次号, e.g. B20261128-01")
    quantity: Quantity


class DispatchIn(ApiModel):
    """The batches of a line add up to at most its quantity (400 naming `batches[i].quantity`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    vehicle: str = Field(min_length=1, max_length=20, description="车牌, e.g. 浙A12345")
    driver_name: str = Field(min_length=1, max_length=50)
    driver_phone: str = Field(min_length=1, max_length=20, description="A mainland mobile number")
    planned_at: AwareDatetime = Field(description="Planned delivery time, with its offset")
    batches: list[BatchIn] = Field(default_factory=list, max_length=500)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed")


class ExceptionLineIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    line_no: int = Field(ge=1, le=10_000)
    quantity: Delivered | None = Field(None, description="partial: delivered; damaged: damaged")
    note: str = Field("", max_length=200)


class ConfirmationIn(ApiModel):
    """A photo is required unless the delivery was refused; a refusal needs a reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    signed_by: str = Field(min_length=1, max_length=50, description="签收人")
    signed_at: AwareDatetime = Field(description="签收时间, with its offset; not in the future")
    photo_id: str = Field("", max_length=36, description="From POST …/delivery/photos")
    exception: ExceptionKind | None = Field(
        None, description="部分签收 partial, 拒收 refused, 破损 damaged; omitted: delivered in full"
    )
    exception_reason: str = Field("", max_length=200)
    exception_lines: list[ExceptionLineIn] = Field(default_factory=list, max_length=200)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class BatchOut(BaseModel):
    line_no: int
    batch_no: str
    quantity: Decimal


class DispatchOut(BaseModel):
    vehicle: str
    driver_name: str
    driver_phone: str
    planned_at: dt.datetime
    batches: list[BatchOut]
    dispatched_by: str
    dispatched_at: dt.datetime


class ExceptionLineOut(BaseModel):
    line_no: int
    quantity: Decimal
    note: str


class ConfirmationOut(BaseModel):
    signed_by: str
    signed_at: dt.datetime
    photo_id: str
    exception: ExceptionKind | None
    exception_reason: str
    exception_lines: list[ExceptionLineOut]
    confirmed_by: str
    confirmed_at: dt.datetime


class DeliveryPhotoOut(BaseModel):
    id: str
    content_type: str = Field(description="image/jpeg, image/png or image/webp, from the content")
    size: int
    filename: str
    width: int
    height: int
    uploaded_by: str
    created_at: dt.datetime
    content_url: str = Field(description="Streams the photo; needs the Authorization header")


class OrderDeliveryOut(BaseModel):
    order_id: str
    dispatch: DispatchOut | None = Field(description="null until dispatched with details")
    confirmation: ConfirmationOut | None = Field(description="null until the delivery is confirmed")
    photos: list[DeliveryPhotoOut]


class DeliveryChanged(BaseModel):
    order: OrderOut
    delivery: OrderDeliveryOut


def _timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC))
    return stamp


def photo_out(order_id: str, photo: dpb.DeliveryPhoto) -> DeliveryPhotoOut:
    return DeliveryPhotoOut(
        id=photo.id,
        content_type=photo.content_type,
        size=photo.size,
        filename=photo.filename,
        width=photo.width,
        height=photo.height,
        uploaded_by=photo.uploaded_by,
        created_at=shanghai(photo.create_time),
        content_url=f"/api/v1/orders/{order_id}/delivery/photos/{photo.id}",
    )


def delivery_out(delivery: dpb.OrderDelivery) -> OrderDeliveryOut:
    dispatch = delivery.dispatch if delivery.HasField("dispatch") else None
    confirmation = delivery.confirmation if delivery.HasField("confirmation") else None
    return OrderDeliveryOut(
        order_id=delivery.order_id,
        dispatch=DispatchOut(
            vehicle=dispatch.vehicle,
            driver_name=dispatch.driver_name,
            driver_phone=dispatch.driver_phone,
            planned_at=shanghai(dispatch.planned_time),
            batches=[
                BatchOut(line_no=b.line_no, batch_no=b.batch_no, quantity=Decimal(b.quantity)) for b in dispatch.batches
            ],
            dispatched_by=dispatch.dispatched_by,
            dispatched_at=shanghai(dispatch.dispatch_time),
        )
        if dispatch is not None
        else None,
        confirmation=ConfirmationOut(
            signed_by=confirmation.signed_by,
            signed_at=shanghai(confirmation.signed_time),
            photo_id=confirmation.photo_id,
            exception=cast(ExceptionKind, EXCEPTIONS.from_proto(confirmation.exception)) or None,
            exception_reason=confirmation.exception_reason,
            exception_lines=[
                ExceptionLineOut(line_no=line.line_no, quantity=Decimal(line.quantity), note=line.note)
                for line in confirmation.exception_lines
            ],
            confirmed_by=confirmation.confirmed_by,
            confirmed_at=shanghai(confirmation.confirm_time),
        )
        if confirmation is not None
        else None,
        photos=[photo_out(delivery.order_id, p) for p in delivery.photos],
    )


def _metadata(state: GatewayState, identity: Identity) -> tuple[tuple[str, str], ...]:
    metadata: tuple[tuple[str, str], ...] = state.identity_metadata.for_caller(identity)
    return metadata


@router.get(
    "/orders/{order_id}/delivery",
    summary="An order's dispatch and delivery 配送信息",
    description="Vehicle, driver, planned time and batches once dispatched; who signed, when, the photo and any "
    "exception once delivered. 404 for an order you may not see.",
)
async def get_delivery(order_id: str, state: State, identity: Caller) -> OrderDeliveryOut:
    found = await state.orders.GetOrderDelivery(
        dpb.GetOrderDeliveryRequest(id=path_id(order_id, "order_id")), metadata=_metadata(state, identity)
    )
    return delivery_out(found.delivery)


@router.post(
    "/orders/{order_id}/delivery/dispatch",
    summary="Dispatch an order 发货",
    description="ready_to_ship → dispatched with the vehicle, driver, driver's mobile, planned time and the batch "
    "numbers of each line (their quantities add up to at most the line's). Admins, bosses, supervisors and "
    "service (the dispatcher). A move the order's state does not allow is 409 `illegal_transition`.",
)
async def dispatch_order(order_id: str, body: DispatchIn, state: State, identity: Caller) -> DeliveryChanged:
    reply = await state.orders.DispatchOrder(
        pb.DispatchOrderRequest(
            id=path_id(order_id, "order_id"),
            expected_version=body.expected_version or 0,
            vehicle=body.vehicle,
            driver_name=body.driver_name,
            driver_phone=body.driver_phone,
            planned_time=_timestamp(body.planned_at),
            batches=[
                dpb.LineBatch(line_no=b.line_no, batch_no=b.batch_no, quantity=str(b.quantity)) for b in body.batches
            ],
        ),
        metadata=_metadata(state, identity),
    )
    return DeliveryChanged(order=order_out(identity, reply.order), delivery=delivery_out(reply.delivery))


@router.post(
    "/orders/{order_id}/delivery/photos",
    status_code=201,
    summary="Upload a delivery photo 上传签收照片",
    description="multipart/form-data with `file`: a JPEG, PNG or WebP image, judged by its content (anything else "
    "415 `unsupported_media_type`; larger than the limit 413 `payload_too_large`). Only while the order is on the "
    "road (dispatched), by whoever may confirm its delivery.",
    responses=PHOTO_REFUSALS,
)
async def upload_photo(
    order_id: str,
    state: State,
    identity: Caller,
    file: Annotated[UploadFile, File(description="The photo")],
    request_id: Annotated[str | None, Form(max_length=64, description="Idempotency key")] = None,
) -> DeliveryPhotoOut:
    filename = (file.filename or "").strip()[-200:]
    if has_control_characters(filename):
        filename = ""
    if request_id and has_control_characters(request_id):
        raise InvalidArgument("request_id", "contains control characters / 含有控制字符")
    order_id = path_id(order_id, "order_id")
    uploaded = await state.orders.UploadDeliveryPhoto(
        dpb.UploadDeliveryPhotoRequest(
            order_id=order_id,
            request_id=request_id or str(uuid.uuid4()),
            filename=filename,
            content=await file.read(),
        ),
        metadata=_metadata(state, identity),
        timeout=UPLOAD_DEADLINE,
    )
    return photo_out(order_id, uploaded.photo)


@router.get(
    "/orders/{order_id}/delivery/photos/{photo_id}",
    summary="Download a delivery photo 下载签收照片",
    description="404 for anyone who may not see the order, and for a photo of another order.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The photo's bytes",
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def download_photo(order_id: str, photo_id: str, state: State, identity: Caller) -> StreamingResponse:
    found = await state.orders.GetOrderDelivery(
        dpb.GetOrderDeliveryRequest(id=path_id(order_id, "order_id")), metadata=_metadata(state, identity)
    )
    photo = next((p for p in found.delivery.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound("photo", photo_id)
    try:
        stream = await state.storage.get(photo.storage_key)
    except ObjectNotFound:
        raise NotFound("photo", photo_id) from None

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in stream:
            yield chunk

    # The type is the sniffed one (images only) and the edge sends nosniff.
    headers = {
        "Content-Length": str(stream.size),
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(photo.filename or photo.id, safe='')}",
    }
    return StreamingResponse(chunks(), media_type=photo.content_type, headers=headers)


@router.post(
    "/orders/{order_id}/delivery/confirm",
    summary="Confirm a delivery 签收",
    description="dispatched → delivered with who signed (签收人), when, the photo, and an exception if there was "
    "one: partial (部分签收: the delivered quantity of each short line), refused (拒收: a reason), damaged (破损: "
    "the lines and notes).",
)
async def confirm_delivery(order_id: str, body: ConfirmationIn, state: State, identity: Caller) -> DeliveryChanged:
    reply = await state.orders.ConfirmDelivery(
        pb.ConfirmDeliveryRequest(
            id=path_id(order_id, "order_id"),
            expected_version=body.expected_version or 0,
            signed_by=body.signed_by,
            signed_time=_timestamp(body.signed_at),
            photo_id=body.photo_id,
            exception=EXCEPTIONS.to_proto(body.exception or ""),  # type: ignore[arg-type]
            exception_reason=body.exception_reason,
            exception_lines=[
                dpb.DeliveryExceptionLine(
                    line_no=line.line_no, quantity="" if line.quantity is None else str(line.quantity), note=line.note
                )
                for line in body.exception_lines
            ],
        ),
        metadata=_metadata(state, identity),
    )
    return DeliveryChanged(order=order_out(identity, reply.order), delivery=delivery_out(reply.delivery))
