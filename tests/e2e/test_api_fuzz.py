"""Schemathesis against the running gateway, as every role: whatever the OpenAPI document allows
a client to send, the answer is never a 5xx, never a status the document does not declare, and
always of a declared content type."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from crm_devstack.stack import Stack
from crmkit.testing.infra import NatsServer, PostgresServer

from .conftest import ADMIN_PASSWORD, running_stack

pytestmark = pytest.mark.e2e

ROLES = ("admin", "boss", "supervisor", "sales", "service", "finance")
PASSWORD = "fuzz-pass-2026"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzzed_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # The fuzzer is one client sending thousands of requests: it would spend most of them on
    # 429s, which are declared and so pass, but test nothing else.
    previous = os.environ.get("CRM_GATEWAY_RATE_LIMITS_ENABLED")
    os.environ["CRM_GATEWAY_RATE_LIMITS_ENABLED"] = "false"
    try:
        import asyncio

        databases = {
            name: asyncio.run(postgres_server.create_database(f"fuzz_{name}"))
            for name in ("customer", "analytics", "gateway")
        }
        yield from running_stack(tmp_path_factory.mktemp("fuzz"), nats_server.url, databases)
    finally:
        if previous is None:
            os.environ.pop("CRM_GATEWAY_RATE_LIMITS_ENABLED", None)
        else:
            os.environ["CRM_GATEWAY_RATE_LIMITS_ENABLED"] = previous


def _token(client: httpx.Client, username: str, password: str) -> str:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def callers(fuzzed_stack: Stack) -> dict[str, dict[str, str]]:
    """One signed-in user per role, at headquarters."""
    with httpx.Client(base_url=fuzzed_stack.gateway_url, timeout=15.0) as client:
        admin = _token(client, "admin", ADMIN_PASSWORD)
        headers = {"Authorization": f"Bearer {admin}"}
        hq = next(u for u in client.get("/api/v1/org-units", headers=headers).json()["items"] if u["kind"] == "hq")
        tokens = {"admin": admin}
        for role in ROLES[1:]:
            created = client.post(
                "/api/v1/users",
                headers=headers,
                json={
                    "username": f"fuzz.{role}",
                    "display_name": f"测试{role}",
                    "password": PASSWORD,
                    "role": role,
                    "org_unit_id": hq["id"],
                },
            )
            assert created.status_code == 201, created.text
            tokens[role] = _token(client, f"fuzz.{role}", PASSWORD)
    return {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}


@pytest.fixture(scope="module")
def api_schema(fuzzed_stack: Stack) -> Any:
    document = httpx.get(f"{fuzzed_stack.gateway_url}/openapi.json", timeout=15.0).json()
    return schemathesis.openapi.from_dict(document)


ENDLESS = {"/api/v1/notifications/stream"}


def test_no_request_the_document_allows_gets_a_server_error_or_an_undeclared_answer(
    api_schema: Any, fuzzed_stack: Stack, callers: dict[str, dict[str, str]]
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # The notification stream never ends (server-sent events); it takes no input to fuzz, and its
    # own tests (gateway/tests/test_notifications.py, the notification journey) read it.
    operations = [operation for operation in operations if operation.path not in ENDLESS]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def every_role_gets_a_declared_answer(case: Any) -> None:
            for role in ROLES:
                response = case.call(base_url=fuzzed_stack.gateway_url, headers=callers[role], timeout=15)
                case.validate_response(response, checks=CHECKS)

        every_role_gets_a_declared_answer()
