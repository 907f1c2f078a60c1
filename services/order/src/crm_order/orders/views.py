"""Orders and revisions as the contract describes them."""

from __future__ import annotations

from crm.order.v1 import order_pb2 as pb
from crm_order.money import quantity_text, rate_text, yuan
from crm_order.orders.models import Order, OrderRevision
from crm_order.orders.validation import ORDER_STATES, PAYMENT_MODES
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


def order_message(order: Order) -> pb.Order:
    message = pb.Order(
        id=order.id,
        tenant_id=order.tenant_id,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        owner_id=order.owner_id,
        org_unit_id=order.org_unit_id,
        payment_mode=PAYMENT_MODES.to_proto(order.payment_mode),  # type: ignore[arg-type]
        state=ORDER_STATES.to_proto(order.state),  # type: ignore[arg-type]
        lines=[
            pb.OrderLine(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                unit=line.unit,
                quantity=quantity_text(line.quantity_milli),
                unit_price=yuan(line.unit_price_fen),
                amount=yuan(line.amount_fen),
                tax_rate=rate_text(line.tax_rate),
                unit_cost=yuan(line.unit_cost_fen),
            )
            for line in order.lines
        ],
        total_amount=yuan(order.total_fen),
        delivery_date=order.delivery_date.isoformat(),
        delivery_address=order.delivery_address,
        notes=order.notes,
        urgent=order.urgent,
        warnings=[pb.OrderWarning(code=w["code"], message=w["message"]) for w in order.warnings],
        overrides=[
            pb.RequirementOverride(
                line_no=o["line_no"],
                sku=o["sku"],
                requirement=o["requirement"],
                overridden_by=o["overridden_by"],
                reason=o["reason"],
            )
            for o in order.overrides
        ],
        version=order.version,
        created_by=order.created_by,
        create_time=timestamp_of(as_utc(order.created_at)),
        update_time=timestamp_of(as_utc(order.updated_at)),
        cancel_reason=order.cancel_reason,
    )
    if order.paid_at is not None:
        message.paid_time.CopyFrom(timestamp_of(as_utc(order.paid_at)))
    return message


def revision_message(revision: OrderRevision) -> pb.OrderRevision:
    return pb.OrderRevision(
        id=revision.id,
        order_id=revision.order_id,
        version=revision.version,
        actor_id=revision.actor_id,
        reason=revision.reason,
        diff_json=revision.diff_json,
        create_time=timestamp_of(as_utc(revision.created_at)),
    )
