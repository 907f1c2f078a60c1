"""Partner order import (ImportOrders) and the order change log (ListOrderChanges, WatchOrderChanges)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import nats
import pytest
import pytest_asyncio
from sqlalchemy import select

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import catalogue_pb2, events_pb2, order_pb2_grpc, partner_orders_pb2_grpc
from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import partner_orders_pb2 as ppb
from crm_order.spec import SPEC
from crmkit.bus import ensure_stream
from crmkit.clock import MovableClock
from crmkit.events import timestamp_of
from crmkit.identity import Identity, Role
from crmkit.partners import PartnerScope, token_permissions
from crmkit.testing.harness import OrgTree, TestKeys
from crmkit.testing.rpc import refusal
from crmkit.testing.services import running_service

from .conftest import OrderHarness

ORDER_TIME = dt.datetime(2025, 3, 14, 1, 30, tzinfo=dt.UTC)
DELIVERED = dt.datetime(2025, 3, 16, 2, 0, tzinfo=dt.UTC)
COMPLETED = dt.datetime(2025, 3, 20, 8, 0, tzinfo=dt.UTC)


@dataclasses.dataclass
class PartnerHarness:
    orders: OrderHarness
    stub: partner_orders_pb2_grpc.PartnerOrderServiceStub


@pytest_asyncio.fixture
async def partner(
    pg_database_url: str, nats_url: str, stream_prefix: str, keys: TestKeys
) -> AsyncIterator[PartnerHarness]:
    """The order service on PostgreSQL with both its gRPC services' stubs."""
    async with serve(pg_database_url, nats_url, f"{stream_prefix}.", keys) as harness:
        yield harness


@pytest_asyncio.fixture
async def partner_sqlite(
    tmp_path: Path, nats_url: str, stream_prefix: str, keys: TestKeys
) -> AsyncIterator[PartnerHarness]:
    async with serve(f"sqlite+aiosqlite:///{tmp_path / 'order.db'}", nats_url, f"{stream_prefix}.", keys) as harness:
        yield harness


@asynccontextmanager
async def serve(database_url: str, nats_url: str, namespace: str, keys: TestKeys) -> AsyncIterator[PartnerHarness]:
    clock = MovableClock()
    nc = await nats.connect(nats_url)
    # The stream the consumer reads, as the customer service would have created it.
    await ensure_stream(nc.jetstream(), "customer", namespace=namespace)
    await nc.close()
    async with running_service(
        SPEC, database_url=database_url, nats_url=nats_url, namespace=namespace, keys=keys, clock=clock
    ) as (service, channel):
        orders = OrderHarness(
            runtime=service.runtime,
            stub=order_pb2_grpc.OrderServiceStub(channel),
            keys=keys,
            org=OrgTree.create(),
            namespace=namespace,
            clock=clock,
        )
        yield PartnerHarness(orders=orders, stub=partner_orders_pb2_grpc.PartnerOrderServiceStub(channel))


@pytest.fixture
def partner_backend(request: pytest.FixtureRequest) -> PartnerHarness:
    harness: PartnerHarness = request.getfixturevalue(request.param)
    return harness


def erp_of(identity: Identity, *scopes: PartnerScope) -> Identity:
    """The identity a client-credentials token carries for a client of this role and unit."""
    return dataclasses.replace(identity, permissions=identity.permissions | token_permissions(frozenset(scopes)))


