"""Orders through the whole stack as processes on PostgreSQL (issue 13, first slice): a customer
created at the gateway reaches the order service's facts through NATS, then an order goes from
draft to delivered with its COD payment; a credit order is refused with `credit_unavailable`
while cash on delivery goes on; a halal customer's pork line is refused until a supervisor lets
it through with a reason; a change after confirmation shows its diff; sales never see cost; a quote
at 85% waits for the supervisor (a rep may not approve), downloads as a PDF and becomes a COD
order that is paid, dispatched with batch numbers, signed for with a photo and completed; one at
95% is approved at once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crm_devstack.stack import Stack
from crmkit.clock import SHANGHAI
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer, PostgresServer

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack
from .test_delivery_journey import dispatch_body, jpeg

pytestmark = pytest.mark.e2e
PASSWORD = "order-密码-2026"


@pytest.fixture(scope="module")
def order_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"orders_{component}"))
        for component in ("customer", "analytics", "order", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("orders"), nats_server.url, databases)


@pytest.fixture(scope="module")
def client(order_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=order_stack.gateway_url, timeout=15.0) as http:
        yield http


@pytest.fixture(scope="module")
def people(client: httpx.Client) -> dict[str, dict[str, str]]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    _, _, headers = branch_with_people(
        client,
        admin,
        branch="杭州分公司",
        shop="西湖门店",
        people={
            "zhao.li": ("sales", "shop"),
            "wang.lei": ("supervisor", "branch"),
            "chen.jing": ("finance", "branch"),
            "liu.yang": ("service", "branch"),
        },
        password=PASSWORD,
    )
    return {"admin": admin, **headers}


@pytest.fixture(scope="module")
def products(client: httpx.Client, people: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    catalogue = {
        "NR-001": {
            "name": "清真冷冻牛腩",
            "unit": "箱",
            "list_price": "268.00",
            "cost": "190.50",
            "tax_rate": "0.09",
            "category": "肉禽/牛肉",
            "attributes": {"halal": True, "cold_chain": True},
        },
        "ZR-001": {
            "name": "猪里脊",
            "unit": "公斤",
            "list_price": "32.80",
            "cost": "24.00",
            "tax_rate": "0.09",
            "category": "肉禽/猪肉",
            "attributes": {"contains_pork": True},
        },
    }
    found = {}
    for sku, body in catalogue.items():
        found[sku] = ok(client.put(f"/api/v1/products/by-sku/{sku}", json=body, headers=people["admin"]))["product"]
    return found


def _customer(client: httpx.Client, rep: dict[str, str], name: str, **fields: Any) -> str:
    created = ok(client.post("/api/v1/customers", headers=rep, json={"name": name, "type": "学校食堂", **fields}), 201)
    return str(created["id"])


def _order(
    client: httpx.Client, who: dict[str, str], customer_id: str, lines: list[dict[str, Any]], **fields: Any
) -> httpx.Response:
    """Place an order once the customer's facts have reached the order service (404 until then)."""
    delivery = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=2)).isoformat()
    body = {"customer_id": customer_id, "payment_mode": "cod", "lines": lines, "delivery_date": delivery, **fields}
    return eventually_sync(
        lambda: client.post("/api/v1/orders", headers=who, json=body),
        lambda reply: reply.status_code != 404,
        within=30,
        interval=0.3,
    )


def test_a_cod_order_goes_from_a_new_customer_to_delivered(
    client: httpx.Client, people: dict[str, dict[str, str]], products: dict[str, dict[str, Any]]
) -> None:
    rep, finance, dispatcher = people["zhao.li"], people["chen.jing"], people["liu.yang"]
    customer = _customer(client, rep, "杭州市西湖区文新小学食堂")
    beef = products["NR-001"]
    by_initials = ok(client.get("/api/v1/products", params={"q": "qzldnn"}, headers=rep))["items"]
    assert [p["sku"] for p in by_initials] == ["NR-001"]
    listed = ok(client.get("/api/v1/products", params={"q": "niunan"}, headers=rep))["items"]
    assert [(p["sku"], p["cost"]) for p in listed] == [("NR-001", None)]

    order = ok(_order(client, rep, customer, [{"product_id": beef["id"], "quantity": "2.5"}]), 201)
    assert (order["state"], order["total_amount"], order["margin"]) == ("draft", "670.00", None)
    order_id = order["id"]

    def move(who: dict[str, str], action: str, **body: Any) -> dict[str, Any]:
        return ok(client.post(f"/api/v1/orders/{order_id}/{action}", headers=who, json=body))  # type: ignore[no-any-return]

    assert move(rep, "confirm")["state"] == "confirmed"
    refused = client.post(f"/api/v1/orders/{order_id}/dispatch", headers=dispatcher, json={})
    assert (refused.status_code, refused.json()["code"], refused.json()["current_state"]) == (
        409,
        "illegal_transition",
        "confirmed",
    )
    assert move(rep, "release")["state"] == "awaiting_payment"
    paid = move(finance, "record_payment")
    assert (paid["state"], paid["paid_at"] is not None, paid["margin"]) == ("ready_to_ship", True, "193.75")
    assert move(dispatcher, "dispatch")["state"] == "dispatched"
    assert move(dispatcher, "deliver")["state"] == "delivered"
    assert (
        ok(client.get("/api/v1/orders", params={"customer_id": customer}, headers=rep))["items"][0]["state"]
        == "delivered"
    )


