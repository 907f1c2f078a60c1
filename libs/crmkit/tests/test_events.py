"""The outbox row written with a business change, and the names events travel under."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import select

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.events import add_event, batched_events, stream_name, subject_for, timestamp_of
from crmkit.testing.events import OCCURRED_AT, EventDb


def test_subject_is_service_version_and_event_name() -> None:
    assert subject_for("credit", "payment_recorded") == "crm.credit.v1.payment_recorded"
    assert subject_for("credit", "payment_recorded", "staging.") == "staging.crm.credit.v1.payment_recorded"


def test_stream_name_keeps_the_namespace_recognisable() -> None:
    assert stream_name("credit") == "CRM_CREDIT"
    assert stream_name("credit", "Tab12cd.") == "Tab12cd_CRM_CREDIT"


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 3, 20, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(1900, 1, 1, tzinfo=dt.UTC),
    ],
)
def test_a_timestamp_is_the_one_protobuf_makes_of_the_utc_time(value: dt.datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value.astimezone(dt.UTC))
    assert timestamp_of(value) == expected


async def test_committed_event_is_in_the_outbox_with_its_envelope(db: EventDb) -> None:
    envelope = await db.commit_event(service="credit", event_name="payment_recorded", namespace="")
    outbox = db.tables.outbox
    async with db.sessions() as session:
        row = (await session.execute(select(outbox))).one()
    assert row.event_id == envelope.id
    assert row.subject == "crm.credit.v1.payment_recorded"
    assert row.published_at is None
    assert row.attempts == 0
    stored = Envelope.FromString(row.envelope)
    assert stored.type == "crm.credit.v1.payment_recorded"
    assert stored.occurred_at.ToDatetime().replace(tzinfo=OCCURRED_AT.tzinfo) == OCCURRED_AT
    payload = StringValue()
    assert stored.payload.Unpack(payload)
    assert payload.value == "1280.00"


async def test_event_added_in_a_rolled_back_transaction_leaves_no_outbox_row(db: EventDb) -> None:
    class PaymentRejected(Exception):
        pass

    with pytest.raises(PaymentRejected):
        async with db.sessions() as session, session.begin():
            await add_event(
                session,
                db.tables,
                service="credit",
                event_name="payment_recorded",
                message=StringValue(value="1280.00"),
                tenant_id="tenant-1",
                org_unit_id="shop-1",
                aggregate_id=str(uuid.uuid4()),
                aggregate_version=1,
                occurred_at=OCCURRED_AT,
                actor_id="finance-1",
            )
            raise PaymentRejected
    assert await db.count(db.tables.outbox) == 0


async def test_add_event_leaves_the_commit_to_the_caller(db: EventDb) -> None:
    async with db.sessions() as session:
        await add_event(
            session,
            db.tables,
            service="credit",
            event_name="payment_recorded",
            message=StringValue(value="1280.00"),
            tenant_id="tenant-1",
            org_unit_id="shop-1",
            aggregate_id=str(uuid.uuid4()),
            aggregate_version=1,
            occurred_at=OCCURRED_AT,
            actor_id="finance-1",
        )
        # Closing the session without commit is what happens when the caller's work fails.
    assert await db.count(db.tables.outbox) == 0


async def test_batched_events_are_written_together_in_the_order_they_were_added(db: EventDb) -> None:
    amounts = [f"{n}.00" for n in range(1, 6)]
    async with db.sessions() as session, session.begin(), batched_events(session, db.tables):
        for amount in amounts:
            await add_event(
                session,
                db.tables,
                service="credit",
                event_name="payment_recorded",
                message=StringValue(value=amount),
                tenant_id="tenant-1",
                org_unit_id="shop-1",
                aggregate_id="receivable-1",
                aggregate_version=1,
                occurred_at=OCCURRED_AT,
                actor_id="finance-1",
            )
        outbox = db.tables.outbox
        during = (await session.execute(select(outbox.c.seq))).all()
    async with db.sessions() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()

    assert during == []
    written = []
    for row in rows:
        payload = StringValue()
        Envelope.FromString(row.envelope).payload.Unpack(payload)
        written.append(payload.value)
    assert written == amounts