def item(
    external_id: str,
    customer_id: str,
    product: catalogue_pb2.Product,
    *,
    state: int = pb.ORDER_STATE_COMPLETED,
    quantity: str = "3",
    price: str = "88.50",
    by_sku: bool = False,
) -> ppb.ImportedOrder:
    order = ppb.ImportedOrder(
        external_id=external_id,
        customer_id=customer_id,
        payment_mode=pb.PAYMENT_MODE_COD,
        state=state,  # type: ignore[arg-type]
        lines=[
            ppb.ImportedOrderLine(
                product_id="" if by_sku else product.id,
                sku=product.sku if by_sku else "",
                quantity=quantity,
                unit_price=price,
            )
        ],
        order_time=timestamp_of(ORDER_TIME),
        delivery_date="2025-03-16",
        delivery_address="杭州市西湖区文三路1号",
    )
    if state in (pb.ORDER_STATE_DELIVERED, pb.ORDER_STATE_COMPLETED):
        order.delivered_time.CopyFrom(timestamp_of(DELIVERED))
    if state == pb.ORDER_STATE_COMPLETED:
        order.completed_time.CopyFrom(timestamp_of(COMPLETED))
    return order


async def import_orders(
    harness: PartnerHarness, caller: Identity, *items: ppb.ImportedOrder, dry_run: bool = False
) -> ppb.ImportOrdersResponse:
    return await harness.stub.ImportOrders(  # type: ignore[no-any-return]
        ppb.ImportOrdersRequest(orders=items, dry_run=dry_run), metadata=harness.orders.md(caller)
    )


async def visible_orders(harness: PartnerHarness, caller: Identity) -> list[pb.Order]:
    reply = await harness.orders.stub.ListOrders(
        pb.ListOrdersRequest(page_size=200), metadata=harness.orders.md(caller)
    )
    return list(reply.orders)


async def test_importing_the_same_batch_twice_creates_each_order_once_with_its_business_dates(
    partner: PartnerHarness,
) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    erp = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_WRITE)
    customer = await partner.orders.customer(rep)
    beef = await partner.orders.product("NR-001", "冷冻牛腩")
    batch = [item("ERP-1", customer, beef), item("ERP-2", customer, beef, by_sku=True, state=pb.ORDER_STATE_DELIVERED)]

    first = await import_orders(partner, erp, *batch)
    second = await import_orders(partner, erp, *batch)
    orders = await visible_orders(partner, rep)

    assert (first.created, first.already_imported, first.failed) == (2, 0, 0)
    assert (second.created, second.already_imported, second.failed) == (0, 2, 0)
    assert [r.order_id for r in second.results] == [r.order_id for r in first.results]
    assert len(orders) == 2
    completed = next(o for o in orders if o.id == first.results[0].order_id)
    assert completed.state == pb.ORDER_STATE_COMPLETED
    assert completed.create_time.ToDatetime(tzinfo=dt.UTC) == ORDER_TIME
    assert completed.update_time.ToDatetime(tzinfo=dt.UTC) == COMPLETED
    assert completed.delivery_date == "2025-03-16"
    assert (completed.lines[0].quantity, completed.lines[0].unit_price, completed.total_amount) == (
        "3",
        "88.50",
        "265.50",
    )
    delivered = next(o for o in orders if o.id == first.results[1].order_id)
    assert (delivered.state, delivered.lines[0].sku) == (pb.ORDER_STATE_DELIVERED, "NR-001")


async def test_a_reimport_with_other_content_changes_nothing_and_says_so(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    erp = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_WRITE)
    customer = await partner.orders.customer(rep)
    beef = await partner.orders.product("NR-001", "冷冻牛腩")
    first = await import_orders(partner, erp, item("ERP-1", customer, beef))

    again = await import_orders(partner, erp, item("ERP-1", customer, beef, quantity="5"))
    order = await partner.orders.stub.GetOrder(
        pb.GetOrderRequest(id=first.results[0].order_id), metadata=partner.orders.md(rep)
    )

    assert again.results[0].outcome == ppb.IMPORT_OUTCOME_ALREADY_IMPORTED
    assert [w.code for w in again.results[0].warnings] == ["content_differs"]
    assert order.order.lines[0].quantity == "3"