def test_a_credit_order_is_refused_and_cash_on_delivery_still_works(
    client: httpx.Client, people: dict[str, dict[str, str]], products: dict[str, dict[str, Any]]
) -> None:
    rep = people["zhao.li"]
    customer = _customer(client, rep, "杭州市第十四中学食堂")
    line = [{"product_id": products["NR-001"]["id"], "quantity": "1"}]
    credit = ok(_order(client, rep, customer, line, payment_mode="credit"), 201)

    refused = client.post(f"/api/v1/orders/{credit['id']}/confirm", headers=rep, json={})

    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        409,
        "credit_unavailable",
        "payment_mode",
    )
    assert "货到付款" in refused.json()["detail"]
    cod = ok(_order(client, rep, customer, line), 201)
    assert ok(client.post(f"/api/v1/orders/{cod['id']}/confirm", headers=rep, json={}))["state"] == "confirmed"


def test_a_halal_customers_pork_line_needs_a_supervisors_override(
    client: httpx.Client, people: dict[str, dict[str, str]], products: dict[str, dict[str, Any]]
) -> None:
    rep, supervisor = people["zhao.li"], people["wang.lei"]
    customer = _customer(client, rep, "杭州市回民小学食堂", special_requirements=[{"kind": "halal"}])
    pork = [{"product_id": products["ZR-001"]["id"], "quantity": "10"}]

    refused = _order(client, rep, customer, pork)
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        409,
        "requirement_conflict",
        "lines[0].product_id",
    )
    accepted = ok(_order(client, supervisor, customer, pork, override_reason="客户书面确认：教职工食堂用"), 201)
    assert [(o["sku"], o["requirement"], o["reason"]) for o in accepted["overrides"]] == [
        ("ZR-001", "halal", "客户书面确认：教职工食堂用")
    ]


def test_a_change_after_confirmation_shows_its_diff_and_bad_input_names_the_field(
    client: httpx.Client, people: dict[str, dict[str, str]], products: dict[str, dict[str, Any]]
) -> None:
    rep = people["zhao.li"]
    customer = _customer(client, rep, "杭州市保俶塔实验学校食堂")
    beef = products["NR-001"]
    order = ok(_order(client, rep, customer, [{"product_id": beef["id"], "quantity": "1"}]), 201)
    ok(client.post(f"/api/v1/orders/{order['id']}/confirm", headers=rep, json={}))

    changed = ok(
        client.patch(
            f"/api/v1/orders/{order['id']}",
            headers=rep,
            json={"lines": [{"product_id": beef["id"], "quantity": "3"}], "reason": "客户追加两箱"},
        )
    )
    assert changed["revision"]["diff"]["total_amount"] == {"before": "268.00", "after": "804.00"}
    detail = ok(client.get(f"/api/v1/orders/{order['id']}", headers=rep))
    assert [r["reason"] for r in detail["revisions"]] == ["客户追加两箱"]

    bad = client.post(
        "/api/v1/orders",
        headers=rep,
        json={
            "customer_id": customer,
            "payment_mode": "cod",
            "delivery_date": "2030-01-01",
            "lines": [{"product_id": beef["id"], "quantity": "1.2345"}],
        },
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "lines[0].quantity")


def _quote(client: httpx.Client, rep: dict[str, str], customer_id: str, product_id: str, price: str) -> str:
    """Draft a quote once the customer's facts have reached the order service (404 until then)."""
    valid_until = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=14)).isoformat()
    body = {
        "customer_id": customer_id,
        "lines": [{"product_id": product_id, "quantity": "10", "quoted_price": price}],
        "valid_until": valid_until,
        "notes": "含税含运费",
    }
    created = eventually_sync(
        lambda: client.post("/api/v1/quotes", headers=rep, json=body),
        lambda reply: reply.status_code != 404,
        within=30,
        interval=0.3,
    )
    return str(ok(created, 201)["id"])


