"""GET /api/v1/exports/customers: the caller's filtered customer list with its contacts as xlsx or
CSV, one row per contact (a customer without contacts has one row), in the import template's
columns so an export can be edited and imported again.

The customer service pages through the list with its keyset (ExportCustomers, the list's
filters and data scope); the gateway applies the caller's role view to every customer (masked
stays masked: service and finance get 138****8000 and no WeChat id) and streams: CSV as it is
written (UTF-8 with a byte-order mark, so Excel shows the Chinese), xlsx through xlsxwriter in
constant-memory mode into a temporary file that is then sent (an xlsx is a zip, whose directory
is written last). Every export is audited: who exported which filter, in which format, and how
many rows went out."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Annotated, Any, Literal

import anyio
import xlsxwriter
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from google.protobuf.struct_pb2 import Value
from sqlalchemy import update

from crm.customer.v1 import customer_pb2 as pb
from crm_gateway.customers.router import SORTS, Sort
from crm_gateway.customers.schemas import Stage, stage_value
from crm_gateway.customers.views import shown_value
from crm_gateway.directory.models import AuditEntry
from crm_gateway.directory.service import audit
from crm_gateway.imports.router import XLSX_TYPE, attachment
from crm_gateway.web import Caller, GatewayState, State
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["imports"])
EXPORT_PAGE = 1000
SEARCH_PAGE = 200
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TIERS = {"vip": "VIP", "key": "重点", "normal": "一般"}
STAGES = {"lead": "线索", "prospect": "意向", "signed": "已签约", "dormant": "沉睡", "lost": "流失"}
SOURCES = {"trade_show": "展会", "online": "网络推广", "referral": "客户推荐", "phone": "电话", "other": "其他"}
ROLES = {"decision_maker": "决策人", "purchaser": "采购", "user": "使用人", "payer": "付款人"}
COLUMNS = [
    "客户名称", "简称", "客户类型", "统一社会信用代码", "省", "市", "区", "详细地址", "客户等级", "生命周期",
    "产品线", "客户来源", "标签", "负责人", "合同开始日期", "合同结束日期",
    "联系人姓名", "联系人手机", "联系人职务", "联系人微信", "联系人邮箱", "决策角色", "主要联系人",
]  # fmt: skip
TRAILING = ["客户编号", "创建时间"]


def customer_rows(
    identity: Identity, customer: pb.Customer, owner_names: dict[str, str], custom_keys: list[str]
) -> Iterable[list[str]]:
    """One row per contact, every row carrying the customer's columns; personal details as the
    caller's role sees them (`customers.views.shown_value`, the one policy table)."""
    address = customer.addresses[0] if customer.addresses else None
    stage = pb.LifecycleStage.Name(customer.lifecycle_stage).removeprefix("LIFECYCLE_STAGE_").lower()
    own = [
        customer.name,
        customer.short_name,
        customer.type,
        customer.credit_code,
        address.province if address else "",
        address.city if address else "",
        address.district if address else "",
        address.detail if address else "",
        TIERS.get(customer.tier or "normal", customer.tier),
        STAGES.get(stage, stage),
        "、".join(customer.product_lines),
        SOURCES.get(customer.source, ""),
        "、".join(customer.tags),
        owner_names.get(customer.owner_id, ""),
        customer.contract_start,
        customer.contract_end,
    ]
    created = customer.create_time.ToDatetime(tzinfo=dt.UTC).astimezone(SHANGHAI)
    tail = [customer.id, created.strftime("%Y-%m-%d %H:%M")]
    fields = customer.custom_fields.fields
    custom = [_custom_text(fields[key]) if key in fields else "" for key in custom_keys]
    if not customer.contacts:
        yield [*own, *[""] * 7, *custom, *tail]
    for contact in customer.contacts:
        people = [
            contact.name,
            shown_value(identity, "contacts.mobile", contact.mobile) or "",
            contact.title,
            shown_value(identity, "contacts.wechat_id", contact.wechat_id) or "",
            shown_value(identity, "contacts.email", contact.email) or "",
            ROLES.get(pb.DecisionRole.Name(contact.decision_role).removeprefix("DECISION_ROLE_").lower(), ""),
            "是" if contact.primary else "",
        ]
        yield [*own, *people, *custom, *tail]


