"""Batch recall over gRPC on a real database: which customers received a batch, in the caller's
data scope; a recall reaching every customer that received it, with its event; bad input."""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from sqlalchemy import select

from crm.order.v1 import batches_pb2 as bpb
from crm.order.v1 import catalogue_pb2, events_pb2
from crm.order.v1 import order_pb2 as opb
from crm_order.batches.service import record_batches
from crm_order.orders.models import Order
from crmkit.events import event_name_of
from crmkit.identity import Identity, Role
from crmkit.partners import PartnerScope, token_permissions
from crmkit.testing.events import outbox_rows
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness

BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)


async def dispatched(
    harness: OrderHarness,
    rep: Identity,
    customer_id: str,
    products: list[catalogue_pb2.Product],
    batches: dict[int, list[tuple[str, int]]],
) -> opb.Order:
    """An order of `products` (2 of each) taken to dispatched, its lines' batches recorded as
    dispatch records them."""
    org = harness.org
    order = await harness.order(rep, customer_id, products)
    finance = org.person(Role.FINANCE, org.hq)
    dispatcher = org.person(Role.SERVICE, org.hq)
    for caller, action in (
        (rep, opb.ORDER_ACTION_CONFIRM),
        (rep, opb.ORDER_ACTION_RELEASE),
        (finance, opb.ORDER_ACTION_RECORD_PAYMENT),
        (dispatcher, opb.ORDER_ACTION_DISPATCH),
    ):
        order = await harness.move(caller, order.id, action)
    async with harness.runtime.sessions() as session, session.begin():
        row = await session.scalar(select(Order).where(Order.id == order.id))
        assert row is not None
        await record_batches(session, order=row, batches=batches, now=harness.clock())
    return order


async def lookup(harness: OrderHarness, caller: Identity, batch_no: str) -> bpb.LookupBatchResponse:
    return await harness.stub.LookupBatch(bpb.LookupBatchRequest(batch_no=batch_no), metadata=harness.md(caller))


@BOTH
async def test_a_lookup_lists_the_lines_and_customers_that_received_the_batch(backend: OrderHarness) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    canteen = await backend.customer(rep, name="杭州市第一中学食堂")
    hotel = await backend.customer(rep, name="西湖国宾馆")
    beef = await backend.product("NR-001", "冷冻牛腩")
    tripe = await backend.product("NR-002", "牛肚")
    first = await dispatched(
        backend, rep, canteen, [beef, tripe], {1: [("B20261128-01", 1500)], 2: [("B-OTHER", 2000)]}
    )
    second = await dispatched(backend, rep, canteen, [beef], {1: [("B20261128-01", 2000)]})
    third = await dispatched(backend, rep, hotel, [beef], {1: [("B20261128-01", 500), ("B-OTHER", 1500)]})

    found = await lookup(backend, rep, "B20261128-01")

    assert sorted((line.order_id, line.customer_id, line.sku, line.quantity) for line in found.lines) == sorted(
        [
            (first.id, canteen, "NR-001", "1.5"),
            (second.id, canteen, "NR-001", "2"),
            (third.id, hotel, "NR-001", "0.5"),
        ]
    )
    assert {line.unit for line in found.lines} == {"箱"}
    assert {line.delivery_date for line in found.lines} == {first.delivery_date}
    by_customer = {c.customer_id: c for c in found.customers}
    assert set(by_customer) == {canteen, hotel}
    assert [(q.sku, q.quantity) for q in by_customer[canteen].quantities] == [("NR-001", "3.5")]
    assert (by_customer[canteen].order_count, by_customer[canteen].owner_id) == (2, rep.principal_id)
    assert by_customer[hotel].customer_name == "西湖国宾馆"
    assert not found.truncated and not found.HasField("recall")


