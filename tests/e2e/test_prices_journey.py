"""Prices through the whole stack as processes on PostgreSQL (issue 13): an agreement price set
for a group's parent account reaches a branch (its parent comes to the order service's facts
through NATS), so the branch's order line given no price takes it; the past prices then show
that order's price; an overlapping period is refused naming the field; the tenant's approval
threshold moves where new quotes need approval."""

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

pytestmark = pytest.mark.e2e
PASSWORD = "prices-密码-2026"


@pytest.fixture(scope="module")
def prices_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"prices_{component}"))
        for component in ("customer", "analytics", "order", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("prices"), nats_server.url, databases)


@pytest.fixture(scope="module")
def client(prices_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=prices_stack.gateway_url, timeout=15.0) as http:
        yield http


@pytest.fixture(scope="module")
def people(client: httpx.Client) -> dict[str, dict[str, str]]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    _, _, headers = branch_with_people(
        client,
        admin,
        branch="杭州分公司",
        shop="西湖门店",
        people={"zhao.li": ("sales", "shop"), "wang.lei": ("supervisor", "branch")},
        password=PASSWORD,
    )
    return {"admin": admin, **headers}


def _customer(client: httpx.Client, rep: dict[str, str], name: str) -> str:
    created = ok(client.post("/api/v1/customers", headers=rep, json={"name": name, "type": "企业食堂"}), 201)
    return str(created["id"])


def test_a_groups_agreement_price_prices_a_branchs_order_and_shows_in_past_prices(
    client: httpx.Client, people: dict[str, dict[str, str]]
) -> None:
    admin, rep, supervisor = people["admin"], people["zhao.li"], people["wang.lei"]
    beef = ok(
        client.put(
            "/api/v1/products/by-sku/NR-101",
            json={
                "name": "冷冻牛腩",
                "unit": "箱",
                "list_price": "268.00",
                "cost": "190.00",
                "tax_rate": "0.09",
                "category": "肉禽",
            },
            headers=admin,
        )
    )["product"]
    group = _customer(client, rep, "华联超市集团")
    branch = _customer(client, rep, "华联超市西湖店")
    ok(client.put(f"/api/v1/customers/{branch}/parent", json={"parent_customer_id": group}, headers=rep))
    today = dt.datetime.now(SHANGHAI).date()
    body: dict[str, Any] = {
        "customer_id": group,
        "product_id": beef["id"],
        "price": "250.00",
        "valid_from": today.isoformat(),
    }
    agreed = ok(
        eventually_sync(
            lambda: client.post("/api/v1/agreement-prices", json=body, headers=supervisor),
            lambda reply: reply.status_code != 404,
            within=30,
            interval=0.3,
        ),
        201,
    )
    overlap = client.post(
        "/api/v1/agreement-prices", json={**body, "price": "240.00", "valid_until": today.isoformat()}, headers=admin
    )
    by_rep = client.post("/api/v1/agreement-prices", json={**body, "customer_id": branch}, headers=rep)

    # The branch's parent reaches the order service's facts: its list shows the group's price.
    inherited = eventually_sync(
        lambda: ok(
            client.get(
                "/api/v1/agreement-prices", params={"customer_id": branch, "include_inherited": True}, headers=rep
            )
        )["items"],
        lambda items: len(items) == 1,
        within=30,
        interval=0.3,
    )
    delivery = (today + dt.timedelta(days=2)).isoformat()
    order = ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_id": branch,
                "payment_mode": "cod",
                "lines": [{"product_id": beef["id"], "quantity": "3"}],
                "delivery_date": delivery,
            },
            headers=rep,
        ),
        201,
    )
    ok(client.post(f"/api/v1/orders/{order['id']}/confirm", headers=rep, json={}))
    past = ok(client.get("/api/v1/past-prices", params={"customer_id": branch, "product_id": beef["id"]}, headers=rep))[
        "items"
    ][0]

    assert (overlap.status_code, overlap.json()["field"]) == (400, "valid_from")
    assert by_rep.status_code == 403
    assert [(p["id"], p["inherited"], p["customer_name"]) for p in inherited] == [(agreed["id"], True, "华联超市集团")]
    assert (order["lines"][0]["unit_price"], order["total_amount"]) == ("250.00", "750.00")
    assert [(p["source"], p["price"], p["document_id"]) for p in past["past_prices"]] == [
        ("order", "250.00", order["id"])
    ]
    assert (past["list_price"], past["agreement_price"]["price"], past["agreement_price"]["inherited"]) == (
        "268.00",
        "250.00",
        True,
    )


def test_an_admin_lowers_the_approval_threshold_and_a_quote_at_85_percent_is_approved_at_once(
    client: httpx.Client, people: dict[str, dict[str, str]]
) -> None:
    admin, rep = people["admin"], people["zhao.li"]
    pork = ok(
        client.put(
            "/api/v1/products/by-sku/ZR-101",
            json={
                "name": "猪里脊",
                "unit": "公斤",
                "list_price": "40.00",
                "cost": "30.00",
                "tax_rate": "0.09",
                "category": "肉禽",
            },
            headers=admin,
        )
    )["product"]
    customer = _customer(client, rep, "杭州市文三路小学食堂")
    refused = client.put("/api/v1/pricing-settings", json={"approval_threshold": "80"}, headers=rep)
    settings = ok(client.put("/api/v1/pricing-settings", json={"approval_threshold": "80"}, headers=admin))
    body = {
        "customer_id": customer,
        "lines": [{"product_id": pork["id"], "quantity": "10", "quoted_price": "34.00"}],
        "valid_until": (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=7)).isoformat(),
    }
    quote = ok(
        eventually_sync(
            lambda: client.post("/api/v1/quotes", json=body, headers=rep),
            lambda reply: reply.status_code != 404,
            within=30,
            interval=0.3,
        ),
        201,
    )
    submitted = ok(client.post(f"/api/v1/quotes/{quote['id']}/submit", json={}, headers=rep))

    assert refused.status_code == 403
    assert settings["approval_threshold"] == "80.00"
    assert (submitted["status"], submitted["approval_threshold"], submitted["needs_approval"]) == (
        "approved",
        "80.00",
        False,
    )
