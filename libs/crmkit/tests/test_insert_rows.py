"""insert_rows writes the same rows on PostgreSQL (COPY) as on SQLite (executemany): Python defaults
filled, serial keys left to the database, JSON bound as JSON, all inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crmkit.db import create_engine, insert_records, insert_rows, new_rows, session_factory

metadata = MetaData()
deliveries = Table(
    "deliveries",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("customer", String(40), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", DateTime(timezone=True), nullable=True),
)
DUE = dt.datetime(2027, 1, 20, 2, 0, tzinfo=dt.UTC)
ROWS = [
    {"customer": "西湖实小食堂", "lines": [{"sku": "大米-5kg", "boxes": 3}], "due_at": DUE},
    {"customer": "城西工厂食堂", "lines": [], "due_at": None},
]


async def _written(url: str, *, fail: bool = False) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        sessions = session_factory(engine)
        session: AsyncSession
        async with sessions() as session, session.begin():
            await insert_rows(session, deliveries, ROWS)
        if fail:
            with pytest.raises(RuntimeError):
                async with sessions() as session, session.begin():
                    await insert_rows(session, deliveries, ROWS)
                    raise RuntimeError("the batch fails after its rows went in")
        async with sessions() as session:
            query = select(deliveries.c.seq, deliveries.c.customer, deliveries.c.lines, deliveries.c.attempts,
                           deliveries.c.due_at).order_by(deliveries.c.seq)  # fmt: skip
            return [tuple(row) for row in await session.execute(query)]
    finally:
        await engine.dispose()


EXPECTED = [
    (1, "西湖实小食堂", [{"sku": "大米-5kg", "boxes": 3}], 0, DUE),
    (2, "城西工厂食堂", [], 0, None),
]


async def test_copy_on_postgresql_fills_defaults_and_serials_and_rolls_back_with_its_transaction(
    pg_database_url: str,
) -> None:
    assert await _written(pg_database_url, fail=True) == EXPECTED


async def test_sqlite_writes_the_same_rows(tmp_path: Path) -> None:
    found = await _written(f"sqlite+aiosqlite:///{tmp_path / 'rows.db'}")
    assert [(*row[:4], row[4] and row[4].replace(tzinfo=dt.UTC)) for row in found] == EXPECTED


terms = Table(
    "terms",
    metadata,
    Column("term", String(32), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("customer", String(40), nullable=False),
)
RECORDS = [("xihu", 3, "西湖实小食堂"), ("西湖", 1, "西湖实小食堂")]


async def _records_written(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        sessions = session_factory(engine)
        session: AsyncSession
        with pytest.raises(RuntimeError):
            async with sessions() as session, session.begin():
                await insert_records(session, terms, ("term", "rank", "customer"), RECORDS)
                raise RuntimeError("the batch fails after its records went in")
        async with sessions() as session, session.begin():
            await insert_records(session, terms, ("term", "rank", "customer"), RECORDS)
        async with sessions() as session:
            return [tuple(row) for row in await session.execute(select(terms).order_by(terms.c.rank))]
    finally:
        await engine.dispose()


async def test_records_copy_on_postgresql_inside_the_transaction(pg_database_url: str) -> None:
    assert await _records_written(pg_database_url) == [("西湖", 1, "西湖实小食堂"), ("xihu", 3, "西湖实小食堂")]


async def test_records_on_sqlite_are_the_same_rows(tmp_path: Path) -> None:
    found = await _records_written(f"sqlite+aiosqlite:///{tmp_path / 'records.db'}")
    assert found == [("西湖", 1, "西湖实小食堂"), ("xihu", 3, "西湖实小食堂")]


class _Base(DeclarativeBase):
    pass


class _Visit(_Base):
    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer: Mapped[str] = mapped_column("customer_name", String(40))
    note: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def test_new_rows_are_the_objects_values_by_column_with_defaults_for_what_was_not_set() -> None:
    visit = _Visit(id="v1", customer="西湖实小食堂", note="", due_at=DUE)
    bare = _Visit(id="v2", customer="城西工厂食堂")
    rows = new_rows([visit, bare])
    assert rows == {
        _Visit.__table__: [
            {"id": "v1", "customer_name": "西湖实小食堂", "note": "", "tags": [], "due_at": DUE},
            {"id": "v2", "customer_name": "城西工厂食堂", "note": "", "tags": [], "due_at": None},
        ]
    }
