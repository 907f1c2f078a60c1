"""/api/v1/quotes: quotes (报价单) of the customers the caller may see, their approval and their
conversion into orders, forwarded to the order service; the PDF streamed with a Chinese name."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from crm.order.v1 import order_pb2 as opb
from crm.order.v1 import quotes_pb2 as pb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.directory.models import Tenant
from crm_gateway.imports.router import attachment
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.orders.router import MODES, OrderOut, PaymentMode, Price, Quantity, order_out
from crm_gateway.orders.views import sees
from crm_gateway.web import Caller, DbSession, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["quotes"])

QuoteState = Literal["draft", "pending_approval", "approved", "rejected", "converted", "expired"]
Decision = Literal["approve", "reject"]
STATES = ProtoEnum(pb.QuoteState)
DECISIONS = ProtoEnum(pb.QuoteDecision)
PDF_TYPE = "application/pdf"


class QuoteLineIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    product_id: str = Field(min_length=1, max_length=36)
    quantity: Quantity
    quoted_price: Price | None = Field(None, description="Omit for the product's list price")


class QuoteIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    customer_id: str = Field(min_length=1, max_length=36)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)
    valid_until: dt.date = Field(description="Asia/Shanghai; the last day the quote holds, today or later")
    notes: str = Field("", max_length=500)
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first quote")


class QuotePatch(ApiModel):
    """Only the fields present change; drafts and rejected quotes (which go back to draft)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lines: list[QuoteLineIn] | None = Field(None, min_length=1, max_length=200)
    valid_until: dt.date | None = None
    notes: str | None = Field(None, max_length=500)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed")


class SubmitIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class QuoteDecisionIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Decision
    comment: str = Field("", max_length=200, description="Required to reject")
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class ConvertIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    payment_mode: PaymentMode = Field(description="cod 货到付款 | credit 欠款交货 (needs the credit service)")
    delivery_date: dt.date = Field(description="Asia/Shanghai; today or later")
    delivery_address: str = Field("", max_length=300)
    notes: str = Field("", max_length=500)
    urgent: bool = False
    override_reason: str = Field("", max_length=200)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class QuoteLineOut(BaseModel):
    line_no: int
    product_id: str
    sku: str
    product_name: str
    specification: str
    unit: str
    quantity: Decimal
    list_price: Decimal
    quoted_price: Decimal
    amount: Decimal
    discount_rate: Decimal | None = Field(description="Quoted over list price, percent (88.50)")
    unit_cost: Decimal | None = Field(description="Hidden (null) for sales")


class ApprovalOut(BaseModel):
    decision: Decision
    decided_by: str = Field(description="Empty when approved at once on submit")
    comment: str
    decided_at: dt.datetime | None


class QuoteOut(BaseModel):
    id: str
    number: str = Field(description="BJ-YYYYMMDD-NNNN")
    customer_id: str
    customer_name: str
    owner_id: str
    org_unit_id: str
    status: QuoteState
    lines: list[QuoteLineOut]
    list_total: Decimal
    total_amount: Decimal
    discount_rate: Decimal | None = Field(description="Overall, percent")
    lowest_line_rate: Decimal | None
    approval_threshold: Decimal = Field(description="Percent; below it a supervisor approves")
    needs_approval: bool
    margin: Decimal | None = Field(description="Total less cost; hidden (null) for sales")
    valid_until: dt.date
    notes: str
    approval: ApprovalOut | None
    submitted_by: str
    submitted_at: dt.datetime | None
    order_id: str | None
    version: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class QuotePage(BaseModel):
    items: list[QuoteOut] = Field(description="Newest first")
    next_page_token: str | None


class QuoteConverted(BaseModel):
    quote: QuoteOut
    order: OrderOut


def _rate(value: str) -> Decimal | None:
    return Decimal(value) if value else None


