"""Customer imports (客户导入): start one, receive its file in chunks, read its dry-run report and
rejected rows, confirm or cancel it. The passes themselves are the `customer-imports` job's
(imports.job). Functions take the session and never commit: the caller does.

Who imports: admins and bosses (the tenant), supervisors (their subtree: owners they name must
sit there, and only customers they may change are updated), and sales reps into their own book
(the owner column empty or themselves; a rep may update only customers they may change — their
own and those shared with them for writing). Service and finance staff do not import. An import
is seen by its importer and by whoever oversees the importer's unit (admins, bosses, supervisors
above it); only its importer confirms it, and the job acts as them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.imports import storage
from crm_customer.imports.models import CustomerImport, ImportProblemRow, RejectedRow, StagedRow
from crm_customer.imports.rejects import rejects_file_name
from crm_customer.imports.template import csv_template, xlsx_template
from crm_customer.licences.service import licence_kinds
from crm_customer.tenant_settings.service import custom_field_definitions, customer_types, product_lines
from crmkit.errors import FailedPrecondition, InvalidArgument, NotFound
from crmkit.identity import DataScope, Identity, Role
from crmkit.paging import KeysetOrder, decode_token, encode_token

IMPORTERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)
MAX_FILE_BYTES = 50 << 20
NEWEST_FIRST = KeysetOrder(
    "created_desc", CustomerImport.created_at, CustomerImport.id, descending=True, value_kind="time"
)
CANCELLABLE = ("uploading", "checking", "checked")


class ImportNotReady(FailedPrecondition):
    code = "import_not_ready"


@dataclass(frozen=True)
class ImportInput:
    file_name: str
    format: str
    size_bytes: int
    update_existing: bool


def _seen_by(identity: Identity) -> ColumnElement[bool]:
    """The imports the caller may see: their own, and those of users whose unit they oversee."""
    own = and_(CustomerImport.tenant_id == identity.tenant_id, CustomerImport.actor_id == identity.principal_id)
    if identity.scope is DataScope.TENANT:
        return CustomerImport.tenant_id == identity.tenant_id
    if identity.scope is DataScope.SUBTREE and identity.role is Role.SUPERVISOR:
        return or_(
            own,
            and_(
                CustomerImport.tenant_id == identity.tenant_id,
                CustomerImport.org_path.startswith(identity.org_path, autoescape=True),
            ),
        )
    return own


async def get_import(
    session: AsyncSession, *, identity: Identity, import_id: str, for_update: bool = False
) -> CustomerImport:
    query = select(CustomerImport).where(CustomerImport.id == import_id, _seen_by(identity))
    if for_update:
        query = query.with_for_update()
    found = (await session.scalars(query)).first()
    if found is None:
        raise NotFound("customer import", import_id)
    return found


async def start_import(
    session: AsyncSession, *, identity: Identity, data: ImportInput, now: dt.datetime
) -> CustomerImport:
    identity.require_role(*IMPORTERS)
    row = CustomerImport(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        file_name=data.file_name,
        format=data.format,
        size_bytes=data.size_bytes,
        received_bytes=0,
        sha256="",
        encoding="",
        update_existing=data.update_existing,
        status="uploading",
        cursor=0,
        percent=0,
        total_rows=0,
        dry_run={},
        result={},
        error="",
        attempts=0,
        headers=[],
        header_row=0,
        created_at=now,
    )
    row.act_as(identity)
    session.add(row)
    return row


async def append_chunk(session: AsyncSession, *, identity: Identity, import_id: str, offset: int, data: bytes) -> int:
    """Store the next chunk; a chunk sent again (its offset before what arrived) is taken once."""
    row = await get_import(session, identity=identity, import_id=import_id, for_update=True)
    if row.actor_id != identity.principal_id:
        raise NotFound("customer import", import_id)
    if row.status != "uploading":
        raise ImportNotReady("上传已结束 / the upload is already complete", field="import_id")
    if offset < row.received_bytes:
        if offset + len(data) > row.received_bytes:
            raise InvalidArgument("offset", "overlaps what was received / 与已收到的数据重叠")
        return row.received_bytes
    if offset > row.received_bytes:
        raise InvalidArgument("offset", f"expected {row.received_bytes} / 数据不连续")
    if row.received_bytes + len(data) > row.size_bytes:
        raise InvalidArgument("data", "more than the file's size / 超过文件大小")
    if len(data) != storage.CHUNK and row.received_bytes + len(data) != row.size_bytes:
        raise InvalidArgument("data", "every chunk but the last is 1 MiB / 除最后一块外每块须为1 MiB")
    seq = row.received_bytes // storage.CHUNK
    storage.append_chunk(session, row.id, seq, data)
    row.received_bytes += len(data)
    return row.received_bytes


async def finish_upload(session: AsyncSession, *, identity: Identity, import_id: str, sha256: str) -> CustomerImport:
    """The whole file is here: the dry run is due."""
    row = await get_import(session, identity=identity, import_id=import_id, for_update=True)
    if row.actor_id != identity.principal_id:
        raise NotFound("customer import", import_id)
    if row.status != "uploading":
        return row
    if row.received_bytes != row.size_bytes:
        raise ImportNotReady(
            f"已收到{row.received_bytes}字节，文件为{row.size_bytes}字节 / the upload is incomplete", field="import_id"
        )
    row.sha256, row.status = sha256, "checking"
    return row


async def list_imports(
    session: AsyncSession, *, identity: Identity, page_size: int, page_token: str
) -> tuple[list[CustomerImport], str]:
    query = NEWEST_FIRST.apply(select(CustomerImport).where(_seen_by(identity)), page_token)
    rows = (await session.scalars(query.limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda r: (r.created_at, r.id))


async def list_problems(
    session: AsyncSession, *, identity: Identity, import_id: str, pass_: str, page_size: int, page_token: str
) -> tuple[list[ImportProblemRow], str]:
    row = await get_import(session, identity=identity, import_id=import_id)
    pass_ = pass_ or row.working_pass
    query = select(ImportProblemRow).where(ImportProblemRow.import_id == row.id, ImportProblemRow.pass_ == pass_)
    after = decode_token(page_token, length=2)
    if after:
        if not all(type(v) is int for v in after):
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效")
        query = query.where(
            or_(
                ImportProblemRow.row_number > after[0],
                and_(ImportProblemRow.row_number == after[0], ImportProblemRow.seq > after[1]),
            )
        )
    found = list(
        (
            await session.scalars(
                query.order_by(ImportProblemRow.row_number, ImportProblemRow.seq).limit(page_size + 1)
            )
        ).all()
    )
    if len(found) <= page_size:
        return found, ""
    last = found[page_size - 1]
    return found[:page_size], encode_token([last.row_number, last.seq])


async def confirm_import(
    session: AsyncSession, *, identity: Identity, import_id: str, now: dt.datetime
) -> CustomerImport:
    """The importer confirms the dry run's report: the import is due, acting as them now."""
    identity.require_role(*IMPORTERS)
    row = await get_import(session, identity=identity, import_id=import_id, for_update=True)
    if row.actor_id != identity.principal_id:
        raise FailedPrecondition("只有导入人可以确认导入 / only the importer confirms an import", field="import_id")
    if row.status in ("importing", "completed"):
        return row
    if row.status != "checked":
        raise ImportNotReady("预检尚未完成 / the dry run has not finished", field="import_id")
    row.act_as(identity)
    row.status, row.confirmed_at, row.cursor, row.percent, row.attempts = "importing", now, 0, 0, 0
    return row


