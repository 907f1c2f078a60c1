"""The downloadable import template: the tenant's columns (ours, then its custom fields) with
Chinese headers, an example customer with two contacts, a licence and a closure (two rows), and —
in the xlsx — a sheet explaining every column and its allowed values, and drop-downs on the choice
columns (the tenant's customer types and licence kinds among them)."""

from __future__ import annotations

import csv
import io

import xlsxwriter

from crm_customer.imports.sections import (
    CLOSURE_REASON_WORDS,
    CUSTOMER_COLUMNS,
    ROLE_WORDS,
    SECTIONS,
    SOURCE_WORDS,
    TIER_WORDS,
    Column,
)
from crm_customer.tenant_settings.custom_fields import FieldDefinition

CHOICES = {
    "tier": list(TIER_WORDS),
    "lifecycle_stage": ["线索", "意向", "已签约", "沉睡", "流失"],
    "source": list(SOURCE_WORDS),
    "contact_role": list(ROLE_WORDS),
    "contact_primary": ["是", "否"],
    "closure_reason": list(CLOSURE_REASON_WORDS),
}
SECOND_CONTACT = {
    "contact_name": "李梅",
    "contact_mobile": "13900139000",
    "contact_title": "采购",
    "contact_role": "采购",
    "closure_start": "2027-07-10",
    "closure_end": "2027-08-31",
    "closure_reason": "暑假",
}
ROWS_WITH_CHOICES = 5000


def template_columns(definitions: list[FieldDefinition]) -> list[tuple[str, str, str, str]]:
    """(key, header, note, example) of every column, custom fields last."""
    columns: list[Column] = [*CUSTOMER_COLUMNS, *(c for s in SECTIONS for c in s.columns)]
    found = [(c.key, c.header + ("*" if c.required else ""), c.note, c.example) for c in columns]
    for definition in definitions:
        note = {"text": "文本", "number": "数字", "date": "日期 YYYY-MM-DD", "boolean": "是 或 否"}.get(
            definition.type, "、".join(definition.options)
        )
        header = definition.label + ("*" if definition.required else "")
        found.append((f"custom:{definition.key}", header, f"自定义字段：{note}", ""))
    return found


def template_rows(definitions: list[FieldDefinition]) -> tuple[list[str], list[list[str]]]:
    columns = template_columns(definitions)
    first = [example for _, _, _, example in columns]
    second = [SECOND_CONTACT.get(key, "") for key, _, _, _ in columns]
    # The second row continues the customer above: its name again, the rest of its columns empty.
    second[0] = first[0]
    return [header for _, header, _, _ in columns], [first, second]


def xlsx_template(
    definitions: list[FieldDefinition],
    customer_types: list[str],
    product_lines: list[str],
    licence_kinds: list[str] | None = None,
) -> bytes:
    columns = template_columns(definitions)
    headers, examples = template_rows(definitions)
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("客户")
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    sheet.write_row(0, 0, headers, head)
    for index, values in enumerate(examples, start=1):
        for column, value in enumerate(values):
            sheet.write_string(index, column, value, text)
    sheet.freeze_panes(1, 1)
    lists = {**CHOICES, "type": customer_types, "product_lines": product_lines, "licence_kind": licence_kinds or []}
    for column, (key, header, _, _) in enumerate(columns):
        sheet.set_column(column, column, max(10, len(header) * 2 + 2), text)
        choices = lists.get(key)
        if choices and key != "product_lines" and len(",".join(choices)) < 250:
            sheet.data_validation(
                1, column, ROWS_WITH_CHOICES, column, {"validate": "list", "source": choices, "ignore_blank": True}
            )
    notes = workbook.add_worksheet("说明")
    notes.write_row(0, 0, ["列", "说明", "可选值"], head)
    for row, (key, header, note, _) in enumerate(columns, start=1):
        notes.write_row(row, 0, [header, note, "、".join(lists.get(key, []))])
    tail = len(columns) + 2
    notes.write(tail, 0, "一个客户多个联系人：每个联系人一行，同一客户的行须相邻，后续行填写相同的客户名称（或留空）。")
    notes.write(tail + 1, 0, "证照、停工同理：每份证照、每段停工占一行（可与联系人同一行），写在该客户的行中。")
    notes.write(
        tail + 2, 0, "带 * 的列必填。已有客户（统一社会信用代码相同，或未填代码而名称相同）按导入选项更新或跳过。"
    )
    notes.set_column(0, 0, 18)
    notes.set_column(1, 2, 50)
    workbook.close()
    return out.getvalue()


def csv_template(definitions: list[FieldDefinition]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese headers correctly."""
    headers, examples = template_rows(definitions)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(examples)
    return "\ufeff".encode() + out.getvalue().encode()
