"""/api/v1/customer-imports: the import wizard's API (template → upload and dry run → report →
confirm → progress → rejected rows), forwarded to the customer service, whose job checks and
imports the file. The gateway refuses what is not a file of ours before anything is stored:
larger than the limit (413, by Content-Length or as it streams in) or neither xlsx nor CSV by
its content (415; the Content-Type a client sends is not trusted)."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from typing import IO, Annotated, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from crm.customer.v1 import imports_pb2 as ipb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import has_control_characters, path_id
from crm_gateway.web import Caller, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.errors import DomainError, InvalidArgument
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["imports"])
IMPORT_UPLOAD_PATH = "/api/v1/customer-imports"
CHUNK = 1 << 20
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUSES = ProtoEnum(ipb.ImportStatus)
FORMATS = ProtoEnum(ipb.ImportFormat)
PASSES = ProtoEnum(ipb.ImportPass)
Status = Literal["uploading", "checking", "checked", "importing", "completed", "failed", "cancelled"]
Format = Literal["xlsx", "csv"]
Pass = Literal["dry_run", "import"]


class UnsupportedFileType(DomainError):
    code = "unsupported_media_type"
    http_status = 415


class ImportCountsOut(BaseModel):
    rows: int = Field(description="Data rows read (the header row not counted)")
    customers: int = Field(description="Customers in those rows (a customer's consecutive rows count once)")
    created: int
    updated: int
    skipped: int = Field(description="Customers not imported: problems, already imported, or nothing to change")
    rejected_rows: int = Field(description="Rows not imported (every row of a rejected customer)")
    problems: int = Field(description="Problems that reject a row (notices not counted)")
    contacts_added: int


class CustomerImportOut(BaseModel):
    id: str
    file_name: str
    format: Format
    size_bytes: int
    sha256: str = Field(description="Of the whole file; the same file imported again creates nothing")
    encoding: str = Field(description='CSV: "utf-8", "utf-8-sig" or "gb18030" (detected); "" for xlsx')
    update_existing: bool
    status: Status = Field(
        description="checking (dry run under way) → checked (report ready; confirm or cancel) → importing → "
        "completed; failed (the file cannot be read: see error) or cancelled"
    )
    percent: int = Field(description="0–100 of the pass under way")
    total_rows: int
    dry_run: ImportCountsOut = Field(description="What the import would do (the report)")
    result: ImportCountsOut = Field(description="What the import did")
    error: str
    actor_id: str
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    checked_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    finished_at: dt.datetime | None
    rejected_rows_url: str | None = Field(
        description="The rejected rows with a reason column (xlsx), once the latest pass has any"
    )


class ImportPage(BaseModel):
    items: list[CustomerImportOut]
    next_page_token: str | None


class ImportProblemOut(BaseModel):
    row: int = Field(description="The row as the spreadsheet numbers it (the header is row 1)")
    column: str = Field(description='The column header as the file has it ("联系人手机"); "" for the row')
    reason: str = Field(description="中文 / English")
    code: str = Field(
        description="invalid, required, unknown_value, inconsistent, duplicate_in_file, duplicate_existing, "
        "hidden_duplicate, not_editable, exists, already_imported, unknown_owner, owner_not_allowed, "
        "customer_cap_reached, ignored_column, updates_existing"
    )
    severity: Literal["error", "notice"] = Field(description="error rejects the row; notice only tells")
    existing_customer_id: str | None = Field(description="The existing customer, only when you may see it")
    existing_customer_name: str | None
    existing_visible: bool = Field(description="For a duplicate of an existing customer: whether you may see it")


class ImportProblemPage(BaseModel):
    items: list[ImportProblemOut]
    next_page_token: str | None


def _stamp(
    message: ipb.CustomerImport, name: Literal["checked_time", "confirm_time", "finish_time"]
) -> dt.datetime | None:
    return shanghai(getattr(message, name)) if message.HasField(name) else None


def _counts(counts: ipb.ImportCounts) -> ImportCountsOut:
    return ImportCountsOut(
        rows=counts.rows,
        customers=counts.customers,
        created=counts.created,
        updated=counts.updated,
        skipped=counts.skipped,
        rejected_rows=counts.rejected_rows,
        problems=counts.problems,
        contacts_added=counts.contacts_added,
    )


def import_out(message: ipb.CustomerImport) -> CustomerImportOut:
    return CustomerImportOut(
        id=message.id,
        file_name=message.file_name,
        format=cast(Format, FORMATS.from_proto(message.format)),
        size_bytes=message.size_bytes,
        sha256=message.sha256,
        encoding=message.encoding,
        update_existing=message.update_existing,
        status=cast(Status, STATUSES.from_proto(message.status)),
        percent=message.percent,
        total_rows=message.total_rows,
        dry_run=_counts(message.dry_run),
        result=_counts(message.result),
        error=message.error,
        actor_id=message.actor_id,
        created_at=shanghai(message.create_time),
        checked_at=_stamp(message, "checked_time"),
        confirmed_at=_stamp(message, "confirm_time"),
        finished_at=_stamp(message, "finish_time"),
        rejected_rows_url=f"{IMPORT_UPLOAD_PATH}/{message.id}/rejected-rows"
        if message.has_rejected_rows_file
        else None,
    )


def _metadata(state: GatewayState, identity: Identity) -> tuple[tuple[str, str], ...]:
    metadata: tuple[tuple[str, str], ...] = state.identity_metadata.for_caller(identity)
    return metadata


def attachment(file_name: str) -> dict[str, str]:
    """Content-Disposition for a Chinese file name (RFC 6266: an ASCII fallback and UTF-8)."""
    fallback = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in file_name)
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"}


def sniff(head: bytes) -> str:
    """ "xlsx" (a zip container), "csv" (text in UTF-8 or GB18030), or "" for anything else."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if not head or b"\x00" in head:
        return ""
    sample = head[: 64 * 1024]
    for encoding in ("utf-8", "gb18030"):
        try:
            # The sample may end inside a character: an incremental decoder keeps a cut tail back.
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return "csv"
    return ""


