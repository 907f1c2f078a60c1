"""Creates made idempotent by a client's request id, remembered per tenant and caller."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmkit.identity import Identity

REQUEST_TABLE = "create_requests"


def request_table(metadata: MetaData) -> Table:
    """Declare the request-id table in a service's metadata (once per metadata)."""
    if REQUEST_TABLE in metadata.tables:
        return metadata.tables[REQUEST_TABLE]
    return Table(
        REQUEST_TABLE,
        metadata,
        Column("tenant_id", String(36), primary_key=True),
        # Per caller: another user's request id must neither return their record nor block ours.
        Column("principal_id", String(36), primary_key=True),
        Column("request_id", String(64), primary_key=True),
        Column("resource_id", String(36), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


async def earlier_resource(session: AsyncSession, table: Table, identity: Identity, request_id: str) -> str | None:
    """The id of what an earlier create with this request id made, if there was one."""
    found = await session.scalar(
        select(table.c.resource_id).where(
            table.c.tenant_id == identity.tenant_id,
            table.c.principal_id == identity.principal_id,
            table.c.request_id == request_id,
        )
    )
    return None if found is None else str(found)


async def remember_request(
    session: AsyncSession, table: Table, identity: Identity, request_id: str, resource_id: str, now: dt.datetime
) -> None:
    await session.execute(
        table.insert(),
        {
            "tenant_id": identity.tenant_id,
            "principal_id": identity.principal_id,
            "request_id": request_id,
            "resource_id": resource_id,
            "created_at": now,
        },
    )
