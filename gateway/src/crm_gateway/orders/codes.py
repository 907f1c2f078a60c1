"""The order service's refusals that are conflicts with the order's state or its customer's facts:
FAILED_PRECONDITION upstream, answered as HTTP 409 (the taxonomy's kind says 412)."""

from __future__ import annotations

ORDER_STATUS_BY_CODE: dict[str, int] = {
    "illegal_transition": 409,
    "credit_unavailable": 409,
    "requirement_conflict": 409,
    "delivery_date_closed": 409,
    "licence_expired": 409,
    "customer_archived": 409,
    "illegal_quote_state": 409,
    # After-sales (crm_order.after_sales).
    "illegal_after_sale_state": 409,
    "order_not_delivered": 409,
    # Batch recall (crm_order.batches): a batch is recalled once.
    "already_recalled": 409,
}