async def cancel_import(
    session: AsyncSession, *, identity: Identity, import_id: str, now: dt.datetime
) -> CustomerImport:
    row = await get_import(session, identity=identity, import_id=import_id, for_update=True)
    if row.status == "cancelled":
        return row
    if row.status not in CANCELLABLE:
        raise ImportNotReady("导入已开始或已结束，不能取消 / the import has started or ended", field="import_id")
    row.status, row.finished_at = "cancelled", now
    await storage.discard(session, row.id)
    await session.execute(delete(StagedRow).where(StagedRow.import_id == row.id))
    return row


async def has_rejects(session: AsyncSession, row: CustomerImport) -> bool:
    return await storage.has_file(session, row.id, storage.rejects_kind(row.working_pass))


async def read_rejects(
    session: AsyncSession, *, identity: Identity, import_id: str, pass_: str, offset: int
) -> tuple[str, bytes, int]:
    row = await get_import(session, identity=identity, import_id=import_id)
    pass_ = pass_ or row.working_pass
    kind = storage.rejects_kind(pass_)
    if not await storage.has_file(session, row.id, kind):
        if await session.scalar(
            select(RejectedRow.row_number).where(RejectedRow.import_id == row.id, RejectedRow.pass_ == pass_).limit(1)
        ):
            raise ImportNotReady("未通过的行还在整理中 / the file is not ready yet", field="import_id")
        raise NotFound("rejected rows file", import_id)
    data, total = await storage.read_range(session, row.id, kind, offset)
    return rejects_file_name(row.file_name, pass_), data, total


async def template(session: AsyncSession, *, identity: Identity, file_format: str) -> tuple[str, bytes]:
    identity.require_role(*IMPORTERS)
    definitions = await custom_field_definitions(session, tenant_id=identity.tenant_id)
    if file_format == "csv":
        return "客户导入模板.csv", csv_template(definitions)
    types = await customer_types(session, tenant_id=identity.tenant_id)
    lines = await product_lines(session, tenant_id=identity.tenant_id)
    kinds = [kind.name for kind in await licence_kinds(session, tenant_id=identity.tenant_id)]
    return "客户导入模板.xlsx", xlsx_template(definitions, types, lines, kinds)
