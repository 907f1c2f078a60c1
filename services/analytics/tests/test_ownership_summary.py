"""The ownership read model: pool sizes, claims and returns per day, and follow-up coverage per
rep, from customer events, each counted once."""

from __future__ import annotations

import datetime as dt

from crm.customer.v1 import customer_pb2 as cpb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1.events_pb2 import CustomerCreated, CustomerOwnerChanged, InteractionLogged
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.customer_summary.service import OwnershipSummary, ownership_summary
from crmkit.events import timestamp_of
from crmkit.identity import Identity, Role
from crmkit.runtime import ServiceRuntime
from crmkit.testing.events import eventually, row_count

NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC)


async def _summary(runtime: ServiceRuntime, identity: Identity) -> OwnershipSummary:
    async with runtime.sessions() as session:
        return await ownership_summary(
            session,
            identity=identity,
            org_unit_id=None,
            from_date=dt.date(2026, 11, 1),
            to_date=dt.date(2026, 11, 30),
            now=NOW,
        )


def _owner_changed(events, customer: cpb.Customer, kind: int, at: dt.datetime) -> Envelope:  # type: ignore[no-untyped-def]
    customer.update_time.CopyFrom(timestamp_of(at))
    envelope: Envelope = events.envelope(CustomerOwnerChanged, customer)
    message = CustomerOwnerChanged()
    envelope.payload.Unpack(message)
    message.kind = kind  # type: ignore[assignment]
    envelope.payload.Pack(message)
    return envelope


async def test_pool_sizes_movements_and_coverage_come_from_the_events(start_analytics, events, pg_database_url) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    kept = events.customer(owner_id="rep-a", unit=org.shop_a)
    neglected = events.customer(owner_id="rep-a", unit=org.shop_a)
    claimed = events.customer(owner_id="rep-b", unit=org.shop_a)
    for customer in (kept, neglected, claimed):
        await events.publish(events.envelope(CustomerCreated, customer))

    # rep-a followed `kept` up ten days ago; `neglected` went back to the sub_a pool on 11-28.
    kept.last_interaction_time.CopyFrom(timestamp_of(NOW - dt.timedelta(days=10)))
    await events.publish(events.envelope(InteractionLogged, kept))
    neglected.owner_id, neglected.pool_id = "", "pool-a"
    neglected.org_unit_id, neglected.org_path = org.sub_a, org.path(org.sub_a)
    returned = _owner_changed(
        events, neglected, opb.OWNER_CHANGE_KIND_RETURNED_BY_RULE, dt.datetime(2026, 11, 28, 2, tzinfo=dt.UTC)
    )
    await events.publish(returned)
    # `claimed` sat in the pool, then rep-c claimed it on 11-29 (its snapshot names no pool).
    claimed.owner_id, claimed.pool_id = "", "pool-a"
    claimed.org_unit_id, claimed.org_path = org.sub_a, org.path(org.sub_a)
    await events.publish(
        _owner_changed(events, claimed, opb.OWNER_CHANGE_KIND_RELEASED, dt.datetime(2026, 11, 28, 3, tzinfo=dt.UTC))
    )
    claimed.owner_id, claimed.pool_id = "rep-c", ""
    claimed.org_unit_id, claimed.org_path = org.shop_a, org.path(org.shop_a)
    await events.publish(
        _owner_changed(events, claimed, opb.OWNER_CHANGE_KIND_APPROVED, dt.datetime(2026, 11, 29, 3, tzinfo=dt.UTC))
    )
    # A redelivery of the return is not a second return. The marker goes last: once it is in,
    # the redelivery has been seen too.
    await events.publish(returned, msg_id=f"{returned.id}-again")
    await events.publish(events.envelope(CustomerCreated, events.customer(owner_id="", unit=org.hq)))
    await eventually(lambda: row_count(runtime.sessions, runtime.tables.inbox), lambda n: n >= 8, within=15.0)

    boss = await _summary(runtime, org.person(Role.BOSS, org.hq))
    rep_a = await _summary(runtime, org.person(Role.SALES, org.shop_a, principal_id="rep-a"))

    assert boss.pools == [("pool-a", 1)]
    assert boss.movements == [
        (dt.date(2026, 11, 28), "pool-a", "released", 1),
        (dt.date(2026, 11, 28), "pool-a", "returned", 1),
        (dt.date(2026, 11, 29), "pool-a", "claimed", 1),
    ]
    assert boss.coverage == [("rep-a", 1, 1), ("rep-c", 1, 0)]
    assert (rep_a.pools, rep_a.movements, rep_a.coverage) == ([], [], [("rep-a", 1, 1)])
