"/api/v1/orders: orders (订货单) of the customers the caller may see, forwarded to the order service."

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.order.v1 import order_pb2 as pb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.orders.views import sees
from crm_gateway.web import Caller, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["orders"])

PaymentMode = Literal["cod", "credit"]
OrderState = Literal[
    "draft", "confirmed", "awaiting_payment", "ready_to_ship", "dispatched", "delivered", "completed", "cancelled"
]
OrderAction = Literal["confirm", "release", "record_payment", "dispatch", "deliver", "complete", "cancel"]
MODES = ProtoEnum(pb.PaymentMode)
STATES = ProtoEnum(pb.OrderState)
ACTIONS = ProtoEnum(pb.OrderAction)
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, description="More than 0, 3 decimals")]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="CNY, two decimals")]
Reason = Annotated[str, Field(max_length=200)]


class LineIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    product_id: str = Field(min_length=1, max_length=36)
    quantity: Quantity
    unit_price: Price | None = Field(None, description="Omit for the product's list price")


class OrderIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    customer_id: str = Field(min_length=1, max_length=36)
    payment_mode: PaymentMode = Field(description="cod 货到付款 | credit 欠款交货 (needs the credit service)")
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    delivery_date: dt.date = Field(description="Asia/Shanghai; today or later")
    delivery_address: str = Field("", max_length=300)
    notes: str = Field("", max_length=500)
    urgent: bool = False
    override_reason: Reason = Field(
        "", description="A supervisor lets lines conflicting with the customer's requirements through"
    )
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first order")