async def test_bad_items_name_their_field_and_the_good_ones_are_still_written(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    erp = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_WRITE)
    customer = await partner.orders.customer(rep)
    beef = await partner.orders.product("NR-001", "冷冻牛腩")
    bad_quantity = item("ERP-2", customer, beef, quantity="-1")
    unknown_sku = item("ERP-3", customer, beef, by_sku=True)
    unknown_sku.lines[0].sku = "NO-SUCH"
    stranger = item("ERP-4", "customer-of-another-unit", beef)
    early_delivery = item("ERP-5", customer, beef)
    early_delivery.delivery_date = "2025-03-01"

    reply = await import_orders(
        partner, erp, item("ERP-1", customer, beef), bad_quantity, unknown_sku, stranger, early_delivery
    )

    outcomes = [r.outcome for r in reply.results]
    assert outcomes == [ppb.IMPORT_OUTCOME_CREATED] + [ppb.IMPORT_OUTCOME_FAILED] * 4
    assert [e.field for e in reply.results[1].errors] == ["orders[1].lines[0].quantity"]
    assert [e.field for e in reply.results[2].errors] == ["orders[2].lines[0].sku"]
    assert [e.field for e in reply.results[3].errors] == ["orders[3].customer_id"]
    assert [e.field for e in reply.results[4].errors] == ["orders[4].delivery_date"]
    assert "/" in reply.results[1].errors[0].message
    assert [o.id for o in await visible_orders(partner, rep)] == [reply.results[0].order_id]


async def test_history_that_breaks_a_rule_of_new_orders_is_imported_with_a_warning(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    erp = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_WRITE)
    halal_canteen = await partner.orders.customer(rep, requirements=[("halal", [])])
    pork = await partner.orders.product("NR-009", "猪肉丸", halal=False, contains_pork=True)
    await partner.orders.closure(rep, halal_canteen, dt.date(2025, 3, 10), dt.date(2025, 3, 20))

    reply = await import_orders(partner, erp, item("ERP-1", halal_canteen, pork))
    order = await partner.orders.stub.GetOrder(
        pb.GetOrderRequest(id=reply.results[0].order_id), metadata=partner.orders.md(rep)
    )

    assert reply.results[0].outcome == ppb.IMPORT_OUTCOME_CREATED
    codes = {w.code for w in order.order.warnings}
    assert {"requirement_conflict", "delivery_date_closed"} <= codes


async def test_a_partner_without_orders_write_may_not_import(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    reader = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_READ)
    customer = await partner.orders.customer(rep)
    beef = await partner.orders.product("NR-001", "冷冻牛腩")

    refused = await refusal(import_orders(partner, reader, item("ERP-1", customer, beef)))

    assert refused.code == grpc.StatusCode.PERMISSION_DENIED and "orders:write" in refused.message
    assert await visible_orders(partner, rep) == []


