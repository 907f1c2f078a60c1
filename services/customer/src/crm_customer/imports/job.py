"""The `customer-imports` job: the dry run and the import, each a pass over the file's customers
in batches of about 2,000 rows (500 on SQLite), each batch one transaction on the job's lease
that also writes the pass's progress (counts, percent, and the cursor: the last row it committed).

The dry run streams the uploaded file (imports.reading) and stages its rows; the import reads the
staged rows, so the file is parsed once. A pass that a crash, a restart or a lost lease cut short
is taken up by the next run: it reads again from the top — the rows up to the cursor only to
remember what the file used (duplicates within the file), without touching the database — and
carries on after the cursor. A batch that rolled back is done again; one that committed is never
looked at again, so nothing is created twice (and the row marks would catch it if it were)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import IO, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2
from crm_customer.contacts.personal import PersonalData
from crm_customer.customers.events import CustomerEvents
from crm_customer.imports import reading, storage
from crm_customer.imports.checking import Checker, Draft, Finding, Group, groups
from crm_customer.imports.models import (
    COUNTS,
    PASSES,
    STATUSES,
    WORKING,
    CustomerImport,
    ImportProblemRow,
    RejectedRow,
    StagedRow,
    counts_to_proto,
)
from crm_customer.imports.rejects import write_rejects
from crm_customer.imports.sections import CUSTOMER_COLUMNS, SECTIONS, Layout, layout_of
from crm_customer.imports.writing import ImportWriter
from crm_customer.revisits.service import REVISIT_JOB_NAME
from crm_customer.tenant_settings.custom_fields import FieldDefinition
from crm_customer.tenant_settings.service import custom_field_definitions
from crmkit.db import SessionFactory, insert_rows
from crmkit.events import add_event
from crmkit.jobs import JobContext, LeaseLost, PeriodicJob, request_run
from crmkit.runtime import ServiceRuntime

log = logging.getLogger(__name__)

IMPORT_INTERVAL = dt.timedelta(seconds=2)
BATCH_ROWS = 2000
# SQLite has one writer: a batch's transaction holds every other write of the service (up to
# their 4 s busy timeout), so it stays short there.
SQLITE_BATCH_ROWS = 500
STAGED_PAGE = 2000
# How many customers the reading ahead reads between chances for the batch being written.
READ_AHEAD_STEP = 20
MAX_ATTEMPTS = 3
TEMPLATE_HEADERS = {c.key: c.header for c in CUSTOMER_COLUMNS + tuple(c for s in SECTIONS for c in s.columns)}


class ImportStopped(Exception):
    """The import was cancelled (or finished elsewhere) while this pass ran."""


class ImportFailed(Exception):
    """The file cannot be imported at all; the message is for the importer."""


class ImportJob:
    def __init__(self, *, sessions: SessionFactory, events: CustomerEvents, personal: PersonalData) -> None:
        # Plain sessions for reads outside the lease's transactions (the stored file, staged rows).
        self.sessions = sessions
        self.events = events
        self.personal = personal

    async def __call__(self, job: JobContext) -> None:
        while True:
            async with job.transaction() as session:
                current = await _next_working(session)
                if current is None:
                    return
                import_id = current.id
            try:
                await self.run_pass(job, import_id)
            except (LeaseLost, ImportStopped):
                if not await job.still_holds():
                    raise
                continue
            except ImportFailed as exc:
                await self._fail(job, import_id, str(exc))
            except Exception as exc:
                # A batch that keeps failing must not block every later import: after a few
                # tries the import ends as failed, with the error kept for the importer.
                log.exception("import %s: a batch failed", import_id)
                if await self._count_attempt(job, import_id, exc):
                    raise

    async def _count_attempt(self, job: JobContext, import_id: str, exc: Exception) -> bool:
        """Whether to give up this run (the import is retried next run)."""
        async with job.transaction() as session:
            row = await session.get(CustomerImport, import_id, with_for_update=True)
            if row is None or row.status not in WORKING:
                return False
            row.attempts += 1
            if row.attempts < MAX_ATTEMPTS:
                return True
        await self._fail(job, import_id, f"导入出错，已停止 / the import failed: {type(exc).__name__}")
        return False

    async def _fail(self, job: JobContext, import_id: str, error: str) -> None:
        async with job.transaction() as session:
            row = await session.get(CustomerImport, import_id, with_for_update=True)
            if row is None or row.status not in WORKING:
                return
            pass_ = WORKING[row.status]
            row.status, row.error, row.finished_at = "failed", error[:300], job.clock()
            await storage.discard(session, row.id)
            await session.execute(delete(StagedRow).where(StagedRow.import_id == row.id))
            await self._announce(session, row, pass_, job.clock())

    async def run_pass(self, job: JobContext, import_id: str) -> None:
        """Run (or resume) the pass the import is in, to its end."""
        async with job.transaction() as session:
            row = await session.get(CustomerImport, import_id)
            assert row is not None
            pass_ = WORKING[row.status]
            identity = row.importer()
            definitions = await custom_field_definitions(session, tenant_id=row.tenant_id)
            cursor, sha256, update_existing = row.cursor, row.sha256, row.update_existing
        notices: list[Finding] = []
        source: IO[bytes] | None = None
        try:
            customers: AsyncIterator[Group]
            if pass_ == "dry_run":
                source, sha256, layout, rows, notices = await self._open_upload(job, import_id)
                customers = _each(groups(rows, layout))
            else:
                layout = await self._staged_layout(import_id, definitions)
                customers = self._staged_groups(import_id, layout)
            checker = Checker(
                identity=identity,
                layout=layout,
                definitions=definitions,
                personal=self.personal,
                sha256=sha256,
                update_existing=update_existing,
                now=job.clock(),
            )
            writer = ImportWriter(
                identity=identity, events=self.events, personal=self.personal, import_id=import_id, sha256=sha256
            )
            sqlite = self.sessions.kw["bind"].dialect.name == "sqlite"
            batch_rows = min(BATCH_ROWS, SQLITE_BATCH_ROWS) if sqlite else BATCH_ROWS
            ahead = _read_ahead(customers, checker, writer if pass_ == "import" else None, cursor, batch_rows)
            async with contextlib.aclosing(ahead) as batches:
                async for batch in batches:
                    await self._batch(job, import_id, pass_, checker, writer, layout, batch, notices)
                    notices = []
            await self._finish(job, import_id, pass_)
        finally:
            if source is not None:
                source.close()

    # ------------------------------------------------------------------ the sources of rows

    async def _open_upload(
        self, job: JobContext, import_id: str
    ) -> tuple[IO[bytes], str, Layout, Iterator[tuple[int, list[str]]], list[Finding]]:
        """The uploaded file, checked against what the uploader said, its digest, its layout from
        the header row (saved on the import), and its data rows."""
        source, digest, size = await storage.spool(self.sessions, import_id)
        async with job.transaction() as session:
            row = await session.get(CustomerImport, import_id, with_for_update=True)
            assert row is not None
            if size != row.size_bytes or (row.sha256 and row.sha256 != digest):
                source.close()
                raise ImportFailed("文件不完整或已损坏，请重新上传 / the stored file differs from the upload")
            head = source.read(64 * 1024)
            source.seek(0)
            found = reading.sniff_format(head)
            if not found:
                source.close()
                raise ImportFailed("不是 xlsx 或 CSV 文件 / not an xlsx or CSV file")
            row.format, row.sha256 = found, digest
            try:
                if found == "csv":
                    row.encoding = reading.detect_encoding(source)
                    estimate = sum(chunk.count(b"\n") for chunk in iter(lambda: source.read(1 << 20), b""))
                    source.seek(0)
                else:
                    estimate = reading.xlsx_row_estimate(source)
                every = reading.rows(source, found, row.encoding)
                header_row, headers = 0, []
                for number, values in enumerate(every, start=1):
                    if any(values):
                        header_row, headers = number, values
                        break
            except reading.UnreadableFile as exc:
                source.close()
                raise ImportFailed(str(exc)) from exc
            if not headers:
                source.close()
                raise ImportFailed("文件是空的 / the file has no rows")
            definitions = await custom_field_definitions(session, tenant_id=row.tenant_id)
            layout = layout_of(headers, {d.label: d.key for d in definitions}, free_form=not definitions)
            if "name" not in layout.by_key:
                source.close()
                raise ImportFailed("缺少必填列：客户名称 / the column 客户名称 (name) is missing")
            row.headers, row.header_row = headers, header_row
            row.total_rows = row.total_rows or max(0, estimate - header_row)
            fresh = row.cursor == 0
        notices = []
        if fresh:
            for header in layout.ignored:
                notices.append(
                    Finding(header_row, "", "ignored_column", f"未识别的列“{header}”，已忽略", severity="notice")
                )
            for header in layout.repeated:
                notices.append(
                    Finding(header_row, "", "ignored_column", f"重复的列“{header}”，只读第一列", severity="notice")
                )

        return source, digest, layout, enumerate(every, start=header_row + 1), notices

    async def _staged_layout(self, import_id: str, definitions: list[FieldDefinition]) -> Layout:
        async with self.sessions() as session:
            headers = await session.scalar(select(CustomerImport.headers).where(CustomerImport.id == import_id))
        return layout_of(headers or [], {d.label: d.key for d in definitions}, free_form=not definitions)

    async def _staged_groups(self, import_id: str, layout: Layout) -> AsyncIterator[Group]:
        """The staged rows in order, a page at a time, as customers."""
        after = 0
        pending: list[tuple[int, list[str]]] = []
        while True:
            async with self.sessions() as session:
                page = (
                    await session.execute(
                        select(StagedRow.row_number, StagedRow.cells)
                        .where(StagedRow.import_id == import_id, StagedRow.row_number > after)
                        .order_by(StagedRow.row_number)
                        .limit(STAGED_PAGE)
                    )
                ).all()
            if not page:
                break
            after = page[-1][0]
            pending.extend((number, list(cells)) for number, cells in page)
            # Keep the last customer's rows back: the next page may continue it.
            found = list(groups(pending, layout))
            for group in found[:-1]:
                yield group
            last = found[-1] if found else None
            pending = [(n, v) for n, v, _ in last.rows] if last else []
        for group in groups(pending, layout):
            yield group

    # ------------------------------------------------------------------ one batch

    async def _batch(
        self,
        job: JobContext,
        import_id: str,
        pass_: str,
        checker: Checker,
        writer: ImportWriter,
        layout: Layout,
        drafts: list[Draft],
        notices: list[Finding],
    ) -> None:
        if not drafts and not notices:
            return
        async with job.transaction() as session:
            row = await session.get(CustomerImport, import_id, with_for_update=True)
            if row is None or WORKING.get(row.status) != pass_:
                raise ImportStopped()
            now = job.clock()
            for draft in drafts:
                await checker.check_tenant(session, draft)
            await checker.against_existing(session, drafts)
            counts = dict(row.dry_run if pass_ == "dry_run" else row.result)
            if pass_ == "import":
                written = await writer.write(session, drafts, now)
                created, updated, contacts_added = written.created, written.updated, written.contacts_added
            else:
                created = sum(1 for d in drafts if d.outcome == "create")
                updated = sum(1 for d in drafts if d.outcome == "update")
                contacts_added = sum(
                    len(d.data.contacts) if d.outcome == "create" and d.data else len(d.new_contacts)
                    for d in drafts
                    if d.outcome in ("create", "update")
                )
                staged = [
                    {"import_id": import_id, "row_number": n, "cells": values}
                    for d in drafts
                    for n, values, _ in d.group.rows
                ]
                await insert_rows(session, cast(Table, StagedRow.__table__), staged)
            findings = [*notices, *(f for d in drafts for f in d.findings)]
            self._record(session, import_id, pass_, layout, checker, drafts, findings)
            rows = sum(len(d.group.rows) for d in drafts)
            rejected = [d for d in drafts if d.rejected]
            for key, add in (
                ("rows", rows),
                ("customers", len(drafts)),
                ("created", created),
                ("updated", updated),
                ("skipped", len(drafts) - created - updated),
                ("rejected_rows", sum(len(d.group.rows) for d in rejected)),
                ("problems", sum(1 for f in findings if f.severity == "error")),
                ("contacts_added", contacts_added),
            ):
                counts[key] = counts.get(key, 0) + add
            if pass_ == "dry_run":
                row.dry_run = counts
            else:
                row.result = counts
            if drafts:
                row.cursor = drafts[-1].group.last_row
            total = row.total_rows or 0
            row.percent = min(99, int(100 * counts["rows"] / total)) if total else 0
            row.attempts = 0

    def _record(
        self,
        session: AsyncSession,
        import_id: str,
        pass_: str,
        layout: Layout,
        checker: Checker,
        drafts: list[Draft],
        findings: list[Finding],
    ) -> None:
        def header(key: str) -> str:
            if not key:
                return ""
            found = layout.header_of(key)
            if found:
                return found
            if key.startswith("custom:"):
                definition = checker.definitions.get(key.removeprefix("custom:"))
                return definition.label if definition else key.removeprefix("custom:")
            return TEMPLATE_HEADERS.get(key, key)

        seqs: dict[int, int] = {}
        problems = []
        for finding in findings:
            seq = seqs[finding.row] = seqs.get(finding.row, -1) + 1
            problems.append(
                ImportProblemRow(
                    import_id=import_id,
                    pass_=pass_,
                    row_number=finding.row,
                    seq=seq,
                    header=header(finding.column)[:100],
                    code=finding.code,
                    severity=finding.severity,
                    reason=finding.reason[:300],
                    existing_customer_id=finding.existing_id,
                    existing_customer_name=finding.existing_name[:200],
                    existing_visible=finding.existing_visible,
                )
            )
        session.add_all(problems)
        for draft in drafts:
            if not draft.rejected:
                continue
            by_row: dict[int, list[str]] = {}
            for finding in draft.findings:
                if finding.severity == "error":
                    label = header(finding.column)
                    by_row.setdefault(finding.row, []).append(f"{label}：{finding.reason}" if label else finding.reason)
            bad = sorted(by_row)
            for number, values, _ in draft.group.rows:
                reasons = by_row.get(number) or [
                    f"同一客户第{'、'.join(map(str, bad))}行有错误，整个客户未导入"
                    " / another row of this customer is wrong"
                ]
                session.add(
                    RejectedRow(
                        import_id=import_id,
                        pass_=pass_,
                        row_number=number,
                        cells=values,
                        reason="；".join(reasons)[:1000],
                    )
                )

    # ------------------------------------------------------------------ the end of a pass

    async def _finish(self, job: JobContext, import_id: str, pass_: str) -> None:
        async with job.transaction() as session:
            row = await session.get(CustomerImport, import_id, with_for_update=True)
            if row is None or WORKING.get(row.status) != pass_:
                raise ImportStopped()
            now = job.clock()
            await write_rejects(session, row, pass_)
            if pass_ == "dry_run":
                row.status, row.checked_at = "checked", now
                row.total_rows = int(row.dry_run.get("rows", 0))
                await storage.discard(session, row.id)
            else:
                row.status, row.finished_at = "completed", now
                await session.execute(delete(StagedRow).where(StagedRow.import_id == row.id))
                # Customers imported with an owner-since date may be due a revisit already.
                await request_run(session, REVISIT_JOB_NAME)
            row.percent, row.cursor = 100, 0
            await self._announce(session, row, pass_, now)

    async def _announce(self, session: AsyncSession, row: CustomerImport, pass_: str, now: dt.datetime) -> None:
        counts = row.dry_run if pass_ == "dry_run" else row.result
        await add_event(
            session,
            self.events.tables,
            message=events_pb2.CustomerImportFinished(
                import_id=row.id,
                file_name=row.file_name,
                status=STATUSES.to_proto(row.status),  # type: ignore[arg-type]
                counts=counts_to_proto(counts),
                actor_id=row.actor_id,
                # "pass" is a Python keyword: the field can only be named this way.
                **{"pass": PASSES.to_proto(pass_)},
            ),
            tenant_id=row.tenant_id,
            org_unit_id=row.org_unit_id,
            aggregate_id=row.id,
            aggregate_version=1 if pass_ == "dry_run" else 2,
            occurred_at=now,
            actor_id=row.actor_id,
            namespace=self.events.namespace,
        )


async def _read_ahead(
    customers: AsyncIterator[Group], checker: Checker, writer: ImportWriter | None, cursor: int, batch_rows: int
) -> AsyncGenerator[list[Draft], None]:
    """The pass's batches of drafts (the last one possibly empty), each read while the batch
    before it is written: a batch's writes keep the database busy for about as long as reading
    and checking the next one takes us, and the two cores can do both at once. With `writer`
    (the import pass), the search terms of the customers it may create are worked out here too
    (one that turns out to update an existing customer leaves them unused).
    One batch waits at most; whatever reading raises is raised to the caller."""
    queue: asyncio.Queue[list[Draft] | BaseException | None] = asyncio.Queue(maxsize=1)

    async def read() -> None:
        batch: list[Draft] = []
        size = 0
        try:
            async for group in customers:
                # Every customer is read, those before the cursor only so the file's earlier
                # keys are known (duplicates within the file).
                draft = checker.read(group)
                if group.last_row <= cursor:
                    continue
                if writer is not None and draft.data is not None and not draft.rejected:
                    draft.search = writer.terms_of(draft)
                batch.append(draft)
                size += len(group.rows)
                if size >= batch_rows:
                    await queue.put(batch)
                    batch, size = [], 0
                elif len(batch) % READ_AHEAD_STEP == 0:
                    # Let the batch being written go on as soon as the database answers.
                    await asyncio.sleep(0)
            await queue.put(batch)
            await queue.put(None)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            # Whatever ends the reading ends the pass: the caller waits on the queue, not on us.
            await queue.put(exc)

    task = asyncio.create_task(read())
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _each(items: Iterator[Group]) -> AsyncIterator[Group]:
    for item in items:
        yield item


async def _next_working(session: AsyncSession) -> CustomerImport | None:
    """The oldest import a pass is due for, of any tenant."""
    query = (
        select(CustomerImport)
        .where(CustomerImport.status.in_(tuple(WORKING)))
        .order_by(CustomerImport.created_at, CustomerImport.id)
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def count_working(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(CustomerImport.status.in_(tuple(WORKING)))) or 0)


def import_job(runtime: ServiceRuntime) -> PeriodicJob:
    if runtime.keyring is None:
        raise RuntimeError("the customer service keeps personal data: the registry must mark it personal_data")
    job = ImportJob(
        sessions=runtime.sessions,
        events=CustomerEvents(tables=runtime.tables, namespace=runtime.namespace),
        personal=PersonalData(runtime.keyring),
    )
    return PeriodicJob(name="customer-imports", interval=IMPORT_INTERVAL, run=job)


__all__ = ["COUNTS", "ImportJob", "import_job"]
