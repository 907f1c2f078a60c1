"""Delivery functions: dispatch with details and batches, delivery photos, the delivery
confirmation. They take the session and keyword arguments and never commit; each state change
asks `states.next_state` and publishes the same events as any move, with the details on them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.batches.models import OrderLineBatch
from crm_order.batches.service import record_batches
from crm_order.deliveries.models import DeliveryPhoto, OrderDelivery
from crm_order.deliveries.validation import ConfirmationInput, DispatchInput
from crm_order.deliveries.views import confirmation_message, dispatch_message
from crm_order.money import quantity_text
from crm_order.orders.events import OrderEvents
from crm_order.orders.models import Order
from crm_order.orders.service import check_version, visible_order
from crm_order.orders.states import ACTION_ROLES, next_state
from crmkit.clock import as_utc
from crmkit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import Identity

# A phone's clock may run behind the dispatcher's.
SIGNED_BEFORE_DISPATCH = dt.timedelta(minutes=10)


def _may(identity: Identity, action: str) -> None:
    if identity.role not in ACTION_ROLES[action]:
        raise PermissionDenied(f"role {identity.role} may not {action} orders / 当前角色无此操作权限")


def check_batches(order: Order, dispatch: DispatchInput) -> dict[int, list[tuple[str, int]]]:
    """Line number → [(batch, quantity)], each line's batches adding up to at most its quantity."""
    lines = {line.line_no: line for line in order.lines}
    by_line: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for i, batch in enumerate(dispatch.batches):
        line = lines.get(batch.line_no)
        if line is None:
            raise InvalidArgument(
                f"batches[{i}].line_no", f"the order has no line {batch.line_no} / 订单没有第{batch.line_no}行"
            )
        by_line[batch.line_no].append((batch.batch_no, batch.quantity_milli))
        total = sum(quantity for _, quantity in by_line[batch.line_no])
        if total > line.quantity_milli:
            ordered = quantity_text(line.quantity_milli)
            raise InvalidArgument(
                f"batches[{i}].quantity",
                f"the batches of line {batch.line_no} add up to more than its {ordered} {line.unit} / "
                f"第{batch.line_no}行各批次数量之和超过订货数量{ordered}{line.unit}",
            )
    return dict(by_line)


async def dispatch_order(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    order_id: str,
    expected_version: int,
    dispatch: DispatchInput,
    now: dt.datetime,
) -> tuple[Order, OrderDelivery]:
    """ready_to_ship → dispatched, with the vehicle, driver, planned time and the lines' batches."""
    _may(identity, "dispatch")
    order = await visible_order(session, identity=identity, order_id=order_id, now=now, lock=True, write=True)
    check_version(order, expected_version)
    target = next_state(order.state, "dispatch", order.payment_mode)
    batches = check_batches(order, dispatch)
    delivery = OrderDelivery(
        order_id=order.id,
        tenant_id=order.tenant_id,
        vehicle=dispatch.vehicle,
        driver_name=dispatch.driver_name,
        driver_phone=dispatch.driver_phone,
        planned_at=dispatch.planned_at,
        dispatched_by=identity.principal_id,
        dispatched_at=now,
        signed_by="",
        signed_at=None,
        photo_id="",
        exception="",
        exception_reason="",
        exception_lines=[],
        confirmed_by="",
        confirmed_at=None,
    )
    session.add(delivery)
    rows = await record_batches(session, order=order, batches=batches, now=now)
    previous = order.state
    order.state = target
    order.updated_at = now
    order.version += 1
    await session.flush()
    await events.moved(
        session,
        order,
        previous_state=previous,
        action="dispatch",
        actor_id=identity.principal_id,
        at=now,
        details={"dispatch": dispatch_message(delivery, rows)},
    )
    return order, delivery


async def _delivery_row(session: AsyncSession, order: Order) -> OrderDelivery:
    """The order's delivery; an order moved on the road by a bare TransitionOrder has none yet,
    so it gets one without dispatch details."""
    delivery = await session.get(OrderDelivery, order.id)
    if delivery is not None:
        return delivery
    delivery = OrderDelivery(
        order_id=order.id,
        tenant_id=order.tenant_id,
        vehicle="",
        driver_name="",
        driver_phone="",
        planned_at=order.updated_at,
        dispatched_by="",
        dispatched_at=order.updated_at,
        signed_by="",
        signed_at=None,
        photo_id="",
        exception="",
        exception_reason="",
        exception_lines=[],
        confirmed_by="",
        confirmed_at=None,
    )
    session.add(delivery)
    return delivery


