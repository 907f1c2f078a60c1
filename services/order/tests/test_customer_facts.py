"""The order service's copy of customer facts: fed through its inbox from the customer stream,
idempotent, never overwritten by an older event, and rebuilt the same by a replay."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import nats
from sqlalchemy import select

from crm.customer.v1 import calendar_pb2, events_pb2, profile_pb2
from crm.customer.v1 import customer_pb2 as cpb
from crm.events.v1.envelope_pb2 import Envelope
from crm_order.customer_facts.events import CUSTOMER_FACTS
from crm_order.customer_facts.models import CustomerClosure, CustomerFact
from crmkit.events import event_type_of, stream_name
from crmkit.identity import Role
from crmkit.testing.events import eventually
from crmkit.testing.harness import TestKeys
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness, customer_envelope, publish_subject, serve_order_service


def _customer(harness: OrderHarness, customer_id: str, owner: str, version: int, halal: bool) -> cpb.Customer:
    unit = harness.org.shop_a
    return cpb.Customer(
        id=customer_id,
        tenant_id=harness.org.tenant_id,
        org_unit_id=unit,
        org_path=harness.org.path(unit),
        owner_id=owner,
        name="苏州清真餐厅",
        version=version,
        special_requirements=[profile_pb2.SpecialRequirement(kind="halal")] if halal else [],
    )


def _history(harness: OrderHarness, customer_id: str) -> list[Envelope]:
    """A customer's life: created, made halal with a new owner, a closure scheduled then removed."""
    tenant = harness.org.tenant_id
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    closure = calendar_pb2.Closure(
        id=str(uuid.uuid4()), customer_id=customer_id, start_date="2027-01-20", end_date="2027-02-20", version=1
    )
    removed = calendar_pb2.Closure()
    removed.CopyFrom(closure)
    removed.version = 2
    messages: list[tuple[Any, int]] = [
        (events_pb2.CustomerCreated(customer=_customer(harness, customer_id, first, 1, False)), 1),
        (events_pb2.CustomerOwnerChanged(customer=_customer(harness, customer_id, second, 2, True)), 2),
        (events_pb2.ClosureScheduled(tenant_id=tenant, customer_id=customer_id, closure=closure), 2),
        (events_pb2.ClosureRemoved(tenant_id=tenant, customer_id=customer_id, closure=removed), 2),
    ]
    return [customer_envelope(m, tenant_id=tenant, customer_id=customer_id, version=v) for m, v in messages]


# Each event type the history holds, by its envelope type (derived from the proto).
KINDS = {
    event_type_of(kind): kind
    for kind in (
        events_pb2.CustomerCreated,
        events_pb2.CustomerOwnerChanged,
        events_pb2.ClosureScheduled,
        events_pb2.ClosureRemoved,
    )
}


async def _publish(
    nats_url: str, namespace: str, envelopes: list[Envelope], *, msg_ids: list[str] | None = None
) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for index, envelope in enumerate(envelopes):
        message_type = KINDS[envelope.type]
        await js.publish(
            publish_subject(namespace, message_type),
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": msg_ids[index] if msg_ids else envelope.id},
        )
    await nc.close()


async def _facts(harness: OrderHarness, customer_id: str) -> tuple[Any, ...] | None:
    async with harness.runtime.read_sessions() as session:
        fact = await session.get(CustomerFact, (harness.org.tenant_id, customer_id))
        closures = (await session.execute(select(CustomerClosure.removed, CustomerClosure.version))).all()
    if fact is None:
        return None
    return (fact.owner_id, fact.requirements, fact.version, [tuple(c) for c in closures])


async def test_customer_events_arrive_once_and_a_replay_rebuilds_the_same_facts(
    pg_database_url: str, nats_url: str, stream_prefix: str, keys: TestKeys, postgres_server: Any
) -> None:
    namespace = f"{stream_prefix}."
    customer_id = str(uuid.uuid4())
    async with serve_order_service(pg_database_url, nats_url, namespace, keys) as first:
        history = _history(first, customer_id)
        await _publish(nats_url, namespace, history)
        # The same events again under new broker ids: only the inbox can tell they were seen.
        await _publish(nats_url, namespace, history, msg_ids=[str(uuid.uuid4()) for _ in history])
        facts = await eventually(
            lambda: _facts(first, customer_id),
            lambda f: f is not None and f[2] == 2 and len(f[3]) == 1 and f[3][0][0],
        )
        assert facts is not None
        _, requirements, _, closures = facts
        assert requirements == [{"kind": "halal", "details": []}]
        assert closures == [(True, 2)]
        # An older snapshot arriving late changes nothing.
        await first.apply(history[0])
        assert await _facts(first, customer_id) == facts
        org = first.org

    # Replay from the start: a fresh durable consumer on an empty database gets every event again.
    nc = await nats.connect(nats_url)
    await nc.jetstream().delete_consumer(
        stream_name("customer", namespace), CUSTOMER_FACTS.durable_name("order", namespace)
    )
    await nc.close()
    replay_url = await postgres_server.create_database(f"order_replay_{uuid.uuid4().hex[:8]}")
    async with serve_order_service(replay_url, nats_url, namespace, keys) as replayed:
        replayed.org = org
        rebuilt = await eventually(lambda: _facts(replayed, customer_id), lambda f: f == facts)
    assert rebuilt == facts


async def test_orders_follow_the_requirements_the_events_bring(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    pork = await order_service.product("ZR-001", "猪里脊", contains_pork=True)
    assert (await order_service.order(rep, customer, [pork])).id
    await order_service.customer(rep, customer_id=customer, requirements=[("no_pork", [])])
    tomorrow = order_service.today() + dt.timedelta(days=1)
    refused = await refusal(order_service.order(rep, customer, [pork], delivery=tomorrow))
    assert refused.trailers["crm-error-code"] == "requirement_conflict"
