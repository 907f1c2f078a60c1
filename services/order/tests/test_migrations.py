"""The order service's migrations create exactly the schema its models describe."""

from __future__ import annotations

from crm_order.spec import SPEC
from crmkit.testing.migrations import schema_drift


async def test_migrations_produce_the_schema_of_the_models(pg_database_url: str) -> None:
    assert await schema_drift(pg_database_url, SPEC.migrations, SPEC.metadata) == []
