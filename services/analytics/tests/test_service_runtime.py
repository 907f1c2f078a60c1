"""What the kit runs for every service: health that is its own (periodic jobs: libs/crmkit/tests/test_jobs.py)."""

from __future__ import annotations

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from crm_analytics.spec import SPEC
from crmkit import service
from crmkit.testing.events import eventually
from crmkit.testing.harness import TestKeys
from crmkit.testing.infra import PostgresServer
from crmkit.testing.services import running_service

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_service_is_not_serving_while_its_database_is_away_and_serves_again_after(
    postgres_server: PostgresServer,
    pg_database_url: str,
    nats_url: str,
    stream_prefix: str,
    keys: TestKeys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "HEALTH_INTERVAL", 0.1)
    database = make_url(pg_database_url).database
    assert database
    async with running_service(
        SPEC, database_url=pg_database_url, nats_url=nats_url, namespace=f"{stream_prefix}.", keys=keys
    ) as (_, channel):
        health = health_pb2_grpc.HealthStub(channel)

        async def status(name: str = "") -> int:
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2.0)
            return int(reply.status)

        assert await status() == SERVING
        await postgres_server.set_connections_allowed(database, False)
        try:
            assert await eventually(status, lambda s: s == NOT_SERVING, within=10.0) == NOT_SERVING
            assert await status("crm.analytics.v1.AnalyticsService") == NOT_SERVING
        finally:
            await postgres_server.set_connections_allowed(database, True)
        assert await eventually(status, lambda s: s == SERVING, within=10.0) == SERVING