def _check_exception_lines(order: Order, confirmation: ConfirmationInput) -> None:
    lines = {line.line_no: line for line in order.lines}
    for i, given in enumerate(confirmation.exception_lines):
        line = lines.get(given.line_no)
        if line is None:
            raise InvalidArgument(
                f"exception_lines[{i}].line_no", f"the order has no line {given.line_no} / 订单没有第{given.line_no}行"
            )
        if given.quantity_milli > line.quantity_milli:
            ordered = quantity_text(line.quantity_milli)
            raise InvalidArgument(
                f"exception_lines[{i}].quantity",
                f"more than the line's {ordered} {line.unit} / 超过该行订货数量{ordered}{line.unit}",
            )
    if confirmation.exception == "partial" and all(
        given.quantity_milli == lines[given.line_no].quantity_milli for given in confirmation.exception_lines
    ):
        raise InvalidArgument(
            "exception_lines", "a partial delivery delivers less on some line / 部分签收须至少一行少于订货数量"
        )


async def confirm_delivery(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    order_id: str,
    expected_version: int,
    confirmation: ConfirmationInput,
    now: dt.datetime,
) -> tuple[Order, OrderDelivery]:
    """dispatched → delivered, with who signed, when, the photo and any exception."""
    _may(identity, "deliver")
    order = await visible_order(session, identity=identity, order_id=order_id, now=now, lock=True, write=True)
    check_version(order, expected_version)
    target = next_state(order.state, "deliver", order.payment_mode)
    _check_exception_lines(order, confirmation)
    if confirmation.photo_id:
        photo = await session.get(DeliveryPhoto, confirmation.photo_id)
        if photo is None or photo.order_id != order.id:
            raise InvalidArgument("photo_id", "no such photo of this order / 该订单没有此照片")
    delivery = await _delivery_row(session, order)
    # SQLite hands times back without their zone; they were stored in UTC.
    if confirmation.signed_at < as_utc(delivery.dispatched_at) - SIGNED_BEFORE_DISPATCH:
        raise InvalidArgument("signed_time", "is before the order was dispatched / 签收时间早于发货时间")
    delivery.signed_by = confirmation.signed_by
    delivery.signed_at = confirmation.signed_at
    delivery.photo_id = confirmation.photo_id
    delivery.exception = confirmation.exception
    delivery.exception_reason = confirmation.exception_reason
    delivery.exception_lines = [
        {"line_no": line.line_no, "quantity_milli": line.quantity_milli, "note": line.note}
        for line in confirmation.exception_lines
    ]
    delivery.confirmed_by = identity.principal_id
    delivery.confirmed_at = now
    previous = order.state
    order.state = target
    order.updated_at = now
    order.version += 1
    await session.flush()
    await events.moved(
        session,
        order,
        previous_state=previous,
        action="deliver",
        actor_id=identity.principal_id,
        at=now,
        details={"confirmation": confirmation_message(delivery)},
    )
    return order, delivery


async def order_for_photo(session: AsyncSession, *, identity: Identity, order_id: str, now: dt.datetime) -> Order:
    """The order a photo is uploaded for: one on the road, whose delivery the caller may confirm."""
    _may(identity, "deliver")
    order = await visible_order(session, identity=identity, order_id=order_id, now=now, write=True)
    if order.state != "dispatched":
        raise FailedPrecondition(
            f"order is {order.state}; photos are taken on delivery / 订单不在配送中，不能上传签收照片",
            field="order_id",
            details={"current-state": order.state},
        )
    return order


def photo_key(tenant_id: str) -> str:
    """A random key: nobody can guess another photo's."""
    return f"delivery-photos/{tenant_id}/{uuid.uuid4()}"


async def record_photo(
    session: AsyncSession,
    *,
    identity: Identity,
    order: Order,
    storage_key: str,
    content_type: str,
    size: int,
    filename: str,
    width: int,
    height: int,
    now: dt.datetime,
) -> DeliveryPhoto:
    photo = DeliveryPhoto(
        id=str(uuid.uuid4()),
        tenant_id=order.tenant_id,
        order_id=order.id,
        storage_key=storage_key,
        content_type=content_type,
        size=size,
        filename=filename,
        width=width,
        height=height,
        uploaded_by=identity.principal_id,
        created_at=now,
    )
    session.add(photo)
    await session.flush()
    return photo


async def visible_photo(
    session: AsyncSession, *, identity: Identity, order_id: str, photo_id: str, now: dt.datetime
) -> DeliveryPhoto:
    order = await visible_order(session, identity=identity, order_id=order_id, now=now)
    photo = await session.get(DeliveryPhoto, photo_id)
    if photo is None or photo.order_id != order.id:
        raise NotFound("photo", photo_id)
    return photo


async def delivery_of(
    session: AsyncSession, order: Order
) -> tuple[OrderDelivery | None, list[OrderLineBatch], list[DeliveryPhoto]]:
    delivery = await session.get(OrderDelivery, order.id)
    batches = await session.scalars(
        select(OrderLineBatch)
        .where(OrderLineBatch.order_id == order.id)
        .order_by(OrderLineBatch.line_no, OrderLineBatch.batch_no)
    )
    photos = await session.scalars(
        select(DeliveryPhoto).where(DeliveryPhoto.order_id == order.id).order_by(DeliveryPhoto.created_at)
    )
    return delivery, list(batches), list(photos)
