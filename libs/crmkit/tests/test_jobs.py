"""Periodic jobs: one replica at a time through a lease row, fenced writes, due on the clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY as METRICS
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from crmkit.clock import MovableClock, as_utc
from crmkit.db import create_engine, session_factory
from crmkit.jobs import JobContext, JobRunner, Outcome, PeriodicJob, job_lease_table
from crmkit.testing.events import eventually

# 春节前夕, whatever the machine's clock says; the tests move it by hand.
START = dt.datetime(2027, 1, 28, 1, 0, tzinfo=dt.UTC)
POOL_RETURN = "pool-return"
INTERVAL = dt.timedelta(minutes=5)
LEASE = dt.timedelta(minutes=1)

METADATA = MetaData()
LEASES = job_lease_table(METADATA)
# What the job writes: one row per committed batch, with the fencing token it ran under.
RETURNS = Table(
    "pool_returns",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fencing_token", BigInteger, nullable=False),
)


@dataclass
class PoolReturn:
    """A job shaped like the customer-pool return: one fenced batch per run. It can be held at a
    gate (a long run) or fail its first runs."""

    gate: asyncio.Event | None = None
    failures: int = 0
    contexts: list[JobContext] = field(default_factory=list)

    async def __call__(self, context: JobContext) -> None:
        self.contexts.append(context)
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("ledger unavailable / 账本不可用")
        async with context.transaction() as session:
            await session.execute(RETURNS.insert().values(fencing_token=context.fencing_token))

    async def runs(self) -> int:
        return len(self.contexts)

    def job(self) -> PeriodicJob:
        return PeriodicJob(name=POOL_RETURN, interval=INTERVAL, run=self, lease=LEASE)


@dataclass
class Replicas:
    """Runners of one service on one database, each with its own engine (its own connections)
    as separate replicas would have, on one clock the test moves."""

    url: str
    service: str = field(default_factory=lambda: f"jobs-{uuid.uuid4().hex[:8]}")
    clock: MovableClock = field(default_factory=lambda: MovableClock(lambda: START))
    engines: list[AsyncEngine] = field(default_factory=list)

    def runner(self, *jobs: PeriodicJob, **options: Any) -> JobRunner:
        engine = create_engine(self.url)
        self.engines.append(engine)
        return JobRunner(service=self.service, jobs=jobs, sessions=session_factory(engine), clock=self.clock, **options)

    async def lease(self, job_name: str = POOL_RETURN) -> Row[Any]:
        async with session_factory(self.engines[0])() as session:
            return (await session.execute(select(LEASES).where(LEASES.c.job_name == job_name))).one()

    async def committed_tokens(self) -> list[int]:
        async with session_factory(self.engines[0])() as session:
            return list((await session.scalars(select(RETURNS.c.fencing_token).order_by(RETURNS.c.id))).all())

    def runs_counted(self, outcome: Outcome) -> float | None:
        return METRICS.get_sample_value(
            "crm_job_runs_total", {"service": self.service, "job_name": POOL_RETURN, "outcome": outcome.value}
        )

    def gauge(self, name: str) -> float | None:
        return METRICS.get_sample_value(name, {"service": self.service, "job_name": POOL_RETURN})


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_database_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"


@pytest_asyncio.fixture
async def replicas(database_url: str) -> AsyncIterator[Replicas]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    found = Replicas(url=database_url, engines=[engine])
    try:
        yield found
    finally:
        for each in found.engines:
            await each.dispose()


async def test_of_two_replicas_competing_for_a_due_job_only_one_runs_it(replicas: Replicas) -> None:
    first, second = PoolReturn(), PoolReturn()
    a, b = replicas.runner(first.job()), replicas.runner(second.job())

    outcomes = await asyncio.gather(a.run_due_once(), b.run_due_once())

    assert [outcome for ran in outcomes for outcome in ran.values()] == [Outcome.SUCCEEDED]
    assert len(first.contexts) + len(second.contexts) == 1
    assert await replicas.committed_tokens() == [1]
    # Neither runs it again before its interval has passed.
    assert await a.run_due_once() == {}
    assert await b.run_due_once() == {}


async def test_a_job_in_flight_on_one_replica_is_not_started_by_another(replicas: Replicas) -> None:
    gate = asyncio.Event()
    long_run, other = PoolReturn(gate=gate), PoolReturn()
    a, b = replicas.runner(long_run.job()), replicas.runner(other.job())
    running = asyncio.create_task(a.run_due_once())
    await eventually(long_run.runs)

    assert await b.run_due_once() == {}

    gate.set()
    assert await running == {POOL_RETURN: Outcome.SUCCEEDED}
    assert other.contexts == []


async def test_a_holder_that_stops_renewing_loses_the_job_to_another_replica_once_its_lease_runs_out(
    replicas: Replicas,
) -> None:
    gate = asyncio.Event()
    stalled, taker = PoolReturn(gate=gate), PoolReturn()
    # A replica that stalls (a long pause, a partition): it does not renew within this test.
    a = replicas.runner(stalled.job(), renew_every=3600)
    b = replicas.runner(taker.job())
    # The job has run fine before; the run that stalls is the next one.
    assert await b.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}
    replicas.clock.advance(INTERVAL)
    running = asyncio.create_task(a.run_due_once())
    await eventually(stalled.runs)
    assert await b.run_due_once() == {}

    # Past the lease but well short of the interval: only the unfinished run makes the job due.
    replicas.clock.advance(LEASE + dt.timedelta(seconds=1))
    assert await b.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}

    [stale], [_, fresh] = stalled.contexts, taker.contexts
    assert fresh.fencing_token == stale.fencing_token + 1
    assert not await stale.still_holds()
    assert await fresh.still_holds()
    assert (await replicas.lease()).holder == b.holder
    # The stalled run wakes up: its batch is refused and nothing it meant to write is committed.
    gate.set()
    assert await running == {POOL_RETURN: Outcome.LOST_LEASE}
    assert await replicas.committed_tokens() == [1, fresh.fencing_token]
    assert replicas.runs_counted(Outcome.LOST_LEASE) == 1


async def test_a_holder_that_renews_keeps_the_job_past_its_first_lease(replicas: Replicas) -> None:
    gate = asyncio.Event()
    long_run, other = PoolReturn(gate=gate), PoolReturn()
    a = replicas.runner(long_run.job(), renew_every=0.05)
    b = replicas.runner(other.job())
    running = asyncio.create_task(a.run_due_once())
    await eventually(long_run.runs)

    replicas.clock.advance(LEASE + dt.timedelta(seconds=1))
    await eventually(replicas.lease, lambda row: as_utc(row.expires_at) > replicas.clock())

    assert await b.run_due_once() == {}
    assert await long_run.contexts[0].still_holds()
    gate.set()
    assert await running == {POOL_RETURN: Outcome.SUCCEEDED}
    assert other.contexts == []


async def test_a_failing_job_records_its_error_counts_the_failure_and_runs_again_next_interval(
    replicas: Replicas,
) -> None:
    flaky = PoolReturn(failures=1)
    runner = replicas.runner(flaky.job())
    assert replicas.runs_counted(Outcome.FAILED) == 0

    assert await runner.run_due_once() == {POOL_RETURN: Outcome.FAILED}
    failed = await replicas.lease()
    assert "ledger unavailable" in failed.last_error
    assert failed.last_succeeded_at is None
    assert replicas.runs_counted(Outcome.FAILED) == 1
    assert replicas.gauge("crm_job_last_success_timestamp_seconds") == 0
    # Not retried at once: the next try is one interval after the failed start.
    assert await runner.run_due_once() == {}

    replicas.clock.advance(INTERVAL)
    assert await runner.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}
    recovered = await replicas.lease()
    assert recovered.last_error is None
    assert as_utc(recovered.last_succeeded_at) == replicas.clock()
    assert replicas.runs_counted(Outcome.SUCCEEDED) == 1
    assert replicas.gauge("crm_job_last_success_timestamp_seconds") == replicas.clock().timestamp()
    assert replicas.gauge("crm_job_interval_seconds") == INTERVAL.total_seconds()
    assert (
        METRICS.get_sample_value(
            "crm_job_run_duration_seconds_count", {"service": replicas.service, "job_name": POOL_RETURN}
        )
        == 2
    )


async def test_a_job_missed_for_many_intervals_runs_once_when_the_clock_moves_past_them(replicas: Replicas) -> None:
    sweep = PoolReturn()
    runner = replicas.runner(sweep.job())
    assert await runner.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}
    replicas.clock.advance(INTERVAL - dt.timedelta(seconds=1))
    assert await runner.run_due_once() == {}

    replicas.clock.advance(10 * INTERVAL)
    assert await runner.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}
    assert await runner.run_due_once() == {}

    assert [context.now for context in sweep.contexts] == [START, START + 11 * INTERVAL - dt.timedelta(seconds=1)]
    assert await replicas.committed_tokens() == [1, 2]


async def test_a_job_due_while_no_replica_ran_it_runs_once_on_the_next_replica_to_start(replicas: Replicas) -> None:
    gone = replicas.runner(PoolReturn().job())
    await gone.run_due_once()
    replicas.clock.advance(dt.timedelta(days=3))

    sweep = PoolReturn()
    newcomer = replicas.runner(sweep.job())
    assert await newcomer.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}
    assert await newcomer.run_due_once() == {}
    assert len(sweep.contexts) == 1


async def test_moving_the_clock_wakes_the_background_loop_to_run_what_fell_due(replicas: Replicas) -> None:
    sweep = PoolReturn()
    # Polling once an hour: within this test only a wake can start the second run.
    runner = replicas.runner(sweep.job(), poll_interval=3600)
    replicas.clock.on_advance(runner.wake)
    stop = asyncio.Event()
    loop = asyncio.create_task(runner.run(stop))
    try:
        await eventually(sweep.runs)
        await eventually(lambda: _idle(runner))

        replicas.clock.advance(INTERVAL)
        await eventually(sweep.runs, lambda runs: runs == 2)
    finally:
        stop.set()
        await loop
    assert await replicas.committed_tokens() == [1, 2]


async def test_a_run_cut_short_by_a_stopping_process_is_resumed_at_once_by_another_replica(
    replicas: Replicas,
) -> None:
    stopping, resuming = PoolReturn(gate=asyncio.Event()), PoolReturn()
    a, b = replicas.runner(stopping.job()), replicas.runner(resuming.job())
    stop = asyncio.Event()
    loop = asyncio.create_task(a.run(stop))
    await eventually(stopping.runs)
    assert await b.run_due_once() == {}

    stop.set()
    await loop

    # No clock moved: the run never finished, so the job is due as soon as the lease is free.
    assert await b.run_due_once() == {POOL_RETURN: Outcome.SUCCEEDED}
    assert replicas.runs_counted(Outcome.INTERRUPTED) == 1
    assert await replicas.committed_tokens() == [2]


async def test_a_service_whose_migrations_lack_the_lease_table_is_refused_at_start(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-leases.db'}")
    runner = JobRunner(service="jobs-without-table", jobs=[PoolReturn().job()], sessions=session_factory(engine))
    try:
        with pytest.raises(RuntimeError, match=r"create_job_tables\(\)"):
            await runner.prepare()
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("name", "interval", "lease"),
    [
        ("Pool Return", INTERVAL, LEASE),
        ("pool-return", dt.timedelta(0), LEASE),
        ("pool-return", INTERVAL, dt.timedelta(seconds=-1)),
    ],
    ids=["name-with-space-and-capitals", "no-interval", "negative-lease"],
)
def test_a_job_with_a_bad_name_interval_or_lease_is_refused(
    name: str, interval: dt.timedelta, lease: dt.timedelta
) -> None:
    with pytest.raises(ValueError, match=r"job"):
        PeriodicJob(name=name, interval=interval, run=PoolReturn(), lease=lease)


def test_two_jobs_of_one_service_cannot_share_a_name() -> None:
    with pytest.raises(ValueError, match="unique"):
        JobRunner(service="twins", jobs=[PoolReturn().job(), PoolReturn().job()], sessions=None)  # type: ignore[arg-type]


async def _idle(runner: JobRunner) -> bool:
    return not runner.running
