"""After-sales through the whole stack as processes on PostgreSQL (issue 13): on a delivered COD
order a rep asks for a refund with a photo, the supervisor finds it in 待我审批 and approves it,
and the after_sale_decided event on the broker carries the refund amount for the credit service;
the rep is told. An exchange, once approved, creates its linked shipment order, ready to ship at
price 0; quantities beyond what was delivered less earlier after-sales are refused naming the
line; another rep's after-sale looks missing."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import httpx
import nats
import pytest
from PIL import Image

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import events_pb2
from crm_devstack.stack import Stack
from crmkit.clock import SHANGHAI
from crmkit.events import event_type_of, stream_name
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer, PostgresServer

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "after-sale-密码-2026"


def a_photo() -> bytes:
    """A small PNG: the customer service judges files by their content."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 60)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"after_sales_{component}"))
        for component in ("customer", "analytics", "order", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("after-sales"), nats_server.url, databases)


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url, timeout=15.0) as http:
        yield http


@pytest.fixture(scope="module")
def people(client: httpx.Client) -> dict[str, dict[str, str]]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    _, _, headers = branch_with_people(
        client,
        admin,
        branch="宁波分公司",
        shop="鄞州门店",
        people={
            "he.ming": ("sales", "shop"),
            "xu.fang": ("sales", "shop"),
            "gao.jun": ("supervisor", "branch"),
            "lin.na": ("finance", "branch"),
            "ma.chao": ("service", "branch"),
        },
        password=PASSWORD,
    )
    return {"admin": admin, **headers}


def decided_events(stack: Stack, after_sale_id: str) -> list[events_pb2.AfterSaleDecided]:
    """The after-sale's after_sale_decided events as the broker holds them."""

    async def read() -> list[events_pb2.AfterSaleDecided]:
        connection = await nats.connect(stack.config.nats_url)
        try:
            stream = stream_name("order", stack.config.event_namespace)
            jetstream = connection.jetstream()
            info = await jetstream.stream_info(stream)
            found = []
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                envelope = Envelope()
                envelope.ParseFromString((await jetstream.get_msg(stream, sequence)).data or b"")
                if envelope.aggregate_id == after_sale_id and envelope.type == event_type_of(
                    events_pb2.AfterSaleDecided
                ):
                    message = events_pb2.AfterSaleDecided()
                    envelope.payload.Unpack(message)
                    found.append(message)
            return found
        finally:
            await connection.close()

    return asyncio.run(read())


def delivered_order(client: httpx.Client, people: dict[str, dict[str, str]], name: str) -> dict[str, Any]:
    """A new customer's COD order of 4 boxes of beef and 10 kg of rice, taken to delivered."""
    rep, finance, dispatcher = people["he.ming"], people["lin.na"], people["ma.chao"]
    beef = ok(
        client.put(
            "/api/v1/products/by-sku/SH-NR-001",
            json={"name": "冷冻牛腩", "unit": "箱", "list_price": "268.00", "cost": "190.50", "tax_rate": "0.09"},
            headers=people["admin"],
        )
    )["product"]
    rice = ok(
        client.put(
            "/api/v1/products/by-sku/SH-DM-001",
            json={"name": "东北大米", "unit": "公斤", "list_price": "6.50", "cost": "4.80", "tax_rate": "0.09"},
            headers=people["admin"],
        )
    )["product"]
    customer = ok(client.post("/api/v1/customers", headers=rep, json={"name": name, "type": "学校食堂"}), 201)
    delivery = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=2)).isoformat()
    body = {
        "customer_id": customer["id"],
        "payment_mode": "cod",
        "lines": [{"product_id": beef["id"], "quantity": "4"}, {"product_id": rice["id"], "quantity": "10"}],
        "delivery_date": delivery,
        "delivery_address": "宁波市鄞州区天童南路1号",
    }
    order = ok(
        eventually_sync(
            lambda: client.post("/api/v1/orders", headers=rep, json=body),
            lambda reply: reply.status_code != 404,
            within=30,
            interval=0.3,
        ),
        201,
    )
    for who, action in ((rep, "confirm"), (rep, "release"), (finance, "record_payment")):
        ok(client.post(f"/api/v1/orders/{order['id']}/{action}", headers=who, json={}))
    ok(client.post(f"/api/v1/orders/{order['id']}/dispatch", headers=dispatcher, json={}))
    delivered = ok(client.post(f"/api/v1/orders/{order['id']}/deliver", headers=dispatcher, json={}))
    assert delivered["state"] == "delivered"
    return delivered  # type: ignore[no-any-return]