def _custom_text(value: Value) -> str:
    kind = value.WhichOneof("kind")
    if kind == "bool_value":
        return "是" if value.bool_value else "否"
    if kind == "number_value":
        number = value.number_value
        return str(int(number)) if number.is_integer() else str(number)
    if kind == "string_value":
        return value.string_value
    return ""


class Export:
    """The pages of one export, each rendered as rows for the caller while the customer service
    reads the next, counting rows and customers as they go."""

    def __init__(self, state: GatewayState, identity: Identity, fetch: Callable[[str], Awaitable[Any]]) -> None:
        self.state, self.identity, self.fetch = state, identity, fetch
        self.rows = 0
        self.customers = 0

    async def pages(self, first: Any, custom_keys: list[str]) -> AsyncIterator[list[list[str]]]:
        page = first
        while True:
            token = page.next_page_token
            following = asyncio.ensure_future(self.fetch(token)) if token else None
            try:
                customers = list(page.customers)
                names = await self.state.display_names.lookup(
                    tenant_id=self.identity.tenant_id, user_ids={c.owner_id for c in customers} - {""}
                )
                rows = [r for c in customers for r in customer_rows(self.identity, c, names, custom_keys)]
                self.customers += len(customers)
                self.rows += len(rows)
                yield rows
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            if following is None:
                return
            page = await following


@router.get(
    "/exports/customers",
    summary="Export the customer list with contacts 导出客户",
    description="The customers GET /api/v1/customers would list with the same filters (and `q`: a search, its first "
    "1,000 matches), with their contacts, one row per contact, in the import template's columns plus your custom "
    "fields, 客户编号 and 创建时间. Your role view holds: roles that see mobiles masked get them masked. xlsx "
    "or CSV (UTF-8 with BOM). Audited.",
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX_TYPE: {}, "text/csv": {}}, "description": "The file"}},
)
async def export_customers(
    state: State,
    identity: Caller,
    format: Literal["xlsx", "csv"] = "xlsx",
    q: Annotated[str | None, Query(max_length=64, description="名称、拼音、拼音首字母、手机号或信用代码")] = None,
    sort: Sort = "-created_at",
    lifecycle_stage: Stage | None = None,
    type: Annotated[str | None, Query(max_length=30)] = None,
    owner_id: Annotated[str | None, Query(max_length=36)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=36)] = None,
    tag: Annotated[str | None, Query(max_length=20)] = None,
    include_archived: bool = False,
) -> StreamingResponse:
    metadata = state.identity_metadata.for_caller(identity)
    narrowing = pb.CustomerFilter(
        lifecycle_stage=stage_value(lifecycle_stage) if lifecycle_stage else pb.LIFECYCLE_STAGE_UNSPECIFIED,
        type=type or "",
        owner_id=owner_id or "",
        org_unit_id=org_unit_id or "",
        tag=tag or "",
    )

    async def fetch(token: str) -> Any:
        if q is not None and q.strip():
            return await state.customers.SearchCustomers(
                pb.SearchCustomersRequest(query=q, page_size=SEARCH_PAGE, page_token=token, filter=narrowing),
                metadata=metadata,
            )
        return await state.customers.ExportCustomers(
            pb.ExportCustomersRequest(
                list=pb.ListCustomersRequest(
                    page_size=EXPORT_PAGE,
                    page_token=token,
                    lifecycle_stage=narrowing.lifecycle_stage,
                    type=narrowing.type,
                    owner_id=narrowing.owner_id,
                    org_unit_id=narrowing.org_unit_id,
                    tag=narrowing.tag,
                    include_archived=include_archived,
                    order_by=SORTS[sort],
                )
            ),
            metadata=metadata,
        )

    # The first page is read before answering: a refused filter is still a problem+json.
    first = await fetch("")
    definitions = await state.customers.ListCustomFieldDefinitions(
        pb.ListCustomFieldDefinitionsRequest(), metadata=metadata
    )
    custom_keys = [d.key for d in definitions.definitions]
    headers = [*COLUMNS, *(d.label for d in definitions.definitions), *TRAILING]
    filters = {
        key: value
        for key, value in {
            "q": q,
            "sort": sort,
            "lifecycle_stage": lifecycle_stage,
            "type": type,
            "owner_id": owner_id,
            "org_unit_id": org_unit_id,
            "tag": tag,
            "include_archived": include_archived or None,
        }.items()
        if value
    }
    audit_id = await _audit_start(state, identity, format, filters)
    export = Export(state, identity, fetch)
    stamp = dt.datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")

    async def finish(completed: bool) -> None:
        detail = {"format": format, "filter": filters, "rows": export.rows, "customers": export.customers}
        await _audit_finish(state, audit_id, {**detail, "completed": completed})

    if format == "csv":
        body = _csv(export, first, headers, custom_keys, finish)
        media = "text/csv; charset=utf-8"
    else:
        body = _xlsx(export, first, headers, custom_keys, finish)
        media = XLSX_TYPE
    return StreamingResponse(body, media_type=media, headers=attachment(f"客户导出-{stamp}.{format}"))


