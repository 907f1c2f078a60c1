"""The whole stack as processes (NATS, customer, analytics, gateway) on PostgreSQL, per module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_devstack.stack import Stack, StackConfig, free_port
from crmkit.testing.infra import NatsServer, PostgresServer

ADMIN_PASSWORD = "e2e-admin-密码-2026"


def ok(reply: httpx.Response, status: int = 200) -> Any:
    """The JSON of a reply that had to answer `status`."""
    assert reply.status_code == status, reply.text
    return reply.json()


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    tokens = ok(client.post("/api/v1/auth/login", json={"username": username, "password": password}))
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def branch_with_people(
    client: httpx.Client,
    admin: dict[str, str],
    *,
    branch: str,
    shop: str,
    people: dict[str, tuple[str, str]],
    password: str,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, str]]]:
    """A branch under the head office with a shop under it, and `people` (username → role and
    "branch" or "shop") hired there and logged in: (branch, shop, headers by username)."""
    hq = ok(client.get("/api/v1/auth/me", headers=admin))["org_unit"]["id"]
    units = {"branch": ok(client.post("/api/v1/org-units", json={"name": branch, "parent_id": hq}, headers=admin), 201)}
    units["shop"] = ok(
        client.post("/api/v1/org-units", json={"name": shop, "parent_id": units["branch"]["id"]}, headers=admin), 201
    )
    headers = {}
    for username, (role, unit) in people.items():
        body = {"username": username, "display_name": username, "password": password, "role": role}
        ok(client.post("/api/v1/users", json={**body, "org_unit_id": units[unit]["id"]}, headers=admin), 201)
        headers[username] = login(client, username, password)
    return units["branch"], units["shop"], headers


def running_stack(
    state_dir: Path, nats_url: str, databases: dict[str, str], environment: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Start the stack as processes, yield it, stop it and show any traceback in its logs.
    Without `databases` every service uses its SQLite default, as `make run` does."""
    running = Stack(
        StackConfig(
            state_dir=state_dir,
            ports={"gateway": free_port()},
            nats_url=nats_url,
            database_urls=databases,
            event_namespace=f"e2e{free_port()}.",
            admin_password=ADMIN_PASSWORD,
            log_dir=state_dir / "logs",
            environment=environment or {},
        )
    )
    try:
        running.start(timeout=90)
        yield running
    finally:
        running.stop()
        for log in sorted((state_dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                print(f"--- {log.name} ---\n{text[-4000:]}")


@pytest.fixture(scope="module")
def stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"e2e_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    yield from running_stack(tmp_path_factory.mktemp("stack"), nats_server.url, databases)
