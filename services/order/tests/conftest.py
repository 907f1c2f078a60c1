"""Fixtures: a real order service (PostgreSQL or SQLite, and JetStream) served in-process over
gRPC, with customer facts fed the way the customer service's events feed them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio
from google.protobuf.message import Message

from crm.customer.v1 import calendar_pb2, events_pb2, profile_pb2
from crm.customer.v1 import customer_pb2 as cpb
from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import catalogue_pb2, order_pb2, order_pb2_grpc
from crm_order.customer_facts.events import CUSTOMER_FACTS
from crm_order.spec import SPEC
from crmkit.bus import ensure_stream
from crmkit.clock import MovableClock, shanghai_date
from crmkit.events import event_type_of, subject_for, timestamp_of
from crmkit.identity import Identity, Role
from crmkit.runtime import ServiceRuntime
from crmkit.testing.harness import OrgTree, TestKeys, make_keys
from crmkit.testing.services import running_service


def customer_envelope(message: Message, *, tenant_id: str, customer_id: str, version: int) -> Envelope:
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=event_type_of(type(message)),
        tenant_id=tenant_id,
        aggregate_id=customer_id,
        aggregate_version=version,
        occurred_at=timestamp_of(dt.datetime.now(dt.UTC)),
    )
    envelope.payload.Pack(message)
    return envelope


@dataclass
class OrderHarness:
    runtime: ServiceRuntime
    stub: order_pb2_grpc.OrderServiceStub
    keys: TestKeys
    org: OrgTree
    namespace: str
    clock: MovableClock
    versions: dict[str, int] = field(default_factory=dict)
    admin: Identity = field(init=False)

    def __post_init__(self) -> None:
        self.admin = self.org.person(Role.ADMIN, self.org.hq)

    def md(self, identity: Identity) -> tuple[tuple[str, str], ...]:
        return self.keys.metadata(identity)

    def today(self) -> dt.date:
        return shanghai_date(self.clock())

    async def apply(self, envelope: Envelope) -> None:
        """Hand a customer event to the service's handler, in one transaction, as its consumer does."""
        handler = CUSTOMER_FACTS.envelope_handlers()[envelope.type]
        async with self.runtime.sessions() as session, session.begin():
            await handler(session, envelope)

    async def customer(
        self,
        owner: Identity,
        *,
        requirements: list[tuple[str, list[str]]] = (),  # type: ignore[assignment]
        weekdays: list[int] = (),  # type: ignore[assignment]
        customer_id: str | None = None,
        name: str = "杭州市第一中学食堂",
        archived: bool = False,
    ) -> str:
        customer_id = customer_id or str(uuid.uuid4())
        version = self.versions.get(customer_id, 0) + 1
        self.versions[customer_id] = version
        customer = cpb.Customer(
            id=customer_id,
            tenant_id=owner.tenant_id,
            org_unit_id=owner.org_unit_id,
            org_path=owner.org_path,
            owner_id=owner.principal_id,
            name=name,
            tier="normal",
            archived=archived,
            version=version,
            special_requirements=[profile_pb2.SpecialRequirement(kind=k, details=d) for k, d in requirements],
            preferences=profile_pb2.CustomerPreferences(
                delivery_windows=[profile_pb2.DeliveryWindow(weekday=w, start="06:00", end="09:00") for w in weekdays]
            ),
        )
        kind = events_pb2.CustomerCreated if version == 1 else events_pb2.CustomerUpdated
        await self.apply(
            customer_envelope(
                kind(customer=customer), tenant_id=owner.tenant_id, customer_id=customer_id, version=version
            )
        )
        return customer_id

    async def closure(self, owner: Identity, customer_id: str, start: dt.date, end: dt.date) -> None:
        message = events_pb2.ClosureScheduled(
            tenant_id=owner.tenant_id,
            customer_id=customer_id,
            closure=calendar_pb2.Closure(
                id=str(uuid.uuid4()),
                customer_id=customer_id,
                start_date=start.isoformat(),
                end_date=end.isoformat(),
                version=1,
            ),
        )
        await self.apply(customer_envelope(message, tenant_id=owner.tenant_id, customer_id=customer_id, version=1))

    async def licence(self, owner: Identity, customer_id: str, kind: str, valid_until: dt.date) -> None:
        message = events_pb2.LicenceRecorded(
            tenant_id=owner.tenant_id,
            customer_id=customer_id,
            licence=calendar_pb2.Licence(
                id=str(uuid.uuid4()),
                customer_id=customer_id,
                kind=kind,
                number="JY13301000000001",
                valid_until=valid_until.isoformat(),
                version=1,
            ),
            created=True,
        )
        await self.apply(customer_envelope(message, tenant_id=owner.tenant_id, customer_id=customer_id, version=1))

    async def product(self, sku: str, name: str, price: str = "10.00", **attributes: Any) -> catalogue_pb2.Product:
        reply = await self.stub.UpsertProduct(
            catalogue_pb2.UpsertProductRequest(
                product=catalogue_pb2.Product(
                    sku=sku,
                    name=name,
                    category="肉禽/牛肉",
                    specification="5kg/箱",
                    unit="箱",
                    list_price=price,
                    cost="6.00",
                    tax_rate="0.09",
                    attributes=catalogue_pb2.ProductAttributes(**attributes),
                    active=True,
                )
            ),
            metadata=self.md(self.admin),
        )
        return reply.product

    async def order(
        self,
        caller: Identity,
        customer_id: str,
        products: list[catalogue_pb2.Product],
        *,
        mode: int = order_pb2.PAYMENT_MODE_COD,
        delivery: dt.date | None = None,
        override_reason: str = "",
    ) -> order_pb2.Order:
        reply = await self.stub.CreateOrder(
            order_pb2.CreateOrderRequest(
                customer_id=customer_id,
                payment_mode=mode,  # type: ignore[arg-type]
                lines=[order_pb2.OrderLineInput(product_id=p.id, quantity="2") for p in products],
                delivery_date=(delivery or self.today() + dt.timedelta(days=3)).isoformat(),
                delivery_address="杭州市西湖区文三路1号",
                override_reason=override_reason,
            ),
            metadata=self.md(caller),
        )
        return reply.order

    async def move(self, caller: Identity, order_id: str, action: int, reason: str = "") -> order_pb2.Order:
        reply = await self.stub.TransitionOrder(
            order_pb2.TransitionOrderRequest(id=order_id, action=action, reason=reason),  # type: ignore[arg-type]
            metadata=self.md(caller),
        )
        return reply.order


