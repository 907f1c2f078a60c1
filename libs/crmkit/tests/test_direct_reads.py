"""Core statements run straight on asyncpg give what a session gives, and refuse what they cannot bind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, literal_column, select
from sqlalchemy.engine import make_url

from crmkit.db import create_engine, session_factory
from crmkit.direct_reads import DirectReads, SessionReader, compile_for_asyncpg

metadata = MetaData()
stock = Table(
    "stock",
    metadata,
    Column("sku", String(20), primary_key=True),
    Column("warehouse", String(20)),
    Column("boxes", Integer),
)
ROWS = [("大米-5kg", "上海", 40), ("面粉-10kg", "上海", 12), ("食用油-5L", "杭州", 30), ("鸡蛋-30枚", "上海", 0)]

# A literal IN list (written out, not expanded at execution) and a literal column run directly too.
KNOWN_WAREHOUSES = [literal_column("'上海'"), literal_column("'杭州'")]
STOCKED = (
    select(stock.c.sku, stock.c.boxes, literal_column("'箱'").label("unit"))
    .where(stock.c.warehouse == bindparam("warehouse"), stock.c.warehouse.in_(KNOWN_WAREHOUSES), stock.c.boxes > 0)
    .order_by(stock.c.boxes.desc())
    .limit(bindparam("limit", type_=Integer))
)


@pytest_asyncio.fixture
async def stocked_database(pg_database_url: str) -> AsyncIterator[str]:
    engine = create_engine(pg_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            insert(stock), [dict(zip(("sku", "warehouse", "boxes"), r, strict=True)) for r in ROWS]
        )
    yield pg_database_url
    await engine.dispose()


async def test_direct_reads_return_the_rows_a_session_returns(stocked_database: str) -> None:
    engine = create_engine(stocked_database)
    direct = DirectReads(make_url(stocked_database))
    try:
        async with session_factory(engine)() as session:
            through_session = await SessionReader(session).fetch(STOCKED, {"warehouse": "上海", "limit": 5})
        direct_rows = await direct.fetch(STOCKED, {"warehouse": "上海", "limit": 5})
        again = await direct.fetch(STOCKED, {"warehouse": "杭州", "limit": 5})
    finally:
        await direct.close()
        await engine.dispose()

    assert [tuple(r) for r in direct_rows] == [tuple(r) for r in through_session]
    assert [tuple(r) for r in direct_rows] == [("大米-5kg", 40, "箱"), ("面粉-10kg", 12, "箱")]
    assert [tuple(r) for r in again] == [("食用油-5L", 30, "箱")]


async def test_a_value_left_out_is_refused_not_bound_as_null() -> None:
    # Nothing listens there: the refusal comes before any connection is made.
    direct = DirectReads(make_url("postgresql+asyncpg://nobody@127.0.0.1:9/none"))

    with pytest.raises(KeyError, match="warehouse"):
        await direct.fetch(STOCKED, {"limit": 5})


def test_an_expanding_in_list_cannot_be_run_directly() -> None:
    statement = select(stock.c.sku).where(stock.c.warehouse.in_(["上海", "杭州"]))

    with pytest.raises(ValueError, match="expanding IN"):
        compile_for_asyncpg(statement)
