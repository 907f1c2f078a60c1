"""Deliveries as the contract describes them."""

from __future__ import annotations

from collections.abc import Sequence

from crm.order.v1 import delivery_pb2 as dpb
from crm_order.batches.models import OrderLineBatch
from crm_order.deliveries.models import DeliveryPhoto, OrderDelivery
from crm_order.deliveries.validation import EXCEPTION_KINDS
from crm_order.money import quantity_text
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


def dispatch_message(delivery: OrderDelivery, batches: Sequence[OrderLineBatch]) -> dpb.DispatchDetails:
    return dpb.DispatchDetails(
        vehicle=delivery.vehicle,
        driver_name=delivery.driver_name,
        driver_phone=delivery.driver_phone,
        planned_time=timestamp_of(as_utc(delivery.planned_at)),
        batches=[
            dpb.LineBatch(line_no=b.line_no, batch_no=b.batch_no, quantity=quantity_text(b.quantity_milli))
            for b in batches
        ],
        dispatched_by=delivery.dispatched_by,
        dispatch_time=timestamp_of(as_utc(delivery.dispatched_at)),
    )


def confirmation_message(delivery: OrderDelivery) -> dpb.DeliveryConfirmation:
    message = dpb.DeliveryConfirmation(
        signed_by=delivery.signed_by,
        photo_id=delivery.photo_id,
        exception=EXCEPTION_KINDS.to_proto(delivery.exception),  # type: ignore[arg-type]
        exception_reason=delivery.exception_reason,
        exception_lines=[
            dpb.DeliveryExceptionLine(
                line_no=line["line_no"], quantity=quantity_text(line["quantity_milli"]), note=line["note"]
            )
            for line in delivery.exception_lines
        ],
        confirmed_by=delivery.confirmed_by,
    )
    if delivery.signed_at is not None:
        message.signed_time.CopyFrom(timestamp_of(as_utc(delivery.signed_at)))
    if delivery.confirmed_at is not None:
        message.confirm_time.CopyFrom(timestamp_of(as_utc(delivery.confirmed_at)))
    return message


def photo_message(photo: DeliveryPhoto) -> dpb.DeliveryPhoto:
    return dpb.DeliveryPhoto(
        id=photo.id,
        order_id=photo.order_id,
        content_type=photo.content_type,
        size=photo.size,
        filename=photo.filename,
        width=photo.width,
        height=photo.height,
        uploaded_by=photo.uploaded_by,
        create_time=timestamp_of(as_utc(photo.created_at)),
        storage_key=photo.storage_key,
    )


def delivery_message(
    order_id: str,
    delivery: OrderDelivery | None,
    batches: Sequence[OrderLineBatch],
    photos: Sequence[DeliveryPhoto],
) -> dpb.OrderDelivery:
    message = dpb.OrderDelivery(order_id=order_id, photos=[photo_message(p) for p in photos])
    if delivery is not None:
        message.dispatch.CopyFrom(dispatch_message(delivery, batches))
        if delivery.confirmed_at is not None:
            message.confirmation.CopyFrom(confirmation_message(delivery))
    return message
