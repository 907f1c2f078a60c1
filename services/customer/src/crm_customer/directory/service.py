"""The directory copy: who the tenant's users are, kept from the gateway's user_changed events,
so rules and transfers know the active reps without calling the gateway. Functions take the
session and never commit: the caller does (for events, the inbox transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crm.gateway.v1.events_pb2 import UserChanged
from crm_customer.directory.models import DirectoryUser
from crmkit.clock import as_utc
from crmkit.service import Subscription

# The roles that may own customers (service and finance only read them).
OWNER_ROLES = ("admin", "boss", "supervisor", "sales")


async def on_user_changed(session: AsyncSession, message: UserChanged, envelope: Envelope) -> None:
    """Keep the newest version of each user: an older or repeated event changes nothing."""
    row = await session.get(DirectoryUser, (envelope.tenant_id, message.user_id), with_for_update=True)
    if row is not None and row.version >= envelope.aggregate_version:
        return
    if row is None:
        # Two first events of one user racing here: the loser's insert fails on the primary key,
        # its message is redelivered and then finds the row.
        row = DirectoryUser(tenant_id=envelope.tenant_id, user_id=message.user_id)
        session.add(row)
    row.org_unit_id = message.org_unit_id or envelope.org_unit_id
    row.org_path = message.org_path
    row.role = message.role
    row.active = message.active
    row.display_name = message.display_name[:100]
    row.username = message.username[:100]
    row.version = envelope.aggregate_version
    row.updated_at = as_utc(envelope.occurred_at.ToDatetime(tzinfo=dt.UTC))


DIRECTORY_SUBSCRIPTION = Subscription("directory", {UserChanged: on_user_changed})


async def users_by_id(session: AsyncSession, tenant_id: str, user_ids: Sequence[str]) -> dict[str, DirectoryUser]:
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(DirectoryUser).where(DirectoryUser.tenant_id == tenant_id, DirectoryUser.user_id.in_(user_ids))
    )
    return {row.user_id: row for row in rows}


async def reps_of_unit(session: AsyncSession, tenant_id: str, org_unit_id: str) -> list[DirectoryUser]:
    """Active sales reps of the unit's subtree, in a stable order (by user id)."""
    rows = await session.scalars(
        select(DirectoryUser)
        .where(
            DirectoryUser.tenant_id == tenant_id,
            DirectoryUser.org_path.contains(f"/{org_unit_id}/", autoescape=True),
            DirectoryUser.role == "sales",
            DirectoryUser.active.is_(True),
        )
        .order_by(DirectoryUser.user_id)
    )
    return list(rows)


def why_not_owner(user: DirectoryUser | None) -> str:
    """Why this user may not be given customers; "" when they may."""
    if user is None:
        return "unknown"
    if not user.active:
        return "inactive"
    if user.role not in OWNER_ROLES:
        return "not_owner_role"
    return ""
