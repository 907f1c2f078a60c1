"""Batch recall at the gateway: owners of the recalled customers are told (and nobody else), the
contacts to call are shown in the caller's role view, and bad input is a problem naming the field
before any call (the gateway test stack runs no order service)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crm.customer.v1 import customer_pb2 as cpb
from crm.order.v1 import batches_pb2, events_pb2
from crm_gateway.batches.router import contacts_to_call
from crmkit.identity import Identity, Role

from .conftest import assert_problem
from .test_quote_notifications import publish_order_event

NOTIFICATIONS = "/api/v1/notifications"


async def about(client, person, recall_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(NOTIFICATIONS, params={"page_size": 100}, headers=person.headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["link_id"] == recall_id]


def received(owner_id: str, name: str) -> batches_pb2.BatchCustomer:
    return batches_pb2.BatchCustomer(
        customer_id=str(uuid.uuid4()),
        customer_name=name,
        owner_id=owner_id,
        quantities=[batches_pb2.BatchQuantity(sku="NR-001", product_name="冷冻牛腩", unit="箱", quantity="2")],
    )


async def test_a_recall_tells_each_owner_of_an_affected_customer_once(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    me = await client.get("/api/v1/auth/me", headers=org.sales_a.headers)
    tenant_id = str(me.json()["tenant_id"])
    recall = batches_pb2.Recall(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        batch_no="B20261128-01",
        reason="供应商通报：沙门氏菌检出",
        raised_by=org.supervisor.id,
        customers=[
            received(org.sales_a.id, "杭州市第一中学食堂"),
            received(org.sales_a.id, "城西养老院"),
            received(org.sales_b.id, "西湖国宾馆"),
        ],
        customer_count=3,
    )

    await publish_order_event(
        stack, events_pb2.BatchRecalled(recall=recall), tenant_id=tenant_id, actor_id=org.supervisor.id
    )
    told_a = await api.eventually(lambda: about(client, org.sales_a, recall.id))
    told_b = await api.eventually(lambda: about(client, org.sales_b, recall.id))

    assert [(n["kind"], n["link_type"]) for n in told_a] == [("batch_recalled", "recall")]
    assert "B20261128-01" in told_a[0]["title"]
    assert "杭州市第一中学食堂" in told_a[0]["body"] and "城西养老院" in told_a[0]["body"]
    assert "西湖国宾馆" not in told_a[0]["body"] and "沙门氏菌" in told_a[0]["body"]
    assert len(told_b) == 1 and "西湖国宾馆" in told_b[0]["body"]
    for bystander in (org.boss, org.supervisor, org.service):
        assert await about(client, bystander, recall.id) == []


def _person(role: Role, *permissions: str) -> Identity:
    return Identity(
        principal_id="u1",
        tenant_id="t1",
        org_unit_id="hq",
        org_path="/hq/",
        role=role,
        permissions=frozenset(permissions),
    )


CONTACTS = [
    cpb.Contact(id="k1", customer_id="c1", name="李师傅", title="厨师长", mobile="13800138000"),
    cpb.Contact(id="k2", customer_id="c1", name="王主任", title="后勤主任", mobile="13900139000", primary=True),
]


@pytest.mark.parametrize(
    ("identity", "mobiles"),
    [
        (_person(Role.SUPERVISOR, "pii"), ["13900139000", "13800138000"]),
        (_person(Role.SUPERVISOR), ["139****9000", "138****8000"]),
        (_person(Role.SERVICE, "pii"), ["139****9000", "138****8000"]),
        (_person(Role.FINANCE, "pii"), ["139****9000", "138****8000"]),
        (_person(Role.SALES, "pii"), ["13900139000", "13800138000"]),
    ],
)
def test_contacts_to_call_put_the_primary_first_with_phones_in_the_callers_view(
    identity: Identity, mobiles: list[str]
) -> None:
    shown = contacts_to_call(identity, CONTACTS)

    assert [(c.name, c.mobile) for c in shown] == list(zip(["王主任", "李师傅"], mobiles, strict=True))
    assert shown[0].primary and shown[0].title == "后勤主任"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("get", "/api/v1/batches/B%2001", None, "batch_no"),
        ("get", "/api/v1/batches/-B01", None, "batch_no"),
        ("get", "/api/v1/batches/" + "B" * 65, None, "batch_no"),
        ("post", "/api/v1/batches/B%3B01/recall", {"reason": "坏了"}, "batch_no"),
        ("post", "/api/v1/batches/B01/recall", {"reason": ""}, "reason"),
        ("post", "/api/v1/batches/B01/recall", {"reason": "x" * 501}, "reason"),
        ("post", "/api/v1/batches/B01/recall", {}, "reason"),
        ("get", "/api/v1/recalls?batch_no=B%2001", None, "batch_no"),
        ("get", "/api/v1/recalls?page_size=500", None, "page_size"),
    ],
)
async def test_bad_batch_input_names_the_field(client, org, method: str, path: str, body: Any, field: str) -> None:  # type: ignore[no-untyped-def]
    kwargs: dict[str, Any] = {"headers": org.supervisor.headers}
    if body is not None:
        kwargs["json"] = body
    response = await getattr(client, method)(path, **kwargs)

    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code, field=field)
