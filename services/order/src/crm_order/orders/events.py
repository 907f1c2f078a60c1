"""All events of the order aggregate in one place, written into the caller's transaction; each
carries the order after the change, its envelope the order's id and version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm.order.v1 import order_pb2 as pb
from crm_order.orders.models import Order, OrderRevision
from crm_order.orders.validation import ORDER_ACTIONS, ORDER_STATES
from crm_order.orders.views import order_message, revision_message
from crm_order.partner_orders.changes import log_order_changes
from crmkit.events import EventTables, add_events, outbox_row

# The event each move publishes besides order_state_changed (release publishes only that).
ACTION_EVENTS: dict[str, type[Message]] = {
    "confirm": events_pb2.OrderConfirmed,
    "record_payment": events_pb2.OrderPaidCod,
    "dispatch": events_pb2.OrderDispatched,
    "deliver": events_pb2.OrderDelivered,
    "complete": events_pb2.OrderCompleted,
}


@dataclass(frozen=True)
class OrderEvents:
    tables: EventTables
    namespace: str = ""

    async def emit(self, session: AsyncSession, message: Message, order: Order, actor_id: str, at: dt.datetime) -> None:
        await self.emit_all(session, [message], order, actor_id, at)

    async def emit_all(
        self, session: AsyncSession, messages: Sequence[Message], order: Order, actor_id: str, at: dt.datetime
    ) -> None:
        """The events of one change, in order: their outbox rows in one statement, and (for the
        partner change log, crm_order.partner_orders) a change row each in another."""
        rows = [
            outbox_row(
                message=message,
                tenant_id=order.tenant_id,
                org_unit_id=order.org_unit_id,
                aggregate_id=order.id,
                aggregate_version=order.version,
                occurred_at=at,
                actor_id=actor_id,
                namespace=self.namespace,
            )[1]
            for message in messages
        ]
        await add_events(session, self.tables, rows)
        await log_order_changes(session, messages, order, at)

    async def created(self, session: AsyncSession, order: Order, actor_id: str, at: dt.datetime) -> None:
        await self.emit(session, events_pb2.OrderCreated(order=order_message(order)), order, actor_id, at)

    async def revised(
        self, session: AsyncSession, order: Order, revision: OrderRevision, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.OrderRevised(order=order_message(order), revision=revision_message(revision))
        await self.emit(session, message, order, actor_id, at)

    async def moved(
        self,
        session: AsyncSession,
        order: Order,
        *,
        previous_state: str,
        action: str,
        actor_id: str,
        at: dt.datetime,
        details: Mapping[str, Message] | None = None,
    ) -> None:
        """order_state_changed, then the move's own event; `details` are fields of that event
        besides the order (order_dispatched's dispatch, order_delivered's confirmation)."""
        snapshot = order_message(order)
        previous: pb.OrderState.ValueType = ORDER_STATES.to_proto(previous_state)  # type: ignore[assignment]
        changed = events_pb2.OrderStateChanged(
            order=snapshot,
            previous_state=previous,
            action=ORDER_ACTIONS.to_proto(action),  # type: ignore[arg-type]
        )
        messages: list[Message] = [changed]
        if action == "cancel":
            messages.append(
                events_pb2.OrderCancelled(order=snapshot, previous_state=previous, reason=order.cancel_reason)
            )
        elif action in ACTION_EVENTS:
            messages.append(ACTION_EVENTS[action](order=snapshot, **(details or {})))
        await self.emit_all(session, messages, order, actor_id, at)
