"""Rate limits: token buckets per user (per address for logins), 429 with Retry-After, refilled
on the clock, one budget for every gateway replica on the same database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_gateway.app import create_app
from crm_gateway.database import Base
from crm_gateway.rate_limits.models import RateBucket
from crm_gateway.rate_limits.service import Claim, RateLimited, RateLimiter, SharedBuckets
from crm_gateway.settings import RateLimit
from crmkit.db import create_engine
from crmkit.testing.infra import PostgresServer

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
# Reads: 5 at once, one more each second; slices of 2 from the shared bucket, so the tests see
# leases at work. Logins: 5 per address (this module's own logins come from 127.0.0.1).
GATEWAY_SETTINGS = {
    "rate_limits": {
        "auth": {"burst": 5, "per_minute": 60},
        "reads": {"burst": 5, "per_minute": 60},
        "writes": {"burst": 3, "per_minute": 60},
    },
    "rate_limit_lease": 2,
}


async def _statuses(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[int]:
    return [(await client.get(ME, headers=headers)).status_code for _ in range(count)]


async def test_reads_beyond_the_burst_get_429_with_retry_after_and_refill_on_the_clock(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "reader.one", "sales")
    reader = await api.login("reader.one", api.user_password)
    with stack.clock.frozen():
        burst = await _statuses(stack.client, reader, 5)
        refused = await stack.client.get(ME, headers=reader)
        stack.clock.advance(dt.timedelta(seconds=1))
        one_second_later = await _statuses(stack.client, reader, 2)
        stack.clock.advance(dt.timedelta(minutes=10))
        long_after = await _statuses(stack.client, reader, 6)

    assert burst == [200] * 5
    api.problem(refused, 429, code="rate_limited")
    assert refused.headers["retry-after"] == "1"
    assert one_second_later == [200, 429]
    # A quiet spell refills the bucket to its burst, not beyond.
    assert long_after == [200] * 5 + [429]


async def test_reads_and_writes_have_separate_budgets(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    rep = await api.hire(admin, "writer.one", "sales")
    headers = await api.login("writer.one", api.user_password)
    with stack.clock.frozen():
        await _statuses(stack.client, headers, 6)
        write = await stack.client.post(
            "/api/v1/customers", json=api.customer_body(owner_id=rep["id"]), headers=headers
        )

    assert write.status_code == 201, write.text


async def test_logins_are_limited_per_client_address(stack, api, from_address) -> None:  # type: ignore[no-untyped-def]
    busy, other = from_address("10.9.0.1"), from_address("10.9.0.2")
    body = {"username": "admin", "password": api.admin_password}
    with stack.clock.frozen():
        first = [(await busy.post(LOGIN, json=body)).status_code for _ in range(5)]
        refused = await busy.post(LOGIN, json=body)
        elsewhere = await other.post(LOGIN, json=body)

    assert first == [200] * 5
    api.problem(refused, 429, code="rate_limited")
    assert refused.headers["retry-after"] == "1"
    assert elsewhere.status_code == 200


async def test_two_gateways_on_one_database_share_a_users_budget(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "reader.two", "sales")
    reader = await api.login("reader.two", api.user_password)
    async with AsyncExitStack() as exits:
        replica = create_app(stack.settings, clock=stack.clock)
        await exits.enter_async_context(replica.router.lifespan_context(replica))
        second = await exits.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=replica), base_url="http://gw")
        )
        with stack.clock.frozen():
            answers = []
            for _ in range(8):
                answers.append(("a", (await stack.client.get(ME, headers=reader)).status_code))
                answers.append(("b", (await second.get(ME, headers=reader)).status_code))

    admitted = [replica for replica, status in answers if status == 200]
    # One bucket of 5 between them (each alone would have let 5 through: 10 in all).
    assert len(admitted) == 5, answers
    assert set(admitted) == {"a", "b"}
    assert {status for _, status in answers} == {200, 429}


@pytest_asyncio.fixture(params=["sqlite", "postgresql"], loop_scope="module")
async def bucket_engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer
) -> AsyncIterator[AsyncEngine]:
    async with AsyncExitStack() as exits:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
        else:
            url = await postgres_server.create_database("gw_rate_buckets")
            name = make_url(url).database
            assert name
            exits.push_async_callback(postgres_server.drop_database, name)
        engine = create_engine(url)
        exits.push_async_callback(engine.dispose)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all, tables=[RateBucket.__table__])
        yield engine


async def test_replicas_draw_slices_from_one_bucket_on_either_database(bucket_engine: AsyncEngine) -> None:
    now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    limits = {"reads": RateLimit(burst=10, per_minute=60)}
    replicas = [RateLimiter(SharedBuckets(bucket_engine), limits=limits, lease=3, clock=lambda: now) for _ in range(3)]
    admitted = 0
    for round_ in range(6):
        for replica in replicas:
            try:
                await replica.admit("reads", "user:u-1")
                admitted += 1
            except RateLimited as refused:
                assert refused.retry_after == 1
                assert round_ >= 2
    assert admitted == 10


class CountedBuckets(SharedBuckets):
    """The shared buckets, counting the claims (statements) that reach the database."""

    claims = 0

    async def claim(self, key: str, limit: RateLimit, *, want: int, now: float) -> Claim:
        self.claims += 1
        return await super().claim(key, limit, want=want, now=now)


async def test_concurrent_requests_wait_for_one_claim_and_refusals_stay_local(bucket_engine: AsyncEngine) -> None:
    now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    shared = CountedBuckets(bucket_engine)
    limiter = RateLimiter(shared, limits={"reads": RateLimit(burst=20, per_minute=60)}, lease=5, clock=lambda: now)

    outcomes = await asyncio.gather(*(limiter.admit("reads", "user:u-2") for _ in range(30)), return_exceptions=True)

    assert sum(outcome is None for outcome in outcomes) == 20
    assert all(isinstance(outcome, RateLimited) for outcome in outcomes if outcome is not None)
    # Four slices of five, one refused claim; the other nine refusals cost no statement.
    assert shared.claims == 5
