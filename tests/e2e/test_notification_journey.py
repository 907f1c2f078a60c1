"""Notifications through the whole stack as processes on PostgreSQL and the stack's own NATS,
where each component is its own user with only its permissions (the gateway's included): a
claim submitted over REST reaches the customer service, its event reaches the gateway, and the pool's
supervisor, and nobody else, has exactly one notification: in the list, in the unread count and
pushed on their open SSE stream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from crm_devstack.stack import Stack
from crm_gateway.database import gateway_event_tables
from crmkit.db import create_engine, session_factory
from crmkit.testing.events import OutboxRow, all_published, eventually_sync, outbox_rows
from crmkit.testing.infra import PostgresServer

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "notify-密码-2026"


@pytest.fixture(scope="module")
def secured_stack(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, str]]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"notify_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    # No NATS URL: the stack starts its own, admitting only the components' nkey users.
    for stack in running_stack(tmp_path_factory.mktemp("notify"), "", databases):
        yield stack, databases["gateway"]


def _user_changes(database_url: str) -> list[OutboxRow]:
    """The gateway's outbox once its relay has published every row (as its own NATS user)."""

    async def read() -> list[OutboxRow]:
        engine = create_engine(database_url)
        try:
            return await outbox_rows(session_factory(engine), gateway_event_tables())
        finally:
            await engine.dispose()

    return eventually_sync(lambda: asyncio.run(read()), all_published, within=30)


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


def test_a_submitted_claim_reaches_the_pools_supervisor_once_in_the_list_count_and_stream(
    secured_stack: tuple[Stack, str],
) -> None:
    stack, gateway_db = secured_stack
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        branch, _, people = branch_with_people(
            client,
            admin,
            branch="青岛分公司",
            shop="市南门店",
            people={
                "zhou.zhuguan": ("supervisor", "branch"),
                "rep.one": ("sales", "shop"),
                "rep.two": ("sales", "shop"),
            },
            password=PASSWORD,
        )
        supervisor, rep_one, rep_two = people["zhou.zhuguan"], people["rep.one"], people["rep.two"]
        pool = ok(
            client.post(
                "/api/v1/pools",
                json={"name": "青岛公海", "org_unit_id": branch["id"], "requires_approval": True},
                headers=admin,
            ),
            201,
        )
        customer = ok(client.post("/api/v1/customers", json={"name": "青岛市南区海鲜酒楼"}, headers=rep_one), 201)
        ok(client.post(f"/api/v1/customers/{customer['id']}/release", json={"reason": "不再对接"}, headers=rep_one))

        stream = StreamReader(stack.gateway_url, supervisor)
        try:
            eventually_sync(lambda: [name for name, _ in stream.events], lambda names: "ready" in names, within=15)
            claim = ok(
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
        listed = ok(client.get("/api/v1/notifications", headers=supervisor))["items"]
        count = ok(client.get("/api/v1/notifications/unread-count", headers=supervisor))
        others = [ok(client.get("/api/v1/notifications", headers=who))["items"] for who in (admin, rep_one, rep_two)]

    assert [(n["kind"], n["link_type"], n["link_id"]) for n in listed] == [
        ("pool_claim_submitted", "claim", claim["id"])
    ]
    assert count == {"unread": 1}
    assert [n["id"] for n in pushed] == [listed[0]["id"]]
    assert "青岛市南区海鲜酒楼" in pushed[0]["body"] and pushed[0]["title"] == "公海领取申请待审批"
    assert others == [[], [], []]
    # The gateway published its user changes through the same NATS: the admin and the three hires.
    assert len({row.envelope.aggregate_id for row in _user_changes(gateway_db)}) == 4
