"""Periodic jobs: work on a schedule, run by one replica at a time, on the service's clock.

A service declares its `PeriodicJob`s in its `ServiceSpec`; the kit runs them with a `JobRunner`.
Which replica runs a job is decided by the job's row in the service's own `job_leases` table: a
runner takes it with one conditional UPDATE (the lease is free or its own, and the job is due),
renews it while the run goes on, and gives it back when the run ends. Every take bumps the
fencing token, which the run carries: a replica that stalled and lost its lease to another can no
longer commit, because each of the run's transactions checks the token first
(`JobContext.transaction`). The same SQL works on PostgreSQL and SQLite.

Due means: never started, or started at least `interval` ago, or the last run never finished (its
holder crashed, or stopped mid-run). A job missed for a day runs once, not once per interval. Runs
start again from the top, so a job must be idempotent and work in batches, one transaction each.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    CursorResult,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from crmkit.clock import Clock, as_utc, utcnow
from crmkit.db import SessionFactory, insert_unless_present
from crmkit.metrics import JOB_DURATION, JOB_INTERVAL, JOB_LAST_SUCCESS, JOB_RUNS

log = logging.getLogger(__name__)

JOB_LEASE_TABLE = "job_leases"
_JOB_NAME = re.compile(r"[a-z][a-z0-9_-]{0,99}")
# Longest pause between rounds after the database failed (the pause doubles from the poll interval).
_MAX_BACKOFF = 30.0


def job_lease_table(metadata: MetaData) -> Table:
    """Declare the lease table in a service's metadata (once per metadata). The spec does this
    for a service that declares jobs; its migration calls `migration_ops.create_job_tables()`."""
    if JOB_LEASE_TABLE in metadata.tables:
        return metadata.tables[JOB_LEASE_TABLE]
    return Table(
        JOB_LEASE_TABLE,
        metadata,
        Column("job_name", String(100), primary_key=True),
        # The runner holding it, or that held it last (host/pid/random): for the fence and operators.
        Column("holder", String(200), nullable=True),
        # Bumped on every take; a run's writes commit only while it is still theirs.
        Column("fencing_token", BigInteger, nullable=False),
        # NULL once given back. A holder that stops renewing loses the lease at this time.
        Column("expires_at", DateTime(timezone=True), nullable=True),
        Column("last_started_at", DateTime(timezone=True), nullable=True),
        # Older than last_started_at while a run goes on, and forever after a crash mid-run.
        Column("last_finished_at", DateTime(timezone=True), nullable=True),
        Column("last_succeeded_at", DateTime(timezone=True), nullable=True),
        # The last run's failure; cleared by a success.
        Column("last_error", Text, nullable=True),
    )


class Outcome(StrEnum):
    """How a run ended (the `outcome` label of `crm_job_runs_total`)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Another runner took the job over mid-run (this one stalled past its lease); it runs it again.
    LOST_LEASE = "lost_lease"
    # The process stopped mid-run and gave the lease back, so another replica resumes at once.
    INTERRUPTED = "interrupted"


class LeaseLost(Exception):
    """The run no longer holds its job's lease: another runner took it over. Raised inside the
    run's transaction, which then rolls back."""


@dataclass(frozen=True)
class Lease:
    """One take of a job's lease: who took it and the fencing token of the take."""

    job_name: str
    holder: str
    fencing_token: int