@router.get(
    "/customer-imports/template",
    summary="Download the import template 下载导入模板",
    description="The tenant's columns with Chinese headers (its custom fields last), an example customer with two "
    "contacts (one row each), and in the xlsx a sheet explaining each column with drop-downs for the choices.",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}, "text/csv": {}}, "description": "The template"}},
)
async def template(state: State, identity: Caller, format: Format = "xlsx") -> Response:
    found = await state.customers.GetCustomerImportTemplate(
        ipb.GetCustomerImportTemplateRequest(format=FORMATS.to_proto(format)),  # type: ignore[arg-type]
        metadata=_metadata(state, identity),
    )
    media = XLSX_TYPE if format == "xlsx" else "text/csv; charset=utf-8"
    return Response(content=found.content, media_type=media, headers=attachment(found.file_name))


async def _spool(request: Request) -> tuple[IO[bytes], int, str]:
    """The request body in a temporary file (the EdgeGuard has capped its size), its size and SHA-256."""
    out = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115  (closed by the caller)
    digest, size = hashlib.sha256(), 0
    async for piece in request.stream():
        out.write(piece)
        digest.update(piece)
        size += len(piece)
    out.seek(0)
    return cast(IO[bytes], out), size, digest.hexdigest()


@router.post(
    IMPORT_UPLOAD_PATH.removeprefix("/api/v1"),
    status_code=202,
    summary="Upload a file to import and start its dry run 上传导入文件（预检）",
    description="The body is the file itself (xlsx, or CSV in UTF-8 with or without BOM or GB18030), sent as it "
    "is, not as a form: e.g. `fetch(url, {method: 'POST', body: file})`. Its type is read from its content: "
    "anything else is 415. Larger than the limit (50 MB by default): 413. Answers at once with the import "
    "`checking`; poll GET /api/v1/customer-imports/{id} until `checked`, read the report "
    "(/problems), then confirm. Admins, bosses and supervisors import into their scope; sales reps into their "
    "own book (the 负责人 column empty or themselves).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload(
    request: Request,
    state: State,
    identity: Caller,
    file_name: Annotated[str, Query(min_length=1, max_length=200, description="e.g. 客户.xlsx")],
    update_existing: Annotated[
        bool, Query(description="Rows matching a customer you may change update it; false: such rows are skipped")
    ] = True,
    request_id: Annotated[str | None, Query(max_length=64, description="A retry with the same id returns it")] = None,
) -> CustomerImportOut:
    if has_control_characters(file_name):
        raise InvalidArgument("file_name", "contains control characters / 含有控制字符")
    source, size, digest = await _spool(request)
    try:
        if size == 0:
            raise InvalidArgument("body", "the file is empty / 文件为空")
        found = sniff(source.read(64 * 1024))
        source.seek(0)
        if not found:
            raise UnsupportedFileType(
                "只能导入 xlsx 或 CSV 文件 / only xlsx or CSV files can be imported", field="body"
            )
        metadata = _metadata(state, identity)
        started = await state.customers.StartCustomerImport(
            ipb.StartCustomerImportRequest(
                request_id=request_id or str(uuid.uuid4()),
                file_name=file_name,
                format=FORMATS.to_proto(found),  # type: ignore[arg-type]
                size_bytes=size,
                update_existing=update_existing,
            ),
            metadata=metadata,
        )
        current = started.customer_import
        if current.status == ipb.IMPORT_STATUS_UPLOADING:
            offset = 0
            while data := source.read(CHUNK):
                await state.customers.AppendCustomerImportChunk(
                    ipb.AppendCustomerImportChunkRequest(import_id=current.id, offset=offset, data=data),
                    metadata=metadata,
                )
                offset += len(data)
            finished = await state.customers.FinishCustomerImportUpload(
                ipb.FinishCustomerImportUploadRequest(import_id=current.id, sha256=digest), metadata=metadata
            )
            current = finished.customer_import
        return import_out(current)
    finally:
        source.close()