def test_a_quote_at_85_percent_is_approved_and_its_cod_order_is_paid_dispatched_with_batches_and_completed(
    client: httpx.Client, people: dict[str, dict[str, str]], products: dict[str, dict[str, Any]]
) -> None:
    rep, supervisor = people["zhao.li"], people["wang.lei"]
    finance, dispatcher = people["chen.jing"], people["liu.yang"]
    customer = _customer(client, rep, "杭州市西湖区求是小学食堂")
    # 268.00 list, 227.80 quoted: 85.00%.
    quote_id = _quote(client, rep, customer, products["NR-001"]["id"], "227.80")

    submitted = ok(client.post(f"/api/v1/quotes/{quote_id}/submit", headers=rep, json={}))
    assert (submitted["status"], submitted["discount_rate"], submitted["margin"]) == ("pending_approval", "85.00", None)
    by_rep = client.post(f"/api/v1/quotes/{quote_id}/decision", headers=rep, json={"decision": "approve"})
    assert by_rep.status_code == 403
    waiting = ok(client.get("/api/v1/quotes", params={"awaiting_my_decision": "true"}, headers=supervisor))["items"]
    assert quote_id in [q["id"] for q in waiting]
    approved = ok(
        client.post(
            f"/api/v1/quotes/{quote_id}/decision",
            headers=supervisor,
            json={"decision": "approve", "comment": "年度合作客户，同意"},
        )
    )
    assert (approved["status"], approved["approval"]["comment"]) == ("approved", "年度合作客户，同意")
    for who, kind in ((supervisor, "quote_awaiting_approval"), (rep, "quote_approved")):
        told = eventually_sync(
            lambda who=who: ok(client.get("/api/v1/notifications", params={"page_size": 100}, headers=who))["items"],
            lambda items, kind=kind: any(
                n["kind"] == kind
                and approved["number"] in n["body"]
                and (n["link_type"], n["link_id"]) == ("quote", quote_id)
                for n in items
            ),
            within=30,
            interval=0.3,
        )
        assert told

    pdf = client.get(f"/api/v1/quotes/{quote_id}/pdf", headers=rep)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95-BJ-" in pdf.headers["content-disposition"]

    delivery = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=2)).isoformat()
    converted = ok(
        client.post(
            f"/api/v1/quotes/{quote_id}/convert",
            headers=rep,
            json={"payment_mode": "cod", "delivery_date": delivery, "delivery_address": "杭州市西湖区求是路8号"},
        )
    )
    order = converted["order"]
    assert (converted["quote"]["status"], converted["quote"]["order_id"]) == ("converted", order["id"])
    assert (order["lines"][0]["unit_price"], order["total_amount"]) == ("227.80", "2278.00")
    steps = [
        (rep, "confirm", "confirmed"),
        (rep, "release", "awaiting_payment"),
        (finance, "record_payment", "ready_to_ship"),
    ]
    for who, action, reached in steps:
        order = ok(client.post(f"/api/v1/orders/{order['id']}/{action}", headers=who, json={}))
        assert order["state"] == reached

    # The paid order leaves with its batch numbers and comes back signed for, with a photo.
    delivery_url = f"/api/v1/orders/{order['id']}/delivery"
    batches = [
        {"line_no": 1, "batch_no": "NR20261201-03", "quantity": "6"},
        {"line_no": 1, "batch_no": "NR20261203-01", "quantity": "4"},
    ]
    dispatched = ok(client.post(f"{delivery_url}/dispatch", headers=dispatcher, json=dispatch_body(batches=batches)))
    assert dispatched["order"]["state"] == "dispatched"
    photo = ok(
        client.post(f"{delivery_url}/photos", headers=dispatcher, files={"file": ("签收.jpg", jpeg(), "image/jpeg")}),
        201,
    )
    signed_at = dt.datetime.now(SHANGHAI).replace(microsecond=0).isoformat()
    confirmation = {"signed_by": "食堂李师傅", "signed_at": signed_at, "photo_id": photo["id"]}
    delivered = ok(client.post(f"{delivery_url}/confirm", headers=dispatcher, json=confirmation))
    assert delivered["order"]["state"] == "delivered"
    completed = ok(client.post(f"/api/v1/orders/{order['id']}/complete", headers=dispatcher, json={}))
    assert completed["state"] == "completed"

    seen = ok(client.get(delivery_url, headers=rep))
    assert [(b["line_no"], b["batch_no"], b["quantity"]) for b in seen["dispatch"]["batches"]] == [
        (1, "NR20261201-03", "6"),
        (1, "NR20261203-01", "4"),
    ]
    assert (seen["confirmation"]["signed_by"], seen["confirmation"]["photo_id"]) == ("食堂李师傅", photo["id"])
    assert ok(client.get(f"/api/v1/orders/{order['id']}", headers=rep))["order"]["state"] == "completed"
    twice = client.post(
        f"/api/v1/quotes/{quote_id}/convert", headers=rep, json={"payment_mode": "cod", "delivery_date": delivery}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "illegal_quote_state")


def test_a_quote_at_95_percent_is_approved_at_once(
    client: httpx.Client, people: dict[str, dict[str, str]], products: dict[str, dict[str, Any]]
) -> None:
    rep = people["zhao.li"]
    customer = _customer(client, rep, "杭州市西湖区保俶塔小学食堂")
    # 268.00 list, 254.60 quoted: 95.00%.
    quote_id = _quote(client, rep, customer, products["NR-001"]["id"], "254.60")

    submitted = ok(client.post(f"/api/v1/quotes/{quote_id}/submit", headers=rep, json={}))

    assert (submitted["status"], submitted["discount_rate"]) == ("approved", "95.00")
    assert submitted["needs_approval"] is False
    bad = client.post(
        "/api/v1/quotes",
        headers=rep,
        json={
            "customer_id": customer,
            "lines": [{"product_id": products["NR-001"]["id"], "quantity": "1.5"}],
            "valid_until": dt.datetime.now(SHANGHAI).date().isoformat(),
        },
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "lines[0].quantity")
