"""The inbox consumer on real PostgreSQL and JetStream: once per event, retries, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import pytest
import pytest_asyncio
from google.protobuf.wrappers_pb2 import StringValue
from nats.aio.msg import Msg
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crmkit import consumer as consumer_module
from crmkit.bus import ensure_stream
from crmkit.consumer import EventConsumer, EventHandler, PermanentEventError, retry_delay
from crmkit.events import stream_name
from crmkit.relay import OutboxRelay
from crmkit.testing.events import EventBus, EventDb, eventually

SERVICE = "credit"
PAYMENT_RECORDED = "crm.credit.v1.payment_recorded"


# --------------------------------------------------------------------------- backoff (no I/O)


def test_retry_delay_doubles_with_each_delivery() -> None:
    assert [retry_delay(n, base=0.5, cap=60) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_retry_delay_is_capped() -> None:
    assert retry_delay(10, base=0.5, cap=60) == 60
    assert retry_delay(10_000, base=0.5, cap=60) == 60


def test_retry_delay_treats_an_unknown_delivery_count_as_the_first() -> None:
    assert retry_delay(0, base=0.5) == 0.5


# --------------------------------------------------------------------------- integration


class Ledger:
    """A consumer's world: the stream, the database and a handler writing a read-model row."""

    def __init__(self, db: EventDb, nats_bus: EventBus, stream: str) -> None:
        self.db = db
        self.bus = nats_bus
        self.stream = stream
        self.prefix = nats_bus.namespace.rstrip(".")
        self.payments: Table = db.metadata.tables["payments_seen"]
        self.filter_subject = f"{nats_bus.namespace}crm.{SERVICE}.v1.>"

    def name(self, label: str) -> str:
        return f"{label}-{self.prefix}"

    def recording_handler(self, consumer: str) -> EventHandler:
        async def record_payment(session: AsyncSession, envelope: Envelope) -> None:
            amount = StringValue()
            envelope.payload.Unpack(amount)
            await session.execute(
                self.payments.insert().values(consumer=consumer, event_id=envelope.id, amount=amount.value)
            )

        return record_payment

    def consumer(self, name: str, handlers: Mapping[str, EventHandler], *, max_deliver: int = 5) -> EventConsumer:
        return EventConsumer(
            name=name,
            js=self.bus.js,
            stream=self.stream,
            filter_subject=self.filter_subject,
            namespace=self.bus.namespace,
            sessions=self.db.sessions,
            tables=self.db.tables,
            handlers=handlers,
            max_deliver=max_deliver,
        )

    async def publish_payments(self, *amounts: str) -> list[Envelope]:
        envelopes = [
            await self.db.commit_event(
                service=SERVICE,
                event_name="payment_recorded",
                namespace=self.bus.namespace,
                message=StringValue(value=amount),
            )
            for amount in amounts
        ]
        relay = OutboxRelay(
            service=self.name("relay"), sessions=self.db.sessions, tables=self.db.tables, js=self.bus.js
        )
        assert await relay.publish_pending() == len(envelopes)
        return envelopes

    async def publish_raw(self, data: bytes, event_name: str = "payment_recorded") -> None:
        """Publish without a message id, as a second relay run after the dedup window would."""
        await self.bus.js.publish(f"{self.bus.namespace}crm.{SERVICE}.v1.{event_name}", data)

    async def seen(self, consumer: str) -> list[tuple[str, str]]:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(self.payments.c.event_id, self.payments.c.amount)
                .where(self.payments.c.consumer == consumer)
                .order_by(self.payments.c.event_id)
            )
            return [(row.event_id, row.amount) for row in rows]

    async def inbox_ids(self, consumer: str) -> list[str]:
        inbox = self.db.tables.inbox
        async with self.db.sessions() as session:
            result = await session.execute(
                select(inbox.c.event_id).where(inbox.c.consumer == consumer).order_by(inbox.c.event_id)
            )
            return list(result.scalars())

    async def dead_letters(self, consumer: str) -> list[tuple[str | None, bytes, str, int]]:
        table = self.db.tables.dead_letters
        async with self.db.sessions() as session:
            rows = await session.execute(select(table).where(table.c.consumer == consumer))
            return [(row.event_id, row.payload, row.error, row.deliveries) for row in rows]

    async def consumer_info(self, name: str) -> ConsumerInfo:
        return await self.bus.js.consumer_info(self.stream, name)

    async def settled(self, name: str) -> bool:
        """Every message was delivered and none waits for an ack (acked or terminated)."""
        info = await self.consumer_info(name)
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def fetch_one(self, name: str) -> Msg:
        """Fetch through the consumer's durable, for tests that drive `handle_message` themselves."""
        subscription = await self.bus.js.pull_subscribe(self.filter_subject, durable=name, stream=self.stream)
        (message,) = await subscription.fetch(1, timeout=10)
        return message


@pytest_asyncio.fixture
async def ledger(db: EventDb, nats_bus: EventBus) -> Ledger:
    return Ledger(db, nats_bus, await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace))


