"""The customer service's migrations create exactly the schema its models describe and carry data forward."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_customer.spec import SPEC
from crmkit.db import create_engine, upgrade_database
from crmkit.testing.migrations import schema_drift


async def test_migrations_produce_the_schema_of_the_models(pg_database_url: str) -> None:
    assert await schema_drift(pg_database_url, SPEC.migrations, SPEC.metadata) == []


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'customer.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    return url


async def test_contacts_entered_before_positions_existed_keep_the_order_they_were_shown_in(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade_database(SPEC.migrations, url, SPEC.metadata, "0002")
    engine = create_engine(url)
    entered = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    # Shown by created_at: 甲 first, then 乙 and 丙, entered together (one created_at) in that
    # order though their random ids sort the other way, then 丁.
    contacts = [("c3", "丁", entered + dt.timedelta(hours=1)), ("c2", "乙", entered), ("c1", "丙", entered)]
    contacts.append(("c0", "甲", entered - dt.timedelta(days=3)))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO customers (id, tenant_id, org_unit_id, org_path, owner_id, name, short_name, type,"
                    " addresses, tags, custom_fields, lifecycle_stage, archived, version, pinyin_full,"
                    " pinyin_initials, created_at, updated_at) VALUES ('k1', 't', 'u', '/u/', 'o', '南宁青秀区食堂',"
                    " '', '', '[]', '[]', '{}', 'lead', false, 1, '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            for contact_id, name, created in contacts:
                await connection.execute(
                    text(
                        "INSERT INTO contacts (id, tenant_id, customer_id, name, email, decision_role, title,"
                        " is_primary, created_at, updated_at) VALUES (:id, 't', 'k1', :name, '', '', '', false,"
                        " :created, :created)"
                    ),
                    {"id": contact_id, "name": name, "created": created},
                )
        await upgrade_database(SPEC.migrations, url, SPEC.metadata)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT name, position FROM contacts ORDER BY position"))).all()
    finally:
        await engine.dispose()

    assert [tuple(row) for row in rows] == [("甲", 0), ("乙", 1), ("丙", 2), ("丁", 3)]
