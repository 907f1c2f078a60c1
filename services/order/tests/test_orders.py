"""Orders over gRPC on a real database: the journey, the checks against customer facts, the
revision history, optimistic concurrency and data scope."""

from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest

from crm.order.v1 import events_pb2
from crm.order.v1 import order_pb2 as pb
from crmkit.events import event_name_of
from crmkit.identity import Role
from crmkit.testing.events import outbox_rows
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness

BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)


@BOTH
async def test_a_cod_order_goes_from_draft_to_completed(backend: OrderHarness) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    finance = org.person(Role.FINANCE, org.sub_a)
    dispatcher = org.person(Role.SERVICE, org.sub_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="42.80")

    order = await backend.order(rep, customer, [beef])
    assert (order.state, order.total_amount, order.lines[0].amount) == (pb.ORDER_STATE_DRAFT, "85.60", "85.60")
    steps = [
        (rep, pb.ORDER_ACTION_CONFIRM, pb.ORDER_STATE_CONFIRMED),
        (rep, pb.ORDER_ACTION_RELEASE, pb.ORDER_STATE_AWAITING_PAYMENT),
        (finance, pb.ORDER_ACTION_RECORD_PAYMENT, pb.ORDER_STATE_READY_TO_SHIP),
        (dispatcher, pb.ORDER_ACTION_DISPATCH, pb.ORDER_STATE_DISPATCHED),
        (dispatcher, pb.ORDER_ACTION_DELIVER, pb.ORDER_STATE_DELIVERED),
        (dispatcher, pb.ORDER_ACTION_COMPLETE, pb.ORDER_STATE_COMPLETED),
    ]
    for caller, action, state in steps:
        order = await backend.move(caller, order.id, action)
        assert order.state == state
    assert order.HasField("paid_time")
    rows = await outbox_rows(backend.runtime.sessions, backend.runtime.tables)
    subjects = [row.subject.rsplit(".", 1)[1] for row in rows]
    for kind in (
        events_pb2.OrderCreated,
        events_pb2.OrderConfirmed,
        events_pb2.OrderPaidCod,
        events_pb2.OrderDispatched,
        events_pb2.OrderDelivered,
        events_pb2.OrderCompleted,
    ):
        assert event_name_of(kind) in subjects
    assert subjects.count(event_name_of(events_pb2.OrderStateChanged)) == 6


@BOTH
async def test_confirming_a_credit_order_is_refused_saying_cod_still_works(backend: OrderHarness) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩")
    order = await backend.order(rep, customer, [beef], mode=pb.PAYMENT_MODE_CREDIT)

    refused = await refusal(backend.move(rep, order.id, pb.ORDER_ACTION_CONFIRM))

    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.trailers["crm-error-code"] == "credit_unavailable"
    assert "货到付款" in refused.message
    cod = await backend.order(rep, customer, [beef])
    assert (await backend.move(rep, cod.id, pb.ORDER_ACTION_CONFIRM)).state == pb.ORDER_STATE_CONFIRMED


