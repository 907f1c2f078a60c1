"""Delivery through the whole stack as processes on PostgreSQL (issue 13, delivery): an urgent COD
order is told to the dispatcher, paid, dispatched with batch numbers, delivered with a photo from
the phone and completed; a partial delivery records the delivered quantities; a dispatch system's
partner token with only `deliveries:write` dispatches and confirms over gRPC but places no order."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import Image

from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import order_pb2_grpc
from crm_devstack.stack import Stack
from crmkit.clock import SHANGHAI
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer, PostgresServer

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "delivery-密码-2026"


@pytest.fixture(scope="module")
def delivery_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"deliveries_{component}"))
        for component in ("customer", "analytics", "order", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("deliveries"), nats_server.url, databases)


@pytest.fixture(scope="module")
def client(delivery_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=delivery_stack.gateway_url, timeout=15.0) as http:
        yield http


@pytest.fixture(scope="module")
def team(client: httpx.Client) -> dict[str, Any]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    branch, _, headers = branch_with_people(
        client,
        admin,
        branch="宁波分公司",
        shop="鄞州门店",
        people={"sun.rep": ("sales", "shop"), "zhou.fin": ("finance", "branch"), "wu.disp": ("service", "branch")},
        password=PASSWORD,
    )
    beef = ok(
        client.put(
            "/api/v1/products/by-sku/NR-101",
            json={"name": "冷冻牛腩", "unit": "箱", "list_price": "268.00", "cost": "190.50", "tax_rate": "0.09"},
            headers=admin,
        )
    )["product"]
    rice = ok(
        client.put(
            "/api/v1/products/by-sku/DM-101",
            json={"name": "东北大米", "unit": "袋", "list_price": "98.00", "cost": "70.00", "tax_rate": "0.09"},
            headers=admin,
        )
    )["product"]
    return {"admin": admin, "branch": branch, "products": [beef, rice], **headers}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


def paid_order(client: httpx.Client, team: dict[str, Any], name: str, *, urgent: bool = False) -> dict[str, Any]:
    """A COD order of two lines (3 箱 beef, 2 袋 rice) for a new customer, confirmed and paid."""
    rep, finance = team["sun.rep"], team["zhou.fin"]
    customer = ok(client.post("/api/v1/customers", headers=rep, json={"name": name, "type": "学校食堂"}), 201)["id"]
    beef, rice = team["products"]
    body = {
        "customer_id": customer,
        "payment_mode": "cod",
        "lines": [{"product_id": beef["id"], "quantity": "3"}, {"product_id": rice["id"], "quantity": "2"}],
        "delivery_date": (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)).isoformat(),
        "delivery_address": "宁波市鄞州区天童南路1号",
        "urgent": urgent,
    }
    # The customer's facts reach the order service through NATS: 404 until then.
    created = eventually_sync(
        lambda: client.post("/api/v1/orders", headers=rep, json=body),
        lambda reply: reply.status_code != 404,
        within=30,
        interval=0.3,
    )
    order_id = ok(created, 201)["id"]
    for who, action in ((rep, "confirm"), (rep, "release"), (finance, "record_payment")):
        ok(client.post(f"/api/v1/orders/{order_id}/{action}", headers=who, json={}))
    return ok(client.get(f"/api/v1/orders/{order_id}", headers=rep))["order"]  # type: ignore[no-any-return]


def dispatch_body(**changes: Any) -> dict[str, Any]:
    planned = (dt.datetime.now(SHANGHAI) + dt.timedelta(hours=4)).replace(microsecond=0)
    return {
        "vehicle": "浙B 12345",
        "driver_name": "陈师傅",
        "driver_phone": "13900139000",
        "planned_at": planned.isoformat(),
        "batches": [
            {"line_no": 1, "batch_no": "B20261128-01", "quantity": "2"},
            {"line_no": 1, "batch_no": "B20261128-02", "quantity": "1"},
            {"line_no": 2, "batch_no": "DM20261120-07", "quantity": "2"},
        ],
        **changes,
    }


def test_an_urgent_cod_order_is_dispatched_with_batches_delivered_with_a_photo_and_completed(
    client: httpx.Client, team: dict[str, Any]
) -> None:
    dispatcher, rep = team["wu.disp"], team["sun.rep"]
    order = paid_order(client, team, "宁波市鄞州区实验小学食堂", urgent=True)
    order_id = order["id"]
    assert order["state"] == "ready_to_ship"

    def urgent_notices() -> list[dict[str, Any]]:
        items = ok(client.get("/api/v1/notifications", params={"page_size": 100}, headers=dispatcher))["items"]
        return [n for n in items if n["link_id"] == order_id]

    told = eventually_sync(urgent_notices, lambda found: bool(found), within=30, interval=0.3)
    assert [(n["kind"], n["link_type"]) for n in told] == [("urgent_order", "order")]

    too_many = client.post(
        f"/api/v1/orders/{order_id}/delivery/dispatch",
        headers=dispatcher,
        json=dispatch_body(batches=[{"line_no": 2, "batch_no": "DM1", "quantity": "2.5"}]),
    )
    assert (too_many.status_code, too_many.json()["field"]) == (400, "batches[0].quantity")
    by_rep = client.post(f"/api/v1/orders/{order_id}/delivery/dispatch", headers=rep, json=dispatch_body())
    assert by_rep.status_code == 403

    dispatched = ok(
        client.post(f"/api/v1/orders/{order_id}/delivery/dispatch", headers=dispatcher, json=dispatch_body())
    )
    assert dispatched["order"]["state"] == "dispatched"
    assert dispatched["delivery"]["dispatch"]["vehicle"] == "浙B12345"
    assert [(b["line_no"], b["batch_no"]) for b in dispatched["delivery"]["dispatch"]["batches"]] == [
        (1, "B20261128-01"),
        (1, "B20261128-02"),
        (2, "DM20261120-07"),
    ]

    not_a_photo = client.post(
        f"/api/v1/orders/{order_id}/delivery/photos",
        headers=dispatcher,
        files={"file": ("签收.jpg", b"%PDF-1.7 not a photo", "image/jpeg")},
    )
    assert (not_a_photo.status_code, not_a_photo.json()["code"]) == (415, "unsupported_media_type")
    picture = jpeg()
    photo = ok(
        client.post(
            f"/api/v1/orders/{order_id}/delivery/photos",
            headers=dispatcher,
            files={"file": ("签收.jpg", picture, "image/jpeg")},
        ),
        201,
    )
    signed_at = dt.datetime.now(SHANGHAI).replace(microsecond=0).isoformat()
    delivered = ok(
        client.post(
            f"/api/v1/orders/{order_id}/delivery/confirm",
            headers=dispatcher,
            json={"signed_by": "食堂王主任", "signed_at": signed_at, "photo_id": photo["id"]},
        )
    )
    assert delivered["order"]["state"] == "delivered"
    assert (delivered["delivery"]["confirmation"]["signed_by"], delivered["delivery"]["confirmation"]["exception"]) == (
        "食堂王主任",
        None,
    )

    # The rep who owns the customer sees it all and downloads the photo; nobody else's token does.
    seen = ok(client.get(f"/api/v1/orders/{order_id}/delivery", headers=rep))
    assert seen["confirmation"]["photo_id"] == photo["id"]
    download = client.get(seen["photos"][0]["content_url"], headers=rep)
    assert (download.status_code, download.headers["content-type"], download.content) == (200, "image/jpeg", picture)
    assert client.get(seen["photos"][0]["content_url"]).status_code == 401
    completed = ok(client.post(f"/api/v1/orders/{order_id}/complete", headers=dispatcher, json={}))
    assert completed["state"] == "completed"


def test_a_partial_delivery_records_what_was_delivered(client: httpx.Client, team: dict[str, Any]) -> None:
    dispatcher = team["wu.disp"]
    order_id = paid_order(client, team, "宁波市第二中学食堂")["id"]
    ok(client.post(f"/api/v1/orders/{order_id}/delivery/dispatch", headers=dispatcher, json=dispatch_body()))
    photo = ok(
        client.post(
            f"/api/v1/orders/{order_id}/delivery/photos",
            headers=dispatcher,
            files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        ),
        201,
    )

    delivered = ok(
        client.post(
            f"/api/v1/orders/{order_id}/delivery/confirm",
            headers=dispatcher,
            json={
                "signed_by": "李阿姨",
                "signed_at": dt.datetime.now(SHANGHAI).replace(microsecond=0).isoformat(),
                "photo_id": photo["id"],
                "exception": "partial",
                "exception_lines": [{"line_no": 1, "quantity": "2", "note": "少一箱"}],
            },
        )
    )

    confirmation = delivered["delivery"]["confirmation"]
    assert confirmation["exception"] == "partial"
    assert [(line["line_no"], line["quantity"], line["note"]) for line in confirmation["exception_lines"]] == [
        (1, "2", "少一箱")
    ]


def stamp(value: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def test_a_dispatch_system_dispatches_and_confirms_over_grpc_but_places_no_order(
    delivery_stack: Stack, client: httpx.Client, team: dict[str, Any]
) -> None:
    order = paid_order(client, team, "宁波市鄞州区第三幼儿园食堂")
    registered = ok(
        client.post(
            "/api/v1/api-clients",
            headers=team["admin"],
            json={
                "name": "顺丰城配调度",
                "role": "service",
                "org_unit_id": team["branch"]["id"],
                "scopes": ["deliveries:write"],
            },
        ),
        201,
    )
    issued = ok(
        client.post(
            "/api/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(registered["id"], registered["key"]),
        )
    )
    bearer = (("authorization", f"Bearer {issued['access_token']}"),)
    now = dt.datetime.now(dt.UTC)

    async def on_the_road() -> tuple[int, int, grpc.StatusCode]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{delivery_stack.port('order')}") as channel:
            stub = order_pb2_grpc.OrderServiceStub(channel)
            dispatched = await stub.DispatchOrder(
                pb.DispatchOrderRequest(
                    id=order["id"],
                    vehicle="浙B54321",
                    driver_name="郑师傅",
                    driver_phone="13700137000",
                    planned_time=stamp(now + dt.timedelta(hours=2)),
                    batches=[dpb.LineBatch(line_no=1, batch_no="B20261128-01", quantity="3")],
                ),
                metadata=bearer,
            )
            photo = await stub.UploadDeliveryPhoto(
                dpb.UploadDeliveryPhotoRequest(order_id=order["id"], filename="pod.jpg", content=jpeg()),
                metadata=bearer,
            )
            delivered = await stub.ConfirmDelivery(
                pb.ConfirmDeliveryRequest(
                    id=order["id"], signed_by="门卫老张", signed_time=stamp(now), photo_id=photo.photo.id
                ),
                metadata=bearer,
            )
            try:
                await stub.CreateOrder(
                    pb.CreateOrderRequest(customer_id=order["customer_id"], request_id="dispatch-1"), metadata=bearer
                )
            except grpc.aio.AioRpcError as refused:
                return dispatched.order.state, delivered.order.state, refused.code()
            raise AssertionError("a dispatch system created an order")

    dispatched, delivered, refusal = asyncio.run(on_the_road())
    assert (dispatched, delivered) == (pb.ORDER_STATE_DISPATCHED, pb.ORDER_STATE_DELIVERED)
    assert refusal is grpc.StatusCode.PERMISSION_DENIED
    seen = ok(client.get(f"/api/v1/orders/{order['id']}/delivery", headers=team["sun.rep"]))
    assert (seen["dispatch"]["driver_name"], seen["confirmation"]["signed_by"]) == ("郑师傅", "门卫老张")


def test_a_recall_of_a_batch_lists_exactly_the_customers_that_received_it_and_tells_their_owner(
    client: httpx.Client, team: dict[str, Any]
) -> None:
    dispatcher, rep, admin = team["wu.disp"], team["sun.rep"], team["admin"]
    batch = "QR20261203-09"
    received = [paid_order(client, team, name) for name in ("宁波市镇明中学食堂", "宁波市惠贞书院食堂")]
    other = paid_order(client, team, "宁波市效实中学食堂")
    for order in received:
        body = dispatch_body(batches=[{"line_no": 1, "batch_no": batch, "quantity": "3"}])
        ok(client.post(f"/api/v1/orders/{order['id']}/delivery/dispatch", headers=dispatcher, json=body))
    ok(client.post(f"/api/v1/orders/{other['id']}/delivery/dispatch", headers=dispatcher, json=dispatch_body()))

    looked_up = ok(client.get(f"/api/v1/batches/{batch}", headers=rep))
    assert sorted(c["customer_name"] for c in looked_up["customers"]) == sorted(o["customer_name"] for o in received)
    assert {(q["sku"], q["quantity"]) for c in looked_up["customers"] for q in c["quantities"]} == {("NR-101", "3")}
    assert looked_up["recall"] is None

    reason = {"reason": "供应商通报：批次抽检不合格"}
    recall = ok(client.post(f"/api/v1/batches/{batch}/recall", headers=admin, json=reason), 201)
    assert recall["customer_count"] == 2
    assert sorted(c["customer_name"] for c in recall["customers"]) == sorted(o["customer_name"] for o in received)
    again = client.post(f"/api/v1/batches/{batch}/recall", headers=admin, json={"reason": "再次召回"})
    assert (again.status_code, again.json()["code"]) == (409, "already_recalled")

    # The owner of the affected customers is told once, linked to the recall.
    notices = eventually_sync(
        lambda: [
            n
            for n in ok(client.get("/api/v1/notifications", params={"page_size": 100}, headers=rep))["items"]
            if n["kind"] == "batch_recalled"
        ],
        lambda found: len(found) >= 1,
        within=30,
        interval=0.3,
    )
    assert [(n["link_type"], n["link_id"]) for n in notices] == [("recall", recall["id"])]
    assert batch in notices[0]["title"] + notices[0]["body"]
    # A batch nobody received looks like one that was never shipped.
    assert client.get("/api/v1/batches/QR-NEVER-SHIPPED", headers=rep).status_code == 404
