"""Recall notifications: when a batch is recalled, each owner of an affected customer hears which
of their customers received it (to call them before the recall ticket reaches them). A
subscription of its own to the order service's events, handled like `notifications/events.py`:
in the consumer's transaction with its inbox row, so a redelivered event notifies nobody twice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import events_pb2 as oev
from crm_gateway.notifications import service
from crm_gateway.notifications.feed import NotificationFeed
from crmkit.clock import Clock
from crmkit.service import Subscription

# Names listed in one notice; more are counted ("等5位客户").
NAMED_CUSTOMERS = 3


class RecallNotifications:
    def __init__(self, feed: NotificationFeed, clock: Clock) -> None:
        self._feed = feed
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(name="recall-notifications", handlers={oev.BatchRecalled: self.batch_recalled})

    async def batch_recalled(self, session: AsyncSession, message: oev.BatchRecalled, envelope: Envelope) -> None:
        recall = message.recall
        owned: dict[str, list[str]] = {}
        for customer in recall.customers:
            if customer.owner_id:
                owned.setdefault(customer.owner_id, []).append(customer.customer_name)
        for owner_id, names in sorted(owned.items()):
            await service.notify(
                session,
                feed=self._feed,
                tenant_id=envelope.tenant_id,
                user_ids=[owner_id],
                kind="batch_recalled",
                params={
                    "batch_no": recall.batch_no,
                    "reason": recall.reason,
                    "count": len(names),
                    "customers": "、".join(names[:NAMED_CUSTOMERS]),
                },
                link_type="recall",
                link_id=recall.id,
                event_id=envelope.id,
                now=self._clock(),
            )
