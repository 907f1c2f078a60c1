"""Batch numbers written at dispatch (`record_batches`); lookups and recalls read them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.batches.models import OrderLineBatch
from crm_order.orders.models import Order


async def record_batches(
    session: AsyncSession,
    *,
    order: Order,
    batches: Mapping[int, Sequence[tuple[str, int]]],
    now: dt.datetime,
) -> list[OrderLineBatch]:
    """Write the batches of a dispatched order: line number → [(batch number, quantity in
    thousandths)]. The caller has validated them against the order's lines."""
    lines = {line.line_no: line for line in order.lines}
    rows = [
        OrderLineBatch(
            order_id=order.id,
            line_no=line_no,
            batch_no=batch_no,
            tenant_id=order.tenant_id,
            customer_id=order.customer_id,
            customer_name=order.customer_name,
            product_id=lines[line_no].product_id,
            sku=lines[line_no].sku,
            product_name=lines[line_no].product_name,
            unit=lines[line_no].unit,
            quantity_milli=quantity,
            delivery_date=order.delivery_date,
            dispatched_at=now,
        )
        for line_no, given in sorted(batches.items())
        for batch_no, quantity in given
    ]
    session.add_all(rows)
    await session.flush()
    return rows
