"""Batch lines and recalls as the contract describes them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from crm.order.v1 import batches_pb2 as pb
from crm_order.batches.recall_models import BatchRecall, RecallCustomer
from crm_order.money import quantity_text
from crmkit.clock import as_utc
from crmkit.events import timestamp_of

if TYPE_CHECKING:
    # Types only: the service imports the events, which import these views.
    from crm_order.batches.service import CustomerReceipt, ReceivedLine


def line_message(received: ReceivedLine) -> pb.BatchLine:
    line = received.line
    return pb.BatchLine(
        order_id=line.order_id,
        line_no=line.line_no,
        customer_id=line.customer_id,
        customer_name=line.customer_name,
        product_id=line.product_id,
        sku=line.sku,
        product_name=line.product_name,
        unit=line.unit,
        quantity=quantity_text(line.quantity_milli),
        delivery_date=line.delivery_date.isoformat(),
        dispatch_time=timestamp_of(as_utc(line.dispatched_at)),
    )


def _quantities(quantities: Sequence[dict[str, object]]) -> list[pb.BatchQuantity]:
    return [
        pb.BatchQuantity(
            product_id=str(q["product_id"]),
            sku=str(q["sku"]),
            product_name=str(q["product_name"]),
            unit=str(q["unit"]),
            quantity=quantity_text(int(q["quantity_milli"])),  # type: ignore[call-overload]
        )
        for q in quantities
    ]


def receipt_message(receipt: CustomerReceipt) -> pb.BatchCustomer:
    message = pb.BatchCustomer(
        customer_id=receipt.customer_id,
        customer_name=receipt.customer_name,
        owner_id=receipt.owner_id,
        org_unit_id=receipt.org_unit_id,
        quantities=_quantities(list(receipt.quantities.values())),
        last_delivery_date=receipt.last_delivery_date.isoformat() if receipt.last_delivery_date else "",
        order_count=len(receipt.orders),
    )
    if receipt.last_dispatched_at is not None:
        message.last_dispatch_time.CopyFrom(timestamp_of(receipt.last_dispatched_at))
    return message


def recall_customer_message(customer: RecallCustomer) -> pb.BatchCustomer:
    return pb.BatchCustomer(
        customer_id=customer.customer_id,
        customer_name=customer.customer_name,
        owner_id=customer.owner_id,
        org_unit_id=customer.org_unit_id,
        quantities=_quantities(customer.quantities),
        last_delivery_date=customer.last_delivery_date,
        last_dispatch_time=timestamp_of(as_utc(customer.last_dispatched_at)),
        order_count=customer.order_count,
    )


def recall_message(recall: BatchRecall, visible: Collection[str] | None = None) -> pb.Recall:
    """The recall; with `visible`, only those of its customers (the reader's), else all (the event)."""
    return pb.Recall(
        id=recall.id,
        tenant_id=recall.tenant_id,
        batch_no=recall.batch_no,
        reason=recall.reason,
        raised_by=recall.raised_by,
        raise_time=timestamp_of(as_utc(recall.raised_at)),
        customers=[recall_customer_message(c) for c in recall.customers if visible is None or c.customer_id in visible],
        customer_count=recall.customer_count,
    )
