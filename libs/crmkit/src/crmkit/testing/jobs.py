"""Helpers for tests of periodic jobs: wait until a job has run to success on the moved clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import MetaData, select

from crmkit.clock import as_utc
from crmkit.db import SessionFactory
from crmkit.jobs import job_lease_table
from crmkit.testing.events import eventually


async def ran_since(sessions: SessionFactory, job_name: str, moment: dt.datetime, *, within: float = 15.0) -> None:
    """Wait until a run of `job_name` that started at or after `moment` (on the service's
    clock: move it, then call this) has finished without error. The runner starts such a run
    itself once the clock is moved, so a test never races it by starting one of its own."""
    table = job_lease_table(MetaData())

    async def lease() -> Any:
        async with sessions() as session:
            return (await session.execute(select(table).where(table.c.job_name == job_name))).first()

    def done(row: Any) -> bool:
        if row is None or row.last_started_at is None or row.last_finished_at is None:
            return False
        started, finished = as_utc(row.last_started_at), as_utc(row.last_finished_at)
        if row.last_error:
            raise AssertionError(f"job {job_name} failed: {row.last_error}")
        return started >= moment and finished >= started and row.expires_at is None

    await eventually(lease, done, within=within)
