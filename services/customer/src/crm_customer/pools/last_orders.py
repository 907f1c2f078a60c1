"""Each customer's last order time, kept from the order service's order_confirmed events for the
"no order in M days" pool rule. The kit's inbox skips a repeated event, and the time only ever
moves forward, so a late or replayed confirmation changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1.events_pb2 import OrderConfirmed
from crm_customer.customers.models import Customer
from crmkit.consumer import PermanentEventError
from crmkit.service import Subscription


async def on_order_confirmed(session: AsyncSession, message: OrderConfirmed, envelope: Envelope) -> None:
    """The order's business time (the event's occurred_at) becomes the customer's last order
    time when it is later. No version bump and no event: it is the pool rule's bookkeeping, as
    last_interaction_at is; an unknown customer (another tenant's id) changes nothing."""
    if not message.order.customer_id or message.order.tenant_id != envelope.tenant_id:
        raise PermanentEventError(f"event {envelope.id} carries no order of tenant {envelope.tenant_id}")
    at = envelope.occurred_at.ToDatetime(tzinfo=dt.UTC)
    await session.execute(
        update(Customer)
        .where(
            Customer.tenant_id == envelope.tenant_id,
            Customer.id == message.order.customer_id,
            or_(Customer.last_order_at.is_(None), Customer.last_order_at < at),
        )
        .values(last_order_at=at)
        .execution_options(synchronize_session=False)
    )


LAST_ORDERS = Subscription("last-orders", {OrderConfirmed: on_order_confirmed})
