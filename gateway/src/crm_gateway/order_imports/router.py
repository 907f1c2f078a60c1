"""/api/v1/order-imports: an admin's file of historical orders (xlsx, or CSV in UTF-8 or GB18030;
one row per order line) checked in a dry run, then imported through the order service's
ImportOrders in batches of 500 — synchronously, as a file holds at most 5,000 rows. A row's
problem names its row, its column and the reason in Chinese; importing a file again creates
nothing twice (the 外部单号 is the key, under the console's source)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

import grpc
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from crm.customer.v1 import customer_pb2 as cpb
from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import partner_orders_pb2 as ppb
from crm.order.v1.partner_orders_pb2_grpc import PartnerOrderServiceStub
from crm_gateway.imports.router import XLSX_TYPE, UnsupportedFileType, _spool, attachment, sniff
from crm_gateway.inputs import has_control_characters
from crm_gateway.order_imports import sheet
from crm_gateway.web import Caller, GatewayState, State
from crmkit.errors import InvalidArgument
from crmkit.events import timestamp_of
from crmkit.identity import Identity, Role

router = APIRouter(prefix="/api/v1", tags=["order-imports"])
ORDER_IMPORT_PATH = "/api/v1/order-imports"
BATCH = 500
IMPORTERS = (Role.ADMIN, Role.BOSS)
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
OUTCOMES = {
    ppb.IMPORT_OUTCOME_CREATED: "created",
    ppb.IMPORT_OUTCOME_ALREADY_IMPORTED: "already_imported",
    ppb.IMPORT_OUTCOME_FAILED: "failed",
}
# The last part of an item's field (orders[3].lines[0].quantity) → the file's column.
FIELD_COLUMNS = {
    "external_id": "外部单号",
    "customer_id": "客户",
    "product_id": "SKU",
    "sku": "SKU",
    "quantity": "数量",
    "unit_price": "单价",
    "order_time": "下单日期",
    "delivery_date": "送货日期",
    "state": "状态",
    "payment_mode": "付款方式",
    "delivery_address": "送货地址",
    "notes": "备注",
    "cancel_reason": "备注",
    "lines": "SKU",
}
_ITEM_FIELD = re.compile(r"^orders\[(\d+)\](?:\.lines\[(\d+)\])?\.?(.*)$")


class RowProblemOut(BaseModel):
    row: int = Field(description="The row as the spreadsheet numbers it (the header is row 1)")
    column: str = Field(description='The column header ("数量"); "" for the whole row')
    reason: str = Field(description="中文 / English")


class ImportedOrderOut(BaseModel):
    external_id: str
    outcome: Literal["created", "already_imported", "failed"] = Field(
        description="In a dry run, created means: would be created"
    )
    order_id: str | None
    rows: list[int]
    warnings: list[str] = Field(
        description="What the checks of new orders found, recorded on the order (中文 / English)"
    )


class OrderImportOut(BaseModel):
    dry_run: bool
    rows: int = Field(description="Data rows read (the header not counted)")
    orders: int = Field(description="Orders in those rows (rows sharing an 外部单号 are one order)")
    created: int
    already_imported: int
    failed: int
    problems: list[RowProblemOut]
    items: list[ImportedOrderOut]


def chinese_first(message: str) -> str:
    """Service reasons read "English / 中文": the console shows "中文 / English"."""
    parts = message.split(" / ", 1)
    if len(parts) == 2 and parts[0].isascii() and not parts[1].isascii():
        return f"{parts[1]} / {parts[0]}"
    return message


@router.get(
    "/order-imports/template",
    summary="Download the history order template 下载历史订单导入模板",
    description="外部单号, 客户, SKU, 数量, 单价, 下单日期, 送货日期, 状态 (and optional 付款方式, 送货地址, 备注), "
    "with two example rows of one order; the xlsx has drop-downs for 状态 and 付款方式 and a sheet of notes.",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}, "text/csv": {}}, "description": "The template"}},
)
async def template(identity: Caller, format: Literal["xlsx", "csv"] = "xlsx") -> Response:
    identity.require_role(*IMPORTERS)
    if format == "csv":
        return Response(
            sheet.template_csv(), media_type="text/csv; charset=utf-8", headers=attachment("历史订单导入模板.csv")
        )
    return Response(sheet.template_xlsx(), media_type=XLSX_TYPE, headers=attachment("历史订单导入模板.xlsx"))


async def _customer_ids(
    state: GatewayState, identity: Identity, names: set[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each 客户 value as a customer id (an id as it is; a credit code or an exact name through
    the customer service's search, in the caller's scope), and the reason for those not found."""
    found: dict[str, str] = {}
    problems: dict[str, str] = {}
    metadata = state.identity_metadata.for_caller(identity)
    for value in sorted(names):
        if UUID.match(value):
            found[value] = value
            continue
        try:
            reply = await state.customers.SearchCustomers(
                cpb.SearchCustomersRequest(query=value[:100], page_size=20), metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            # A value the search cannot take (too short, odd characters) names no customer.
            problems[value] = "客户未找到 / customer not found"
            continue
        if CREDIT_CODE.match(value.upper()):
            matches = [c.id for c in reply.customers if c.credit_code.upper() == value.upper()]
        else:
            matches = [c.id for c in reply.customers if c.name == value]
        if len(matches) == 1:
            found[value] = matches[0]
        elif matches:
            problems[value] = (
                "有多个同名客户，请填写客户ID或信用代码 / several customers have this name: give the id or credit code"
            )
        else:
            problems[value] = "客户未找到 / customer not found"
    return found, problems


def _item(
    order: sheet.OrderRows, customer_id: str, now: dt.datetime
) -> tuple[ppb.ImportedOrder | None, list[sheet.Problem]]:
    first = order.rows[0]
    problems: list[sheet.Problem] = []
    values = order.values
    ordered = sheet.business_time(values.get("order_date", ""))
    if ordered is None:
        problems.append(sheet.Problem(first, "下单日期", "须为日期，如2025-03-14 / must be a date like 2025-03-14"))
    delivery = sheet.business_time(values.get("delivery_date", ""))
    if delivery is None:
        problems.append(sheet.Problem(first, "送货日期", "须为日期，如2025-03-15 / must be a date like 2025-03-15"))
    state_text = values.get("state", "")
    state = sheet.STATES.get(state_text, state_text if state_text in sheet.STATES.values() else "")
    if not state:
        problems.append(sheet.Problem(first, "状态", "须为" + "、".join(sheet.STATES) + " / unknown state"))
    mode_text = values.get("payment_mode", "") or "货到付款"
    mode = sheet.MODES.get(mode_text, mode_text if mode_text in sheet.MODES.values() else "")
    if not mode:
        problems.append(sheet.Problem(first, "付款方式", "须为货到付款或欠款交货 / must be 货到付款 or 欠款交货"))
    if problems or ordered is None or delivery is None:
        return None, problems
    item = ppb.ImportedOrder(
        external_id=order.external_id,
        customer_id=customer_id,
        payment_mode=pb.PaymentMode.Value(f"PAYMENT_MODE_{mode.upper()}"),
        state=pb.OrderState.Value(f"ORDER_STATE_{state.upper()}"),
        lines=[
            ppb.ImportedOrderLine(
                sku=line["sku"],
                quantity=sheet.plain_number(line["quantity"]),
                unit_price=sheet.plain_number(line["unit_price"]),
            )
            for line in order.lines
        ],
        # A date without a time is 09:00 that day; today's, before 09:00, is now.
        order_time=timestamp_of(min(ordered, now)),
        delivery_date=delivery.date().isoformat(),
        delivery_address=values.get("delivery_address", ""),
        notes=values.get("notes", "") if state != "cancelled" else "",
        cancel_reason=values.get("notes", "") or "导入的已取消订单" if state == "cancelled" else "",
    )
    return item, []


def _problem_of(order: sheet.OrderRows, field: str, message: str) -> sheet.Problem:
    found = _ITEM_FIELD.match(field)
    line = found.group(2) if found else None
    tail = (found.group(3) if found else field).rsplit(".", 1)[-1]
    row = order.rows[int(line)] if line is not None and int(line) < len(order.rows) else order.rows[0]
    return sheet.Problem(row=row, column=FIELD_COLUMNS.get(tail, ""), reason=chinese_first(message))


@router.post(
    ORDER_IMPORT_PATH.removeprefix("/api/v1"),
    summary="Import historical orders from a file 导入历史订单",
    description="The body is the file itself (xlsx, or CSV in UTF-8 with or without BOM or GB18030), not a form. "
    "One row per order line; rows with the same 外部单号 are one order. `dry_run=true` (the default) checks and "
    "reports each row's problems (row, column, reason) and writes nothing; `dry_run=false` imports the orders "
    "without problems (the others are reported). At most 5,000 rows, handled synchronously. Orders keep their "
    "dates (下单日期 is the order's time) and state; the same 外部单号 imported again creates nothing. Admins and "
    "bosses only.",
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
async def import_orders(
    request: Request,
    state: State,
    identity: Caller,
    file_name: Annotated[str, Query(min_length=1, max_length=200, description="e.g. 历史订单.xlsx")],
    dry_run: Annotated[bool, Query(description="Check only, write nothing")] = True,
) -> OrderImportOut:
    identity.require_role(*IMPORTERS)
    if has_control_characters(file_name):
        raise InvalidArgument("file_name", "contains control characters / 含有控制字符")
    source, size, _ = await _spool(request)
    try:
        if size == 0:
            raise InvalidArgument("body", "the file is empty / 文件为空")
        kind = sniff(source.read(64 * 1024))
        source.seek(0)
        if not kind:
            raise UnsupportedFileType(
                "只能导入 xlsx 或 CSV 文件 / only xlsx or CSV files can be imported", field="body"
            )
        try:
            rows = sheet.read_rows(source, kind)
        except sheet.UnreadableFile as exc:
            raise InvalidArgument("body", "the file cannot be read / 文件无法读取") from exc
    finally:
        source.close()
    data_rows = sum(1 for row in rows[1:] if any(cell for cell in row))
    if data_rows > sheet.MAX_ROWS:
        raise InvalidArgument("body", f"at most {sheet.MAX_ROWS} rows per file / 每个文件最多{sheet.MAX_ROWS}行")
    every_order, problems = sheet.group_orders(rows)
    bad_rows = {p.row for p in problems}
    orders = [o for o in every_order if not bad_rows.intersection(o.rows)]
    customers, unknown = await _customer_ids(
        state, identity, {o.values.get("customer", "") for o in orders if o.values.get("customer")}
    )
    sendable: list[tuple[sheet.OrderRows, ppb.ImportedOrder]] = []
    items: list[ImportedOrderOut] = []
    for order in orders:
        name = order.values.get("customer", "")
        if not name or name in unknown:
            problems.append(sheet.Problem(order.rows[0], "客户", unknown.get(name, "必填 / is required")))
            continue
        item, item_problems = _item(order, customers[name], state.now())
        problems += item_problems
        if item is not None:
            sendable.append((order, item))
    stub = state.stub(PartnerOrderServiceStub, "order")
    metadata = state.identity_metadata.for_caller(identity)
    counts = {"created": 0, "already_imported": 0, "failed": 0}
    for start in range(0, len(sendable), BATCH):
        batch = sendable[start : start + BATCH]
        reply = await stub.ImportOrders(
            ppb.ImportOrdersRequest(orders=[item for _, item in batch], dry_run=dry_run), metadata=metadata
        )
        for (order, _), result in zip(batch, reply.results, strict=True):
            outcome = OUTCOMES[result.outcome]
            counts[outcome] += 1
            problems += [_problem_of(order, error.field, error.message) for error in result.errors]
            items.append(
                ImportedOrderOut(
                    external_id=order.external_id,
                    outcome=outcome,
                    order_id=result.order_id or None,
                    rows=order.rows,
                    warnings=[w.message for w in result.warnings],
                )
            )
    problems.sort(key=lambda p: (p.row, p.column))
    return OrderImportOut(
        dry_run=dry_run,
        rows=data_rows,
        orders=len(every_order),
        created=counts["created"],
        already_imported=counts["already_imported"],
        failed=len(every_order) - counts["created"] - counts["already_imported"],
        problems=[RowProblemOut(row=p.row, column=p.column, reason=p.reason) for p in problems],
        items=items,
    )