def events_counted(consumer: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("crm_consumer_events_total", {"consumer": consumer, "outcome": outcome})
    return value or 0.0


async def run_until_settled(ledger: Ledger, *consumers: EventConsumer) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(consumer.run(stop)) for consumer in consumers]
    try:
        for consumer in consumers:
            name = consumer.name

            async def settled(name: str = name) -> bool:
                try:
                    return await ledger.settled(name)
                except NotFoundError:  # run() creates the durable; until then there is none
                    return False

            await eventually(settled)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)


async def test_a_consumer_started_before_its_producers_stream_waits_for_it_then_consumes(
    db: EventDb, nats_bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer_module, "STREAM_WAIT_SECONDS", 0.05)
    # The stream is not there yet: only its producer creates it (its NATS user alone may).
    ledger = Ledger(db, nats_bus, stream_name(SERVICE, nats_bus.namespace))
    name = ledger.name("early")
    stop = asyncio.Event()
    task = asyncio.create_task(ledger.consumer(name, {PAYMENT_RECORDED: ledger.recording_handler(name)}).run(stop))
    try:
        await asyncio.sleep(0.2)
        assert not task.done()
        await ensure_stream(nats_bus.js, SERVICE, namespace=nats_bus.namespace)
        (payment,) = await ledger.publish_payments("88.00")
        await eventually(lambda: _seen_payment(ledger, name, payment.id, "88.00"))
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_event_delivered_twice_is_handled_once_and_a_replay_gives_the_same_result(ledger: Ledger) -> None:
    first, second = await ledger.publish_payments("1280.00", "560.50")
    await ledger.publish_raw(first.SerializeToString())
    live, replay = ledger.name("ledger-live"), ledger.name("ledger-replay")

    await run_until_settled(ledger, ledger.consumer(live, {PAYMENT_RECORDED: ledger.recording_handler(live)}))

    expected = sorted([(first.id, "1280.00"), (second.id, "560.50")])
    assert await ledger.seen(live) == expected
    assert await ledger.inbox_ids(live) == sorted([first.id, second.id])
    assert events_counted(live, "handled") == 2
    assert events_counted(live, "duplicate") == 1

    # A new consumer name starts with an empty inbox and reads the stream from the beginning.
    await run_until_settled(ledger, ledger.consumer(replay, {PAYMENT_RECORDED: ledger.recording_handler(replay)}))

    assert await ledger.seen(replay) == expected
    assert await ledger.inbox_ids(replay) == sorted([first.id, second.id])