class JobContext:
    """What a run gets: the time it started on the service's clock, the fencing token of its
    lease, and transactions that commit only while the lease is still the run's."""

    def __init__(
        self,
        *,
        lease: Lease,
        now: dt.datetime,
        clock: Clock,
        sessions: SessionFactory,
        table: Table,
        after_commit: Callable[[], None],
    ) -> None:
        self.job_name = lease.job_name
        # The run's "now": what the job measures ages and deadlines against.
        self.now = now
        # For a fresh reading during a long run.
        self.clock = clock
        # Grows with every take of this job's lease; pass it on to writes outside this database.
        self.fencing_token = lease.fencing_token
        self._lease = lease
        self._sessions = sessions
        self._table = table
        self._after_commit = after_commit

    async def still_holds(self) -> bool:
        """Whether no other runner has taken the job over. A check of the moment: use
        `transaction()`, not this, to guard a write."""
        table = self._table
        async with self._sessions() as session:
            token = await session.scalar(
                select(table.c.fencing_token).where(
                    table.c.job_name == self._lease.job_name, table.c.holder == self._lease.holder
                )
            )
        return token == self._lease.fencing_token

    async def confirm_lease(self, session: AsyncSession) -> None:
        """Inside the caller's transaction: lock the job's lease row and check it is still this
        run's, else raise `LeaseLost`. A takeover has to wait for the transaction to end, so what
        it writes commits under this run's lease or not at all."""
        table = self._table
        # A no-op UPDATE rather than SELECT ... FOR UPDATE: it takes the row lock on PostgreSQL
        # and the write lock on SQLite, where FOR UPDATE does nothing.
        confirmed = await session.execute(
            update(table)
            .where(
                table.c.job_name == self._lease.job_name,
                table.c.holder == self._lease.holder,
                table.c.fencing_token == self._lease.fencing_token,
            )
            .values(fencing_token=table.c.fencing_token)
        )
        if _rowcount(confirmed) != 1:
            raise LeaseLost(f"job {self.job_name}: fencing token {self.fencing_token} was taken over")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One batch of the run: a transaction that starts by confirming the lease (see
        `confirm_lease`); its events reach the broker as soon as it commits."""
        async with self._sessions() as session, session.begin():
            await self.confirm_lease(session)
            yield session
        self._after_commit()


# An async function of the run's context.
JobRun = Callable[[JobContext], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class PeriodicJob:
    """Work on a schedule (pool returns, reminders, first-visit deadlines): `run(context)` once
    per `interval` on one replica at a time, each batch in `context.transaction()`. A run cut
    short is started again from the top, so it must be idempotent. `lease`: how long a holder
    keeps the job without renewing (it renews three times per lease), so how soon another
    replica resumes the run of one that crashed."""

    name: str
    interval: dt.timedelta
    run: JobRun
    lease: dt.timedelta = dt.timedelta(minutes=1)

    def __post_init__(self) -> None:
        if not _JOB_NAME.fullmatch(self.name):
            raise ValueError(f"job name {self.name!r}: lower-case letters, digits, - and _, at most 100")
        if self.interval <= dt.timedelta(0) or self.lease <= dt.timedelta(0):
            raise ValueError(f"job {self.name}: interval and lease must be positive")


async def request_run(session: AsyncSession, job_name: str) -> None:
    """Make `job_name` due now, in the caller's transaction (so only if it commits): a runner's
    next round, within its poll interval, starts it on whichever replica is free. A run going on
    is left alone and the job runs once more after it, so it sees what the caller wrote. For work
    that should not wait for the job's interval (revisit plans just set, customers just imported)."""
    table = job_lease_table(MetaData())
    await session.execute(update(table).where(table.c.job_name == job_name).values(last_started_at=None))


