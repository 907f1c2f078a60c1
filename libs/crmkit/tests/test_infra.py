"""Checks that the infra plugin hands out real, isolated PostgreSQL databases and NATS streams."""

from __future__ import annotations

import socket

import nats
import pytest
from nats.js.api import ConsumerConfig
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crmkit.testing.infra import DB_PREFIX, PostgresServer, free_port

CHINESE = "科远客户关系管理：北京市海淀区中关村大街１号 🏢"


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


async def test_database_is_utf8_with_c_ctype(pg_database_url: str) -> None:
    assert pg_database_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(pg_database_url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("SHOW lc_ctype"))).scalar_one() == "C"
            assert (await conn.execute(text("SHOW lc_collate"))).scalar_one() == "C"
            assert (await conn.execute(text("SHOW server_encoding"))).scalar_one() == "UTF8"
            await conn.execute(text("CREATE TABLE note (body text NOT NULL)"))
            await conn.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": CHINESE})
            stored = (await conn.execute(text("SELECT body FROM note"))).scalar_one()
            assert stored == CHINESE
            # Characters, not bytes: the server really decodes UTF-8 despite the C ctype.
            length = (await conn.execute(text("SELECT length(body) FROM note"))).scalar_one()
            assert length == len(CHINESE)
            hits = await conn.execute(text("SELECT count(*) FROM note WHERE body LIKE :q"), {"q": "%客户关系%"})
            assert hits.scalar_one() == 1
    finally:
        await engine.dispose()


async def test_each_database_is_fresh_and_separate(postgres_server: PostgresServer) -> None:
    first = await postgres_server.create_database("Twin Check")
    second = await postgres_server.create_database("Twin Check")
    try:
        assert first != second
        names = [make_url(url).database or "" for url in (first, second)]
        assert all(name.startswith(f"{DB_PREFIX}twin_check_") for name in names)

        engine_a = create_async_engine(first)
        engine_b = create_async_engine(second)
        try:
            async with engine_a.begin() as conn:
                await conn.execute(text("CREATE TABLE only_here (id int)"))
                current = (await conn.execute(text("SELECT current_database()"))).scalar_one()
                assert current == names[0]
            async with engine_b.connect() as conn:
                found = await conn.execute(text("SELECT to_regclass('only_here') IS NOT NULL"))
                assert found.scalar_one() is False
        finally:
            await engine_a.dispose()
            await engine_b.dispose()
    finally:
        for name in names:
            await postgres_server.drop_database(name)


async def test_dropped_database_is_gone(postgres_server: PostgresServer) -> None:
    url = await postgres_server.create_database("gone")
    name = make_url(url).database or ""
    await postgres_server.drop_database(name)
    engine = create_async_engine(url)
    try:
        with pytest.raises(Exception, match="does not exist"):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


def test_stream_prefix_is_a_plain_token(stream_prefix: str) -> None:
    assert stream_prefix.startswith("T")
    assert stream_prefix.isalnum()


async def test_jetstream_publish_and_ack(nats_url: str, stream_prefix: str, nats_cleanup: None) -> None:
    stream = f"{stream_prefix}_ORDERS"
    subject = f"{stream_prefix}.orders.created"
    nc = await nats.connect(nats_url, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"{stream_prefix}.>"])
        ack = await js.publish(subject, CHINESE.encode())
        assert ack.stream == stream
        assert ack.seq == 1

        sub = await js.pull_subscribe(subject, durable="reader", stream=stream, config=ConsumerConfig(ack_wait=5))
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.data.decode() == CHINESE
        await msg.ack_sync()

        info = await js.consumer_info(stream, "reader")
        assert info.num_ack_pending == 0
        assert info.num_pending == 0
    finally:
        await nc.close()