def quote_out(identity: Identity, quote: pb.Quote) -> QuoteOut:
    show_cost = sees(identity, "quote.lines.unit_cost")
    cost = sum((Decimal(line.unit_cost) * Decimal(line.quantity) for line in quote.lines), Decimal(0))
    approval = None
    if quote.HasField("approval"):
        approval = ApprovalOut(
            decision=cast(Decision, DECISIONS.from_proto(quote.approval.decision)),
            decided_by=quote.approval.decided_by,
            comment=quote.approval.comment,
            decided_at=shanghai(quote.approval.decided_time) if quote.approval.HasField("decided_time") else None,
        )
    return QuoteOut(
        id=quote.id,
        number=quote.number,
        customer_id=quote.customer_id,
        customer_name=quote.customer_name,
        owner_id=quote.owner_id,
        org_unit_id=quote.org_unit_id,
        status=cast(QuoteState, STATES.from_proto(quote.state)),
        lines=[
            QuoteLineOut(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                specification=line.specification,
                unit=line.unit,
                quantity=Decimal(line.quantity),
                list_price=Decimal(line.list_price),
                quoted_price=Decimal(line.quoted_price),
                amount=Decimal(line.amount),
                discount_rate=_rate(line.discount_rate),
                unit_cost=Decimal(line.unit_cost) if show_cost else None,
            )
            for line in quote.lines
        ],
        list_total=Decimal(quote.list_total),
        total_amount=Decimal(quote.total_amount),
        discount_rate=_rate(quote.discount_rate),
        lowest_line_rate=_rate(quote.lowest_line_rate),
        approval_threshold=Decimal(quote.approval_threshold),
        needs_approval=quote.needs_approval,
        margin=(Decimal(quote.total_amount) - cost).quantize(Decimal("0.01"))
        if sees(identity, "quote.margin")
        else None,
        valid_until=dt.date.fromisoformat(quote.valid_until),
        notes=quote.notes,
        approval=approval,
        submitted_by=quote.submitted_by,
        submitted_at=shanghai(quote.submit_time) if quote.HasField("submit_time") else None,
        order_id=quote.order_id or None,
        version=quote.version,
        created_by=quote.created_by,
        created_at=shanghai(quote.create_time),
        updated_at=shanghai(quote.update_time),
    )


def _lines(lines: list[QuoteLineIn]) -> list[pb.QuoteLineInput]:
    return [
        pb.QuoteLineInput(
            product_id=line.product_id,
            quantity=str(line.quantity),
            quoted_price="" if line.quoted_price is None else str(line.quoted_price),
        )
        for line in lines
    ]


