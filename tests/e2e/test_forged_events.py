"""The stack on the devstack's own NATS, as `make run` starts it: the server admits only the
services' users, so a forged customer event is refused, and a customer still reaches analytics."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as NATS

from crm.customer.v1 import customer_pb2, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_devstack.stack import Stack
from crmkit import bus
from crmkit.events import event_type_of, stream_name, subject_for, timestamp_of

from .conftest import ADMIN_PASSWORD, running_stack
from .test_customer_journey import login, new_customer, wait_for_total

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # No NATS URL and no databases: the devstack starts its own NATS, with a user per service,
    # and each service uses its SQLite default, as `make run` does.
    yield from running_stack(tmp_path_factory.mktemp("own-nats"), "", {})


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url, timeout=15.0) as session:
        yield session


def forged_customer_created(me: dict[str, Any]) -> bytes:
    """A well-formed CustomerCreated for a customer that does not exist, in the admin's tenant:
    analytics would count it, as it counted the one the security review forged."""
    now = timestamp_of(dt.datetime.now(dt.UTC))
    unit = me["org_unit"]["id"]
    ghost = customer_pb2.Customer(
        id=str(uuid.uuid4()),
        tenant_id=me["tenant_id"],
        org_unit_id=unit,
        org_path=f"/{unit}/",
        owner_id=me["id"],
        name="不存在的客户",
        type="学校食堂",
        lifecycle_stage=customer_pb2.LIFECYCLE_STAGE_LEAD,
        version=1,
        create_time=now,
        update_time=now,
    )
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=event_type_of(events_pb2.CustomerCreated),
        tenant_id=me["tenant_id"],
        org_unit_id=unit,
        aggregate_id=ghost.id,
        aggregate_version=1,
        occurred_at=now,
    )
    envelope.payload.Pack(events_pb2.CustomerCreated(customer=ghost))
    return envelope.SerializeToString()


async def publish_without_credentials(stack: Stack, data: bytes) -> str:
    subject = subject_for("customer", "customer_created", stack.config.event_namespace)
    try:
        connection = await nats.connect(stack.config.nats_url, allow_reconnect=False, connect_timeout=5)
    except nats.errors.Error as refused:
        return str(refused)
    try:
        await connection.jetstream().publish(subject, data, timeout=2.0)
    finally:
        await connection.close()
    return "published"


async def connect_as(stack: Stack, service: str) -> NATS:
    """A connection with `service`'s own seed, which the devstack generated for it."""
    return await bus.connect_service(
        stack.config.nats_url,
        service,
        namespace=stack.config.event_namespace,
        nkey_seed_file=stack.nats_seed_files[service],
    )


async def publish_as(stack: Stack, service: str, data: bytes) -> str:
    connection = await connect_as(stack, service)
    try:
        subject = subject_for("customer", "customer_created", stack.config.event_namespace)
        await connection.jetstream().publish(subject, data, timeout=2.0)
    except nats.errors.TimeoutError:
        return "no ack"
    finally:
        await connection.close()
    return "published"


async def customer_stream_messages(stack: Stack) -> int:
    """How many events the customer stream holds, read with the customer service's user."""
    connection = await connect_as(stack, "customer")
    try:
        info = await connection.jetstream().stream_info(stream_name("customer", stack.config.event_namespace))
    finally:
        await connection.close()
    return info.state.messages


def test_a_forged_customer_event_is_refused_and_real_customers_are_counted(stack: Stack, client: httpx.Client) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    me = client.get("/api/v1/auth/me", headers=admin).json()
    created = client.post("/api/v1/customers", headers=admin, json=new_customer("太原迎泽区食堂", "13700137000"))
    assert created.status_code == 201, created.text
    assert wait_for_total(client, admin, 1) == 1

    forged = forged_customer_created(me)
    assert "Authorization Violation" in asyncio.run(publish_without_credentials(stack, forged))
    # analytics' own user may read customer events, not publish them.
    assert asyncio.run(publish_as(stack, "analytics", forged)) == "no ack"
    assert asyncio.run(customer_stream_messages(stack)) == 1

    # Events are applied in stream order: once the next real customer is counted, a forged
    # event that had got in before it would have been counted too.
    second = client.post("/api/v1/customers", headers=admin, json=new_customer("太原小店区食堂", "13700137001"))
    assert second.status_code == 201, second.text
    assert wait_for_total(client, admin, 2) == 2
    assert asyncio.run(customer_stream_messages(stack)) == 2


def test_a_contacts_mobile_is_in_no_database_file_broker_store_or_log(stack: Stack, client: httpx.Client) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    mobile = "13911390000"
    before = client.get("/api/v1/analytics/customer-summary", headers=admin).json()["total"]
    created = client.post("/api/v1/customers", headers=admin, json=new_customer("呼和浩特回民区食堂", mobile))
    assert created.status_code == 201, created.text
    # Counted by analytics: the event went through the broker and was stored there.
    assert wait_for_total(client, admin, before + 1) == before + 1
    assert asyncio.run(customer_stream_messages(stack)) >= 1
    found = client.get("/api/v1/customers", headers=admin, params={"q": mobile}).json()["items"]
    assert [c["contacts"][0]["mobile"] for c in found] == [mobile]

    # Everything the stack writes: every service's SQLite database (with its WAL), the NATS
    # store, the logs.
    state = stack.config.state_dir
    places = [path for path in state.rglob("*") if path.is_file()]
    holding = [str(path) for path in places if mobile.encode() in path.read_bytes()]

    assert any(path.name == "customer.db" for path in places)
    assert holding == []
