"""The whole stack as processes (NATS, customer, analytics, gateway) on PostgreSQL, per module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_devstack.stack import Stack, StackConfig, free_port
from crmkit.testing.infra import NatsServer, PostgresServer

ADMIN_PASSWORD = "e2e-admin-密码-2026"


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
