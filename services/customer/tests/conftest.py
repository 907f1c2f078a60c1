"""Fixtures: a real customer service (PostgreSQL + JetStream) served in-process over gRPC."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import customer_pb2_grpc
from crm.events.v1.envelope_pb2 import Envelope
from crm.gateway.v1.events_pb2 import UserChanged
from crm_customer.customers.models import Customer
from crm_customer.directory.service import on_user_changed
from crm_customer.spec import SPEC
from crmkit.clock import MovableClock
from crmkit.identity import Identity
from crmkit.runtime import ServiceRuntime
from crmkit.testing.events import OutboxRow, all_published, envelope_for, eventually, outbox_rows
from crmkit.testing.harness import OrgTree, TestKeys, make_keys
from crmkit.testing.rpc import refusal
from crmkit.testing.services import running_service


@dataclass
class CustomerHarness:
    runtime: ServiceRuntime
    stub: customer_pb2_grpc.CustomerServiceStub
    keys: TestKeys
    org: OrgTree
    namespace: str
    # The service's business clock: real time until a test moves it forward.
    clock: MovableClock

    def metadata(self, identity: Identity) -> tuple[tuple[str, str], ...]:
        return self.keys.metadata(identity)

    async def create(self, identity: Identity, request_id: str = "", **fields: Any) -> pb.Customer:
        """Create a customer as `identity`; `fields` are pb.Customer fields."""
        request = pb.CreateCustomerRequest(request_id=request_id or str(uuid.uuid4()), customer=pb.Customer(**fields))
        response = await self.stub.CreateCustomer(request, metadata=self.metadata(identity))
        return response.customer

    async def search(self, identity: Identity, query: str, page_size: int = 0) -> list[str]:
        """Names of the first page of search results, best match first."""
        response = await self.stub.SearchCustomers(
            pb.SearchCustomersRequest(query=query, page_size=page_size), metadata=self.metadata(identity)
        )
        return [c.name for c in response.customers]

    async def list_names(self, identity: Identity, **filters: Any) -> list[str]:
        response = await self.stub.ListCustomers(pb.ListCustomersRequest(**filters), metadata=self.metadata(identity))
        return [c.name for c in response.customers]

    async def outbox(self) -> list[OutboxRow]:
        """Every event written so far, in the order the relay publishes them."""
        return await outbox_rows(self.runtime.sessions, self.runtime.tables)

    async def published_outbox(self, within: float = 10.0) -> list[OutboxRow]:
        """Every event written so far, once the relay has published them all."""
        return await eventually(self.outbox, all_published, within=within)

    async def event_types(self) -> list[str]:
        return [row.envelope.type for row in await self.outbox()]

    refusal = staticmethod(refusal)

    async def announce_user(
        self,
        user: Identity,
        *,
        active: bool = True,
        role: str = "",
        version: int = 1,
        name: str = "",
        username: str = "",
    ) -> None:
        """Apply the gateway's user_changed for `user` as the service's consumer would (the
        NATS path is tested in test_directory_copy.py)."""
        envelope = user_changed_envelope(
            user, active=active, role=role, version=version, name=name, at=self.clock(), username=username
        )
        message = UserChanged()
        envelope.payload.Unpack(message)
        async with self.runtime.sessions() as session, session.begin():
            await on_user_changed(session, message, envelope)

    async def customer_count(self) -> int:
        async with self.runtime.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Customer)) or 0)


def user_changed_envelope(
    user: Identity, *, active: bool, role: str, version: int, name: str, at: Any, username: str = ""
) -> Envelope:
    message = UserChanged(
        user_id=user.principal_id,
        org_unit_id=user.org_unit_id,
        org_path=user.org_path,
        role=role or user.role.value,
        active=active,
        display_name=name or f"用户{user.principal_id[:4]}",
        username=username,
    )
    return envelope_for(
        message,
        tenant_id=user.tenant_id,
        org_unit_id=user.org_unit_id,
        aggregate_id=user.principal_id,
        aggregate_version=version,
        occurred_at=at,
    )


@pytest.fixture
def keys(tmp_path: Path) -> TestKeys:
    return make_keys(tmp_path)


@asynccontextmanager
async def serve_customer_service(
    database_url: str, nats_url: str, namespace: str, keys: TestKeys
) -> AsyncIterator[CustomerHarness]:
    clock = MovableClock()
    async with running_service(
        SPEC, database_url=database_url, nats_url=nats_url, namespace=namespace, keys=keys, clock=clock
    ) as (running, channel):
        yield CustomerHarness(
            runtime=running.runtime,
            stub=customer_pb2_grpc.CustomerServiceStub(channel),
            keys=keys,
            org=OrgTree.create(),
            namespace=namespace,
            clock=clock,
        )


@pytest_asyncio.fixture
async def customer_service(
    pg_database_url: str, nats_url: str, stream_prefix: str, keys: TestKeys
) -> AsyncIterator[CustomerHarness]:
    """The service on PostgreSQL (production)."""
    async with serve_customer_service(pg_database_url, nats_url, f"{stream_prefix}.", keys) as harness:
        yield harness


@pytest_asyncio.fixture
async def customer_service_sqlite(
    tmp_path: Path, nats_url: str, stream_prefix: str, keys: TestKeys
) -> AsyncIterator[CustomerHarness]:
    """The service on SQLite (the embedded default of `make run`)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'customer.db'}"
    async with serve_customer_service(url, nats_url, f"{stream_prefix}.", keys) as harness:
        yield harness


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> CustomerHarness:
    """The service on the backend a test is parametrized with ("customer_service" or
    "customer_service_sqlite"), for behaviour that must hold on both."""
    harness: CustomerHarness = request.getfixturevalue(request.param)
    return harness
