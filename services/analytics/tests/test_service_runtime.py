"""What the kit runs for every service: health that is its own, and periodic jobs on one replica."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import asyncpg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.spec import SPEC
from crmkit import service
from crmkit.service import PeriodicJob
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


async def test_a_periodic_job_runs_on_the_runtimes_clock_and_waits_while_another_replica_holds_it(
    postgres_server: PostgresServer, pg_database_url: str, nats_url: str, stream_prefix: str, keys: TestKeys
) -> None:
    business_time = dt.datetime(2027, 1, 28, 1, 0, tzinfo=dt.UTC)  # 春节前夕, whatever the machine's clock says
    runs: list[dt.datetime] = []

    async def count_run(session: AsyncSession, now: dt.datetime) -> None:
        runs.append(now)

    job = PeriodicJob(name="probe-job", every=0.05, run=count_run)
    # Another replica holds the job: its transaction-scoped lock, taken here as a session lock.
    other_replica = await asyncpg.connect(
        make_url(pg_database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await other_replica.execute("SELECT pg_advisory_lock(hashtext($1))", job.name)
        async with running_service(
            replace(SPEC, jobs=[job]),
            database_url=pg_database_url,
            nats_url=nats_url,
            namespace=f"{stream_prefix}.",
            keys=keys,
            clock=lambda: business_time,
        ):
            await asyncio.sleep(0.5)
            assert runs == []
            await other_replica.execute("SELECT pg_advisory_unlock(hashtext($1))", job.name)
            await eventually(lambda: _count(runs), lambda n: n >= 2, within=5.0)
    finally:
        await other_replica.close()
    assert set(runs) == {business_time}


async def _count(items: list[dt.datetime]) -> int:
    return len(items)
