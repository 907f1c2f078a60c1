"""Notifications through the whole stack as processes on PostgreSQL: a claim submitted over
REST reaches the customer service, its event reaches the gateway over NATS, and the pool's
supervisor, and nobody else, has exactly one notification: in the list, in the unread count and
pushed on their open SSE stream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crm_devstack.stack import Stack
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer, PostgresServer

from .conftest import ADMIN_PASSWORD, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "notify-密码-2026"


@pytest.fixture(scope="module")
def notify_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"notify_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("notify"), nats_server.url, databases)


def _ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def _login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    tokens = _ok(client.post("/api/v1/auth/login", json={"username": username, "password": password}))
    return {"Authorization": f"Bearer {tokens['access_token']}"}


class StreamReader:
    """Reads one user's SSE stream in a thread, keeping each event as (name, data)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.events: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(base_url, headers), daemon=True)
        self._thread.start()

    def _read(self, base_url: str, headers: dict[str, str]) -> None:
        with (
            httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=60)) as client,
            client.stream("GET", "/api/v1/notifications/stream", headers=headers) as reply,
        ):
            name = ""
            for line in reply.iter_lines():
                if line.startswith("event:"):
                    name = line.removeprefix("event:").strip()
                elif line.startswith("data:") and name:
                    self.events.append((name, line.removeprefix("data:").strip()))
                    name = ""
                if self._stop.is_set():
                    return

    def stop(self) -> None:
        self._stop.set()


def test_a_submitted_claim_reaches_the_pools_supervisor_once_in_the_list_count_and_stream(notify_stack) -> None:
    stack = notify_stack
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        admin = _login(client, "admin", ADMIN_PASSWORD)
        hq = _ok(client.get("/api/v1/auth/me", headers=admin))["org_unit"]["id"]
        branch = _ok(client.post("/api/v1/org-units", json={"name": "青岛分公司", "parent_id": hq}, headers=admin), 201)
        shop = _ok(
            client.post("/api/v1/org-units", json={"name": "市南门店", "parent_id": branch["id"]}, headers=admin), 201
        )
        people = {}
        for username, role, unit in (
            ("zhou.zhuguan", "supervisor", branch),
            ("rep.one", "sales", shop),
            ("rep.two", "sales", shop),
        ):
            body = {"username": username, "display_name": username, "password": PASSWORD, "role": role}
            _ok(client.post("/api/v1/users", json={**body, "org_unit_id": unit["id"]}, headers=admin), 201)
            people[username] = _login(client, username, PASSWORD)
        supervisor, rep_one, rep_two = people["zhou.zhuguan"], people["rep.one"], people["rep.two"]
        pool = _ok(
            client.post(
                "/api/v1/pools",
                json={"name": "青岛公海", "org_unit_id": branch["id"], "requires_approval": True},
                headers=admin,
            ),
            201,
        )
        customer = _ok(client.post("/api/v1/customers", json={"name": "青岛市南区海鲜酒楼"}, headers=rep_one), 201)
        _ok(client.post(f"/api/v1/customers/{customer['id']}/release", json={"reason": "不再对接"}, headers=rep_one))

        stream = StreamReader(stack.gateway_url, supervisor)
        try:
            eventually_sync(lambda: [name for name, _ in stream.events], lambda names: "ready" in names, within=15)
            claim = _ok(
                client.post(
                    f"/api/v1/pools/{pool['id']}/claims",
                    json={"customer_id": customer["id"], "reason": "客户主动来电"},
                    headers=rep_two,
                ),
                201,
            )
            pushed = eventually_sync(
                lambda: [json.loads(data) for name, data in stream.events if name == "notification"], within=30
            )
        finally:
            stream.stop()
        listed = _ok(client.get("/api/v1/notifications", headers=supervisor))["items"]
        count = _ok(client.get("/api/v1/notifications/unread-count", headers=supervisor))
        others = [_ok(client.get("/api/v1/notifications", headers=who))["items"] for who in (admin, rep_one, rep_two)]

    assert [(n["kind"], n["link_type"], n["link_id"]) for n in listed] == [
        ("pool_claim_submitted", "claim", claim["id"])
    ]
    assert count == {"unread": 1}
    assert [n["id"] for n in pushed] == [listed[0]["id"]]
    assert "青岛市南区海鲜酒楼" in pushed[0]["body"] and pushed[0]["title"] == "公海领取申请待审批"
    assert others == [[], [], []]
