"""/api/v1/orders/{id}/after-sales and /api/v1/after-sales: after-sales (售后) of the orders the
caller may see, forwarded to the order service; photos are files of the order's customer (the
customer service judges and stores them), uploaded and streamed here."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Annotated, Literal, cast

import grpc
from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import StreamingResponse
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import visits_pb2 as vpb
from crm.order.v1 import after_sales_pb2 as pb
from crm.order.v1 import order_pb2 as opb
from crm_gateway.after_sales.views import sees
from crm_gateway.attachments.router import FILE_RESPONSES, UNSUPPORTED, UPLOAD_DEADLINE, AttachmentOut, _stream
from crm_gateway.attachments.router import render_attachments as render_files
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, has_control_characters, path_id
from crm_gateway.orders.router import Quantity
from crm_gateway.web import Caller, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument, NotFound
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["after-sales"])

AfterSaleType = Literal["return_refund", "refund_only", "exchange", "reissue"]
AfterSaleState = Literal["requested", "approved", "rejected"]
Decision = Literal["approve", "reject"]
TYPES = ProtoEnum(pb.AfterSaleType)
STATES = ProtoEnum(pb.AfterSaleState)
DECISIONS = ProtoEnum(pb.AfterSaleDecision)
# The photo upload route, which EdgeGuard lets take an upload's body.
PHOTO_UPLOAD_PATH = re.compile(r"/api/v1/orders/[^/]+/after-sale-photos")
MAX_PHOTOS = 9
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="CNY, two decimals")]


class AfterSaleLineIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1, le=10_000, description="The order line")
    quantity: Quantity


class AfterSaleIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: AfterSaleType = Field(
        description="退货退款 return_refund | 仅退款 refund_only | 退货换货 exchange | 补发 reissue"
    )
    lines: list[AfterSaleLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)
    refund_amount: Money | None = Field(
        None, description="Omit for the lines' value; at most that. Exchange and reissue refund nothing."
    )
    photo_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(
        [], max_length=MAX_PHOTOS, description="Ids from POST /api/v1/orders/{order_id}/after-sale-photos"
    )
    reissue_invoice: bool = Field(False, description="The invoice must be re-issued (红冲重开)")
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first one")


class AfterSaleDecisionIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Decision
    comment: str = Field("", max_length=200, description="Required to reject")
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed")


class AfterSaleLineOut(BaseModel):
    line_no: int
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    unit_cost: Decimal | None = Field(description="Hidden (null) for sales")


class AfterSaleApprovalOut(BaseModel):
    decision: Decision
    decided_by: str
    decided_by_name: str
    comment: str
    decided_at: dt.datetime | None


class AfterSalePhotoOut(BaseModel):
    id: str
    content_url: str = Field(description="Streams the photo; needs the Authorization header")
    thumbnail_url: str = Field(description="Streams its thumbnail (404 for a PDF); needs the Authorization header")


class AfterSaleOut(BaseModel):
    id: str
    number: str = Field(description="SH-YYYYMMDD-NNNN")
    order_id: str
    customer_id: str
    customer_name: str
    owner_id: str
    org_unit_id: str
    type: AfterSaleType
    status: AfterSaleState
    lines: list[AfterSaleLineOut]
    reason: str
    lines_amount: Decimal = Field(description="The lines' value at the order's prices")
    refund_amount: Decimal = Field(description="What is refunded; 0 for exchange and reissue")
    cost_amount: Decimal | None = Field(description="The lines' cost; hidden (null) for sales")
    photos: list[AfterSalePhotoOut]
    reissue_invoice: bool = Field(description="The invoice must be re-issued (finance)")
    requested_by: str
    requested_by_name: str
    approval: AfterSaleApprovalOut | None
    shipment_order_id: str | None = Field(description="The order an approved exchange or reissue ships the goods on")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AfterSalePage(BaseModel):
    items: list[AfterSaleOut] = Field(description="Newest first")
    next_page_token: str | None


async def after_sales_out(state: GatewayState, identity: Identity, found: list[pb.AfterSale]) -> list[AfterSaleOut]:
    people = {a.requested_by for a in found} | {a.approval.decided_by for a in found if a.HasField("approval")}
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=people - {""})
    show_cost = sees(identity, "after_sale.lines.unit_cost")
    shown = []
    for a in found:
        approval = None
        if a.HasField("approval"):
            approval = AfterSaleApprovalOut(
                decision=cast(Decision, DECISIONS.from_proto(a.approval.decision)),
                decided_by=a.approval.decided_by,
                decided_by_name=names.get(a.approval.decided_by, ""),
                comment=a.approval.comment,
                decided_at=shanghai(a.approval.decided_time) if a.approval.HasField("decided_time") else None,
            )
        cost = sum((Decimal(line.unit_cost) * Decimal(line.quantity) for line in a.lines), Decimal(0))
        base = f"/api/v1/after-sales/{a.id}/photos"
        shown.append(
            AfterSaleOut(
                id=a.id,
                number=a.number,
                order_id=a.order_id,
                customer_id=a.customer_id,
                customer_name=a.customer_name,
                owner_id=a.owner_id,
                org_unit_id=a.org_unit_id,
                type=cast(AfterSaleType, TYPES.from_proto(a.type)),
                status=cast(AfterSaleState, STATES.from_proto(a.state)),
                lines=[
                    AfterSaleLineOut(
                        line_no=line.line_no,
                        product_id=line.product_id,
                        sku=line.sku,
                        product_name=line.product_name,
                        unit=line.unit,
                        quantity=Decimal(line.quantity),
                        unit_price=Decimal(line.unit_price),
                        amount=Decimal(line.amount),
                        unit_cost=Decimal(line.unit_cost) if show_cost else None,
                    )
                    for line in a.lines
                ],
                reason=a.reason,
                lines_amount=Decimal(a.lines_amount),
                refund_amount=Decimal(a.refund_amount),
                cost_amount=cost.quantize(Decimal("0.01")) if sees(identity, "after_sale.cost_amount") else None,
                photos=[
                    AfterSalePhotoOut(
                        id=photo, content_url=f"{base}/{photo}/content", thumbnail_url=f"{base}/{photo}/thumbnail"
                    )
                    for photo in a.photo_ids
                ],
                reissue_invoice=a.reissue_invoice,
                requested_by=a.requested_by,
                requested_by_name=names.get(a.requested_by, ""),
                approval=approval,
                shipment_order_id=a.shipment_order_id or None,
                version=a.version,
                created_at=shanghai(a.create_time),
                updated_at=shanghai(a.update_time),
            )
        )
    return shown


def _metadata(state: GatewayState, identity: Identity) -> tuple[tuple[str, str], ...]:
    metadata: tuple[tuple[str, str], ...] = state.identity_metadata.for_caller(identity)
    return metadata


async def _order(state: GatewayState, identity: Identity, order_id: str) -> opb.Order:
    found = await state.orders.GetOrder(
        opb.GetOrderRequest(id=path_id(order_id, "order_id")), metadata=_metadata(state, identity)
    )
    return found.order


async def _check_photos(state: GatewayState, identity: Identity, customer_id: str, photo_ids: list[str]) -> None:
    """Each photo is a file of the order's customer that the caller may see; anything else is
    refused as bad input naming it (a foreign file looks exactly like a missing one)."""
    for index, photo_id in enumerate(photo_ids):
        try:
            found = await state.customers.GetAttachment(
                vpb.GetAttachmentRequest(id=photo_id), metadata=_metadata(state, identity)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            raise InvalidArgument(f"photo_ids[{index}]", "no such photo / 照片不存在") from None
        if found.attachment.customer_id != customer_id:
            raise InvalidArgument(f"photo_ids[{index}]", "no such photo / 照片不存在")


@router.post(
    "/orders/{order_id}/after-sale-photos",
    status_code=201,
    summary="Upload a photo for an after-sale 上传售后照片",
    description="multipart/form-data with `file`: a JPEG, PNG, WebP, HEIC or PDF (judged by its content; else 415). "
    "Kept as a file of the order's customer; pass its `id` in the after-sale's `photo_ids`.",
    responses=UNSUPPORTED,  # type: ignore[arg-type]
)
async def upload_photo(
    order_id: str,
    state: State,
    identity: Caller,
    file: Annotated[UploadFile, File(description="The photo")],
) -> AttachmentOut:
    order = await _order(state, identity, order_id)
    filename = (file.filename or "").strip()[-200:]
    if has_control_characters(filename):
        filename = ""
    uploaded = await state.customers.UploadAttachment(
        vpb.UploadAttachmentRequest(
            request_id=str(uuid.uuid4()),
            customer_id=order.customer_id,
            kind=vpb.ATTACHMENT_KIND_OTHER,
            filename=filename,
            content=await file.read(),
        ),
        metadata=_metadata(state, identity),
        timeout=UPLOAD_DEADLINE,
    )
    return (await render_files(state, identity, [uploaded.attachment]))[0]


@router.post(
    "/orders/{order_id}/after-sales",
    status_code=201,
    summary="Request an after-sale 申请售后",
    description="On a delivered or completed order (else 409 `order_not_delivered`). Each line's quantity is at most "
    "what was delivered less what requested and approved after-sales of the line already ask for (400 naming "
    "`lines[i].quantity`); the refund at most the lines' value (400 `refund_amount`).",
)
async def request_after_sale(order_id: str, body: AfterSaleIn, state: State, identity: Caller) -> AfterSaleOut:
    order = await _order(state, identity, order_id)
    await _check_photos(state, identity, order.customer_id, body.photo_ids)
    reply = await state.orders.RequestAfterSale(
        pb.RequestAfterSaleRequest(
            order_id=order.id,
            type=TYPES.to_proto(body.type),  # type: ignore[arg-type]
            lines=[pb.AfterSaleLineInput(line_no=line.line_no, quantity=str(line.quantity)) for line in body.lines],
            reason=body.reason,
            refund_amount="" if body.refund_amount is None else str(body.refund_amount),
            photo_ids=body.photo_ids,
            reissue_invoice=body.reissue_invoice,
            request_id=body.request_id or str(uuid.uuid4()),
        ),
        metadata=_metadata(state, identity),
    )
    return (await after_sales_out(state, identity, [reply.after_sale]))[0]


def _timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return stamp


@router.get("/after-sales", summary="After-sales 售后列表", description="After-sales of the orders you may see.")
async def list_after_sales(
    state: State,
    identity: Caller,
    order_id: Annotated[str, Query(max_length=36)] = "",
    customer_id: Annotated[str, Query(max_length=36)] = "",
    status: Annotated[AfterSaleState | None, Query(description="Only after-sales in this state")] = None,
    type: Annotated[AfterSaleType | None, Query(description="Only after-sales of this type")] = None,
    requested_from: Annotated[dt.datetime | None, Query(description="Requested at or after (ISO 8601)")] = None,
    requested_to: Annotated[dt.datetime | None, Query(description="Requested before (ISO 8601)")] = None,
    awaiting_my_decision: Annotated[
        bool, Query(description="Requested after-sales you may decide (supervisors, bosses, admins)")
    ] = False,
    page_size: Annotated[int, Query(ge=0, le=200)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> AfterSalePage:
    request = pb.ListAfterSalesRequest(
        order_id=order_id,
        customer_id=customer_id,
        state=STATES.to_proto(status or ""),  # type: ignore[arg-type]
        type=TYPES.to_proto(type or ""),  # type: ignore[arg-type]
        awaiting_my_decision=awaiting_my_decision,
        page_size=page_size,
        page_token=page_token,
    )
    if requested_from is not None:
        request.from_time.CopyFrom(_timestamp(requested_from))
    if requested_to is not None:
        request.to_time.CopyFrom(_timestamp(requested_to))
    found = await state.orders.ListAfterSales(request, metadata=_metadata(state, identity))
    items = await after_sales_out(state, identity, list(found.after_sales))
    return AfterSalePage(items=items, next_page_token=found.next_page_token or None)


async def _after_sale(state: GatewayState, identity: Identity, after_sale_id: str) -> pb.AfterSale:
    found = await state.orders.GetAfterSale(
        pb.GetAfterSaleRequest(id=path_id(after_sale_id, "after_sale_id")), metadata=_metadata(state, identity)
    )
    return found.after_sale


@router.get("/after-sales/{after_sale_id}", summary="An after-sale 售后详情")
async def get_after_sale(after_sale_id: str, state: State, identity: Caller) -> AfterSaleOut:
    return (await after_sales_out(state, identity, [await _after_sale(state, identity, after_sale_id)]))[0]


@router.post(
    "/after-sales/{after_sale_id}/decision",
    summary="Approve or reject an after-sale 审批售后",
    description="Supervisors of the customer's unit, bosses and admins; never the requester (403). Approving an "
    "exchange or reissue creates its shipment order (`shipment_order_id`, ready to ship at price 0); an approved "
    "refund's amount goes to the credit service on the `after_sale_decided` event.",
)
async def decide_after_sale(
    after_sale_id: str, body: AfterSaleDecisionIn, state: State, identity: Caller
) -> AfterSaleOut:
    reply = await state.orders.DecideAfterSale(
        pb.DecideAfterSaleRequest(
            id=path_id(after_sale_id, "after_sale_id"),
            decision=DECISIONS.to_proto(body.decision),  # type: ignore[arg-type]
            comment=body.comment,
            expected_version=body.expected_version or 0,
        ),
        metadata=_metadata(state, identity),
    )
    return (await after_sales_out(state, identity, [reply.after_sale]))[0]


@router.get(
    "/after-sales/{after_sale_id}/photos/{photo_id}/{variant}",
    summary="Download an after-sale's photo 下载售后照片",
    description="`content` is the file as uploaded, `thumbnail` a JPEG. 404 unless the photo is one of the "
    "after-sale's and you may see the after-sale.",
    response_class=StreamingResponse,
    responses=FILE_RESPONSES,
)
async def download_photo(
    after_sale_id: str, photo_id: str, variant: Literal["content", "thumbnail"], state: State, identity: Caller
) -> StreamingResponse:
    after_sale = await _after_sale(state, identity, after_sale_id)
    if path_id(photo_id, "photo_id") not in after_sale.photo_ids:
        raise NotFound("photo", photo_id)
    found = await state.customers.GetAttachment(
        vpb.GetAttachmentRequest(id=photo_id), metadata=_metadata(state, identity)
    )
    return await _stream(state, found.attachment, variant, "private, no-cache")
