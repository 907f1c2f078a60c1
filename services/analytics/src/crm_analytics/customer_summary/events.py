"""Handlers for crm.customer.v1 events: each upserts the customer's fact row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2, events_pb2, ownership_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.customer_summary.models import CustomerFact, PoolMovement
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
        "pool_id": customer.pool_id,
        "last_interaction_at": customer.last_interaction_time.ToDatetime(tzinfo=dt.UTC)
        if customer.HasField("last_interaction_time")
        else None,
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
    | events_pb2.InteractionLogged
    | events_pb2.CustomerReleasedToPool
    | events_pb2.CustomerReturnedToPool
)
OWNER_CHANGES = ProtoEnum(ownership_pb2.OwnerChangeKind)
# Owner changes that move a customer in or out of a pool, as the movements count them.
MOVEMENTS = {"claimed": "claimed", "approved": "claimed", "returned_by_rule": "returned", "released": "released"}


async def on_customer_event(session: AsyncSession, event: CustomerEvent, envelope: Envelope) -> None:
    """Every customer event carries the customer as it was after it."""
    await apply_snapshot(session, envelope, event.customer)


async def on_owner_changed(session: AsyncSession, event: events_pb2.CustomerOwnerChanged, envelope: Envelope) -> None:
    """The snapshot, and a pool movement when the customer came from or went to a pool. The
    inbox runs this once per event, so counting up is safe."""
    kind = MOVEMENTS.get(OWNER_CHANGES.from_proto(event.kind))
    # Read before the snapshot lands: a claimed customer's snapshot no longer names its pool.
    pool_id = event.customer.pool_id or await _pool_left(session, event) if kind else ""
    await apply_snapshot(session, envelope, event.customer)
    if kind is None or not pool_id:
        return
    key = (
        envelope.tenant_id,
        shanghai_date(envelope.occurred_at.ToDatetime(tzinfo=dt.UTC)),
        pool_id,
        kind,
        event.customer.org_path,
    )
    movement = await session.get(PoolMovement, key, with_for_update=True)
    if movement is None:
        session.add(PoolMovement(tenant_id=key[0], day=key[1], pool_id=key[2], kind=kind, org_path=key[4], count=1))
    else:
        movement.count += 1


async def _pool_left(session: AsyncSession, event: events_pb2.CustomerOwnerChanged) -> str:
    """A claimed customer's snapshot has no pool any more: the pool is the one our facts last saw."""
    fact = await session.get(CustomerFact, (event.customer.tenant_id, event.customer.id))
    return fact.pool_id if fact is not None else ""


CUSTOMER_SUMMARY = Subscription(
    "customer-summary",
    {
        events_pb2.CustomerCreated: on_customer_event,
        events_pb2.CustomerUpdated: on_customer_event,
        events_pb2.CustomerOwnerChanged: on_owner_changed,
        events_pb2.CustomerArchived: on_customer_event,
        events_pb2.InteractionLogged: on_customer_event,
        events_pb2.CustomerReleasedToPool: on_customer_event,
        events_pb2.CustomerReturnedToPool: on_customer_event,
    },
)
