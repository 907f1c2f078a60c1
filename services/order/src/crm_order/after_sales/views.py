"""After-sales as the contract describes them."""

from __future__ import annotations

from crm.order.v1 import after_sales_pb2 as pb
from crm_order.after_sales.models import AfterSale
from crm_order.after_sales.validation import AFTER_SALE_DECISIONS, AFTER_SALE_STATES, AFTER_SALE_TYPES
from crm_order.money import quantity_text, yuan
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


def lines_fen(after_sale: AfterSale) -> int:
    return sum(line.amount_fen for line in after_sale.lines)


def after_sale_message(after_sale: AfterSale) -> pb.AfterSale:
    message = pb.AfterSale(
        id=after_sale.id,
        tenant_id=after_sale.tenant_id,
        number=after_sale.number,
        order_id=after_sale.order_id,
        customer_id=after_sale.customer_id,
        customer_name=after_sale.customer_name,
        owner_id=after_sale.owner_id,
        org_unit_id=after_sale.org_unit_id,
        type=AFTER_SALE_TYPES.to_proto(after_sale.type),  # type: ignore[arg-type]
        state=AFTER_SALE_STATES.to_proto(after_sale.state),  # type: ignore[arg-type]
        lines=[
            pb.AfterSaleLine(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                unit=line.unit,
                quantity=quantity_text(line.quantity_milli),
                unit_price=yuan(line.unit_price_fen),
                amount=yuan(line.amount_fen),
                unit_cost=yuan(line.unit_cost_fen),
            )
            for line in after_sale.lines
        ],
        reason=after_sale.reason,
        lines_amount=yuan(lines_fen(after_sale)),
        refund_amount=yuan(after_sale.refund_fen),
        photo_ids=after_sale.photo_ids,
        reissue_invoice=after_sale.reissue_invoice,
        requested_by=after_sale.requested_by,
        shipment_order_id=after_sale.shipment_order_id,
        version=after_sale.version,
        create_time=timestamp_of(as_utc(after_sale.created_at)),
        update_time=timestamp_of(as_utc(after_sale.updated_at)),
    )
    if after_sale.decision:
        message.approval.CopyFrom(
            pb.AfterSaleApproval(
                decision=AFTER_SALE_DECISIONS.to_proto(after_sale.decision),  # type: ignore[arg-type]
                decided_by=after_sale.decided_by,
                comment=after_sale.decision_comment,
            )
        )
        if after_sale.decided_at is not None:
            message.approval.decided_time.CopyFrom(timestamp_of(as_utc(after_sale.decided_at)))
    return message