@router.get("/customer-imports", summary="Imports, newest first 导入记录")
async def list_imports(
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> ImportPage:
    found = await state.customers.ListCustomerImports(
        ipb.ListCustomerImportsRequest(page_size=page_size, page_token=page_token),
        metadata=_metadata(state, identity),
    )
    return ImportPage(
        items=[import_out(i) for i in found.customer_imports], next_page_token=found.next_page_token or None
    )


@router.get(
    "/customer-imports/{import_id}",
    summary="An import and its progress 导入进度",
    description="Poll while `checking` or `importing`: `percent` and the counts grow batch by batch. The importer "
    "is also told on the notification stream when the dry run or the import ends.",
)
async def get_import(import_id: str, state: State, identity: Caller) -> CustomerImportOut:
    found = await state.customers.GetCustomerImport(
        ipb.GetCustomerImportRequest(id=path_id(import_id, "import_id")), metadata=_metadata(state, identity)
    )
    return import_out(found.customer_import)


@router.get(
    "/customer-imports/{import_id}/problems",
    summary="The report: every row's problems 预检报告",
    description="By row, then column. `pass` defaults to the import's latest pass (the dry run until confirmed).",
)
async def list_problems(
    import_id: str,
    state: State,
    identity: Caller,
    pass_: Annotated[Pass | None, Query(alias="pass")] = None,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 200,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> ImportProblemPage:
    found = await state.customers.ListCustomerImportProblems(
        ipb.ListCustomerImportProblemsRequest(
            import_id=path_id(import_id, "import_id"),
            page_size=page_size,
            page_token=page_token,
            **{"pass": PASSES.to_proto(pass_ or "")},
        ),
        metadata=_metadata(state, identity),
    )
    return ImportProblemPage(
        items=[
            ImportProblemOut(
                row=p.row,
                column=p.column,
                reason=p.reason,
                code=p.code,
                severity=cast(Literal["error", "notice"], p.severity),
                existing_customer_id=p.existing_customer_id or None,
                existing_customer_name=p.existing_customer_name or None,
                existing_visible=p.existing_visible,
            )
            for p in found.problems
        ],
        next_page_token=found.next_page_token or None,
    )


@router.post(
    "/customer-imports/{import_id}/confirm",
    status_code=202,
    summary="Confirm the dry run: import 确认导入",
    description="Only the importer, once the import is `checked`; a job then imports it (poll its progress). "
    "Rows are judged again as they are imported, so what changed since the dry run is taken into account.",
)
async def confirm(import_id: str, state: State, identity: Caller) -> CustomerImportOut:
    confirmed = await state.customers.ConfirmCustomerImport(
        ipb.ConfirmCustomerImportRequest(import_id=path_id(import_id, "import_id")),
        metadata=_metadata(state, identity),
    )
    return import_out(confirmed.customer_import)


@router.post(
    "/customer-imports/{import_id}/cancel",
    summary="Cancel an import before it imports 取消导入",
    description="While uploading, checking or checked; an import under way or finished: 412 import_not_ready.",
)
async def cancel(import_id: str, state: State, identity: Caller) -> CustomerImportOut:
    cancelled = await state.customers.CancelCustomerImport(
        ipb.CancelCustomerImportRequest(import_id=path_id(import_id, "import_id")),
        metadata=_metadata(state, identity),
    )
    return import_out(cancelled.customer_import)


@router.get(
    "/customer-imports/{import_id}/rejected-rows",
    summary="Download the rejected rows with a reason column 下载未通过的行",
    description="An xlsx of the rows the pass did not import: the file's columns, 错误原因 and 原行号. Fix them and "
    "import that file.",
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "The workbook"}},
)
async def rejected_rows(
    import_id: str, state: State, identity: Caller, pass_: Annotated[Pass | None, Query(alias="pass")] = None
) -> StreamingResponse:
    metadata = _metadata(state, identity)
    request = ipb.ReadCustomerImportFileRequest(
        import_id=path_id(import_id, "import_id"), **{"pass": PASSES.to_proto(pass_ or "")}
    )
    # The first piece is read before answering, so a refusal is still a problem+json.
    first = await state.customers.ReadCustomerImportFile(request, metadata=metadata)

    async def pieces() -> AsyncIterator[bytes]:
        page, offset = first, 0
        while page.data:
            yield page.data
            offset += len(page.data)
            if offset >= page.total_bytes:
                return
            request.offset = offset
            page = await state.customers.ReadCustomerImportFile(request, metadata=metadata)

    headers = {**attachment(first.file_name), "Content-Length": str(first.total_bytes)}
    return StreamingResponse(pieces(), media_type=XLSX_TYPE, headers=headers)
