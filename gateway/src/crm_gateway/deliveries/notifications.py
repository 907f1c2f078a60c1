"""Urgent orders (紧急订单) tell the dispatcher: when an urgent order is confirmed, or an order is
made urgent after confirmation, the service-role users who may see it (their unit is the order's
or above it) are told, once per order. A subscription of its own to the order service's events,
handled like `notifications/events.py`: in the consumer's transaction with its inbox row, so a
redelivered event notifies nobody twice, and an order already announced is not announced again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import events_pb2 as oev
from crm.order.v1 import order_pb2 as pb
from crm_gateway.directory.models import OrgUnit, User
from crm_gateway.notifications import service
from crm_gateway.notifications.feed import NotificationFeed
from crm_gateway.notifications.models import Notification
from crmkit.clock import Clock
from crmkit.identity import Role
from crmkit.service import Subscription

KIND = "urgent_order"
# An order that is no longer waiting to be shipped needs no dispatcher's attention.
WAITING = frozenset({pb.ORDER_STATE_CONFIRMED, pb.ORDER_STATE_AWAITING_PAYMENT, pb.ORDER_STATE_READY_TO_SHIP})


async def dispatchers_for(session: AsyncSession, *, tenant_id: str, org_unit_id: str) -> list[str]:
    """Active service-role users whose unit is the order's or above it (who see its subtree)."""
    path = await session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_unit_id, OrgUnit.tenant_id == tenant_id))
    if path is None:
        return []
    rows = await session.execute(
        select(User.id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.tenant_id == tenant_id, User.role == Role.SERVICE.value, User.active.is_(True))
    )
    return sorted(user_id for user_id, unit_path in rows if path.startswith(unit_path))


class UrgentOrderNotifications:
    def __init__(self, feed: NotificationFeed, clock: Clock) -> None:
        self._feed = feed
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(
            name="urgent-order-notifications",
            handlers={oev.OrderConfirmed: self.order_confirmed, oev.OrderRevised: self.order_revised},
        )

    async def order_confirmed(self, session: AsyncSession, message: oev.OrderConfirmed, envelope: Envelope) -> None:
        await self._announce(session, message.order, envelope)

    async def order_revised(self, session: AsyncSession, message: oev.OrderRevised, envelope: Envelope) -> None:
        await self._announce(session, message.order, envelope)

    async def _announce(self, session: AsyncSession, order: pb.Order, envelope: Envelope) -> None:
        if not order.urgent or order.state not in WAITING:
            return
        told = await session.scalar(
            select(Notification.id)
            .where(
                Notification.tenant_id == envelope.tenant_id,
                Notification.kind == KIND,
                Notification.link_id == order.id,
            )
            .limit(1)
        )
        if told is not None:
            return
        dispatchers = await dispatchers_for(session, tenant_id=envelope.tenant_id, org_unit_id=order.org_unit_id)
        await service.notify(
            session,
            feed=self._feed,
            tenant_id=envelope.tenant_id,
            user_ids=dispatchers,
            kind=KIND,
            params={
                "customer": order.customer_name,
                "delivery_date": order.delivery_date,
                "address": order.delivery_address,
            },
            link_type="order",
            link_id=order.id,
            event_id=envelope.id,
            now=self._clock(),
        )