@router.get("/quotes", summary="Quotes 报价单", description="Quotes of the customers you may see.")
async def list_quotes(
    state: State,
    identity: Caller,
    customer_id: Annotated[str, Query(max_length=36)] = "",
    status: Annotated[QuoteState | None, Query(description="Only quotes in this state")] = None,
    awaiting_my_decision: Annotated[
        bool, Query(description="Pending quotes you may approve (supervisors, bosses, admins)")
    ] = False,
    page_size: Annotated[int, Query(ge=0, le=200)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> QuotePage:
    found = await state.orders.ListQuotes(
        pb.ListQuotesRequest(
            customer_id=customer_id,
            state=STATES.to_proto(status or ""),  # type: ignore[arg-type]
            awaiting_my_decision=awaiting_my_decision,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return QuotePage(
        items=[quote_out(identity, q) for q in found.quotes], next_page_token=found.next_page_token or None
    )


@router.post("/quotes", status_code=201, summary="Draft a quote 新建报价单")
async def create_quote(body: QuoteIn, state: State, identity: Caller) -> QuoteOut:
    created = await state.orders.CreateQuote(
        pb.CreateQuoteRequest(
            customer_id=body.customer_id,
            lines=_lines(body.lines),
            valid_until=body.valid_until.isoformat(),
            notes=body.notes,
            request_id=body.request_id or str(uuid.uuid4()),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return quote_out(identity, created.quote)


@router.get("/quotes/{quote_id}", summary="A quote 报价单详情")
async def get_quote(quote_id: str, state: State, identity: Caller) -> QuoteOut:
    found = await state.orders.GetQuote(
        pb.GetQuoteRequest(id=path_id(quote_id, "quote_id")), metadata=state.identity_metadata.for_caller(identity)
    )
    return quote_out(identity, found.quote)


@router.patch("/quotes/{quote_id}", summary="Change a quote 修改报价单")
async def update_quote(quote_id: str, body: QuotePatch, state: State, identity: Caller) -> QuoteOut:
    present = body.model_dump(exclude_unset=True)
    fields = sorted(set(present) - {"expected_version"})
    if not fields:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for name in fields:
        if present[name] is None:
            raise InvalidArgument(name, "cannot be null / 不能为空")
    reply = await state.orders.UpdateQuote(
        pb.UpdateQuoteRequest(
            id=path_id(quote_id, "quote_id"),
            expected_version=body.expected_version or 0,
            update_fields=fields,
            lines=_lines(body.lines or []),
            valid_until=body.valid_until.isoformat() if body.valid_until else "",
            notes=body.notes or "",
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return quote_out(identity, reply.quote)


@router.post(
    "/quotes/{quote_id}/submit",
    summary="Submit a quote 提交报价单",
    description="Approved at once when no line and not the overall rate is below the threshold; otherwise it waits "
    "for a supervisor (status pending_approval).",
)
async def submit_quote(quote_id: str, body: SubmitIn, state: State, identity: Caller) -> QuoteOut:
    reply = await state.orders.SubmitQuote(
        pb.SubmitQuoteRequest(id=path_id(quote_id, "quote_id"), expected_version=body.expected_version or 0),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return quote_out(identity, reply.quote)


@router.post(
    "/quotes/{quote_id}/decision",
    summary="Approve or reject a quote 审批报价单",
    description="Supervisors of the customer's unit, bosses and admins; never the submitter (403).",
)
async def decide_quote(quote_id: str, body: QuoteDecisionIn, state: State, identity: Caller) -> QuoteOut:
    reply = await state.orders.DecideQuote(
        pb.DecideQuoteRequest(
            id=path_id(quote_id, "quote_id"),
            decision=DECISIONS.to_proto(body.decision),  # type: ignore[arg-type]
            comment=body.comment,
            expected_version=body.expected_version or 0,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return quote_out(identity, reply.quote)


@router.post(
    "/quotes/{quote_id}/convert",
    summary="Turn a quote into an order 报价转订单",
    description="An approved quote still valid becomes a draft order with the quoted prices; otherwise 409 "
    "`illegal_quote_state` naming `current_state`.",
)
async def convert_quote(quote_id: str, body: ConvertIn, state: State, identity: Caller) -> QuoteConverted:
    reply = await state.orders.ConvertQuoteToOrder(
        opb.ConvertQuoteToOrderRequest(
            id=path_id(quote_id, "quote_id"),
            payment_mode=MODES.to_proto(body.payment_mode),  # type: ignore[arg-type]
            delivery_date=body.delivery_date.isoformat(),
            delivery_address=body.delivery_address,
            notes=body.notes,
            urgent=body.urgent,
            override_reason=body.override_reason,
            expected_version=body.expected_version or 0,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return QuoteConverted(quote=quote_out(identity, reply.quote), order=order_out(identity, reply.order))


@router.get(
    "/quotes/{quote_id}/pdf",
    summary="The quote as a PDF 下载报价单",
    response_class=Response,
    responses={200: {"content": {PDF_TYPE: {}}, "description": "报价单-<number>.pdf"}},
)
async def quote_pdf(quote_id: str, state: State, identity: Caller, session: DbSession) -> Response:
    # The letterhead is the tenant's name as the gateway's directory keeps it.
    company = await session.scalar(select(Tenant.name).where(Tenant.id == identity.tenant_id))
    reply = await state.orders.RenderQuotePdf(
        pb.RenderQuotePdfRequest(
            id=path_id(quote_id, "quote_id"),
            company_name=company or "",
            salesperson=identity.display_name[:50],
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return Response(content=reply.pdf, media_type=PDF_TYPE, headers=attachment(reply.filename))
