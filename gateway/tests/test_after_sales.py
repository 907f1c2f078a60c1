"""After-sales at the gateway: role views cell by cell (sales never see cost; finance sees the
amounts and the invoice flag), bad input named before any call on the order service, and
notifications both ways from the order service's events put on its stream as its relay would
(the gateway test stack runs no order service)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from crm.order.v1 import after_sales_pb2, events_pb2
from crm_gateway.after_sales.router import after_sales_out
from crmkit.identity import Identity, Role

from .conftest import assert_problem
from .test_quote_notifications import NOTIFICATIONS, publish_order_event

AFTER_SALE = after_sales_pb2.AfterSale(
    id="a1",
    number="SH-20261203-0001",
    order_id="o1",
    customer_id="c1",
    customer_name="苏州工业园区星海小学食堂",
    type=after_sales_pb2.AFTER_SALE_TYPE_RETURN_REFUND,
    state=after_sales_pb2.AFTER_SALE_STATE_REQUESTED,
    lines=[
        after_sales_pb2.AfterSaleLine(
            line_no=1, sku="NR-001", unit="箱", quantity="2", unit_price="228.00", amount="456.00", unit_cost="190.50"
        )
    ],
    reason="到货破损",
    lines_amount="456.00",
    refund_amount="400.00",
    photo_ids=["p1"],
    reissue_invoice=True,
    requested_by="u2",
)


class Names:
    async def lookup(self, *, tenant_id: str, user_ids: set[str]) -> dict[str, str]:
        return {"u2": "张三"}


def _person(role: Role) -> Identity:
    return Identity(principal_id="u1", tenant_id="t1", org_unit_id="hq", org_path="/hq/", role=role)


@pytest.mark.parametrize("role", list(Role))
async def test_sales_never_see_an_after_sales_cost_and_everyone_sees_amounts_and_the_invoice_flag(role: Role) -> None:
    [view] = await after_sales_out(SimpleNamespace(display_names=Names()), _person(role), [AFTER_SALE])  # type: ignore[arg-type]

    if role is Role.SALES:
        assert (view.cost_amount, view.lines[0].unit_cost) == (None, None)
    else:
        assert (str(view.cost_amount), str(view.lines[0].unit_cost)) == ("381.00", "190.50")
    assert (str(view.lines_amount), str(view.refund_amount), view.reissue_invoice) == ("456.00", "400.00", True)
    assert (view.type, view.status, view.requested_by_name) == ("return_refund", "requested", "张三")
    assert view.photos[0].content_url == "/api/v1/after-sales/a1/photos/p1/content"
    assert view.approval is None and view.shipment_order_id is None


LINE = {"line_no": 1, "quantity": "2"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "refund_everything"}, "type"),
        ({"lines": []}, "lines"),
        ({"lines": [{**LINE, "quantity": "0"}]}, "lines[0].quantity"),
        ({"lines": [{**LINE, "quantity": "1.2345"}]}, "lines[0].quantity"),
        ({"lines": [{**LINE, "line_no": 0}]}, "lines[0].line_no"),
        ({"refund_amount": "-1"}, "refund_amount"),
        ({"refund_amount": "9.999"}, "refund_amount"),
        ({"reason": ""}, "reason"),
        ({"photo_ids": [str(i) for i in range(10)]}, "photo_ids"),
    ],
)
async def test_bad_after_sale_input_names_the_field(client, org, change: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    body = {"type": "return_refund", "lines": [LINE], "reason": "破损", **change}

    response = await client.post("/api/v1/orders/o1/after-sales", json=body, headers=org.sales_a.headers)

    assert_problem(response, 422, field=field)


async def test_an_after_sale_decision_is_approve_or_reject(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/after-sales/a1/decision", json={"decision": "maybe"}, headers=org.supervisor.headers
    )

    assert_problem(response, 422, field="decision")


async def test_the_list_filters_are_checked(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/after-sales", params={"type": "swap"}, headers=org.supervisor.headers)

    assert_problem(response, 422, field="type")


async def about(client, person, after_sale_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(NOTIFICATIONS, params={"page_size": 100}, headers=person.headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["link_id"] == after_sale_id]


async def test_a_request_asks_the_supervisor_and_the_decision_tells_the_requester(  # type: ignore[no-untyped-def]
    client, stack, org, api
) -> None:
    me = await client.get("/api/v1/auth/me", headers=org.sales_a.headers)
    tenant_id = str(me.json()["tenant_id"])
    requested = after_sales_pb2.AfterSale()
    requested.CopyFrom(AFTER_SALE)
    requested.id = str(uuid.uuid4())
    requested.org_unit_id = org.shop1
    requested.requested_by = org.sales_a.id

    await publish_order_event(
        stack, events_pb2.AfterSaleRequested(after_sale=requested), tenant_id=tenant_id, actor_id=org.sales_a.id
    )
    asked = await api.eventually(lambda: about(client, org.supervisor, requested.id))
    rejected = after_sales_pb2.AfterSale()
    rejected.CopyFrom(requested)
    rejected.state = after_sales_pb2.AFTER_SALE_STATE_REJECTED
    await publish_order_event(
        stack,
        events_pb2.AfterSaleDecided(
            after_sale=rejected, decision=after_sales_pb2.AFTER_SALE_DECISION_REJECT, comment="无破损照片"
        ),
        tenant_id=tenant_id,
        actor_id=org.supervisor.id,
    )
    told = await api.eventually(lambda: about(client, org.sales_a, requested.id))

    assert [(n["kind"], n["link_type"]) for n in asked] == [("after_sale_awaiting_approval", "after_sale")]
    assert "张三" in asked[0]["body"] and "SH-20261203-0001" in asked[0]["body"] and "退货退款" in asked[0]["body"]
    assert [n["kind"] for n in told] == ["after_sale_rejected"] and "无破损照片" in told[0]["body"]
    for bystander in (org.boss, org.sales_b, org.service):
        assert await about(client, bystander, requested.id) == []