def default_holder() -> str:
    """Unique per runner; the host name (the pod's name in Kubernetes) tells operators where."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class JobRunner:
    """Runs one service's periodic jobs. `run(stop)` is the background loop the runtime spawns:
    every `poll_interval` seconds, or at once on `wake()` (which moving a test clock calls), it
    starts each job that is due and free, and each run goes on in its own task. `run_due_once()`
    is one such round that waits for the runs it started: what a test calls after moving the
    clock. `renew_every` (seconds; default a third of each job's lease) is for tests of a holder
    that stops renewing."""

    def __init__(
        self,
        *,
        service: str,
        jobs: Sequence[PeriodicJob],
        sessions: SessionFactory,
        clock: Clock = utcnow,
        after_commit: Callable[[], None] = lambda: None,
        poll_interval: float = 1.0,
        renew_every: float | None = None,
        holder: str | None = None,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names of {service} must be unique: {sorted(names)}")
        self.service = service
        self.holder = holder or default_holder()
        self._jobs = list(jobs)
        self._sessions = sessions
        self._clock = clock
        self._after_commit = after_commit
        self._poll_interval = poll_interval
        self._renew_every = renew_every
        self._table = job_lease_table(MetaData())
        self._running: dict[str, asyncio.Task[Outcome]] = {}
        self._wake = asyncio.Event()
        self._prepared = False
        for job in self._jobs:
            # Present from the start, so rates and alerts have a series before the first run.
            for outcome in Outcome:
                JOB_RUNS.labels(service, job.name, outcome.value)
            JOB_INTERVAL.labels(service, job.name).set(job.interval.total_seconds())
            JOB_LAST_SUCCESS.labels(service, job.name)

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll."""
        self._wake.set()

    @property
    def running(self) -> frozenset[str]:
        """The jobs this runner has a run of in flight."""
        return frozenset(self._running)

    async def prepare(self) -> None:
        """Check the lease table exists and create each job's row (by whichever replica is
        first). The kit calls it at start, so a service whose migrations lack the table stops
        with the reason instead of logging it every second."""
        async with self._sessions() as session, session.begin():
            connection = await session.connection()
            if not await connection.run_sync(_has_lease_table):
                raise RuntimeError(
                    f"{self.service} declares periodic jobs but its database has no {JOB_LEASE_TABLE} table: "
                    "call crmkit.migration_ops.create_job_tables() in one of its migrations"
                )
            dialect = session.get_bind().dialect.name
            for job in self._jobs:
                await session.execute(
                    insert_unless_present(dialect, self._table, {"job_name": job.name, "fencing_token": 0})
                )
        self._prepared = True

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self._poll_interval
        try:
            while not stop.is_set():
                delay = self._poll_interval
                # Cleared before the round, not after: a wake during the round is not lost.
                self._wake.clear()
                try:
                    await self._start_due_jobs()
                    backoff = self._poll_interval
                except Exception:
                    log.exception("periodic jobs of crm-%s: could not look for due jobs", self.service)
                    delay = backoff
                    backoff = min(backoff * 2, _MAX_BACKOFF)
                await self._pause(stop, delay)
        finally:
            await self._interrupt_runs()

    async def run_due_once(self) -> dict[str, Outcome]:
        """Start every job that is due and free, wait for those runs, and say how each ended."""
        started = await self._start_due_jobs()
        outcomes = await asyncio.gather(*started.values())
        return dict(zip(started, outcomes, strict=True))

    async def _pause(self, stop: asyncio.Event, delay: float) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _interrupt_runs(self) -> None:
        """On stop: cut the runs short; each gives its lease back for another replica to resume."""
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    # --- one round ----------------------------------------------------------------------------

    def _takeable(self, job: PeriodicJob, now: dt.datetime) -> ColumnElement[bool]:
        """The one rule of who may start `job` now: used to look, and again to take."""
        table = self._table
        free = or_(table.c.expires_at.is_(None), table.c.expires_at <= now, table.c.holder == self.holder)
        due = or_(
            table.c.last_started_at.is_(None),
            table.c.last_started_at <= now - job.interval,
            # The last run never finished: its holder crashed or stopped mid-run; resume it.
            table.c.last_finished_at.is_(None),
            table.c.last_finished_at < table.c.last_started_at,
        )
        return and_(table.c.job_name == job.name, free, due)

    async def _start_due_jobs(self) -> dict[str, asyncio.Task[Outcome]]:
        if not self._prepared:
            await self.prepare()
        now = as_utc(self._clock())
        idle = [job for job in self._jobs if job.name not in self._running]
        takeable = await self._look(idle, now)
        started: dict[str, asyncio.Task[Outcome]] = {}
        for job in idle:
            if not takeable.get(job.name, False):
                continue
            lease = await self._take(job, now)
            if lease is None:
                # Another replica took it between our look and our take.
                continue
            task = asyncio.create_task(self._execute(job, lease, now), name=f"crm-{self.service} job {job.name}")
            self._running[job.name] = task
            task.add_done_callback(self._forget(job.name))
            started[job.name] = task
        return started

    def _forget(self, job_name: str) -> Callable[[asyncio.Task[Outcome]], None]:
        def forget(_: asyncio.Task[Outcome]) -> None:
            self._running.pop(job_name, None)
            # Look again: the clock may have moved past the next due time while it ran.
            self._wake.set()

        return forget

    async def _look(self, jobs: Sequence[PeriodicJob], now: dt.datetime) -> Mapping[str, bool]:
        """Which of `jobs` look takeable (a read: no lock is taken for a job that is not due),
        and each job's last success for the gauge, which every replica reports alike."""
        table = self._table
        takeable = or_(*(self._takeable(job, now) for job in jobs)) if jobs else None
        columns: list[Any] = [table.c.job_name, table.c.last_succeeded_at]
        if takeable is not None:
            columns.append(case((takeable, 1), else_=0).label("takeable"))
        async with self._sessions() as session:
            rows = (
                await session.execute(select(*columns).where(table.c.job_name.in_([job.name for job in self._jobs])))
            ).all()
        if len(rows) < len(self._jobs):
            # A row went missing (a table restored from an old backup): make it again next round.
            self._prepared = False
        found: dict[str, bool] = {}
        for row in rows:
            succeeded = row.last_succeeded_at
            JOB_LAST_SUCCESS.labels(self.service, row.job_name).set(
                0 if succeeded is None else as_utc(succeeded).timestamp()
            )
            found[row.job_name] = takeable is not None and bool(row.takeable)
        return found

    async def _take(self, job: PeriodicJob, now: dt.datetime) -> Lease | None:
        table = self._table
        async with self._sessions() as session, session.begin():
            token = await session.scalar(
                update(table)
                .where(self._takeable(job, now))
                .values(
                    holder=self.holder,
                    fencing_token=table.c.fencing_token + 1,
                    expires_at=now + job.lease,
                    last_started_at=now,
                )
                .returning(table.c.fencing_token)
            )
        return None if token is None else Lease(job_name=job.name, holder=self.holder, fencing_token=int(token))

    # --- one run ------------------------------------------------------------------------------

    async def _execute(self, job: PeriodicJob, lease: Lease, now: dt.datetime) -> Outcome:
        context = JobContext(
            lease=lease,
            now=now,
            clock=self._clock,
            sessions=self._sessions,
            table=self._table,
            after_commit=self._after_commit,
        )
        began = time.perf_counter()
        work = asyncio.create_task(job.run(context), name=f"crm-{self.service} job {job.name} run")
        keeper = asyncio.create_task(self._keep_lease(job, lease, work))
        error: str | None = None
        try:
            await work
            outcome = Outcome.SUCCEEDED
        except LeaseLost:
            outcome = Outcome.LOST_LEASE
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is None or not current.cancelling():
                # Not us being stopped: the keeper cut the run short because the lease was lost.
                outcome = Outcome.LOST_LEASE
            else:
                self._count(job, Outcome.INTERRUPTED, began)
                with contextlib.suppress(Exception):
                    await self._give_back(lease)
                raise
        except Exception as exc:
            outcome = Outcome.FAILED
            error = f"{type(exc).__name__}: {exc}"
            log.exception("periodic job %s of crm-%s failed; it runs again in %s", job.name, self.service, job.interval)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if outcome is not Outcome.LOST_LEASE:
            try:
                if not await self._finish(lease, succeeded=outcome is Outcome.SUCCEEDED, error=error):
                    # Taken over as the run ended: the new holder runs it again.
                    outcome = Outcome.LOST_LEASE
            except Exception:
                # The lease then runs out and the job counts as unfinished: another round resumes it.
                log.exception("periodic job %s of crm-%s: could not record how its run ended", job.name, self.service)
        if outcome is Outcome.LOST_LEASE:
            log.warning("periodic job %s of crm-%s lost its lease to another replica mid-run", job.name, self.service)
        self._count(job, outcome, began)
        return outcome

    def _count(self, job: PeriodicJob, outcome: Outcome, began: float) -> None:
        JOB_RUNS.labels(self.service, job.name, outcome.value).inc()
        JOB_DURATION.labels(self.service, job.name).observe(time.perf_counter() - began)

    async def _keep_lease(self, job: PeriodicJob, lease: Lease, work: asyncio.Task[None]) -> None:
        """Renew while the run goes on; when another runner has taken over, stop the run (its
        transactions would be refused anyway)."""
        every = self._renew_every if self._renew_every is not None else job.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                held = await self._renew(job, lease)
            except Exception:
                # A blip: try again. Should the lease run out meanwhile, the fence decides.
                log.warning("job %s of crm-%s could not renew its lease", job.name, self.service, exc_info=True)
                continue
            if not held:
                work.cancel()
                return

    def _mine(self, lease: Lease) -> ColumnElement[bool]:
        table = self._table
        return and_(
            table.c.job_name == lease.job_name,
            table.c.holder == lease.holder,
            table.c.fencing_token == lease.fencing_token,
        )

    async def _renew(self, job: PeriodicJob, lease: Lease) -> bool:
        # Renewing a lease that ran out is fine while nobody took it: the token says so.
        expires_at = as_utc(self._clock()) + job.lease
        async with self._sessions() as session, session.begin():
            renewed = await session.execute(update(self._table).where(self._mine(lease)).values(expires_at=expires_at))
        return _rowcount(renewed) == 1

    async def _finish(self, lease: Lease, *, succeeded: bool, error: str | None) -> bool:
        finished = as_utc(self._clock())
        values: dict[str, Any] = {"expires_at": None, "last_finished_at": finished}
        if succeeded:
            values.update(last_succeeded_at=finished, last_error=None)
        else:
            values.update(last_error=(error or "failed")[:2000])
        async with self._sessions() as session, session.begin():
            recorded = await session.execute(update(self._table).where(self._mine(lease)).values(**values))
        if _rowcount(recorded) != 1:
            return False
        if succeeded:
            JOB_LAST_SUCCESS.labels(self.service, lease.job_name).set(finished.timestamp())
        return True

    async def _give_back(self, lease: Lease) -> None:
        """Free the lease without finishing the run: it counts as unfinished, so due at once."""
        async with self._sessions() as session, session.begin():
            await session.execute(update(self._table).where(self._mine(lease)).values(expires_at=None))


def _has_lease_table(connection: Connection) -> bool:
    return inspect(connection).has_table(JOB_LEASE_TABLE)


def _rowcount(result: Any) -> int:
    # session.execute is typed as returning Result; an UPDATE's is a CursorResult.
    return cast(CursorResult[Any], result).rowcount