async def _csv(
    export: Export, first: Any, headers: list[str], custom_keys: list[str], finish: Callable[[bool], Awaitable[None]]
) -> AsyncIterator[bytes]:
    completed = False
    try:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        yield b"\xef\xbb\xbf" + out.getvalue().encode()
        async for rows in export.pages(first, custom_keys):
            out.seek(0)
            out.truncate()
            writer.writerows(rows)
            yield out.getvalue().encode()
        completed = True
    finally:
        await finish(completed)


async def _xlsx(
    export: Export, first: Any, headers: list[str], custom_keys: list[str], finish: Callable[[bool], Awaitable[None]]
) -> AsyncIterator[bytes]:
    completed = False
    try:
        with tempfile.TemporaryFile(prefix="keyuan-export-") as out:
            workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
            sheet = workbook.add_worksheet("客户")
            sheet.write_row(0, 0, headers, workbook.add_format({"bold": True}))
            sheet.freeze_panes(1, 1)
            number = 0
            async for rows in export.pages(first, custom_keys):
                for values in rows:
                    number += 1
                    for column, value in enumerate(values):
                        # As text: a credit code or a mobile must not become a number.
                        if value:
                            sheet.write_string(number, column, value)
            workbook.close()
            out.seek(0)
            while piece := out.read(1 << 20):
                yield piece
        completed = True
    finally:
        await finish(completed)


async def _audit_start(state: GatewayState, identity: Identity, file_format: str, filters: dict[str, Any]) -> str:
    """The audit entry is written before any customer leaves; its detail gets the count at the end."""
    now = state.now()
    async with state.sessions() as session, session.begin():
        entry = audit(
            session,
            identity,
            "customers.export",
            "",
            json.dumps({"format": file_format, "filter": filters, "rows": None}, ensure_ascii=False),
            now,
        )
    return entry


async def _audit_finish(state: GatewayState, audit_id: str, detail: dict[str, Any]) -> None:
    # Also when the client went away mid-stream: the stream's task is being cancelled then, and
    # the count must still be written.
    with anyio.CancelScope(shield=True):
        await _write_audit(state, audit_id, detail)


async def _write_audit(state: GatewayState, audit_id: str, detail: dict[str, Any]) -> None:
    async with state.sessions() as session, session.begin():
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == audit_id)
            .values(detail=json.dumps(detail, ensure_ascii=False)[:500])
        )
