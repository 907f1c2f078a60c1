"""The devstack's NATS: its own admits only the components' users; an external one is the
environment's business."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from crm_devstack.stack import Stack, StackConfig
from crmkit import bus

NAMESPACE = "devstack."


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[Stack]:
    """The stack with its own NATS and none of the components started."""
    stack = Stack(StackConfig(state_dir=tmp_path / "state", event_namespace=NAMESPACE, log_dir=tmp_path / "logs"))
    try:
        stack.start(components=[])
        yield stack
    finally:
        stack.stop()


def test_its_own_nats_gives_each_component_its_own_private_seed(
    own_nats: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Credentials meant for some other NATS in the caller's environment are not passed on.
    monkeypatch.setenv("CRM_NATS_CREDS_FILE", "/elsewhere/operator.creds")
    monkeypatch.setenv("CRM_CUSTOMER_NATS_NKEY_SEED_FILE", "/elsewhere/customer.nk")

    envs = {name: own_nats.child_env(name) for name in ("customer", "analytics", "gateway")}

    seeds = own_nats.nats_seeds_dir
    assert envs["customer"]["CRM_NATS_NKEY_SEED_FILE"] == str(seeds / "customer.nk")
    assert envs["analytics"]["CRM_NATS_NKEY_SEED_FILE"] == str(seeds / "analytics.nk")
    # The gateway too: it publishes user_changed and consumes customer events for notifications.
    assert envs["gateway"]["CRM_NATS_NKEY_SEED_FILE"] == str(seeds / "gateway.nk")
    for env in envs.values():
        assert "CRM_NATS_CREDS_FILE" not in env
        assert "CRM_CUSTOMER_NATS_NKEY_SEED_FILE" not in env
    assert stat.S_IMODE(seeds.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in seeds.iterdir()} == {0o600}


def test_its_own_nats_refuses_a_connection_without_a_services_key(own_nats: Stack) -> None:
    async def connect_anonymously_then_as_customer() -> bool:
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(own_nats.config.nats_url, allow_reconnect=False, connect_timeout=2)
        seed = own_nats.nats_seed_files["customer"]
        customer = await bus.connect_service(
            own_nats.config.nats_url, "customer", namespace=NAMESPACE, nkey_seed_file=seed
        )
        try:
            stream = await bus.ensure_stream(customer.jetstream(), "customer", namespace=NAMESPACE)
            return stream == "devstack_CRM_CUSTOMER"
        finally:
            await customer.close()

    assert asyncio.run(connect_anonymously_then_as_customer())


def test_an_external_nats_gets_the_credentials_the_environment_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_CUSTOMER_NATS_NKEY_SEED_FILE", "/run/secrets/customer.nk")
    monkeypatch.setenv("CRM_NATS_CREDS_FILE", "/run/secrets/shared.creds")
    stack = Stack(StackConfig(state_dir=tmp_path, nats_url="nats://nats.example:4222"))
    stack.config.ports.update(customer=1, analytics=2, order=6, gateway=3)
    stack.config.metrics_ports.update(customer=4, analytics=5, order=7)

    env = stack.child_env("customer")

    assert env["CRM_NATS_URL"] == "nats://nats.example:4222"
    assert env["CRM_CUSTOMER_NATS_NKEY_SEED_FILE"] == "/run/secrets/customer.nk"
    assert env["CRM_NATS_CREDS_FILE"] == "/run/secrets/shared.creds"
    assert not (tmp_path / "keys" / "nats").exists()
