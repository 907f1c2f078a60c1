"""Handlers for crm.customer.v1 events: each upserts the customer's fact row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.customer_summary.models import CustomerFact
from crmkit.clock import shanghai_date
from crmkit.consumer import EventHandler, PermanentEventError
from crmkit.events import event_type

CONSUMER_NAME = "analytics-customer-summary"
_STAGES = {
    customer_pb2.LIFECYCLE_STAGE_LEAD: "lead",
    customer_pb2.LIFECYCLE_STAGE_PROSPECT: "prospect",
    customer_pb2.LIFECYCLE_STAGE_SIGNED: "signed",
    customer_pb2.LIFECYCLE_STAGE_DORMANT: "dormant",
    customer_pb2.LIFECYCLE_STAGE_LOST: "lost",
}


async def apply_snapshot(session: AsyncSession, envelope: Envelope, customer: customer_pb2.Customer) -> None:
    """Apply the customer as it was after the event, unless a newer version is already in."""
    if not customer.id or customer.tenant_id != envelope.tenant_id:
        raise PermanentEventError(f"event {envelope.id} carries no customer of tenant {envelope.tenant_id}")
    stage = _STAGES.get(customer.lifecycle_stage)
    if stage is None:
        raise PermanentEventError(f"event {envelope.id} has unknown lifecycle stage {customer.lifecycle_stage}")
    version = envelope.aggregate_version or customer.version
    fact = await session.get(CustomerFact, (customer.tenant_id, customer.id))
    if fact is not None and fact.version >= version:
        return
    values = {
        "org_unit_id": customer.org_unit_id,
        "org_path": customer.org_path,
        "owner_id": customer.owner_id,
        "lifecycle_stage": stage,
        "type": customer.type,
        "archived": customer.archived,
        "created_on": shanghai_date(customer.create_time.ToDatetime(tzinfo=dt.UTC)),
        "version": version,
    }
    if fact is None:
        session.add(CustomerFact(tenant_id=customer.tenant_id, customer_id=customer.id, **values))
    else:
        for key, value in values.items():
            setattr(fact, key, value)


def _unpack(
    envelope: Envelope,
    message_type: type[events_pb2.CustomerCreated]
    | type[events_pb2.CustomerUpdated]
    | type[events_pb2.CustomerOwnerChanged]
    | type[events_pb2.CustomerArchived],
) -> customer_pb2.Customer:
    message = message_type()
    if not envelope.payload.Unpack(message):
        raise PermanentEventError(f"event {envelope.id} payload is not {message_type.DESCRIPTOR.full_name}")
    return message.customer


async def on_customer_created(session: AsyncSession, envelope: Envelope) -> None:
    await apply_snapshot(session, envelope, _unpack(envelope, events_pb2.CustomerCreated))


async def on_customer_updated(session: AsyncSession, envelope: Envelope) -> None:
    await apply_snapshot(session, envelope, _unpack(envelope, events_pb2.CustomerUpdated))


async def on_customer_owner_changed(session: AsyncSession, envelope: Envelope) -> None:
    await apply_snapshot(session, envelope, _unpack(envelope, events_pb2.CustomerOwnerChanged))


async def on_customer_archived(session: AsyncSession, envelope: Envelope) -> None:
    await apply_snapshot(session, envelope, _unpack(envelope, events_pb2.CustomerArchived))


HANDLERS: Mapping[str, EventHandler] = {
    event_type("customer", "customer_created"): on_customer_created,
    event_type("customer", "customer_updated"): on_customer_updated,
    event_type("customer", "customer_owner_changed"): on_customer_owner_changed,
    event_type("customer", "customer_archived"): on_customer_archived,
}