async def test_a_rep_sees_only_their_customers_lines_and_a_foreign_batch_looks_missing(
    order_service: OrderHarness,
) -> None:
    org = order_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    supervisor_a, supervisor_b = org.person(Role.SUPERVISOR, org.sub_a), org.person(Role.SUPERVISOR, org.sub_b)
    rep_b = org.person(Role.SALES, org.shop_b)
    mine = await order_service.customer(rep)
    theirs = await order_service.customer(other_rep)
    elsewhere = await order_service.customer(rep_b)
    beef = await order_service.product("NR-001", "冷冻牛腩")
    for owner, customer in ((rep, mine), (other_rep, theirs), (rep_b, elsewhere)):
        await dispatched(order_service, owner, customer, [beef], {1: [("B20261128-01", 1000)]})
    await dispatched(order_service, other_rep, theirs, [beef], {1: [("B-THEIRS", 1000)]})

    def customers(reply: bpb.LookupBatchResponse) -> set[str]:
        return {line.customer_id for line in reply.lines}

    assert customers(await lookup(order_service, rep, "B20261128-01")) == {mine}
    assert customers(await lookup(order_service, supervisor_a, "B20261128-01")) == {mine, theirs}
    assert customers(await lookup(order_service, order_service.admin, "B20261128-01")) == {mine, theirs, elsewhere}
    foreign = await refusal(lookup(order_service, rep, "B-THEIRS"))
    missing = await refusal(lookup(order_service, rep, "B-NEVER-SHIPPED"))
    assert foreign.code == missing.code == grpc.StatusCode.NOT_FOUND
    assert (await refusal(lookup(order_service, supervisor_b, "B-THEIRS"))).code == grpc.StatusCode.NOT_FOUND
    # Another tenant's admin: the same batch number is none of theirs.
    stranger = dataclasses.replace(order_service.admin, tenant_id="another-tenant")
    assert (await refusal(lookup(order_service, stranger, "B20261128-01"))).code == grpc.StatusCode.NOT_FOUND


@BOTH
async def test_a_recall_publishes_exactly_the_customers_that_received_the_batch(backend: OrderHarness) -> None:
    org = backend.org
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    supervisor_a = org.person(Role.SUPERVISOR, org.sub_a)
    canteen = await backend.customer(rep_a, name="杭州市第一中学食堂")
    hotel = await backend.customer(rep_b, name="西湖国宾馆")
    bystander = await backend.customer(rep_a, name="城西养老院")
    beef = await backend.product("NR-001", "冷冻牛腩")
    await dispatched(backend, rep_a, canteen, [beef], {1: [("B20261128-01", 2000)]})
    await dispatched(backend, rep_b, hotel, [beef], {1: [("B20261128-01", 1000), ("B-OTHER", 1000)]})
    await dispatched(backend, rep_a, bystander, [beef], {1: [("B-OTHER", 2000)]})

    raised = await backend.stub.RaiseRecall(
        bpb.RaiseRecallRequest(batch_no="B20261128-01", reason="供应商通报：沙门氏菌检出"),
        metadata=backend.md(supervisor_a),
    )

    recall = raised.recall
    assert (recall.batch_no, recall.reason, recall.raised_by) == (
        "B20261128-01",
        "供应商通报：沙门氏菌检出",
        supervisor_a.principal_id,
    )
    # The recall reaches the other subsidiary's customer too; its raiser reads only their own.
    assert recall.customer_count == 2
    assert [c.customer_id for c in recall.customers] == [canteen]
    rows = await outbox_rows(backend.runtime.sessions, backend.runtime.tables)
    events = [row for row in rows if row.subject.endswith("." + event_name_of(events_pb2.BatchRecalled))]
    assert len(events) == 1
    message = events_pb2.BatchRecalled()
    events[0].envelope.payload.Unpack(message)
    assert events[0].envelope.aggregate_id == recall.id
    affected = {c.customer_id: c for c in message.recall.customers}
    assert set(affected) == {canteen, hotel}
    assert affected[hotel].owner_id == rep_b.principal_id
    assert [(q.sku, q.quantity) for q in affected[hotel].quantities] == [("NR-001", "1")]
    assert [(q.sku, q.quantity) for q in affected[canteen].quantities] == [("NR-001", "2")]

    # The lookup now shows the recall; the list shows it to whoever sees one of its customers.
    looked = await lookup(backend, rep_b, "B20261128-01")
    assert looked.recall.id == recall.id and [c.customer_id for c in looked.recall.customers] == [hotel]
    listed = await backend.stub.ListRecalls(bpb.ListRecallsRequest(), metadata=backend.md(rep_b))
    assert [r.id for r in listed.recalls] == [recall.id]
    outsider = org.person(Role.SALES, org.shop_b)
    nothing = await backend.stub.ListRecalls(bpb.ListRecallsRequest(), metadata=backend.md(outsider))
    assert list(nothing.recalls) == []


