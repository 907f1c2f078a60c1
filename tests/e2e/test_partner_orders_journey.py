"""A partner ERP's orders through the whole stack as processes on PostgreSQL (issue 13, partner
access): an admin registers the ERP at the gateway, the ERP trades its id and secret for a token
at /api/v1/oauth/token, imports 100 historical orders twice over gRPC and exactly 100 exist with
their original dates; a client without `orders:write` is refused naming the scope; the change
stream from cursor 0 yields the imported orders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import partner_orders_pb2 as ppb
from crm.order.v1 import partner_orders_pb2_grpc
from crm_devstack.stack import Stack
from crmkit.events import timestamp_of
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer, PostgresServer

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "partner-密码-2026"
FIRST_ORDER = dt.datetime(2025, 1, 6, 1, 0, tzinfo=dt.UTC)
COUNT = 100


@pytest.fixture(scope="module")
def partner_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"partner_orders_{component}"))
        for component in ("customer", "analytics", "order", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("partner_orders"), nats_server.url, databases)


@pytest.fixture(scope="module")
def client(partner_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=partner_stack.gateway_url, timeout=15.0) as http:
        yield http


def partner_token(client: httpx.Client, admin: dict[str, str], name: str, org_unit_id: str, scopes: list[str]) -> str:
    registered = ok(
        client.post(
            "/api/v1/api-clients",
            headers=admin,
            json={"name": name, "role": "supervisor", "org_unit_id": org_unit_id, "scopes": scopes},
        ),
        201,
    )
    issued = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(registered["id"], registered["key"])
    )
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


def history(customer_id: str, product_id: str) -> list[ppb.ImportedOrder]:
    """A hundred completed orders, one a day from 2025-01-06 (09:00 Shanghai)."""
    orders = []
    for n in range(COUNT):
        ordered = FIRST_ORDER + dt.timedelta(days=n)
        orders.append(
            ppb.ImportedOrder(
                external_id=f"U8-SO-{n:05d}",
                customer_id=customer_id,
                payment_mode=pb.PAYMENT_MODE_COD,
                state=pb.ORDER_STATE_COMPLETED,
                lines=[ppb.ImportedOrderLine(product_id=product_id, quantity=str(n + 1), unit_price="268.00")],
                order_time=timestamp_of(ordered),
                delivery_date=(ordered + dt.timedelta(days=1)).date().isoformat(),
                delivered_time=timestamp_of(ordered + dt.timedelta(days=1)),
                completed_time=timestamp_of(ordered + dt.timedelta(days=2)),
            )
        )
    return orders


def test_a_partner_erp_imports_a_hundred_orders_twice_and_streams_them(
    partner_stack: Stack, client: httpx.Client
) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    branch, _, people = branch_with_people(
        client, admin, branch="宁波分公司", shop="鄞州门店", people={"sun.mei": ("sales", "shop")}, password=PASSWORD
    )
    rep = people["sun.mei"]
    customer = ok(
        client.post("/api/v1/customers", headers=rep, json={"name": "宁波市鄞州中学食堂", "type": "学校食堂"}), 201
    )
    beef: dict[str, Any] = ok(
        client.put(
            "/api/v1/products/by-sku/NR-001",
            headers=admin,
            json={"name": "清真冷冻牛腩", "unit": "箱", "list_price": "268.00", "cost": "190.50", "tax_rate": "0.09"},
        )
    )["product"]
    erp = (
        (
            "authorization",
            f"Bearer {partner_token(client, admin, '用友U8', branch['id'], ['orders:write', 'orders:read'])}",
        ),
    )
    reader = (("authorization", f"Bearer {partner_token(client, admin, '报表系统', branch['id'], ['orders:read'])}"),)
    batch = history(customer["id"], beef["id"])

    async def journey() -> tuple[list[ppb.ImportOrdersResponse], grpc.aio.AioRpcError, list[ppb.OrderChange]]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{partner_stack.port('order')}") as channel:
            stub = partner_orders_pb2_grpc.PartnerOrderServiceStub(channel)

            async def import_once() -> ppb.ImportOrdersResponse:
                # The customer's facts reach the order service through NATS: not found until then.
                for _ in range(100):
                    reply = await stub.ImportOrders(ppb.ImportOrdersRequest(orders=batch), metadata=erp)
                    if reply.failed == 0:
                        return reply
                    await asyncio.sleep(0.3)
                raise AssertionError(reply.results[0].errors)

            replies = [await import_once(), await import_once()]
            try:
                await stub.ImportOrders(ppb.ImportOrdersRequest(orders=batch[:1]), metadata=reader)
                raise AssertionError("a client without orders:write imported an order")
            except grpc.aio.AioRpcError as error:
                refused = error
            stream = stub.WatchOrderChanges(ppb.WatchOrderChangesRequest(cursor="0"), metadata=reader)
            seen = [(await asyncio.wait_for(stream.read(), timeout=30)).change for _ in range(COUNT)]
            stream.cancel()
            return replies, refused, seen

    (first, second), refused, changes = asyncio.run(journey())

    assert (first.created, first.already_imported) == (COUNT, 0)
    assert (second.created, second.already_imported) == (0, COUNT)
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED and "orders:write" in (refused.details() or "")
    listed: list[dict[str, Any]] = []
    page = ""
    while True:
        params = {"customer_id": customer["id"], "page_size": 100, **({"page_token": page} if page else {})}
        reply = ok(client.get("/api/v1/orders", params=params, headers=rep))
        listed += reply["items"]
        page = reply.get("next_page_token") or ""
        if not page:
            break
    assert len(listed) == COUNT
    created = sorted(dt.datetime.fromisoformat(order["created_at"]) for order in listed)
    assert created[0] == FIRST_ORDER and created[-1] == FIRST_ORDER + dt.timedelta(days=COUNT - 1)
    assert {order["state"] for order in listed} == {"completed"}
    assert [c.kind for c in changes] == ["order_imported"] * COUNT
    assert {c.order.id for c in changes} == {order["id"] for order in listed}


def test_an_admin_imports_a_history_file_after_a_dry_run_that_names_each_bad_row(
    partner_stack: Stack, client: httpx.Client
) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    customer = ok(
        client.post("/api/v1/customers", headers=admin, json={"name": "宁波市北仑区某酒店", "type": "连锁酒店"}), 201
    )
    ok(
        client.put(
            "/api/v1/products/by-sku/JR-001",
            headers=admin,
            json={"name": "鸡腿", "unit": "公斤", "list_price": "18.00", "cost": "12.00", "tax_rate": "0.09"},
        )
    )
    template = client.get("/api/v1/order-imports/template", params={"format": "csv"}, headers=admin)
    assert template.status_code == 200 and template.content.decode("utf-8-sig").startswith("外部单号,客户,SKU")
    rows = [
        "外部单号,客户,SKU,数量,单价,下单日期,送货日期,状态",
        "H-1,宁波市北仑区某酒店,JR-001,20,18.00,2024-11-02,2024-11-03,已完成",
        "H-1,宁波市北仑区某酒店,JR-001,5,17.50,2024-11-02,2024-11-03,已完成",
        "H-2,宁波市北仑区某酒店,JR-001,-3,18.00,2024-11-05,2024-11-06,已签收",
        "H-3,没有这个客户,JR-001,1,18.00,2024-11-05,2024-11-06,已签收",
    ]
    body = "\r\n".join(rows).encode("gb18030")

    def upload(dry_run: bool) -> dict[str, Any]:
        # The customer reaches the order service's facts through NATS: not found until then.
        return eventually_sync(  # type: ignore[no-any-return]
            lambda: ok(
                client.post(
                    "/api/v1/order-imports",
                    params={"file_name": "历史订单.csv", "dry_run": dry_run},
                    content=body,
                    headers={**admin, "Content-Type": "text/csv"},
                )
            ),
            lambda report: all(p["column"] != "客户" or p["row"] == 5 for p in report["problems"]),
            within=30,
            interval=0.5,
        )

    dry = upload(True)
    imported = upload(False)
    again = upload(False)

    assert [(p["row"], p["column"]) for p in dry["problems"]] == [(4, "数量"), (5, "客户")]
    assert dry["problems"][0]["reason"].startswith("须大于0")
    assert (dry["orders"], dry["created"], dry["failed"]) == (3, 1, 2)
    assert (imported["created"], again["created"], again["already_imported"]) == (1, 0, 1)
    order_id = imported["items"][0]["order_id"]
    order = ok(client.get(f"/api/v1/orders/{order_id}", headers=admin))["order"]
    assert (order["state"], order["total_amount"], order["customer_id"]) == ("completed", "447.50", customer["id"])
    assert dt.datetime.fromisoformat(order["created_at"]).date() == dt.date(2024, 11, 2)
