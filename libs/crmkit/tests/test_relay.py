"""The outbox relay on real PostgreSQL and JetStream: in order, deduplicated, never dropping a row."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from crmkit.bus import ensure_stream
from crmkit.relay import OutboxRelay
from crmkit.testing.events import EventBus, EventDb, eventually

SERVICE = "credit"


def relay_for(db: EventDb, nats_bus: EventBus, label: str) -> OutboxRelay:
    # The label only names the relay's metrics; a unique one keeps tests' gauges apart.
    return OutboxRelay(service=label, sessions=db.sessions, tables=db.tables, js=nats_bus.js)


def unpublished_gauge(label: str) -> float | None:
    return REGISTRY.get_sample_value("crm_outbox_unpublished_rows", {"service": label})


async def test_relay_publishes_rows_in_order_with_event_id_as_message_id(db: EventDb, nats_bus: EventBus) -> None:
    stream = await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace)
    envelopes = [
        await db.commit_event(service=SERVICE, event_name=name, namespace=nats_bus.namespace)
        for name in ("credit_reserved", "payment_recorded", "credit_released")
    ]

    assert await relay_for(db, nats_bus, f"order-{nats_bus.namespace}").publish_pending() == 3

    stored = [await nats_bus.js.get_msg(stream, seq) for seq in (1, 2, 3)]
    assert [(msg.headers or {}).get("Nats-Msg-Id") for msg in stored] == [e.id for e in envelopes]
    assert [msg.subject for msg in stored] == [
        f"{nats_bus.namespace}crm.credit.v1.{name}"
        for name in ("credit_reserved", "payment_recorded", "credit_released")
    ]
    assert [msg.data for msg in stored] == [e.SerializeToString() for e in envelopes]
    async with db.sessions() as session:
        published = (await session.execute(select(db.tables.outbox.c.published_at))).scalars().all()
    assert all(value is not None for value in published)


async def test_row_published_twice_is_stored_once_by_the_broker(db: EventDb, nats_bus: EventBus) -> None:
    stream = await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace)
    await db.commit_event(service=SERVICE, event_name="payment_recorded", namespace=nats_bus.namespace)
    relay = relay_for(db, nats_bus, f"dedup-{nats_bus.namespace}")
    assert await relay.publish_pending() == 1

    # As after a crash between the broker's ack and our commit: the row looks unpublished again.
    async with db.sessions() as session, session.begin():
        await session.execute(update(db.tables.outbox).values(published_at=None))
    assert await relay.publish_pending() == 1

    info = await nats_bus.js.stream_info(stream)
    assert info.state.messages == 1


async def test_row_without_a_stream_stays_unpublished_until_the_stream_exists(db: EventDb, nats_bus: EventBus) -> None:
    label = f"nostream-{nats_bus.namespace}"
    relay = relay_for(db, nats_bus, label)
    envelope = await db.commit_event(service=SERVICE, event_name="payment_recorded", namespace=nats_bus.namespace)

    with pytest.raises(RuntimeError, match="publishing outbox row"):
        await relay.publish_pending()
    await relay.refresh_gauges()

    async with db.sessions() as session:
        row = (await session.execute(select(db.tables.outbox))).one()
    assert row.event_id == envelope.id
    assert row.published_at is None
    assert row.attempts == 1
    assert row.last_error
    assert unpublished_gauge(label) == 1

    stream = await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace)
    assert await relay.publish_pending() == 1
    await relay.refresh_gauges()

    assert unpublished_gauge(label) == 0
    stored = await nats_bus.js.get_msg(stream, 1)
    assert (stored.headers or {}).get("Nats-Msg-Id") == envelope.id


async def test_relay_stops_at_a_failing_row_so_later_rows_do_not_overtake_it(db: EventDb, nats_bus: EventBus) -> None:
    await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace)
    first = await db.commit_event(service=SERVICE, event_name="credit_reserved", namespace=nats_bus.namespace)
    # The order service has no stream yet, so this row cannot be published.
    stuck = await db.commit_event(service="order", event_name="order_placed", namespace=nats_bus.namespace)
    later = await db.commit_event(service=SERVICE, event_name="credit_released", namespace=nats_bus.namespace)

    with pytest.raises(RuntimeError):
        await relay_for(db, nats_bus, f"partial-{nats_bus.namespace}").publish_pending()

    outbox = db.tables.outbox
    async with db.sessions() as session:
        rows = {row.event_id: row for row in (await session.execute(select(outbox))).all()}
    assert rows[first.id].published_at is not None
    assert rows[stuck.id].published_at is None and rows[stuck.id].attempts == 1
    assert rows[later.id].published_at is None and rows[later.id].attempts == 0


async def test_running_relay_publishes_a_committed_row_and_stops_on_request(db: EventDb, nats_bus: EventBus) -> None:
    stream = await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace)
    relay = relay_for(db, nats_bus, f"run-{nats_bus.namespace}")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await db.commit_event(service=SERVICE, event_name="payment_recorded", namespace=nats_bus.namespace)
        relay.wake()

        async def stored() -> bool:
            return (await nats_bus.js.stream_info(stream)).state.messages == 1

        await eventually(stored)
    finally:
        stop.set()
        relay.wake()
        await asyncio.wait_for(task, timeout=10)
    async with db.sessions() as session:
        assert (await session.execute(select(db.tables.outbox.c.published_at))).scalar_one() is not None


async def test_commits_do_not_cut_a_backoff_short(db: EventDb, nats_bus: EventBus) -> None:
    """A row the broker refuses is not sent again on every commit's wake-up (a busy service
    would otherwise resend its whole stuck batch per write), only when the backoff ends."""
    relay = OutboxRelay(
        service=f"backoff-{nats_bus.namespace}",
        sessions=db.sessions,
        tables=db.tables,
        js=nats_bus.js,
        min_backoff=30.0,
    )
    # No stream yet: the row cannot be published.
    await db.commit_event(service=SERVICE, event_name="payment_recorded", namespace=nats_bus.namespace)
    outbox = db.tables.outbox

    async def attempts() -> int:
        async with db.sessions() as session:
            return int((await session.execute(select(outbox.c.attempts))).scalar_one())

    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:

        async def tried_once() -> bool:
            return await attempts() == 1

        await eventually(tried_once)
        for _ in range(20):
            relay.wake()
            await asyncio.sleep(0.02)
        assert await attempts() == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
