"""The whole stack as processes (NATS, customer, analytics, gateway) on PostgreSQL, per module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_devstack.stack import Stack, StackConfig, free_port
from crmkit.testing.infra import NatsServer, PostgresServer

ADMIN_PASSWORD = "e2e-admin-密码-2026"


@pytest.fixture(scope="module")
def stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    state_dir: Path = tmp_path_factory.mktemp("stack")
    databases = {
        component: asyncio.run(postgres_server.create_database(f"e2e_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    running = Stack(
        StackConfig(
            state_dir=state_dir,
            http_port=free_port(),
            nats_url=nats_server.url,
            database_urls=databases,
            event_namespace=f"e2e{free_port()}.",
            admin_password=ADMIN_PASSWORD,
            log_dir=state_dir / "logs",
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
