"""The order change log: written beside every order event (`OrderEvents.emit`), read by partner
systems from a cursor (ListOrderChanges, WatchOrderChanges)."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Sequence

from google.protobuf.message import Message
from sqlalchemy import BigInteger, ColumnElement, Table, Text, and_, cast, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import partner_orders_pb2 as ppb
from crm_order.customer_facts.models import READ_SHARES, CustomerFact
from crm_order.orders.models import Order
from crm_order.orders.views import order_message
from crm_order.partner_orders.models import OrderChange
from crmkit.clock import as_utc
from crmkit.errors import InvalidArgument
from crmkit.events import event_name_of, timestamp_of
from crmkit.identity import Identity
from crmkit.scope import scope_clause

MALFORMED_CURSOR = "malformed cursor / 游标无效"
ORDER_CHANGES = typing.cast(Table, OrderChange.__table__)


def _snapshot(message: Message, order: Order) -> pb.Order:
    """The order the event carries (every order event has one), or the order itself."""
    if "order" in message.DESCRIPTOR.fields_by_name and message.HasField("order"):
        carried = getattr(message, "order", None)
        if isinstance(carried, pb.Order):
            return carried
    return order_message(order)


async def log_order_changes(session: AsyncSession, messages: Sequence[Message], order: Order, at: dt.datetime) -> None:
    """A change row for each of these events of one order, in the caller's transaction (one
    statement)."""
    rows = [
        {
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "order_version": order.version,
            "kind": event_name_of(type(message)),
            "snapshot": _snapshot(message, order).SerializeToString(),
            "changed_at": at,
        }
        for message in messages
    ]
    statement = insert(ORDER_CHANGES)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.values(txid=cast(cast(func.pg_current_xact_id(), Text), BigInteger))
    await session.execute(statement, rows)


def parse_cursor(cursor: str, field: str = "cursor") -> int:
    value = cursor.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise InvalidArgument(field, MALFORMED_CURSOR)
    return int(value)


def _visible(identity: Identity, now: dt.datetime) -> ColumnElement[bool]:
    """Changes of orders whose customer the caller may see now (the orders' data scope)."""
    return scope_clause(
        identity,
        tenant=CustomerFact.tenant_id,
        org_path=CustomerFact.org_path,
        owner=CustomerFact.owner_id,
        shares=READ_SHARES,
        now=now,
    )


async def changes_after(
    session: AsyncSession, *, identity: Identity, after: int, limit: int, now: dt.datetime
) -> list[OrderChange]:
    """The caller's visible changes after sequence `after`, oldest first, only those no later
    commit can precede (see OrderChange.txid)."""
    statement = (
        select(OrderChange)
        .join(Order, Order.id == OrderChange.order_id)
        .join(
            CustomerFact, and_(CustomerFact.tenant_id == Order.tenant_id, CustomerFact.customer_id == Order.customer_id)
        )
        .where(OrderChange.tenant_id == identity.tenant_id, OrderChange.seq > after, _visible(identity, now))
        .order_by(OrderChange.seq)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        horizon = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)
        statement = statement.where(OrderChange.txid < horizon)
    return list(await session.scalars(statement))


def change_message(change: OrderChange) -> ppb.OrderChange:
    return ppb.OrderChange(
        cursor=str(change.seq),
        kind=change.kind,
        order=pb.Order.FromString(change.snapshot),
        change_time=timestamp_of(as_utc(change.changed_at)),
    )
