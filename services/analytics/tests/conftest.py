"""Fixtures: the analytics service on a real PostgreSQL, consuming from a real JetStream."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
import pytest_asyncio
from google.protobuf.message import Message
from nats.aio.client import Client as NATS

from crm.customer.v1 import customer_pb2 as cpb
from crm.customer.v1 import events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.customer_summary.events import CustomerEvent
from crm_analytics.spec import SPEC
from crmkit.bus import ensure_stream
from crmkit.events import event_type_of, subject_for, timestamp_of
from crmkit.runtime import ServiceRuntime
from crmkit.service import RunningService
from crmkit.testing.harness import OrgTree, TestKeys, make_keys
from crmkit.testing.infra import PostgresServer
from crmkit.testing.services import start_test_service

StartAnalytics = Callable[[str], Awaitable[ServiceRuntime]]


@pytest.fixture
def keys(tmp_path: Path) -> TestKeys:
    return make_keys(tmp_path)


@pytest_asyncio.fixture
async def start_analytics(nats_url: str, stream_prefix: str, keys: TestKeys) -> AsyncIterator[StartAnalytics]:
    """Start an analytics runtime on a given database; everything started is closed at the end."""
    started: list[RunningService] = []

    async def _start(database_url: str) -> ServiceRuntime:
        running = await start_test_service(
            SPEC, database_url=database_url, nats_url=nats_url, namespace=f"{stream_prefix}.", keys=keys
        )
        started.append(running)
        return running.runtime

    yield _start
    for running in started:
        await running.server.stop(0)
        if not running.runtime.stop.is_set():
            await running.runtime.close()


@dataclass
class CustomerEventSource:
    """Publishes customer events the way the customer service's relay does."""

    nc: NATS
    namespace: str
    org: OrgTree
    versions: dict[str, int] = field(default_factory=dict)

    def customer(
        self,
        *,
        owner_id: str,
        unit: str,
        stage: cpb.LifecycleStage.ValueType = cpb.LIFECYCLE_STAGE_LEAD,
        type_: str = "学校食堂",
        created_at: dt.datetime | None = None,
        customer_id: str | None = None,
    ) -> cpb.Customer:
        created = created_at or dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
        return cpb.Customer(
            id=customer_id or str(uuid.uuid4()),
            tenant_id=self.org.tenant_id,
            org_unit_id=unit,
            org_path=self.org.path(unit),
            owner_id=owner_id,
            name="测试客户",
            type=type_,
            lifecycle_stage=stage,
            version=1,
            create_time=timestamp_of(created),
            update_time=timestamp_of(created),
        )

    def envelope(self, event: type[CustomerEvent], customer: cpb.Customer, *, version: int | None = None) -> Envelope:
        version = version or self.versions.get(customer.id, 0) + 1
        self.versions[customer.id] = max(version, self.versions.get(customer.id, 0))
        customer.version = version
        message: Message = event(customer=customer)
        if isinstance(message, events_pb2.CustomerUpdated):
            message.changed_fields.append("lifecycle_stage")
        envelope = Envelope(
            id=str(uuid.uuid4()),
            type=event_type_of(event),
            tenant_id=customer.tenant_id,
            org_unit_id=customer.org_unit_id,
            aggregate_id=customer.id,
            aggregate_version=version,
            occurred_at=customer.update_time,
        )
        envelope.payload.Pack(message)
        return envelope

    async def publish(self, envelope: Envelope, *, msg_id: str | None = None) -> None:
        js = self.nc.jetstream()
        name = envelope.type.rsplit(".", 1)[1]
        await js.publish(
            subject_for("customer", name, self.namespace),
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": msg_id or envelope.id},
        )


@pytest_asyncio.fixture
async def events(nats_url: str, stream_prefix: str) -> AsyncIterator[CustomerEventSource]:
    nc = await nats.connect(nats_url)
    namespace = f"{stream_prefix}."
    await ensure_stream(nc.jetstream(), "customer", namespace=namespace)
    yield CustomerEventSource(nc=nc, namespace=namespace, org=OrgTree.create())
    await nc.close()


@pytest_asyncio.fixture
async def second_database(postgres_server: PostgresServer) -> str:
    return await postgres_server.create_database("analytics_replay")
