"""Handlers for crm.customer.v1 events: each upserts the customer's fact row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.customer_summary.models import CustomerFact
from crmkit.clock import shanghai_date
from crmkit.consumer import PermanentEventError
from crmkit.enums import ProtoEnum
from crmkit.service import Subscription

STAGES = ProtoEnum(customer_pb2.LifecycleStage)


async def apply_snapshot(session: AsyncSession, envelope: Envelope, customer: customer_pb2.Customer) -> None:
    """Apply the customer as it was after the event, unless a newer version is already in."""
    if not customer.id or customer.tenant_id != envelope.tenant_id:
        raise PermanentEventError(f"event {envelope.id} carries no customer of tenant {envelope.tenant_id}")
    if customer.lifecycle_stage == 0 or customer.lifecycle_stage not in customer_pb2.LifecycleStage.values():
        raise PermanentEventError(f"event {envelope.id} has unknown lifecycle stage {customer.lifecycle_stage}")
    stage = STAGES.from_proto(customer.lifecycle_stage)
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


CustomerEvent = (
    events_pb2.CustomerCreated
    | events_pb2.CustomerUpdated
    | events_pb2.CustomerOwnerChanged
    | events_pb2.CustomerArchived
)


async def on_customer_event(session: AsyncSession, event: CustomerEvent, envelope: Envelope) -> None:
    """Every customer event carries the customer as it was after it."""
    await apply_snapshot(session, envelope, event.customer)


CUSTOMER_SUMMARY = Subscription(
    "customer-summary",
    {
        events_pb2.CustomerCreated: on_customer_event,
        events_pb2.CustomerUpdated: on_customer_event,
        events_pb2.CustomerOwnerChanged: on_customer_event,
        events_pb2.CustomerArchived: on_customer_event,
    },
)
