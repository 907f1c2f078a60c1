"""The customer service's migrations create exactly the schema its models describe and carry data forward."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_customer.contacts.personal import PersonalData
from crm_customer.spec import SPEC
from crmkit.db import create_engine, upgrade_database
from crmkit.pii import ensure_keyring
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
            await _insert_customer(connection, "南宁青秀区食堂")
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


async def test_contact_details_entered_in_clear_are_sealed_and_reindexed_by_the_upgrade(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    await upgrade_database(SPEC.migrations, url, SPEC.metadata, "0004")
    engine = create_engine(url)
    terms = [("13800138000", 0), ("8000", 5), ("13911118000", 0), ("shitang", 3), ("91350100m000100y43", 0)]
    try:
        async with engine.begin() as connection:
            await _insert_customer(connection, "北京实验小学食堂")
            for contact_id, mobile, wechat_id, email in [
                ("c1", "13800138000", "wang_zhuren", "wang@school.example.cn"),
                ("c2", "13911118000", None, ""),
                ("c3", None, None, ""),
            ]:
                await connection.execute(
                    text(
                        "INSERT INTO contacts (id, tenant_id, customer_id, name, mobile, wechat_id, email,"
                        " decision_role, title, is_primary, position, created_at, updated_at) VALUES (:id, 't', 'k1',"
                        " '王', :mobile, :wechat_id, :email, '', '', false, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": contact_id, "mobile": mobile, "wechat_id": wechat_id, "email": email},
                )
            for term, rank in terms:
                await connection.execute(
                    text("INSERT INTO customer_search_terms VALUES ('t', :term, :rank, 'k1', 'o')"),
                    {"term": term, "rank": rank},
                )
        with pytest.raises(RuntimeError, match="CRM_CUSTOMER_PERSONAL_DATA_KEYS_FILE"):
            await upgrade_database(SPEC.migrations, url, SPEC.metadata)
        keyring = ensure_keyring(tmp_path / "personal-data.keys")
        await upgrade_database(SPEC.migrations, url, SPEC.metadata, attributes={"keyring": keyring})
        async with engine.connect() as connection:
            contacts = (await connection.execute(text("SELECT * FROM contacts ORDER BY id"))).mappings().all()
            indexed = (await connection.execute(text("SELECT term, rank FROM customer_search_terms"))).all()
    finally:
        await engine.dispose()
    if url.startswith("sqlite"):
        stored = _files_starting(tmp_path, "customer.db")
        assert b"wang_zhuren" not in stored and b"13911118000" not in stored and b"school.example" not in stored

    personal = PersonalData(keyring)
    opened = [personal.details(SimpleNamespace(**contact)) for contact in contacts]
    assert [(d.mobile, d.wechat_id, d.email) for d in opened] == [
        ("13800138000", "wang_zhuren", "wang@school.example.cn"),
        ("13911118000", None, ""),
        (None, None, ""),
    ]
    assert {"mobile", "wechat_id", "email"}.isdisjoint(contacts[0].keys())
    assert [c["mobile_index"] for c in contacts] == [
        personal.mobile_index("t", "13800138000"),
        personal.mobile_index("t", "13911118000"),
        None,
    ]
    assert [c["key_id"] for c in contacts] == [keyring.key_id] * 3
    assert sorted((term, rank) for term, rank in indexed) == sorted(
        [
            ("shitang", 3),
            ("91350100m000100y43", 0),
            (personal.mobile_term("t", "13800138000"), 0),
            (personal.mobile_term("t", "13911118000"), 0),
            (personal.tail_term("t", "8000"), 5),
        ]
    )


async def _insert_customer(connection: AsyncConnection, name: str) -> None:
    """Customer k1 of tenant t, as the migrations before 0005 stored one."""
    await connection.execute(
        text(
            "INSERT INTO customers (id, tenant_id, org_unit_id, org_path, owner_id, name, short_name, type,"
            " addresses, tags, custom_fields, lifecycle_stage, archived, version, pinyin_full,"
            " pinyin_initials, created_at, updated_at) VALUES ('k1', 't', 'u', '/u/', 'o', :name,"
            " '', '', '[]', '[]', '{}', 'lead', false, 1, '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"name": name},
    )


def _files_starting(directory: Path, prefix: str) -> bytes:
    return b"".join(path.read_bytes() for path in directory.iterdir() if path.name.startswith(prefix))