async def test_handler_failing_once_is_retried_and_its_first_attempt_leaves_nothing(ledger: Ledger) -> None:
    (payment,) = await ledger.publish_payments("1280.00")
    name = ledger.name("flaky")
    record = ledger.recording_handler(name)
    calls = 0

    async def record_after_a_database_hiccup(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        await record(session, envelope)
        if calls == 1:
            raise ConnectionError("connection reset while writing the read model")

    await run_until_settled(ledger, ledger.consumer(name, {PAYMENT_RECORDED: record_after_a_database_hiccup}))

    assert calls == 2
    assert await ledger.seen(name) == [(payment.id, "1280.00")]
    assert await ledger.inbox_ids(name) == [payment.id]
    assert await ledger.dead_letters(name) == []
    assert events_counted(name, "retried") == 1
    assert events_counted(name, "handled") == 1


async def test_permanent_error_dead_letters_and_terminates_the_message(ledger: Ledger) -> None:
    (payment,) = await ledger.publish_payments("-5.00")
    name = ledger.name("strict")

    async def reject_negative_payment(session: AsyncSession, envelope: Envelope) -> None:
        raise PermanentEventError("payment amount is negative")

    consumer = ledger.consumer(name, {PAYMENT_RECORDED: reject_negative_payment})
    await consumer.handle_message(await ledger.fetch_one(name))

    ((event_id, payload, error, deliveries),) = await ledger.dead_letters(name)
    assert event_id == payment.id
    assert payload == payment.SerializeToString()
    assert error == "payment amount is negative"
    assert deliveries == 1
    assert await ledger.inbox_ids(name) == []
    await eventually(lambda: ledger.settled(name))
    assert (await ledger.consumer_info(name)).num_redelivered == 0
    assert events_counted(name, "dead_lettered") == 1


@pytest.mark.parametrize(
    "garbage",
    [b"not an envelope", b""],
    ids=["corrupt-bytes", "empty-body"],
)
async def test_message_that_is_not_an_envelope_is_dead_lettered(ledger: Ledger, garbage: bytes) -> None:
    await ledger.publish_raw(garbage)
    name = ledger.name("picky")
    consumer = ledger.consumer(name, {PAYMENT_RECORDED: ledger.recording_handler(name)})

    await consumer.handle_message(await ledger.fetch_one(name))

    ((event_id, payload, error, _deliveries),) = await ledger.dead_letters(name)
    assert event_id is None
    assert payload == garbage
    assert "envelope" in error
    assert await ledger.inbox_ids(name) == []
    await eventually(lambda: ledger.settled(name))


@pytest.mark.parametrize(
    ("subject_event", "claimed_type"),
    [
        # Another service's event on this producer's subject: what a forger with publish rights
        # on its own subjects only could still send.
        ("customer_created", "crm.customer.v1.customer_created"),
        # This producer's own event type, on the subject of another of its events.
        ("credit_reserved", PAYMENT_RECORDED),
    ],
    ids=["another-producers-type", "another-event-of-the-producer"],
)
async def test_envelope_whose_type_does_not_match_its_subject_is_dead_lettered_unhandled(
    ledger: Ledger, subject_event: str, claimed_type: str
) -> None:
    forged = Envelope(id=str(uuid.uuid4()), type=claimed_type, tenant_id="tenant-1")
    forged.payload.Pack(StringValue(value="1000000.00"))
    await ledger.publish_raw(forged.SerializeToString(), event_name=subject_event)
    name = ledger.name("suspicious")
    handled = ledger.recording_handler(name)
    consumer = ledger.consumer(name, {PAYMENT_RECORDED: handled, "crm.customer.v1.customer_created": handled})

    await consumer.handle_message(await ledger.fetch_one(name))

    ((event_id, payload, error, _deliveries),) = await ledger.dead_letters(name)
    assert event_id == forged.id
    assert payload == forged.SerializeToString()
    assert f"envelope of type {claimed_type} on subject {ledger.bus.namespace}crm.{SERVICE}.v1.{subject_event}" in error
    assert await ledger.seen(name) == []
    assert await ledger.inbox_ids(name) == []
    await eventually(lambda: ledger.settled(name))
    assert events_counted(name, "dead_lettered") == 1


async def test_handler_still_failing_at_max_deliver_is_dead_lettered(ledger: Ledger) -> None:
    (payment,) = await ledger.publish_payments("1280.00")
    name = ledger.name("doomed")
    calls = 0

    async def always_fails(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError("credit service did not answer")

    consumer = ledger.consumer(name, {PAYMENT_RECORDED: always_fails}, max_deliver=2)
    await consumer.handle_message(await ledger.fetch_one(name))
    assert await ledger.dead_letters(name) == []
    # The nak asked for a delay; the broker redelivers after it.
    await consumer.handle_message(await ledger.fetch_one(name))

    ((event_id, _payload, error, deliveries),) = await ledger.dead_letters(name)
    assert (event_id, deliveries, calls) == (payment.id, 2, 2)
    assert "TimeoutError" in error
    await eventually(lambda: ledger.settled(name))


async def test_event_type_without_a_handler_is_acknowledged_and_ignored(ledger: Ledger) -> None:
    (payment,) = await ledger.publish_payments("1280.00")
    name = ledger.name("elsewhere")
    consumer = ledger.consumer(name, {"crm.credit.v1.credit_reserved": ledger.recording_handler(name)})

    await consumer.handle_message(await ledger.fetch_one(name))

    assert await ledger.inbox_ids(name) == []
    assert await ledger.dead_letters(name) == []
    await eventually(lambda: ledger.settled(name))
    assert events_counted(name, "ignored") == 1
    assert payment.type == PAYMENT_RECORDED


async def test_consumer_keeps_running_when_settling_a_message_fails_and_settles_it_later(ledger: Ledger) -> None:
    name = ledger.name("sturdy")
    async with ledger.db.sessions() as session, session.begin():
        await session.execute(text("ALTER TABLE dead_letters RENAME TO dead_letters_away"))
    await ledger.publish_raw(b"not an envelope")  # its dead-letter insert will fail
    (payment,) = await ledger.publish_payments("66.00")
    consumer = EventConsumer(
        name=name,
        js=ledger.bus.js,
        stream=ledger.stream,
        filter_subject=ledger.filter_subject,
        namespace=ledger.bus.namespace,
        sessions=ledger.db.sessions,
        tables=ledger.db.tables,
        handlers={PAYMENT_RECORDED: ledger.recording_handler(name)},
        ack_wait=1.0,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        # The loop survived the failure: the next event is still handled.
        await eventually(lambda: _seen_payment(ledger, name, payment.id))
        async with ledger.db.sessions() as session, session.begin():
            await session.execute(text("ALTER TABLE dead_letters_away RENAME TO dead_letters"))
        # Unacknowledged, the broken message comes back and now reaches the dead-letter table.
        await eventually(lambda: _has_dead_letter(ledger, name))
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert not task.done() or task.exception() is None


async def _seen_payment(ledger: Ledger, consumer: str, event_id: str, amount: str = "66.00") -> bool:
    return (event_id, amount) in await ledger.seen(consumer)


async def _has_dead_letter(ledger: Ledger, consumer: str) -> bool:
    return len(await ledger.dead_letters(consumer)) == 1
