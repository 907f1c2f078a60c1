"""The history order file (导入历史订单): its template reads back as one order of two lines, rows
group by 外部单号, a row's problem names its row and column, CSV in GB18030 reads, and an item's
field from the order service maps back to the row and column of the file."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from crm_gateway.order_imports import sheet
from crm_gateway.order_imports.router import _problem_of, chinese_first
from crmkit.clock import SHANGHAI


def test_the_xlsx_template_reads_back_as_one_order_of_two_lines() -> None:
    rows = sheet.read_rows(io.BytesIO(sheet.template_xlsx()), "xlsx")
    orders, problems = sheet.group_orders(rows)

    assert problems == []
    assert [(o.external_id, o.rows, [line["sku"] for line in o.lines]) for o in orders] == [
        ("U8-SO-000123", [2, 3], ["NR-001", "ZR-002"])
    ]
    assert orders[0].values["state"] == "已完成"


def test_a_gb18030_csv_reads_and_its_rows_group_by_external_id() -> None:
    text = "\r\n".join(
        [
            "外部单号,客户,SKU,数量,单价,下单日期,送货日期,状态",
            "A1,第一中学食堂,NR-001,2,10.00,2025-01-02,2025-01-03,已完成",
            "A2,第二中学食堂,NR-001,1,10.00,2025-01-02,2025-01-03,已签收",
            "A1,第一中学食堂,NR-002,5,3.50,2025-01-02,2025-01-03,已完成",
        ]
    )
    orders, problems = sheet.group_orders(sheet.read_rows(io.BytesIO(text.encode("gb18030")), "csv"))

    assert problems == []
    assert [(o.external_id, o.rows, o.values["customer"]) for o in orders] == [
        ("A1", [2, 4], "第一中学食堂"),
        ("A2", [3], "第二中学食堂"),
    ]


def test_a_missing_column_or_an_order_whose_rows_disagree_is_a_problem_of_its_row_and_column() -> None:
    missing = sheet.group_orders([["外部单号", "客户", "SKU", "数量", "单价", "下单日期", "状态"]])[1]
    rows = [
        list(sheet.COLUMNS)[:8],
        ["A1", "第一中学食堂", "NR-001", "2", "10.00", "2025-01-02", "2025-01-03", "已完成"],
        ["A1", "第一中学食堂", "NR-002", "1", "10.00", "2025-01-09", "2025-01-03", "已完成"],
        ["", "第一中学食堂", "NR-002", "1", "10.00", "2025-01-09", "2025-01-03", "已完成"],
    ]
    disagreeing = sheet.group_orders(rows)[1]

    assert [(p.row, p.column) for p in missing] == [(1, "送货日期")]
    assert [(p.row, p.column) for p in disagreeing] == [(3, "下单日期"), (4, "外部单号")]
    assert all("/" in p.reason for p in disagreeing)


def test_a_date_is_nine_in_the_morning_in_shanghai_and_a_time_is_kept() -> None:
    assert sheet.business_time("2025-03-14") == dt.datetime(2025, 3, 14, 9, 0, tzinfo=SHANGHAI)
    assert sheet.business_time("2025/3/14 17:05") == dt.datetime(2025, 3, 14, 17, 5, tzinfo=SHANGHAI)
    assert sheet.business_time("2025-02-30") is None
    assert sheet.business_time("昨天") is None
    assert (sheet.plain_number("12.0"), sheet.plain_number("268.00"), sheet.plain_number("1,200")) == (
        "12",
        "268",
        "1200",
    )


def test_an_item_field_from_the_order_service_names_the_row_and_column_of_the_file() -> None:
    order = sheet.OrderRows(external_id="A1", rows=[2, 4, 7])

    quantity = _problem_of(order, "orders[3].lines[2].quantity", "must be more than 0 / 须大于0")
    customer = _problem_of(order, "orders[3].customer_id", "customer c1 not found / 客户未找到")

    assert (quantity.row, quantity.column, quantity.reason) == (7, "数量", "须大于0 / must be more than 0")
    assert (customer.row, customer.column) == (2, "客户")
    assert chinese_first("送货日期早于下单日期 / is before") == "送货日期早于下单日期 / is before"


def test_a_zip_that_is_no_workbook_is_unreadable_not_a_server_error() -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    packed.seek(0)

    with pytest.raises(sheet.UnreadableFile):
        sheet.read_rows(packed, "xlsx")
