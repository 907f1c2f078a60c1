"""Schema drift check: a database migrated to head must match the service's models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from crmkit.db import create_engine, upgrade_database


async def schema_drift(database_url: str, migrations_dir: Path, metadata: MetaData) -> list[Any]:
    """Differences Alembic would autogenerate after applying every migration (empty = in step)."""
    await upgrade_database(migrations_dir, database_url, metadata)
    engine = create_engine(database_url)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()