class OrderPatch(ApiModel):
    """Only the fields present change. After confirmation every change is a revision: `reason` is required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=200)
    delivery_date: dt.date | None = None
    delivery_address: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=500)
    urgent: bool | None = None
    reason: Reason = ""
    override_reason: Reason = ""
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed")


class TransitionIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)
    reason: Reason = Field("", description="Required to cancel")


class LineOut(BaseModel):
    line_no: int
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal
    unit_cost: Decimal | None = Field(description="Hidden (null) for sales")


class WarningOut(BaseModel):
    code: str = Field(description="outside_delivery_window, licence_expired, requirement_overridden")
    message: str


class OverrideOut(BaseModel):
    line_no: int
    sku: str
    requirement: str
    overridden_by: str
    reason: str


class OrderOut(BaseModel):
    id: str
    customer_id: str
    customer_name: str
    owner_id: str
    org_unit_id: str
    payment_mode: PaymentMode
    state: OrderState
    lines: list[LineOut]
    total_amount: Decimal
    margin: Decimal | None = Field(description="Total less cost; hidden (null) for sales")
    delivery_date: dt.date
    delivery_address: str
    notes: str
    urgent: bool
    warnings: list[WarningOut]
    overrides: list[OverrideOut]
    version: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    paid_at: dt.datetime | None
    cancel_reason: str


class RevisionOut(BaseModel):
    id: str
    version: int
    actor_id: str
    reason: str
    diff: dict[str, Any] = Field(description='{"field": {"before": …, "after": …}}')
    created_at: dt.datetime


class OrderDetail(BaseModel):
    order: OrderOut
    revisions: list[RevisionOut] = Field(description="订单变更记录, oldest first")


class OrderChanged(BaseModel):
    order: OrderOut
    revision: RevisionOut | None = Field(description="The revision the change made (null for a draft)")


class OrderPage(BaseModel):
    items: list[OrderOut] = Field(description="Urgent first, then newest first")
    next_page_token: str | None


def order_out(identity: Identity, order: pb.Order) -> OrderOut:
    show_cost = sees(identity, "order.lines.unit_cost")
    cost = sum((Decimal(line.unit_cost) * Decimal(line.quantity) for line in order.lines), Decimal(0))
    return OrderOut(
        id=order.id,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        owner_id=order.owner_id,
        org_unit_id=order.org_unit_id,
        payment_mode=cast(PaymentMode, MODES.from_proto(order.payment_mode)),
        state=cast(OrderState, STATES.from_proto(order.state)),
        lines=[
            LineOut(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                unit=line.unit,
                quantity=Decimal(line.quantity),
                unit_price=Decimal(line.unit_price),
                amount=Decimal(line.amount),
                tax_rate=Decimal(line.tax_rate),
                unit_cost=Decimal(line.unit_cost) if show_cost else None,
            )
            for line in order.lines
        ],
        total_amount=Decimal(order.total_amount),
        margin=(Decimal(order.total_amount) - cost).quantize(Decimal("0.01"))
        if sees(identity, "order.margin")
        else None,
        delivery_date=dt.date.fromisoformat(order.delivery_date),
        delivery_address=order.delivery_address,
        notes=order.notes,
        urgent=order.urgent,
        warnings=[WarningOut(code=w.code, message=w.message) for w in order.warnings],
        overrides=[
            OverrideOut(
                line_no=o.line_no, sku=o.sku, requirement=o.requirement, overridden_by=o.overridden_by, reason=o.reason
            )
            for o in order.overrides
        ],
        version=order.version,
        created_by=order.created_by,
        created_at=shanghai(order.create_time),
        updated_at=shanghai(order.update_time),
        paid_at=shanghai(order.paid_time) if order.HasField("paid_time") else None,
        cancel_reason=order.cancel_reason,
    )


def revision_out(revision: pb.OrderRevision) -> RevisionOut:
    return RevisionOut(
        id=revision.id,
        version=revision.version,
        actor_id=revision.actor_id,
        reason=revision.reason,
        diff=json.loads(revision.diff_json or "{}"),
        created_at=shanghai(revision.create_time),
    )


def _lines(lines: list[LineIn]) -> list[pb.OrderLineInput]:
    return [
        pb.OrderLineInput(
            product_id=line.product_id,
            quantity=str(line.quantity),
            unit_price="" if line.unit_price is None else str(line.unit_price),
        )
        for line in lines
    ]


@router.get("/orders", summary="Orders 订单", description="Orders of the customers you may see.")
async def list_orders(
    state: State,
    identity: Caller,
    customer_id: Annotated[str, Query(max_length=36)] = "",
    status: Annotated[OrderState | None, Query(description="Only orders in this state")] = None,
    page_size: Annotated[int, Query(ge=0, le=200)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> OrderPage:
    found = await state.orders.ListOrders(
        pb.ListOrdersRequest(
            customer_id=customer_id,
            state=STATES.to_proto(status or ""),  # type: ignore[arg-type]
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return OrderPage(
        items=[order_out(identity, o) for o in found.orders], next_page_token=found.next_page_token or None
    )


@router.post(
    "/orders",
    status_code=201,
    summary="Place an order 下单",
    description="Checked against the customer's requirements (409 `requirement_conflict` unless a supervisor "
    "overrides with `override_reason`), closures (409 `delivery_date_closed`) and licences; warnings are returned "
    "on the order.",
)
async def create_order(body: OrderIn, state: State, identity: Caller) -> OrderOut:
    created = await state.orders.CreateOrder(
        pb.CreateOrderRequest(
            customer_id=body.customer_id,
            payment_mode=MODES.to_proto(body.payment_mode),  # type: ignore[arg-type]
            lines=_lines(body.lines),
            delivery_date=body.delivery_date.isoformat(),
            delivery_address=body.delivery_address,
            notes=body.notes,
            urgent=body.urgent,
            override_reason=body.override_reason,
            request_id=body.request_id or str(uuid.uuid4()),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return order_out(identity, created.order)


@router.get("/orders/{order_id}", summary="An order and its revisions 订单详情与变更记录")
async def get_order(order_id: str, state: State, identity: Caller) -> OrderDetail:
    found = await state.orders.GetOrder(
        pb.GetOrderRequest(id=path_id(order_id, "order_id")), metadata=state.identity_metadata.for_caller(identity)
    )
    return OrderDetail(order=order_out(identity, found.order), revisions=[revision_out(r) for r in found.revisions])


@router.patch("/orders/{order_id}", summary="Change an order 修改订单")
async def update_order(order_id: str, body: OrderPatch, state: State, identity: Caller) -> OrderChanged:
    present = body.model_dump(exclude_unset=True)
    fields = sorted(set(present) - {"reason", "override_reason", "expected_version"})
    if not fields:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for name in fields:
        if present[name] is None:
            raise InvalidArgument(name, "cannot be null / 不能为空")
    reply = await state.orders.UpdateOrder(
        pb.UpdateOrderRequest(
            id=path_id(order_id, "order_id"),
            expected_version=body.expected_version or 0,
            update_fields=fields,
            lines=_lines(body.lines or []),
            delivery_date=body.delivery_date.isoformat() if body.delivery_date else "",
            delivery_address=body.delivery_address or "",
            notes=body.notes or "",
            urgent=bool(body.urgent),
            reason=body.reason,
            override_reason=body.override_reason,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    revision = revision_out(reply.revision) if reply.HasField("revision") else None
    return OrderChanged(order=order_out(identity, reply.order), revision=revision)


@router.post(
    "/orders/{order_id}/{action}",
    summary="Move an order 订单操作",
    description="confirm, release, record_payment (finance), dispatch, deliver, complete, cancel (with a reason). "
    "A move the order's state does not allow is 409 `illegal_transition` naming `current_state`; confirming a "
    "credit order is 409 `credit_unavailable` (cash on delivery still works).",
)
async def transition_order(
    order_id: str, action: OrderAction, body: TransitionIn, state: State, identity: Caller
) -> OrderOut:
    moved = await state.orders.TransitionOrder(
        pb.TransitionOrderRequest(
            id=path_id(order_id, "order_id"),
            action=ACTIONS.to_proto(action),  # type: ignore[arg-type]
            expected_version=body.expected_version or 0,
            reason=body.reason,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return order_out(identity, moved.order)
