"""Operations a service's migrations share: the kit's own tables are created by the kit."""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from crmkit.events import event_tables
from crmkit.idempotency import request_table
from crmkit.jobs import job_lease_table


def create_event_tables() -> None:
    """Outbox, inbox and dead letters, exactly as `crmkit.events.event_tables` declares them;
    a new service's first migration calls this instead of spelling them out again."""
    metadata = MetaData()
    tables = event_tables(metadata)
    metadata.create_all(op.get_bind(), tables=[tables.outbox, tables.inbox, tables.dead_letters])


def create_request_table() -> None:
    """The table that makes creates idempotent by request id (`crmkit.idempotency`)."""
    metadata = MetaData()
    metadata.create_all(op.get_bind(), tables=[request_table(metadata)])


def create_job_tables() -> None:
    """The lease table of periodic jobs (`crmkit.jobs`), for a service whose spec declares jobs."""
    metadata = MetaData()
    metadata.create_all(op.get_bind(), tables=[job_lease_table(metadata)])
