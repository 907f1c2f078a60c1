"""The history file of the order import (导入历史订单): its columns, its template, and reading it
into orders (one row per order line; rows sharing an 外部单号 are one order)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import xlsxwriter

from crmkit.clock import SHANGHAI

# Header → the key the reader uses; the first eight are the file the brief of issue 13 names.
COLUMNS: dict[str, str] = {
    "外部单号": "external_id",
    "客户": "customer",
    "SKU": "sku",
    "数量": "quantity",
    "单价": "unit_price",
    "下单日期": "order_date",
    "送货日期": "delivery_date",
    "状态": "state",
    "付款方式": "payment_mode",
    "送货地址": "delivery_address",
    "备注": "notes",
}
REQUIRED = ("外部单号", "客户", "SKU", "数量", "单价", "下单日期", "送货日期", "状态")
HEADER_OF = {key: header for header, key in COLUMNS.items()}
STATES = {
    "已确认": "confirmed",
    "待付款": "awaiting_payment",
    "待出库": "ready_to_ship",
    "配送中": "dispatched",
    "已签收": "delivered",
    "已完成": "completed",
    "已取消": "cancelled",
}
MODES = {"货到付款": "cod", "欠款交货": "credit"}
MAX_ROWS = 5000
EXAMPLE = [
    [
        "U8-SO-000123",
        "杭州市第一中学食堂",
        "NR-001",
        "12",
        "268.00",
        "2025-03-14",
        "2025-03-15",
        "已完成",
        "货到付款",
        "",
        "",
    ],
    [
        "U8-SO-000123",
        "杭州市第一中学食堂",
        "ZR-002",
        "3.5",
        "32.80",
        "2025-03-14",
        "2025-03-15",
        "已完成",
        "货到付款",
        "",
        "",
    ],
]


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    reason: str


@dataclass
class OrderRows:
    """One order of the file: its first row's order columns and each row's line."""

    external_id: str
    rows: list[int] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, str]] = field(default_factory=list)


def template_xlsx() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("历史订单")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, list(COLUMNS), bold)
    for index, row in enumerate(EXAMPLE, start=1):
        sheet.write_row(index, 0, row)
    sheet.data_validation(1, 7, MAX_ROWS, 7, {"validate": "list", "source": list(STATES)})
    sheet.data_validation(1, 8, MAX_ROWS, 8, {"validate": "list", "source": list(MODES)})
    sheet.set_column(0, len(COLUMNS) - 1, 14)
    notes = book.add_worksheet("说明")
    for index, line in enumerate(
        [
            "每行一个订单明细；外部单号相同的行为同一订单（订单信息以第一行为准）。",
            "客户：客户名称、客户ID或统一社会信用代码。SKU：商品编码。数量、单价：数字（单价两位小数）。",
            "下单日期、送货日期：YYYY-MM-DD。状态：" + "、".join(STATES) + "。付款方式：货到付款（默认）或欠款交货。",
            "同一外部单号再次导入不会重复建单。先预检，确认无误后再导入；每次最多5000行。",
        ]
    ):
        notes.write(index, 0, line)
    book.close()
    return out.getvalue()


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(COLUMNS))
    writer.writerows(EXAMPLE)
    # With a byte-order mark, so Excel shows the Chinese.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.decode(data, encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("not UTF-8 or GB18030")


class UnreadableFile(ValueError):
    """Not a workbook or CSV we can read, whatever its first bytes said."""


def read_rows(source: IO[bytes], kind: str) -> list[list[str]]:
    """Every row of the file's first sheet as text, the header first."""
    # Imported here: openpyxl takes a noticeable share of the gateway's start, for one route.
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return _rows(source, kind)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile, InvalidFileException, csv.Error) as exc:
        raise UnreadableFile(str(exc)[:200]) from exc


def _rows(source: IO[bytes], kind: str) -> list[list[str]]:
    if kind == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(source, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows = [[_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
        return rows
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(_decode(source.read())))]


def group_orders(rows: list[list[str]]) -> tuple[list[OrderRows], list[Problem]]:
    """The file's orders (rows by 外部单号, in order of first appearance) and the problems of the
    columns themselves; a row number is the spreadsheet's (the header is row 1)."""
    if not rows:
        return [], [Problem(row=1, column="", reason="文件没有表头 / the file has no header row")]
    header = [cell.strip() for cell in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return [], [Problem(row=1, column=name, reason="缺少此列 / this column is missing") for name in missing]
    index = {COLUMNS[name]: header.index(name) for name in COLUMNS if name in header}
    orders: dict[str, OrderRows] = {}
    problems: list[Problem] = []
    for number, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        values = {key: (raw[at].strip() if at < len(raw) else "") for key, at in index.items()}
        external_id = values["external_id"]
        if not external_id:
            problems.append(Problem(row=number, column="外部单号", reason="必填 / is required"))
            continue
        order = orders.setdefault(external_id, OrderRows(external_id=external_id))
        if not order.rows:
            order.values = values
        else:
            for key in ("customer", "order_date", "delivery_date", "state", "payment_mode"):
                if values.get(key, "") != order.values.get(key, ""):
                    problems.append(
                        Problem(
                            row=number,
                            column=HEADER_OF[key],
                            reason=f"与第{order.rows[0]}行同一订单的值不同 / "
                            f"differs from row {order.rows[0]} of the same order",
                        )
                    )
        order.rows.append(number)
        order.lines.append({"sku": values["sku"], "quantity": values["quantity"], "unit_price": values["unit_price"]})
    return list(orders.values()), problems


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def business_time(value: str) -> dt.datetime | None:
    """A date (09:00 Asia/Shanghai that day: a business day's order) or a date and time as the
    file gives it, in Shanghai time; None when it is no date."""
    found = _DATE.match(value.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second = found.groups()
    try:
        if hour is None:
            return dt.datetime(int(year), int(month), int(day), 9, 0, tzinfo=SHANGHAI)
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=SHANGHAI)
    except ValueError:
        return None


def plain_number(value: str) -> str:
    """A number as the service takes it ("12", "268.00"); Excel's 12.0 becomes "12"."""
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        return value
    return format(number.normalize(), "f") if number == number.to_integral() else value.replace(",", "")