def test_a_refund_is_approved_and_its_event_carries_the_amount(
    stack: Stack, client: httpx.Client, people: dict[str, dict[str, str]]
) -> None:
    rep, other, supervisor, finance = people["he.ming"], people["xu.fang"], people["gao.jun"], people["lin.na"]
    order = delivered_order(client, people, "宁波市鄞州区东湖小学食堂")

    png = a_photo()
    photo = ok(
        client.post(
            f"/api/v1/orders/{order['id']}/after-sale-photos",
            headers=rep,
            files={"file": ("破损.png", png, "image/png")},
        ),
        201,
    )
    too_many = client.post(
        f"/api/v1/orders/{order['id']}/after-sales",
        headers=rep,
        json={"type": "return_refund", "lines": [{"line_no": 1, "quantity": "5"}], "reason": "破损"},
    )
    assert (too_many.status_code, too_many.json()["field"]) == (400, "lines[0].quantity")
    foreign_photo = client.post(
        f"/api/v1/orders/{order['id']}/after-sales",
        headers=rep,
        json={
            "type": "refund_only",
            "lines": [{"line_no": 1, "quantity": "1"}],
            "reason": "破损",
            "photo_ids": ["00000000-0000-0000-0000-000000000000"],
        },
    )
    assert (foreign_photo.status_code, foreign_photo.json()["field"]) == (400, "photo_ids[0]")
    asked = ok(
        client.post(
            f"/api/v1/orders/{order['id']}/after-sales",
            headers=rep,
            json={
                "type": "return_refund",
                "lines": [{"line_no": 1, "quantity": "1"}],
                "reason": "一箱外包装破损，牛腩解冻",
                "photo_ids": [photo["id"]],
                "reissue_invoice": True,
            },
        ),
        201,
    )
    assert (asked["status"], asked["refund_amount"], asked["number"][:3]) == ("requested", "268.00", "SH-")
    assert asked["cost_amount"] is None  # a rep never sees cost
    shown = client.get(asked["photos"][0]["content_url"], headers=rep)
    assert (shown.status_code, shown.content) == (200, png)
    hidden = client.get(f"/api/v1/after-sales/{asked['id']}", headers=other)
    assert hidden.status_code == 404

    waiting = eventually_sync(
        lambda: ok(client.get("/api/v1/after-sales", params={"awaiting_my_decision": True}, headers=supervisor)),
        lambda page: asked["id"] in [a["id"] for a in page["items"]],
        within=10,
        interval=0.3,
    )
    assert waiting["items"][0]["requested_by_name"]
    forbidden = client.post(f"/api/v1/after-sales/{asked['id']}/decision", headers=rep, json={"decision": "approve"})
    assert forbidden.status_code == 403
    approved = ok(
        client.post(
            f"/api/v1/after-sales/{asked['id']}/decision",
            headers=supervisor,
            json={"decision": "approve", "comment": "照片属实，同意退款"},
        )
    )
    assert (approved["status"], approved["approval"]["comment"]) == ("approved", "照片属实，同意退款")
    for_finance = ok(client.get(f"/api/v1/after-sales/{asked['id']}", headers=finance))
    assert (for_finance["refund_amount"], for_finance["reissue_invoice"]) == ("268.00", True)

    [event] = eventually_sync(lambda: decided_events(stack, asked["id"]), bool, within=15, interval=0.3)
    assert (event.refund_amount, event.order_id, event.after_sale.number) == ("268.00", order["id"], asked["number"])
    told = eventually_sync(
        lambda: ok(client.get("/api/v1/notifications", params={"page_size": 100}, headers=rep))["items"],
        lambda items: any(n["link_id"] == asked["id"] for n in items),
        within=15,
        interval=0.3,
    )
    assert [n["kind"] for n in told if n["link_id"] == asked["id"]] == ["after_sale_approved"]


def test_an_approved_exchange_creates_its_shipment_order(
    client: httpx.Client, people: dict[str, dict[str, str]]
) -> None:
    rep, supervisor = people["he.ming"], people["gao.jun"]
    order = delivered_order(client, people, "宁波市鄞州区实验中学食堂")
    asked = ok(
        client.post(
            f"/api/v1/orders/{order['id']}/after-sales",
            headers=rep,
            json={"type": "exchange", "lines": [{"line_no": 2, "quantity": "2.5"}], "reason": "大米受潮"},
        ),
        201,
    )
    assert asked["refund_amount"] == "0.00"

    approved = ok(
        client.post(f"/api/v1/after-sales/{asked['id']}/decision", headers=supervisor, json={"decision": "approve"})
    )

    shipment_id = approved["shipment_order_id"]
    assert shipment_id
    shipment = ok(client.get(f"/api/v1/orders/{shipment_id}", headers=rep))["order"]
    assert (shipment["customer_id"], shipment["state"], shipment["total_amount"]) == (
        order["customer_id"],
        "ready_to_ship",
        "0.00",
    )
    assert [(line["product_name"], line["quantity"], line["unit_price"]) for line in shipment["lines"]] == [
        ("东北大米", "2.5", "0.00")
    ]
    on_order = ok(client.get("/api/v1/after-sales", params={"order_id": order["id"]}, headers=rep))["items"]
    assert [(a["id"], a["type"], a["status"]) for a in on_order] == [(asked["id"], "exchange", "approved")]
    # 10 kg delivered, 2.5 taken by the approved exchange: 7.5 left, not 8.
    refused = client.post(
        f"/api/v1/orders/{order['id']}/after-sales",
        headers=rep,
        json={"type": "refund_only", "lines": [{"line_no": 2, "quantity": "8"}], "reason": "受潮"},
    )
    assert (refused.status_code, refused.json()["field"]) == (400, "lines[0].quantity")