@pytest.fixture
def keys(tmp_path: Path) -> TestKeys:
    return make_keys(tmp_path)


@asynccontextmanager
async def serve_order_service(
    database_url: str, nats_url: str, namespace: str, keys: TestKeys
) -> AsyncIterator[OrderHarness]:
    clock = MovableClock()
    nc = await nats.connect(nats_url)
    # The stream the consumer reads, as the customer service would have created it.
    await ensure_stream(nc.jetstream(), "customer", namespace=namespace)
    await nc.close()
    async with running_service(
        SPEC, database_url=database_url, nats_url=nats_url, namespace=namespace, keys=keys, clock=clock
    ) as (running, channel):
        yield OrderHarness(
            runtime=running.runtime,
            stub=order_pb2_grpc.OrderServiceStub(channel),
            keys=keys,
            org=OrgTree.create(),
            namespace=namespace,
            clock=clock,
        )


@pytest_asyncio.fixture
async def order_service(
    pg_database_url: str, nats_url: str, stream_prefix: str, keys: TestKeys
) -> AsyncIterator[OrderHarness]:
    """The service on PostgreSQL (production)."""
    async with serve_order_service(pg_database_url, nats_url, f"{stream_prefix}.", keys) as harness:
        yield harness


@pytest_asyncio.fixture
async def order_service_sqlite(
    tmp_path: Path, nats_url: str, stream_prefix: str, keys: TestKeys
) -> AsyncIterator[OrderHarness]:
    """The service on SQLite (the embedded default of `make run`)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'order.db'}"
    async with serve_order_service(url, nats_url, f"{stream_prefix}.", keys) as harness:
        yield harness


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> OrderHarness:
    harness: OrderHarness = request.getfixturevalue(request.param)
    return harness


def publish_subject(namespace: str, message_type: type[Message]) -> str:
    return subject_for("customer", event_type_of(message_type).rsplit(".", 1)[1], namespace)
