"""`crm.gateway.v1.user_changed`: every change of a user goes to the gateway's outbox in the
transaction that makes it, so services can keep their own copy of the directory."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.gateway.v1.events_pb2 import UserChanged
from crm_gateway.database import gateway_event_tables
from crm_gateway.directory.models import OrgUnit, User
from crmkit.events import add_event


async def _record(
    session: AsyncSession, user: User, unit: OrgUnit, *, actor_id: str, now: dt.datetime, namespace: str
) -> None:
    await add_event(
        session,
        gateway_event_tables(),
        message=UserChanged(
            user_id=user.id,
            org_unit_id=unit.id,
            org_path=unit.path,
            role=user.role,
            active=user.active,
            display_name=user.display_name,
            username=user.username,
        ),
        tenant_id=user.tenant_id,
        org_unit_id=unit.id,
        aggregate_id=user.id,
        aggregate_version=user.version,
        occurred_at=now,
        actor_id=actor_id,
        namespace=namespace,
    )


async def announce_user(
    session: AsyncSession, user: User, unit: OrgUnit, *, actor_id: str, now: dt.datetime, namespace: str
) -> None:
    """Bump the user's version and write its whole current state as `user_changed` (a snapshot,
    so a consumer needs only the newest version it has seen)."""
    user.version = (user.version or 0) + 1
    await session.flush()
    await _record(session, user, unit, actor_id=actor_id, now=now, namespace=namespace)


async def announce_unannounced_users(session: AsyncSession, *, now: dt.datetime, namespace: str) -> int:
    """The backfill, run at every start-up: users from before the gateway published events
    (version 0) get one `user_changed` each, so a consumer's copy starts complete. Each is claimed
    by a conditional UPDATE, so replicas starting together announce a user once."""
    rows = (
        await session.execute(
            select(User, OrgUnit).join(OrgUnit, OrgUnit.id == User.org_unit_id).where(User.version == 0)
        )
    ).all()
    announced = 0
    for user, unit in rows:
        claimed = await session.execute(
            update(User).where(User.id == user.id, User.version == 0).values(version=1).returning(User.id)
        )
        if claimed.first() is None:
            continue
        await session.refresh(user)
        await _record(session, user, unit, actor_id="system", now=now, namespace=namespace)
        announced += 1
    return announced