async def test_an_illegal_move_names_the_current_state(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    order = await order_service.order(rep, customer, [await order_service.product("NR-001", "冷冻牛腩")])

    refused = await refusal(order_service.move(rep, order.id, pb.ORDER_ACTION_RELEASE))

    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.trailers["crm-error-code"] == "illegal_transition"
    assert refused.trailers["crm-error-current-state"] == "draft"
    assert "草稿" in refused.message


async def test_a_halal_customers_non_halal_line_needs_a_supervisors_override(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await order_service.customer(rep, requirements=[("halal", [])])
    pork = await order_service.product("ZR-001", "猪里脊", contains_pork=True)

    refused = await refusal(order_service.order(rep, customer, [pork]))
    assert (refused.code, refused.trailers["crm-error-code"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "requirement_conflict",
    )
    assert refused.field == "lines[0].product_id"
    by_rep = await refusal(order_service.order(rep, customer, [pork], override_reason="客户同意"))
    assert by_rep.trailers["crm-error-code"] == "requirement_conflict"

    order = await order_service.order(supervisor, customer, [pork], override_reason="客户书面确认用于员工餐")

    assert [(o.sku, o.requirement, o.overridden_by, o.reason) for o in order.overrides] == [
        ("ZR-001", "halal", supervisor.principal_id, "客户书面确认用于员工餐")
    ]
    assert "requirement_overridden" in [w.code for w in order.warnings]
    # The override holds when the rep confirms it.
    assert (await order_service.move(rep, order.id, pb.ORDER_ACTION_CONFIRM)).state == pb.ORDER_STATE_CONFIRMED


async def test_a_delivery_date_in_a_closure_is_refused_and_outside_the_windows_warned(
    order_service: OrderHarness,
) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    today = order_service.today()
    in_ten_days = today + dt.timedelta(days=10)
    customer = await order_service.customer(rep, weekdays=[in_ten_days.isoweekday()])
    await order_service.closure(rep, customer, today + dt.timedelta(days=1), today + dt.timedelta(days=5))
    beef = await order_service.product("NR-001", "冷冻牛腩")

    refused = await refusal(order_service.order(rep, customer, [beef], delivery=today + dt.timedelta(days=3)))
    assert (refused.trailers["crm-error-code"], refused.field) == ("delivery_date_closed", "delivery_date")

    fine = await order_service.order(rep, customer, [beef], delivery=in_ten_days)
    assert list(fine.warnings) == []
    warned = await order_service.order(rep, customer, [beef], delivery=in_ten_days + dt.timedelta(days=1))
    assert [w.code for w in warned.warnings] == ["outside_delivery_window"]


async def test_an_expired_licence_refuses_credit_and_warns_cod(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    await order_service.licence(rep, customer, "food_business", order_service.today() - dt.timedelta(days=1))
    beef = await order_service.product("NR-001", "冷冻牛腩")

    credit = await order_service.order(rep, customer, [beef], mode=pb.PAYMENT_MODE_CREDIT)
    refused = await refusal(order_service.move(rep, credit.id, pb.ORDER_ACTION_CONFIRM))
    assert refused.trailers["crm-error-code"] == "licence_expired"

    cod = await order_service.order(rep, customer, [beef])
    confirmed = await order_service.move(rep, cod.id, pb.ORDER_ACTION_CONFIRM)
    assert confirmed.state == pb.ORDER_STATE_CONFIRMED
    assert [w.code for w in confirmed.warnings] == ["licence_expired"]


@BOTH
async def test_a_change_after_confirmation_is_a_revision_with_its_diff(backend: OrderHarness) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")
    order = await backend.order(rep, customer, [beef])
    order = await backend.move(rep, order.id, pb.ORDER_ACTION_CONFIRM)
    md = backend.md(rep)

    no_reason = await refusal(
        backend.stub.UpdateOrder(
            pb.UpdateOrderRequest(id=order.id, update_fields=["notes"], notes="后门卸货"), metadata=md
        )
    )
    assert (no_reason.code, no_reason.field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    reply = await backend.stub.UpdateOrder(
        pb.UpdateOrderRequest(
            id=order.id,
            expected_version=order.version,
            update_fields=["lines"],
            lines=[pb.OrderLineInput(product_id=beef.id, quantity="5")],
            reason="客户电话追加数量",
        ),
        metadata=md,
    )
    diff = json.loads(reply.revision.diff_json)
    assert diff["total_amount"] == {"before": "80.00", "after": "200.00"}
    assert diff["lines"]["after"][0]["quantity"] == "5"
    assert (reply.revision.actor_id, reply.revision.reason) == (rep.principal_id, "客户电话追加数量")

    stale = await refusal(
        backend.stub.UpdateOrder(
            pb.UpdateOrderRequest(
                id=order.id, expected_version=order.version, update_fields=["notes"], notes="x", reason="再改"
            ),
            metadata=md,
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    shown = await backend.stub.GetOrder(pb.GetOrderRequest(id=order.id), metadata=md)
    assert [r.reason for r in shown.revisions] == ["客户电话追加数量"]


async def test_a_rep_sees_only_orders_of_their_customers_and_others_look_missing(order_service: OrderHarness) -> None:
    org = order_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    supervisor_b = org.person(Role.SUPERVISOR, org.sub_b)
    customer = await order_service.customer(rep)
    order = await order_service.order(rep, customer, [await order_service.product("NR-001", "冷冻牛腩")])

    for outsider in (other_rep, supervisor_b):
        missing = await refusal(
            order_service.stub.GetOrder(pb.GetOrderRequest(id=order.id), metadata=order_service.md(outsider))
        )
        assert missing.code == grpc.StatusCode.NOT_FOUND
        listed = await order_service.stub.ListOrders(pb.ListOrdersRequest(), metadata=order_service.md(outsider))
        assert list(listed.orders) == []
    not_theirs = await refusal(
        order_service.order(other_rep, customer, [await order_service.product("NR-002", "牛腱")])
    )
    assert not_theirs.code == grpc.StatusCode.NOT_FOUND

    # The customer moves to the other rep: so do its orders.
    await order_service.customer(other_rep, customer_id=customer)
    listed = await order_service.stub.ListOrders(pb.ListOrdersRequest(), metadata=order_service.md(other_rep))
    assert [o.id for o in listed.orders] == [order.id]


async def test_bad_input_names_the_field(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩")
    tomorrow = (order_service.today() + dt.timedelta(days=1)).isoformat()

    def create(**fields: object) -> pb.CreateOrderRequest:
        base: dict[str, object] = {
            "customer_id": customer,
            "payment_mode": pb.PAYMENT_MODE_COD,
            "lines": [pb.OrderLineInput(product_id=beef.id, quantity="1")],
            "delivery_date": tomorrow,
        }
        base.update(fields)
        return pb.CreateOrderRequest(**base)  # type: ignore[arg-type]

    cases = {
        "lines[0].quantity": create(lines=[pb.OrderLineInput(product_id=beef.id, quantity="0")]),
        "lines[0].unit_price": create(lines=[pb.OrderLineInput(product_id=beef.id, quantity="1", unit_price="1.234")]),
        "lines[0].product_id": create(lines=[pb.OrderLineInput(product_id="no-such-product", quantity="1")]),
        "delivery_date": create(delivery_date="2020-01-01"),
        "payment_mode": create(payment_mode=0),
        "lines": create(lines=[]),
    }
    for field, request in cases.items():
        refused = await refusal(order_service.stub.CreateOrder(request, metadata=order_service.md(rep)))
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)


async def test_a_retried_create_with_its_request_id_makes_one_order(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩")
    request = pb.CreateOrderRequest(
        customer_id=customer,
        payment_mode=pb.PAYMENT_MODE_COD,
        lines=[pb.OrderLineInput(product_id=beef.id, quantity="1")],
        delivery_date=(order_service.today() + dt.timedelta(days=1)).isoformat(),
        request_id="retry-1",
    )
    first = await order_service.stub.CreateOrder(request, metadata=order_service.md(rep))
    second = await order_service.stub.CreateOrder(request, metadata=order_service.md(rep))
    assert first.order.id == second.order.id
    listed = await order_service.stub.ListOrders(pb.ListOrdersRequest(), metadata=order_service.md(rep))
    assert len(listed.orders) == 1


async def test_a_collaborator_sees_the_customers_orders_and_places_them_only_with_write_access(
    order_service: OrderHarness,
) -> None:
    from crm.customer.v1 import events_pb2 as customer_events
    from crm.customer.v1 import ownership_pb2

    from .conftest import customer_envelope

    org = order_service.org
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    customer = await order_service.customer(owner)
    beef = await order_service.product("NR-001", "冷冻牛腩")
    order = await order_service.order(owner, customer, [beef])

    async def share(access: int, *, removed: bool = False) -> None:
        collaborator = ownership_pb2.Collaborator(customer_id=customer, user_id=helper.principal_id, access=access)  # type: ignore[arg-type]
        message = (
            customer_events.CollaboratorRemoved(collaborator=collaborator, cause="removed")
            if removed
            else customer_events.CollaboratorAdded(collaborator=collaborator)
        )
        await order_service.apply(customer_envelope(message, tenant_id=org.tenant_id, customer_id=customer, version=1))

    async def listed() -> list[str]:
        reply = await order_service.stub.ListOrders(pb.ListOrdersRequest(), metadata=order_service.md(helper))
        return [o.id for o in reply.orders]

    assert await listed() == []
    await share(ownership_pb2.COLLABORATOR_ACCESS_READ)
    assert await listed() == [order.id]
    refused = await refusal(order_service.order(helper, customer, [beef]))
    assert refused.code == grpc.StatusCode.NOT_FOUND
    await share(ownership_pb2.COLLABORATOR_ACCESS_READ_WRITE)
    assert (await order_service.order(helper, customer, [beef])).customer_id == customer
    await share(ownership_pb2.COLLABORATOR_ACCESS_READ_WRITE, removed=True)
    assert await listed() == []
