"""After-sales over gRPC on a real database: quantities against what was delivered and what
earlier after-sales hold, the refund amount, each type's outcome on approval, who decides,
scope and validation."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm.order.v1 import after_sales_pb2 as pb
from crm.order.v1 import catalogue_pb2, events_pb2
from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import order_pb2 as opb
from crmkit.events import event_name_of
from crmkit.identity import Identity, Role
from crmkit.testing.events import outbox_rows
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness
from .test_deliveries import ready_to_ship

M = TypeVar("M", bound=Message)
BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)
MISSING = "00000000-0000-0000-0000-000000000000"


async def delivered_order(
    harness: OrderHarness, rep: Identity, customer_id: str, products: list[catalogue_pb2.Product]
) -> opb.Order:
    """An order of 2 boxes of each product, taken through COD payment to delivered."""
    finance = harness.org.person(Role.FINANCE, harness.org.hq)
    order = await harness.order(rep, customer_id, products)
    await harness.move(rep, order.id, opb.ORDER_ACTION_CONFIRM)
    await harness.move(rep, order.id, opb.ORDER_ACTION_RELEASE)
    await harness.move(finance, order.id, opb.ORDER_ACTION_RECORD_PAYMENT)
    await harness.move(harness.admin, order.id, opb.ORDER_ACTION_DISPATCH)
    return await harness.move(harness.admin, order.id, opb.ORDER_ACTION_DELIVER)


async def ask(
    harness: OrderHarness,
    caller: Identity,
    order_id: str,
    kind: int,
    lines: list[tuple[int, str]],
    *,
    refund: str = "",
    reason: str = "到货有破损",
) -> pb.AfterSale:
    reply = await harness.stub.RequestAfterSale(
        pb.RequestAfterSaleRequest(
            order_id=order_id,
            type=kind,  # type: ignore[arg-type]
            lines=[pb.AfterSaleLineInput(line_no=n, quantity=q) for n, q in lines],
            reason=reason,
            refund_amount=refund,
            reissue_invoice=True,
        ),
        metadata=harness.md(caller),
    )
    return reply.after_sale


async def decide(
    harness: OrderHarness, caller: Identity, after_sale_id: str, decision: int, comment: str = "同意"
) -> pb.DecideAfterSaleResponse:
    request = pb.DecideAfterSaleRequest(id=after_sale_id, decision=decision, comment=comment)  # type: ignore[arg-type]
    return await harness.stub.DecideAfterSale(request, metadata=harness.md(caller))


async def events_named(harness: OrderHarness, message_type: type[M]) -> list[M]:
    rows = await outbox_rows(harness.runtime.sessions, harness.runtime.tables)
    found = []
    for row in rows:
        if row.subject.rsplit(".", 1)[1] == event_name_of(message_type):
            message = message_type()
            row.envelope.payload.Unpack(message)
            found.append(message)
    return found


@BOTH
async def test_an_approved_refund_publishes_its_amount_for_the_credit_service(backend: OrderHarness) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(backend, rep, customer, [beef])

    asked = await ask(backend, rep, order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(1, "1")])
    assert asked.number.startswith(f"SH-{backend.today():%Y%m%d}-")
    assert (asked.state, asked.lines_amount, asked.refund_amount) == (pb.AFTER_SALE_STATE_REQUESTED, "40.00", "40.00")
    assert asked.lines[0].sku == "NR-001" and asked.reissue_invoice
    assert [e.after_sale.id for e in await events_named(backend, events_pb2.AfterSaleRequested)] == [asked.id]

    decided = await decide(backend, supervisor, asked.id, pb.AFTER_SALE_DECISION_APPROVE, "破损属实")
    assert decided.after_sale.state == pb.AFTER_SALE_STATE_APPROVED and not decided.shipment_order_id
    assert (decided.after_sale.approval.decided_by, decided.after_sale.approval.comment) == (
        supervisor.principal_id,
        "破损属实",
    )
    [event] = await events_named(backend, events_pb2.AfterSaleDecided)
    assert (event.refund_amount, event.order_id, event.decision) == ("40.00", order.id, pb.AFTER_SALE_DECISION_APPROVE)


async def test_a_refund_of_part_of_the_value_keeps_the_amount_asked(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])

    asked = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "2")], refund="12.50")
    await decide(order_service, order_service.admin, asked.id, pb.AFTER_SALE_DECISION_APPROVE)

    [event] = await events_named(order_service, events_pb2.AfterSaleDecided)
    assert (event.after_sale.lines_amount, event.refund_amount) == ("80.00", "12.50")


async def test_the_refund_cannot_exceed_the_lines_value(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])

    refused = await refusal(
        ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")], refund="40.01")
    )
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.trailers["crm-error-field"] == "refund_amount"
    exchange = await refusal(ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_EXCHANGE, [(1, "1")], refund="5"))
    assert exchange.trailers["crm-error-field"] == "refund_amount"


@BOTH
async def test_quantities_are_limited_to_what_was_delivered_less_open_and_approved_after_sales(
    backend: OrderHarness,
) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")
    lamb = await backend.product("YR-001", "羊肉卷", price="30.00")
    order = await delivered_order(backend, rep, customer, [beef, lamb])  # 2 boxes each

    too_many = await refusal(ask(backend, rep, order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(2, "3")]))
    assert too_many.code == grpc.StatusCode.INVALID_ARGUMENT
    assert too_many.trailers["crm-error-field"] == "lines[0].quantity"

    first = await ask(backend, rep, order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(1, "1")])
    second = await ask(backend, rep, order.id, pb.AFTER_SALE_TYPE_REISSUE, [(1, "1")])
    await decide(backend, backend.admin, second.id, pb.AFTER_SALE_DECISION_APPROVE)
    # One box is asked for (open) and one approved: nothing of line 1 is left; line 2 is untouched.
    used_up = await refusal(ask(backend, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(2, "2"), (1, "1")]))
    assert used_up.trailers["crm-error-field"] == "lines[1].quantity"

    # A rejected after-sale gives its quantity back.
    await decide(backend, backend.admin, first.id, pb.AFTER_SALE_DECISION_REJECT, "无破损照片")
    again = await ask(backend, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")])
    assert again.lines[0].quantity == "1"


async def test_a_partial_delivery_limits_after_sales_to_the_quantities_delivered(order_service: OrderHarness) -> None:
    road = await ready_to_ship(order_service)  # 2 箱 on each of two lines
    await road.dispatch()
    photo = await road.photo()
    short = dpb.DeliveryExceptionLine(line_no=1, quantity="1.5", note="缺货")
    await road.confirm(photo_id=photo.id, exception=dpb.DELIVERY_EXCEPTION_KIND_PARTIAL, exception_lines=[short])

    more = await refusal(
        ask(order_service, road.rep, road.order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(2, "2"), (1, "1.6")])
    )
    exactly = await ask(
        order_service, road.rep, road.order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(2, "2"), (1, "1.5")]
    )

    assert (more.code, more.trailers["crm-error-field"]) == (grpc.StatusCode.INVALID_ARGUMENT, "lines[1].quantity")
    # Line 2 was not listed as short: it came in full.
    assert [(line.line_no, line.quantity) for line in exactly.lines] == [(2, "2"), (1, "1.5")]


async def test_a_refused_delivery_allows_neither_a_return_nor_a_refund_only(order_service: OrderHarness) -> None:
    road = await ready_to_ship(order_service)
    await road.dispatch()
    await road.confirm(exception=dpb.DELIVERY_EXCEPTION_KIND_REFUSED, exception_reason="食堂停餐")

    for kind in (pb.AFTER_SALE_TYPE_RETURN_REFUND, pb.AFTER_SALE_TYPE_REFUND_ONLY):
        refused = await refusal(ask(order_service, road.rep, road.order.id, kind, [(1, "1")]))
        assert (refused.code, refused.trailers["crm-error-field"]) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "lines[0].quantity",
        )


async def test_damaged_goods_were_received_so_the_whole_line_may_be_returned(order_service: OrderHarness) -> None:
    road = await ready_to_ship(order_service)
    await road.dispatch()
    photo = await road.photo()
    damaged = dpb.DeliveryExceptionLine(line_no=1, quantity="0.5", note="外箱压坏")
    await road.confirm(photo_id=photo.id, exception=dpb.DELIVERY_EXCEPTION_KIND_DAMAGED, exception_lines=[damaged])

    asked = await ask(order_service, road.rep, road.order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(1, "2")])

    assert asked.lines[0].quantity == "2"


async def test_an_order_not_yet_delivered_has_no_after_sales(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩")
    order = await order_service.order(rep, customer, [beef])
    await order_service.move(rep, order.id, opb.ORDER_ACTION_CONFIRM)

    refused = await refusal(ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, [(1, "1")]))

    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.trailers["crm-error-code"] == "order_not_delivered"


@BOTH
@pytest.mark.parametrize("kind", [pb.AFTER_SALE_TYPE_EXCHANGE, pb.AFTER_SALE_TYPE_REISSUE])
async def test_an_approved_exchange_or_reissue_creates_a_linked_shipment_order_at_price_0(
    backend: OrderHarness, kind: int
) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    supervisor = backend.org.person(Role.SUPERVISOR, backend.org.sub_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")
    lamb = await backend.product("YR-001", "羊肉卷", price="30.00")
    order = await delivered_order(backend, rep, customer, [beef, lamb])

    asked = await ask(backend, rep, order.id, kind, [(2, "1.000")])
    assert asked.refund_amount == "0.00"
    decided = await decide(backend, supervisor, asked.id, pb.AFTER_SALE_DECISION_APPROVE)

    assert decided.shipment_order_id and decided.after_sale.shipment_order_id == decided.shipment_order_id
    shipment = (
        await backend.stub.GetOrder(opb.GetOrderRequest(id=decided.shipment_order_id), metadata=backend.md(rep))
    ).order
    assert (shipment.customer_id, shipment.state, shipment.total_amount) == (
        customer,
        opb.ORDER_STATE_READY_TO_SHIP,
        "0.00",
    )
    assert [(line.sku, line.quantity, line.unit_price) for line in shipment.lines] == [("YR-001", "1", "0.00")]
    assert asked.number in shipment.notes
    [event] = await events_named(backend, events_pb2.AfterSaleDecided)
    assert (event.refund_amount, event.shipment_order_id) == ("0.00", shipment.id)
    created = await events_named(backend, events_pb2.OrderCreated)
    assert shipment.id in [e.order.id for e in created]


async def test_a_rejection_refunds_nothing_and_ships_nothing(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])
    asked = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_EXCHANGE, [(1, "1")])

    no_comment = await refusal(decide(order_service, order_service.admin, asked.id, pb.AFTER_SALE_DECISION_REJECT, ""))
    assert no_comment.trailers["crm-error-field"] == "comment"
    decided = await decide(order_service, order_service.admin, asked.id, pb.AFTER_SALE_DECISION_REJECT, "超过退换期")

    assert decided.after_sale.state == pb.AFTER_SALE_STATE_REJECTED and not decided.shipment_order_id
    [event] = await events_named(order_service, events_pb2.AfterSaleDecided)
    assert (event.decision, event.refund_amount, event.comment) == (pb.AFTER_SALE_DECISION_REJECT, "0.00", "超过退换期")
    twice = await refusal(decide(order_service, order_service.admin, asked.id, pb.AFTER_SALE_DECISION_APPROVE))
    assert twice.code == grpc.StatusCode.FAILED_PRECONDITION
    assert twice.trailers["crm-error-code"] == "illegal_after_sale_state"


async def test_only_supervisors_bosses_and_admins_decide_and_never_their_own(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    boss = org.person(Role.BOSS, org.hq)
    finance = org.person(Role.FINANCE, org.hq)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])
    by_rep = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")])
    by_supervisor = await ask(order_service, supervisor, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")])

    for caller in (rep, finance):
        refused = await refusal(decide(order_service, caller, by_rep.id, pb.AFTER_SALE_DECISION_APPROVE))
        assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    own = await refusal(decide(order_service, supervisor, by_supervisor.id, pb.AFTER_SALE_DECISION_APPROVE))
    assert own.code == grpc.StatusCode.PERMISSION_DENIED

    waiting = await order_service.stub.ListAfterSales(
        pb.ListAfterSalesRequest(awaiting_my_decision=True), metadata=order_service.md(supervisor)
    )
    assert [a.id for a in waiting.after_sales] == [by_rep.id]
    assert (await decide(order_service, boss, by_supervisor.id, pb.AFTER_SALE_DECISION_APPROVE)).after_sale.state == (
        pb.AFTER_SALE_STATE_APPROVED
    )
    assert (await decide(order_service, supervisor, by_rep.id, pb.AFTER_SALE_DECISION_APPROVE)).after_sale.state == (
        pb.AFTER_SALE_STATE_APPROVED
    )


async def test_another_reps_order_and_after_sale_look_missing(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    other = org.person(Role.SALES, org.shop_a)
    elsewhere = org.person(Role.SUPERVISOR, org.sub_b)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])
    asked = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")])

    on_order = await refusal(ask(order_service, other, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")]))
    on_missing = await refusal(ask(order_service, other, MISSING, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "1")]))
    assert on_order.code == on_missing.code == grpc.StatusCode.NOT_FOUND
    got = await refusal(
        order_service.stub.GetAfterSale(pb.GetAfterSaleRequest(id=asked.id), metadata=order_service.md(other))
    )
    assert got.code == grpc.StatusCode.NOT_FOUND
    decided = await refusal(decide(order_service, elsewhere, asked.id, pb.AFTER_SALE_DECISION_APPROVE))
    assert decided.code == grpc.StatusCode.NOT_FOUND
    listed = await order_service.stub.ListAfterSales(pb.ListAfterSalesRequest(), metadata=order_service.md(other))
    assert list(listed.after_sales) == []
    mine = await order_service.stub.ListAfterSales(
        pb.ListAfterSalesRequest(order_id=order.id), metadata=order_service.md(rep)
    )
    assert [a.id for a in mine.after_sales] == [asked.id]


async def test_the_list_filters_by_type_state_customer_and_time_and_pages(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])
    early = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "0.5")])
    order_service.clock.advance(dt.timedelta(days=2))
    middle = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REISSUE, [(1, "0.5")])
    order_service.clock.advance(dt.timedelta(days=2))
    late = await ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_REFUND_ONLY, [(1, "0.5")])
    await decide(order_service, order_service.admin, late.id, pb.AFTER_SALE_DECISION_APPROVE)

    async def listed(**filters: object) -> list[str]:
        reply = await order_service.stub.ListAfterSales(
            pb.ListAfterSalesRequest(**filters),  # type: ignore[arg-type]
            metadata=order_service.md(rep),
        )
        return [a.id for a in reply.after_sales]

    assert await listed() == [late.id, middle.id, early.id]
    assert await listed(type=pb.AFTER_SALE_TYPE_REFUND_ONLY) == [late.id, early.id]
    assert await listed(state=pb.AFTER_SALE_STATE_APPROVED) == [late.id]
    assert await listed(customer_id=customer) == [late.id, middle.id, early.id]
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(order_service.clock() - dt.timedelta(days=3))
    end.FromDatetime(order_service.clock() - dt.timedelta(days=1))
    assert await listed(from_time=start, to_time=end) == [middle.id]
    first = await order_service.stub.ListAfterSales(
        pb.ListAfterSalesRequest(page_size=2), metadata=order_service.md(rep)
    )
    rest = await order_service.stub.ListAfterSales(
        pb.ListAfterSalesRequest(page_size=2, page_token=first.next_page_token), metadata=order_service.md(rep)
    )
    assert [a.id for a in [*first.after_sales, *rest.after_sales]] == [late.id, middle.id, early.id]
    assert not rest.next_page_token


@pytest.mark.parametrize(
    ("lines", "reason", "field"),
    [
        ([], "破损", "lines"),
        ([(0, "1")], "破损", "lines[0].line_no"),
        ([(9, "1")], "破损", "lines[0].line_no"),
        ([(1, "0")], "破损", "lines[0].quantity"),
        ([(1, "abc")], "破损", "lines[0].quantity"),
        ([(1, "1"), (1, "1")], "破损", "lines[1].line_no"),
        ([(1, "1")], "", "reason"),
    ],
)
async def test_bad_input_names_the_field(
    order_service: OrderHarness, lines: list[tuple[int, str]], reason: str, field: str
) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    order = await delivered_order(order_service, rep, customer, [beef])

    refused = await refusal(ask(order_service, rep, order.id, pb.AFTER_SALE_TYPE_RETURN_REFUND, lines, reason=reason))

    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.trailers["crm-error-field"] == field


async def test_the_type_is_required(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    refused = await refusal(ask(order_service, rep, MISSING, pb.AFTER_SALE_TYPE_UNSPECIFIED, [(1, "1")]))
    assert refused.trailers["crm-error-field"] == "type"
