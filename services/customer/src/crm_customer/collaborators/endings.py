"""How a collaborator's access ends: removed, expired, or by an owner change (the customer went
to a pool, or the collaborator became its owner), each announced with its cause. Functions take
the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.collaborators.models import Collaborator, collaborator_to_proto
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer

# Why an access ended, as collaborator_removed says it.
REMOVED, EXPIRED, OWNER_CHANGED = "removed", "expired", "owner_changed"


async def end_collaborations(
    session: AsyncSession,
    customer: Customer,
    rows: Sequence[Collaborator],
    *,
    cause: str,
    actor_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> None:
    """Remove these accesses to the customer, each announced with why it ended."""
    for row in rows:
        await events.collaborator_removed(session, customer, collaborator_to_proto(row), cause, actor_id, now)
    if rows:
        await session.execute(
            delete(Collaborator).where(
                Collaborator.customer_id == customer.id, Collaborator.user_id.in_([r.user_id for r in rows])
            )
        )


async def end_collaborations_on_owner_change(
    session: AsyncSession, customers: Sequence[Customer], *, actor_id: str, events: CustomerEvents, now: dt.datetime
) -> None:
    """After owner changes: a customer in a pool has nobody's team any more, and a new owner who
    collaborated on it no longer needs the share (it would come back if they lost it). One read
    for the whole batch."""
    by_id = {customer.id: customer for customer in customers}
    rows = (await session.scalars(select(Collaborator).where(Collaborator.customer_id.in_(by_id)))).all()
    ending: dict[str, list[Collaborator]] = {}
    for row in rows:
        owner = by_id[row.customer_id].owner_id
        if not owner or row.user_id == owner:
            ending.setdefault(row.customer_id, []).append(row)
    for customer_id, ended in ending.items():
        await end_collaborations(
            session, by_id[customer_id], ended, cause=OWNER_CHANGED, actor_id=actor_id, events=events, now=now
        )