async def test_a_batch_over_500_or_a_dry_run_writes_nothing(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await partner.orders.customer(rep)
    beef = await partner.orders.product("NR-001", "冷冻牛腩")

    too_many = await refusal(
        import_orders(partner, partner.orders.admin, *[item(f"E{i}", customer, beef) for i in range(501)])
    )
    dry = await import_orders(partner, partner.orders.admin, item("ERP-1", customer, beef), dry_run=True)

    assert too_many.code == grpc.StatusCode.INVALID_ARGUMENT and "orders" in too_many.message
    assert dry.created == 1 and dry.results[0].order_id == ""
    assert await visible_orders(partner, rep) == []


async def test_an_imported_order_publishes_order_imported_at_its_business_time(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await partner.orders.customer(rep)
    beef = await partner.orders.product("NR-001", "冷冻牛腩")

    reply = await import_orders(partner, partner.orders.admin, item("ERP-1", customer, beef))

    outbox = partner.orders.runtime.tables.outbox
    async with partner.orders.runtime.sessions() as session:
        rows = (
            await session.execute(select(outbox.c.envelope).where(outbox.c.subject.endswith("order_imported")))
        ).all()
    envelopes = [Envelope.FromString(row.envelope) for row in rows]
    assert len(envelopes) == 1
    event = events_pb2.OrderImported()
    envelopes[0].payload.Unpack(event)
    assert envelopes[0].occurred_at.ToDatetime(tzinfo=dt.UTC) == ORDER_TIME
    assert (event.order.id, event.external_id, event.source) == (reply.results[0].order_id, "ERP-1", "console")
    assert event.completed_time.ToDatetime(tzinfo=dt.UTC) == COMPLETED


async def test_changes_list_from_a_cursor_and_stay_in_the_partner_s_data_scope(partner: PartnerHarness) -> None:
    org = partner.orders.org
    rep_a = org.person(Role.SALES, org.shop_a)
    rep_b = org.person(Role.SALES, org.shop_b)
    erp_a = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_READ, PartnerScope.ORDERS_WRITE)
    ours = await partner.orders.customer(rep_a)
    theirs = await partner.orders.customer(rep_b, name="宁波某酒店")
    beef = await partner.orders.product("NR-001", "冷冻牛腩")
    imported = await import_orders(partner, erp_a, item("ERP-1", ours, beef))
    await partner.orders.order(rep_b, theirs, [beef])
    created = await partner.orders.order(rep_a, ours, [beef])

    everything = await partner.stub.ListOrderChanges(
        ppb.ListOrderChangesRequest(cursor="0"), metadata=partner.orders.md(erp_a)
    )
    first = await partner.stub.ListOrderChanges(ppb.ListOrderChangesRequest(limit=1), metadata=partner.orders.md(erp_a))
    rest = await partner.stub.ListOrderChanges(
        ppb.ListOrderChangesRequest(cursor=first.next_cursor), metadata=partner.orders.md(erp_a)
    )
    bad = await refusal(
        partner.stub.ListOrderChanges(ppb.ListOrderChangesRequest(cursor="abc"), metadata=partner.orders.md(erp_a))
    )

    assert [(c.kind, c.order.id) for c in everything.changes] == [
        ("order_imported", imported.results[0].order_id),
        ("order_created", created.id),
    ]
    assert [c.order.id for c in first.changes] == [imported.results[0].order_id]
    assert [c.order.id for c in rest.changes] == [created.id]
    assert rest.next_cursor == everything.next_cursor
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("partner_backend", ["partner", "partner_sqlite"], indirect=True)
async def test_the_stream_resumes_from_a_cursor_and_sees_a_change_made_after_it_started(
    partner_backend: PartnerHarness,
) -> None:
    harness = partner_backend
    org = harness.orders.org
    rep = org.person(Role.SALES, org.shop_a)
    erp = erp_of(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_READ)
    customer = await harness.orders.customer(rep)
    beef = await harness.orders.product("NR-001", "冷冻牛腩")
    seen_before = await harness.orders.order(rep, customer, [beef])
    cursor = (
        await harness.stub.ListOrderChanges(ppb.ListOrderChangesRequest(), metadata=harness.orders.md(erp))
    ).next_cursor
    after_cursor = await harness.orders.order(rep, customer, [beef])

    call = harness.stub.WatchOrderChanges(ppb.WatchOrderChangesRequest(cursor=cursor), metadata=harness.orders.md(erp))
    first = await asyncio.wait_for(call.read(), timeout=30)
    confirmed = await harness.orders.move(rep, after_cursor.id, pb.ORDER_ACTION_CONFIRM)
    later = [await asyncio.wait_for(call.read(), timeout=30) for _ in range(2)]
    call.cancel()

    assert first.change.order.id == after_cursor.id and first.change.kind == "order_created"
    assert seen_before.id not in {c.change.order.id for c in [first, *later]}
    assert [c.change.kind for c in later] == ["order_state_changed", "order_confirmed"]
    assert later[-1].change.order.state == pb.ORDER_STATE_CONFIRMED == confirmed.state
    assert int(later[0].change.cursor) > int(first.change.cursor)
