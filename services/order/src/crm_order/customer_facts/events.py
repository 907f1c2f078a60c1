"""Handlers for crm.customer.v1 events: each writes the order service's copy of the customer's
facts inside the inbox transaction. Every write is guarded by the version the event carries, so
a duplicate, a late or a replayed event leaves the newest state in place: replaying the stream
from its start into empty tables rebuilds the same copy."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import calendar_pb2, customer_pb2, events_pb2, ownership_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_order.customer_facts.models import CustomerClosure, CustomerFact, CustomerLicence, CustomerShare
from crmkit.clock import as_utc
from crmkit.consumer import PermanentEventError
from crmkit.enums import ProtoEnum
from crmkit.service import Subscription


async def apply_customer(session: AsyncSession, envelope: Envelope, customer: customer_pb2.Customer) -> None:
    """The customer as it was after the event, unless a newer version is already in."""
    if not customer.id or customer.tenant_id != envelope.tenant_id:
        raise PermanentEventError(f"event {envelope.id} carries no customer of tenant {envelope.tenant_id}")
    version = envelope.aggregate_version or customer.version
    fact = await session.get(CustomerFact, (customer.tenant_id, customer.id))
    if fact is not None and fact.version >= version:
        return
    values = {
        "name": customer.name,
        "owner_id": customer.owner_id,
        "org_unit_id": customer.org_unit_id,
        "org_path": customer.org_path,
        "tier": customer.tier,
        "archived": customer.archived,
        "requirements": [{"kind": r.kind, "details": list(r.details)} for r in customer.special_requirements if r.kind],
        "delivery_windows": [
            {"weekday": w.weekday, "start": w.start, "end": w.end} for w in customer.preferences.delivery_windows
        ],
        "version": version,
        "parent_customer_id": customer.parent_customer_id,
    }
    if fact is None:
        session.add(CustomerFact(tenant_id=customer.tenant_id, customer_id=customer.id, **values))
    else:
        for key, value in values.items():
            setattr(fact, key, value)


def _date(value: str, envelope: Envelope) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise PermanentEventError(f"event {envelope.id} has a malformed date {value!r}") from exc


async def apply_closure(
    session: AsyncSession, envelope: Envelope, tenant_id: str, closure: calendar_pb2.Closure, *, removed: bool
) -> None:
    if not closure.id or tenant_id != envelope.tenant_id:
        raise PermanentEventError(f"event {envelope.id} carries no closure of tenant {envelope.tenant_id}")
    row = await session.get(CustomerClosure, (tenant_id, closure.id))
    if row is not None and row.version >= closure.version:
        return
    values = {
        "customer_id": closure.customer_id,
        "start_date": _date(closure.start_date, envelope),
        "end_date": _date(closure.end_date, envelope),
        "removed": removed,
        "version": closure.version,
    }
    if row is None:
        session.add(CustomerClosure(tenant_id=tenant_id, closure_id=closure.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)


async def apply_licence(
    session: AsyncSession, envelope: Envelope, tenant_id: str, licence: calendar_pb2.Licence, *, removed: bool
) -> None:
    if not licence.id or tenant_id != envelope.tenant_id:
        raise PermanentEventError(f"event {envelope.id} carries no licence of tenant {envelope.tenant_id}")
    row = await session.get(CustomerLicence, (tenant_id, licence.id))
    if row is not None and row.version >= licence.version:
        return
    values = {
        "customer_id": licence.customer_id,
        "kind": licence.kind,
        "valid_until": _date(licence.valid_until, envelope) if licence.valid_until else None,
        "removed": removed,
        "version": licence.version,
    }
    if row is None:
        session.add(CustomerLicence(tenant_id=tenant_id, licence_id=licence.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)


CustomerSnapshotEvent = (
    events_pb2.CustomerCreated
    | events_pb2.CustomerUpdated
    | events_pb2.CustomerOwnerChanged
    | events_pb2.CustomerArchived
    | events_pb2.CustomerReleasedToPool
    | events_pb2.CustomerReturnedToPool
    | events_pb2.CustomerTierChanged
    | events_pb2.CustomerStageChanged
    | events_pb2.CustomerParentChanged
)


async def on_customer(session: AsyncSession, event: CustomerSnapshotEvent, envelope: Envelope) -> None:
    await apply_customer(session, envelope, event.customer)


ClosureEvent = events_pb2.ClosureScheduled | events_pb2.ClosureChanged


async def on_closure(session: AsyncSession, event: ClosureEvent, envelope: Envelope) -> None:
    await apply_closure(session, envelope, event.tenant_id, event.closure, removed=False)


async def on_closure_removed(session: AsyncSession, event: events_pb2.ClosureRemoved, envelope: Envelope) -> None:
    await apply_closure(session, envelope, event.tenant_id, event.closure, removed=True)


LicenceEvent = events_pb2.LicenceRecorded | events_pb2.LicenceExpiring | events_pb2.LicenceExpired


async def on_licence(session: AsyncSession, event: LicenceEvent, envelope: Envelope) -> None:
    await apply_licence(session, envelope, event.tenant_id, event.licence, removed=False)


async def on_licence_removed(session: AsyncSession, event: events_pb2.LicenceRemoved, envelope: Envelope) -> None:
    await apply_licence(session, envelope, event.tenant_id, event.licence, removed=True)


ACCESS = ProtoEnum(ownership_pb2.CollaboratorAccess)


async def apply_share(
    session: AsyncSession, envelope: Envelope, collaborator: ownership_pb2.Collaborator, *, removed: bool
) -> None:
    """Collaborator events carry no version of their own: the later business time wins."""
    if not collaborator.customer_id or not collaborator.user_id:
        raise PermanentEventError(f"event {envelope.id} carries no collaborator")
    at = envelope.occurred_at.ToDatetime(tzinfo=dt.UTC)
    key = (envelope.tenant_id, collaborator.customer_id, collaborator.user_id)
    row = await session.get(CustomerShare, key)
    if row is not None and as_utc(row.changed_at) > at:
        return
    values = {
        "access": "" if removed else ACCESS.from_proto(collaborator.access) or "read",
        "expires_at": collaborator.expire_time.ToDatetime(tzinfo=dt.UTC)
        if collaborator.HasField("expire_time")
        else None,
        "changed_at": at,
    }
    if row is None:
        session.add(CustomerShare(tenant_id=key[0], customer_id=key[1], user_id=key[2], **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)


async def on_collaborator_added(session: AsyncSession, event: events_pb2.CollaboratorAdded, envelope: Envelope) -> None:
    await apply_share(session, envelope, event.collaborator, removed=False)


async def on_collaborator_removed(
    session: AsyncSession, event: events_pb2.CollaboratorRemoved, envelope: Envelope
) -> None:
    await apply_share(session, envelope, event.collaborator, removed=True)


CUSTOMER_FACTS = Subscription(
    "customer-facts",
    {
        events_pb2.CustomerCreated: on_customer,
        events_pb2.CustomerUpdated: on_customer,
        events_pb2.CustomerOwnerChanged: on_customer,
        events_pb2.CustomerArchived: on_customer,
        events_pb2.CustomerReleasedToPool: on_customer,
        events_pb2.CustomerReturnedToPool: on_customer,
        events_pb2.CustomerTierChanged: on_customer,
        events_pb2.CustomerStageChanged: on_customer,
        events_pb2.CustomerParentChanged: on_customer,
        events_pb2.ClosureScheduled: on_closure,
        events_pb2.ClosureChanged: on_closure,
        events_pb2.ClosureRemoved: on_closure_removed,
        events_pb2.LicenceRecorded: on_licence,
        events_pb2.LicenceExpiring: on_licence,
        events_pb2.LicenceExpired: on_licence,
        events_pb2.LicenceRemoved: on_licence_removed,
        events_pb2.CollaboratorAdded: on_collaborator_added,
        events_pb2.CollaboratorRemoved: on_collaborator_removed,
    },
)
