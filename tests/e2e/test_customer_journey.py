"""A distributor's first day, only through the gateway: users, customers, search, scope, analytics."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import grpc
import httpx
import nats
import pytest

from crm.customer.v1 import customer_pb2, customer_pb2_grpc
from crm_analytics.customer_summary.events import CUSTOMER_SUMMARY
from crm_devstack.stack import Stack
from crmkit.events import stream_name
from crmkit.testing.events import eventually_sync

from .conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def summary_total(client: httpx.Client, headers: dict[str, str]) -> int:
    reply = client.get("/api/v1/analytics/customer-summary", headers=headers)
    assert reply.status_code == 200, reply.text
    total: int = reply.json()["total"]
    return total


def wait_for_total(client: httpx.Client, headers: dict[str, str], expected: int, timeout: float = 30.0) -> int:
    return eventually_sync(
        lambda: summary_total(client, headers), lambda total: total == expected, within=timeout, interval=0.2
    )


def analytics_events_in_flight(stack: Stack) -> int:
    """Customer events JetStream has not yet delivered to analytics' consumer, or has delivered
    and not had acknowledged (analytics acknowledges an event once it is applied and committed)."""

    async def in_flight() -> int:
        connection = await nats.connect(stack.config.nats_url)
        try:
            namespace = stack.config.event_namespace
            info = await connection.jetstream().consumer_info(
                stream_name("customer", namespace), CUSTOMER_SUMMARY.durable_name("analytics", namespace)
            )
        finally:
            await connection.close()
        return (info.num_pending or 0) + (info.num_ack_pending or 0)

    return asyncio.run(in_flight())


def new_customer(name: str, mobile: str, credit_code: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "type": "学校食堂",
        "addresses": [
            {
                "label": "收货地址",
                "province": "北京市",
                "city": "北京市",
                "district": "海淀区",
                "detail": "中关村大街1号",
            }
        ],
        "contacts": [{"name": "王芳", "mobile": mobile, "decision_role": "purchaser"}],
    }
    if credit_code:
        body["credit_code"] = credit_code
    return body


@pytest.fixture(scope="module")
def client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.gateway_url, timeout=15.0)


@pytest.fixture(scope="module")
def team(client: httpx.Client) -> dict[str, dict[str, str]]:
    """Admin builds a subsidiary with a shop and hires two sales reps there."""
    admin = login(client, "admin", ADMIN_PASSWORD)
    units = client.get("/api/v1/org-units", headers=admin).json()["items"]
    hq = next(u for u in units if u["kind"] == "hq")
    subsidiary = client.post("/api/v1/org-units", headers=admin, json={"name": "北京分公司", "parent_id": hq["id"]})
    assert subsidiary.status_code == 201, subsidiary.text
    shop = client.post(
        "/api/v1/org-units", headers=admin, json={"name": "海淀门店", "parent_id": subsidiary.json()["id"]}
    )
    assert shop.status_code == 201, shop.text
    for username, name in (("li.na", "李娜"), ("zhao.qiang", "赵强")):
        created = client.post(
            "/api/v1/users",
            headers=admin,
            json={
                "username": username,
                "display_name": name,
                "password": "sales-pass-2026",
                "role": "sales",
                "org_unit_id": shop.json()["id"],
            },
        )
        assert created.status_code == 201, created.text
    return {
        "admin": admin,
        "rep_a": login(client, "li.na", "sales-pass-2026"),
        "rep_b": login(client, "zhao.qiang", "sales-pass-2026"),
    }


def test_a_reps_customer_is_theirs_alone_and_counted_once(
    stack: Stack, client: httpx.Client, team: dict[str, dict[str, str]]
) -> None:
    admin, rep_a, rep_b = team["admin"], team["rep_a"], team["rep_b"]

    created = client.post(
        "/api/v1/customers", headers=rep_a, json=new_customer("北京实验小学食堂", "13800138000", "91350100M000100Y43")
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["owner_name"] == "李娜"

    found = client.get("/api/v1/customers", headers=rep_a, params={"q": "bjsy"}).json()["items"]
    assert [c["id"] for c in found] == [customer["id"]]

    duplicate = client.post("/api/v1/customers", headers=rep_a, json=new_customer("另一家食堂", "138 0013 8000"))
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    assert duplicate.json()["field"] == "mobile"
    assert "北京实验小学食堂" in duplicate.json()["detail"]

    hidden = client.get(f"/api/v1/customers/{customer['id']}", headers=rep_b)
    missing = client.get("/api/v1/customers/00000000-0000-0000-0000-000000000000", headers=rep_b)
    assert hidden.status_code == missing.status_code == 404
    assert {k: v for k, v in hidden.json().items() if k not in ("trace_id", "detail")} == {
        k: v for k, v in missing.json().items() if k not in ("trace_id", "detail")
    }
    assert client.get("/api/v1/customers", headers=rep_b).json()["items"] == []
    assert client.get("/api/v1/customers", headers=rep_b, params={"q": "bjsy"}).json()["items"] == []
    assert client.get("/api/v1/customers", headers=rep_b, params={"q": "食堂"}).json()["items"] == []

    assert wait_for_total(client, admin, 1) == 1
    assert summary_total(client, rep_b) == 0


def test_analytics_killed_and_restarted_loses_and_double_counts_nothing(
    stack: Stack, client: httpx.Client, team: dict[str, dict[str, str]]
) -> None:
    admin, rep_b = team["admin"], team["rep_b"]
    before = wait_for_total(client, admin, 1)

    stack.stop_component("analytics", kill=True)
    for index in range(5):
        reply = client.post(
            "/api/v1/customers", headers=rep_b, json=new_customer(f"海淀区第{index + 1}中学食堂", f"1390000000{index}")
        )
        assert reply.status_code == 201, reply.text
    # The gateway stays ready (it can do its own work); only the route that needs analytics fails.
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["analytics"] != "ok"
    unavailable = client.get("/api/v1/analytics/customer-summary", headers=admin)
    assert unavailable.status_code == 503
    assert unavailable.json()["code"] == "service_unavailable"
    stack.start_component("analytics", timeout=60)
    # Back within seconds: the gateway's channel retries a lost service every 2 s at the most.
    summary = "/api/v1/analytics/customer-summary"
    eventually_sync(lambda: client.get(summary, headers=admin).status_code, lambda status: status == 200, within=10.0)

    assert wait_for_total(client, admin, before + 5) == before + 5
    # Settled: every event is applied and acknowledged, so nothing is redelivered later (a double
    # count would show up as a larger total). One the killed process took but never acknowledged
    # comes back only after the consumer's ack_wait (30 s), hence the longer bound.
    eventually_sync(lambda: analytics_events_in_flight(stack), lambda count: count == 0, within=60.0, interval=0.2)
    assert summary_total(client, admin) == before + 5
    assert summary_total(client, rep_b) == 5


def test_the_stack_restarts_a_killed_service_and_loses_nothing_written_meanwhile(
    stack: Stack, client: httpx.Client, team: dict[str, dict[str, str]]
) -> None:
    admin, rep_a = team["admin"], team["rep_a"]
    eventually_sync(lambda: analytics_events_in_flight(stack), lambda count: count == 0, within=60.0, interval=0.2)
    before = summary_total(client, admin)

    os.kill(stack.processes["analytics"].pid, signal.SIGKILL)
    for index in range(3):
        reply = client.post(
            "/api/v1/customers",
            headers=rep_a,
            json=new_customer(f"朝阳区第{index + 1}幼儿园食堂", f"1370000000{index}"),
        )
        assert reply.status_code == 201, reply.text
    # What `make run` does every half second: the dead process is found and started again, and
    # nothing else was stopped on its account.
    restarted = eventually_sync(stack.supervise, lambda names: bool(names), within=15.0, interval=0.2)
    assert [name for name, _ in restarted] == ["analytics"]
    assert all(process.poll() is None for process in stack.processes.values())

    eventually_sync(
        lambda: client.get("/api/v1/analytics/customer-summary", headers=admin).status_code,
        lambda status: status == 200,
        within=10.0,
    )
    assert wait_for_total(client, admin, before + 3) == before + 3


def test_a_partner_erp_searches_customers_over_grpc_with_a_client_credentials_token(
    stack: Stack, client: httpx.Client, team: dict[str, dict[str, str]]
) -> None:
    """The README's grpcurl example, with a generated stub: token by HTTP Basic, then the
    customer service's gRPC port directly, within the client's scope and data scope."""
    admin = team["admin"]
    created = client.post(
        "/api/v1/customers", headers=team["rep_a"], json=new_customer("顺义区第九幼儿园食堂", "13700000099")
    )
    assert created.status_code == 201, created.text
    registered = client.post(
        "/api/v1/api-clients",
        headers=admin,
        json={"name": "用友U8对接", "role": "admin", "scopes": ["customers:read"]},
    )
    assert registered.status_code == 201, registered.text
    partner = registered.json()
    issued = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(partner["id"], partner["key"])
    )
    assert issued.status_code == 200, issued.text
    bearer = (("authorization", f"Bearer {issued.json()['access_token']}"),)

    async def search_then_create() -> tuple[list[str], grpc.StatusCode]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.port('customer')}") as channel:
            stub = customer_pb2_grpc.CustomerServiceStub(channel)
            found = await stub.SearchCustomers(
                customer_pb2.SearchCustomersRequest(query="幼儿园食堂", page_size=50), metadata=bearer
            )
            try:
                await stub.CreateCustomer(customer_pb2.CreateCustomerRequest(request_id="erp-1"), metadata=bearer)
            except grpc.aio.AioRpcError as refused:
                return [customer.name for customer in found.customers], refused.code()
            raise AssertionError("a partner without customers:write created a customer")

    names, refusal = asyncio.run(search_then_create())
    assert "顺义区第九幼儿园食堂" in names
    assert refusal is grpc.StatusCode.PERMISSION_DENIED
