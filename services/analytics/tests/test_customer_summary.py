"""The customer summary read model: counts from events, exactly once, the same after a replay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from crm.customer.v1 import customer_pb2 as cpb
from crm.customer.v1.events_pb2 import CustomerArchived, CustomerCreated, CustomerOwnerChanged, CustomerUpdated
from crm_analytics.customer_summary.events import CUSTOMER_SUMMARY
from crm_analytics.customer_summary.models import CustomerFact
from crm_analytics.customer_summary.service import CustomerSummary, customer_summary
from crmkit.events import stream_name
from crmkit.identity import Identity, Role
from crmkit.runtime import ServiceRuntime
from crmkit.testing.events import eventually, row_count

FROM, TO = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


async def summary_for(runtime: ServiceRuntime, identity: Identity) -> CustomerSummary:
    async with runtime.sessions() as session:
        return await customer_summary(
            session, identity=identity, org_unit_id=None, owner_id=None, from_date=FROM, to_date=TO
        )


async def wait_for_inbox(runtime: ServiceRuntime, count: int) -> None:
    """Until the consumer has taken `count` events (bounded; no fixed sleeps)."""
    await eventually(lambda: row_count(runtime.sessions, runtime.tables.inbox), lambda n: n >= count, within=15.0)


def cells(summary: CustomerSummary) -> set[tuple[str, str, str, str, int]]:
    return {(c.org_unit_id, c.owner_id, c.lifecycle_stage, c.type, c.count) for c in summary.counts}


async def test_summary_counts_customers_per_owner_stage_and_type(start_analytics, events, pg_database_url) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    first = events.customer(owner_id="rep-a", unit=org.shop_a)
    second = events.customer(owner_id="rep-a", unit=org.shop_a, stage=cpb.LIFECYCLE_STAGE_SIGNED)
    third = events.customer(owner_id="rep-c", unit=org.shop_b, type_="中餐")
    for customer in (first, second, third):
        await events.publish(events.envelope(CustomerCreated, customer))
    await wait_for_inbox(runtime, 3)

    boss = org.person(Role.BOSS, org.hq)
    summary = await summary_for(runtime, boss)

    assert summary.total == 3
    assert cells(summary) == {
        (org.shop_a, "rep-a", "lead", "学校食堂", 1),
        (org.shop_a, "rep-a", "signed", "学校食堂", 1),
        (org.shop_b, "rep-c", "lead", "中餐", 1),
    }


async def test_new_customers_per_day_use_the_shanghai_calendar_day_of_creation(
    start_analytics, events, pg_database_url
) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    # 2026-11-20 17:30 UTC is 2026-11-21 01:30 in Shanghai.
    late = events.customer(
        owner_id="rep-a", unit=org.shop_a, created_at=dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.UTC)
    )
    early = events.customer(
        owner_id="rep-a", unit=org.shop_a, created_at=dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
    )
    await events.publish(events.envelope(CustomerCreated, late))
    await events.publish(events.envelope(CustomerCreated, early))
    await wait_for_inbox(runtime, 2)

    summary = await summary_for(runtime, org.person(Role.ADMIN, org.hq))

    assert summary.new_per_day == [(dt.date(2026, 11, 20), 1), (dt.date(2026, 11, 21), 1)]


async def test_a_redelivered_event_is_not_counted_twice(start_analytics, events, pg_database_url) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    envelope = events.envelope(CustomerCreated, events.customer(owner_id="rep-a", unit=org.shop_a))
    # A different Nats-Msg-Id gets past the broker's de-duplication: only the inbox stands guard.
    await events.publish(envelope, msg_id="first-delivery")
    await events.publish(envelope, msg_id="second-delivery")
    marker = events.envelope(CustomerCreated, events.customer(owner_id="rep-b", unit=org.shop_a))
    await events.publish(marker)
    await wait_for_inbox(runtime, 2)
    # The marker was published last, so by the time it is in, the duplicate has been seen too.

    summary = await summary_for(runtime, org.person(Role.ADMIN, org.hq))

    assert summary.total == 2
    async with runtime.sessions() as session:
        inbox_rows = await session.scalar(select(func.count()).select_from(runtime.tables.inbox))
    assert inbox_rows == 2


async def test_stage_change_owner_change_and_archive_move_the_counts(start_analytics, events, pg_database_url) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    moved = events.customer(owner_id="rep-a", unit=org.shop_a)
    archived = events.customer(owner_id="rep-a", unit=org.shop_a)
    await events.publish(events.envelope(CustomerCreated, moved))
    await events.publish(events.envelope(CustomerCreated, archived))
    moved.lifecycle_stage = cpb.LIFECYCLE_STAGE_SIGNED
    await events.publish(events.envelope(CustomerUpdated, moved))
    moved.owner_id, moved.org_unit_id, moved.org_path = "rep-c", org.shop_b, org.path(org.shop_b)
    await events.publish(events.envelope(CustomerOwnerChanged, moved))
    archived.archived = True
    await events.publish(events.envelope(CustomerArchived, archived))
    await wait_for_inbox(runtime, 5)

    summary = await summary_for(runtime, org.person(Role.ADMIN, org.hq))

    assert cells(summary) == {(org.shop_b, "rep-c", "signed", "学校食堂", 1)}


async def test_an_older_event_arriving_late_does_not_overwrite_a_newer_state(
    start_analytics, events, pg_database_url
) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    customer = events.customer(owner_id="rep-a", unit=org.shop_a)
    created = events.envelope(CustomerCreated, customer, version=1)
    customer.lifecycle_stage = cpb.LIFECYCLE_STAGE_SIGNED
    signed = events.envelope(CustomerUpdated, customer, version=3)
    customer.lifecycle_stage = cpb.LIFECYCLE_STAGE_PROSPECT
    stale = events.envelope(CustomerUpdated, customer, version=2)
    for envelope in (created, signed, stale):
        await events.publish(envelope)
    await wait_for_inbox(runtime, 3)

    async with runtime.sessions() as session:
        fact = await session.scalar(select(CustomerFact).where(CustomerFact.customer_id == customer.id))
    assert fact is not None and (fact.lifecycle_stage, fact.version) == ("signed", 3)


async def test_each_role_sees_only_its_scope_in_the_summary(start_analytics, events, pg_database_url) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    rep_a = org.person(Role.SALES, org.shop_a)
    for owner, unit in ((rep_a.principal_id, org.shop_a), ("rep-b", org.shop_a), ("rep-c", org.shop_b)):
        await events.publish(events.envelope(CustomerCreated, events.customer(owner_id=owner, unit=unit)))
    await wait_for_inbox(runtime, 3)

    assert (await summary_for(runtime, rep_a)).total == 1
    assert (await summary_for(runtime, org.person(Role.SUPERVISOR, org.sub_a))).total == 2
    assert (await summary_for(runtime, org.person(Role.BOSS, org.hq))).total == 3
    stranger = Identity(principal_id="x", tenant_id="another-tenant", org_unit_id="u", org_path="/u/", role=Role.ADMIN)
    assert (await summary_for(runtime, stranger)).total == 0


async def test_replaying_the_stream_into_an_empty_database_gives_the_same_numbers(  # type: ignore[no-untyped-def]
    start_analytics, events, pg_database_url, second_database
) -> None:
    org = events.org
    runtime = await start_analytics(pg_database_url)
    published = 0
    for index in range(12):
        customer = events.customer(
            owner_id=f"rep-{index % 3}",
            unit=org.shop_a if index % 2 else org.shop_b,
            created_at=dt.datetime(2026, 11, 1 + index, 3, 0, tzinfo=dt.UTC),
        )
        await events.publish(events.envelope(CustomerCreated, customer))
        published += 1
        if index % 4 == 0:
            customer.lifecycle_stage = cpb.LIFECYCLE_STAGE_SIGNED
            await events.publish(events.envelope(CustomerUpdated, customer))
            published += 1
    await wait_for_inbox(runtime, published)
    admin = org.person(Role.ADMIN, org.hq)
    before = await summary_for(runtime, admin)
    await runtime.close()
    # Replay from the start: drop the durable consumer so a fresh one delivers everything again.
    await events.nc.jetstream().delete_consumer(
        stream_name("customer", events.namespace), CUSTOMER_SUMMARY.durable_name("analytics", events.namespace)
    )

    replayed = await start_analytics(second_database)
    await wait_for_inbox(replayed, published)
    after = await summary_for(replayed, admin)

    assert before.total == 12
    assert cells(after) == cells(before)
    assert after.new_per_day == before.new_per_day