async def test_a_batch_is_recalled_once(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await order_service.customer(rep)
    await dispatched(
        order_service, rep, customer, [await order_service.product("NR-001", "冷冻牛腩")], {1: [("B1", 2000)]}
    )
    request = bpb.RaiseRecallRequest(batch_no="B1", reason="包装破损")
    first = await order_service.stub.RaiseRecall(request, metadata=order_service.md(order_service.admin))

    again = await refusal(order_service.stub.RaiseRecall(request, metadata=order_service.md(order_service.admin)))

    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    assert again.trailers["crm-error-code"] == "already_recalled"
    rows = await outbox_rows(order_service.runtime.sessions, order_service.runtime.tables)
    assert sum(row.subject.endswith(event_name_of(events_pb2.BatchRecalled)) for row in rows) == 1
    listed = await order_service.stub.ListRecalls(
        bpb.ListRecallsRequest(batch_no="B1"), metadata=order_service.md(order_service.admin)
    )
    assert [r.id for r in listed.recalls] == [first.recall.id]
    by_id = await order_service.stub.ListRecalls(
        bpb.ListRecallsRequest(recall_id=first.recall.id), metadata=order_service.md(rep)
    )
    assert [(r.id, r.batch_no) for r in by_id.recalls] == [(first.recall.id, "B1")]
    assert [c.customer_id for c in by_id.recalls[0].customers] == [customer]
    other = await order_service.stub.ListRecalls(
        bpb.ListRecallsRequest(recall_id="no-such-recall"), metadata=order_service.md(order_service.admin)
    )
    assert list(other.recalls) == []


async def test_only_admins_bosses_and_supervisors_who_see_the_batch_raise_a_recall(
    order_service: OrderHarness,
) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await order_service.customer(rep)
    await dispatched(
        order_service, rep, customer, [await order_service.product("NR-001", "冷冻牛腩")], {1: [("B1", 2000)]}
    )
    request = bpb.RaiseRecallRequest(batch_no="B1", reason="包装破损")

    by_rep = await refusal(order_service.stub.RaiseRecall(request, metadata=order_service.md(rep)))
    elsewhere = org.person(Role.SUPERVISOR, org.sub_b)
    by_outsider = await refusal(order_service.stub.RaiseRecall(request, metadata=order_service.md(elsewhere)))
    erp = dataclasses.replace(
        org.person(Role.ADMIN, org.hq), permissions=token_permissions(frozenset({PartnerScope.ORDERS_READ}))
    )
    by_partner = await refusal(order_service.stub.RaiseRecall(request, metadata=order_service.md(erp)))
    partner_reads = await lookup(order_service, erp, "B1")

    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_outsider.code == grpc.StatusCode.NOT_FOUND
    assert by_partner.code == grpc.StatusCode.PERMISSION_DENIED
    assert [line.customer_id for line in partner_reads.lines] == [customer]
    rows = await outbox_rows(order_service.runtime.sessions, order_service.runtime.tables)
    assert not any(row.subject.endswith(event_name_of(events_pb2.BatchRecalled)) for row in rows)


async def test_bad_input_names_the_field(order_service: OrderHarness) -> None:
    admin = order_service.md(order_service.admin)
    cases = [
        (order_service.stub.LookupBatch(bpb.LookupBatchRequest(batch_no=""), metadata=admin), "batch_no"),
        (order_service.stub.LookupBatch(bpb.LookupBatchRequest(batch_no="B" * 65), metadata=admin), "batch_no"),
        (order_service.stub.LookupBatch(bpb.LookupBatchRequest(batch_no="B 01;--"), metadata=admin), "batch_no"),
        (order_service.stub.RaiseRecall(bpb.RaiseRecallRequest(batch_no="B1", reason=" "), metadata=admin), "reason"),
        (
            order_service.stub.RaiseRecall(bpb.RaiseRecallRequest(batch_no="B1", reason="x" * 501), metadata=admin),
            "reason",
        ),
        (
            order_service.stub.RaiseRecall(bpb.RaiseRecallRequest(batch_no="", reason="坏了"), metadata=admin),
            "batch_no",
        ),
        (order_service.stub.ListRecalls(bpb.ListRecallsRequest(page_size=-1), metadata=admin), "page_size"),
        (order_service.stub.ListRecalls(bpb.ListRecallsRequest(page_token="%%%"), metadata=admin), "page_token"),
    ]
    for call, field in cases:
        refused = await refusal(call)
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
