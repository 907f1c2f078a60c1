"""The pool rule "no order in M days": each customer's last order time kept from the order
service's order_confirmed events, and the sweep returning customers nobody ordered for."""

from __future__ import annotations

import datetime as dt
import uuid

from crm.customer.v1 import events_pb2
from crm.customer.v1 import pools_pb2 as ppb
from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import events_pb2 as order_events
from crm.order.v1 import order_pb2 as opb
from crm_customer.pools.last_orders import LAST_ORDERS
from crmkit.events import event_type_of, timestamp_of
from crmkit.identity import Role
from crmkit.testing.jobs import ran_since
from crmkit.testing.rpc import refusal


async def _confirmed(harness, customer_id: str, at: dt.datetime, event_id: str = "") -> None:  # type: ignore[no-untyped-def]
    """An order_confirmed of the customer at `at`, handed to the consumer's handler in one
    transaction, as its inbox does."""
    tenant = harness.org.tenant_id
    message = order_events.OrderConfirmed(
        order=opb.Order(id=str(uuid.uuid4()), tenant_id=tenant, customer_id=customer_id)
    )
    envelope = Envelope(
        id=event_id or str(uuid.uuid4()),
        type=event_type_of(order_events.OrderConfirmed),
        tenant_id=tenant,
        aggregate_id=message.order.id,
        aggregate_version=2,
        occurred_at=timestamp_of(at),
    )
    envelope.payload.Pack(message)
    handler = LAST_ORDERS.envelope_handlers()[envelope.type]
    async with harness.runtime.sessions() as session, session.begin():
        await handler(session, envelope)


async def _move(harness, by: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    moved_to = harness.clock.advance(by)
    await ran_since(harness.runtime.sessions, "pool-sweep", moved_to)


async def test_a_customer_without_an_order_for_the_pools_days_returns_and_one_that_ordered_stays(
    customer_service,  # type: ignore[no-untyped-def]
) -> None:
    org = customer_service.org
    rep, boss = org.person(Role.SALES, org.shop_a), org.person(Role.BOSS, org.hq)
    pool = (
        await customer_service.stub.CreatePool(
            ppb.CreatePoolRequest(
                pool=ppb.Pool(
                    name="公海",
                    org_unit_id=org.sub_a,
                    org_path=org.path(org.sub_a),
                    rules=ppb.PoolRules(no_order_days=30, warn_days_before=3),
                )
            ),
            metadata=customer_service.metadata(boss),
        )
    ).pool
    ordering = await customer_service.create(rep, name="临沂兰山区食堂")
    await customer_service.create(rep, name="临沂罗庄区食堂")

    await _move(customer_service, dt.timedelta(days=20))
    ordered_at = customer_service.clock()
    await _confirmed(customer_service, ordering.id, ordered_at, event_id="e1")
    # An older confirmation arriving late does not move the clock back.
    await _confirmed(customer_service, ordering.id, ordered_at - dt.timedelta(days=19))
    await _move(customer_service, dt.timedelta(days=11))
    after_31_days = sorted(await customer_service.list_names(rep))
    await _move(customer_service, dt.timedelta(days=20))
    after_51_days = await customer_service.list_names(rep)

    assert after_31_days == ["临沂兰山区食堂"]
    assert after_51_days == []
    returned = []
    for row in await customer_service.published_outbox():
        if row.envelope.type == event_type_of(events_pb2.CustomerReturnedToPool):
            message = events_pb2.CustomerReturnedToPool()
            assert row.envelope.payload.Unpack(message)
            returned.append((message.customer.name, message.rule, message.pool_id))
    assert returned == [("临沂罗庄区食堂", "no_order", pool.id), ("临沂兰山区食堂", "no_order", pool.id)]


async def test_the_rule_is_off_by_default_and_its_days_are_checked(customer_service) -> None:  # type: ignore[no-untyped-def]
    org = customer_service.org
    boss = org.person(Role.BOSS, org.hq)
    created = await customer_service.stub.CreatePool(
        ppb.CreatePoolRequest(pool=ppb.Pool(name="公海", org_unit_id=org.hq, org_path=org.path(org.hq))),
        metadata=customer_service.metadata(boss),
    )
    refused = await refusal(
        customer_service.stub.CreatePool(
            ppb.CreatePoolRequest(
                pool=ppb.Pool(
                    name="公海2",
                    org_unit_id=org.sub_b,
                    org_path=org.path(org.sub_b),
                    rules=ppb.PoolRules(no_order_days=-1),
                )
            ),
            metadata=customer_service.metadata(boss),
        )
    )

    assert created.pool.rules.no_order_days == 0
    assert refused.field == "pool.rules.no_order_days"
