"""The import tables: one row per import with its progress, the problems and rejected rows each
pass found, the stored files (the upload and the rejected-rows workbooks), and the marks that
keep a file's rows from being imported twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import imports_pb2 as ipb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.db import bytewise
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of
from crmkit.identity import Identity, Role

STATUSES = ProtoEnum(ipb.ImportStatus)
FORMATS = ProtoEnum(ipb.ImportFormat)
PASSES = ProtoEnum(ipb.ImportPass)
# The statuses the job works on, and the pass each is.
WORKING = {"checking": "dry_run", "importing": "import"}
COUNTS = ("rows", "customers", "created", "updated", "skipped", "rejected_rows", "problems", "contacts_added")


class CustomerImport(Base):
    __tablename__ = "customer_imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    # The importer as they called (the job acts as them): id, unit, path, role, name, permissions.
    actor_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    org_path: Mapped[str] = mapped_column(bytewise(400))
    role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    encoding: Mapped[str] = mapped_column(String(16), default="")
    update_existing: Mapped[bool] = mapped_column(Boolean, default=True)
    # uploading, checking, checked, importing, completed, failed, cancelled.
    status: Mapped[str] = mapped_column(String(12))
    # The last data row (spreadsheet numbering) the current pass has committed: a resumed pass
    # starts after it.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    dry_run: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(String(300), default="")
    # Failed tries of the batch after `cursor`: a batch that keeps failing ends the import.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The file's header row as it reads, and its row number.
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    header_row: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_customer_imports_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_customer_imports_tenant_actor_created", "tenant_id", "actor_id", "created_at", "id"),
        Index("ix_customer_imports_status_created", "status", "created_at"),
    )

    @property
    def working_pass(self) -> str:
        """The pass the import is in or last finished: its problems and rejected rows are the latest."""
        return "import" if self.status in ("importing", "completed") and self.confirmed_at else "dry_run"

    def importer(self) -> Identity:
        return Identity(
            principal_id=self.actor_id,
            tenant_id=self.tenant_id,
            org_unit_id=self.org_unit_id,
            org_path=self.org_path,
            role=Role(self.role),
            display_name=self.actor_name,
            permissions=frozenset(self.permissions or []),
        )

    def act_as(self, identity: Identity) -> None:
        self.actor_id, self.org_unit_id, self.org_path = identity.principal_id, identity.org_unit_id, identity.org_path
        self.role, self.actor_name = identity.role.value, identity.display_name[:100]
        self.permissions = sorted(identity.permissions)


class ImportFileChunk(Base):
    """Stored files, in chunks of at most 1 MiB: the upload ("upload") and the rejected-rows
    workbooks ("rejects_dry_run", "rejects_import"). Behind `imports.storage`."""

    __tablename__ = "customer_import_files"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StagedRow(Base):
    """A data row of the file as the dry run read it: the import reads these rather than parse
    the file again (the upload itself is dropped once the dry run is done)."""

    __tablename__ = "customer_import_rows"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)


class ImportProblemRow(Base):
    __tablename__ = "customer_import_problems"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # dry_run or import
    pass_: Mapped[str] = mapped_column("pass", String(8), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    header: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(300))
    existing_customer_id: Mapped[str] = mapped_column(String(36), default="")
    existing_customer_name: Mapped[str] = mapped_column(String(200), default="")
    existing_visible: Mapped[bool] = mapped_column(Boolean, default=False)


class RejectedRow(Base):
    """A row a pass did not import, as the file had it, and why (for the rejected-rows workbook)."""

    __tablename__ = "customer_import_rejected_rows"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pass_: Mapped[str] = mapped_column("pass", String(8), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(1000))


class ImportMark(Base):
    """A row of a file (by its digest) that an import created or updated a customer from: the
    same file imported again skips it, whoever imports it."""

    __tablename__ = "customer_import_marks"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))


def counts_to_proto(values: dict[str, int] | None) -> ipb.ImportCounts:
    return ipb.ImportCounts(**{key: int((values or {}).get(key, 0)) for key in COUNTS})


def import_to_proto(row: CustomerImport, *, has_rejects: bool = False) -> ipb.CustomerImport:
    def stamp(value: dt.datetime | None) -> Any:
        return timestamp_of(as_utc(value)) if value else None

    return ipb.CustomerImport(
        id=row.id,
        file_name=row.file_name,
        format=FORMATS.to_proto(row.format),  # type: ignore[arg-type]
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        encoding=row.encoding,
        update_existing=row.update_existing,
        status=STATUSES.to_proto(row.status),  # type: ignore[arg-type]
        percent=row.percent,
        total_rows=row.total_rows,
        dry_run=counts_to_proto(row.dry_run),
        result=counts_to_proto(row.result),
        error=row.error,
        actor_id=row.actor_id,
        org_unit_id=row.org_unit_id,
        create_time=stamp(row.created_at),
        checked_time=stamp(row.checked_at),
        confirm_time=stamp(row.confirmed_at),
        finish_time=stamp(row.finished_at),
        has_rejected_rows_file=has_rejects,
    )


def problem_to_proto(row: ImportProblemRow) -> ipb.ImportProblem:
    return ipb.ImportProblem(
        row=row.row_number,
        column=row.header,
        reason=row.reason,
        code=row.code,
        severity=row.severity,
        existing_customer_id=row.existing_customer_id,
        existing_customer_name=row.existing_customer_name,
        existing_visible=row.existing_visible,
    )
