"""Fixtures for crmkit's integration tests: event tables on PostgreSQL and a JetStream client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import Column, Integer, MetaData, String, Table

from crmkit import bus
from crmkit.testing.events import EventBus, EventDb, event_db


def payments_table(metadata: MetaData) -> Table:
    """A read model a consumer writes to, so a handler's side effect is visible in the database."""
    return Table(
        "payments_seen",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("amount", String(20), nullable=False),
    )


@pytest_asyncio.fixture
async def db(pg_database_url: str) -> AsyncIterator[EventDb]:
    metadata = MetaData()
    payments_table(metadata)
    async with event_db(pg_database_url, metadata) as database:
        yield database


@pytest_asyncio.fixture
async def nats_bus(nats_url: str, stream_prefix: str, nats_cleanup: None) -> AsyncIterator[EventBus]:
    nc = await bus.connect(nats_url, name="crmkit-tests")
    try:
        yield EventBus(nc=nc, js=nc.jetstream(), namespace=f"{stream_prefix}.")
    finally:
        await nc.close()
