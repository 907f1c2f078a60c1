"""The rejected rows of a pass as an xlsx workbook: the file's own columns, the row number it had
and a reason column, so the importer can fix the rows and import this file. Written with
xlsxwriter in constant-memory mode (a row at a time to a temporary file) from the rejected rows
read a page at a time, then stored beside the upload (imports.storage)."""

from __future__ import annotations

import tempfile

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.imports import storage
from crm_customer.imports.models import CustomerImport, RejectedRow

PAGE = 2000
REASON = "错误原因"
ROW = "原行号"


def rejects_file_name(file_name: str, pass_: str) -> str:
    stem = file_name.rsplit(".", 1)[0] or "客户导入"
    return f"{stem}-{'预检' if pass_ == 'dry_run' else '导入'}未通过的行.xlsx"


async def write_rejects(session: AsyncSession, row: CustomerImport, pass_: str) -> int:
    """Store the workbook of the pass's rejected rows (none stored when no row was rejected);
    how many rows it holds."""
    kind = storage.rejects_kind(pass_)
    written = 0
    with tempfile.TemporaryFile(prefix="keyuan-rejects-") as out:
        workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
        sheet = workbook.add_worksheet("未导入的行")
        bold = workbook.add_format({"bold": True})
        headers = list(row.headers or [])
        sheet.write_row(0, 0, [*headers, REASON, ROW], bold)
        sheet.set_column(len(headers), len(headers), 60)
        after = 0
        while True:
            page = (
                await session.execute(
                    select(RejectedRow.row_number, RejectedRow.cells, RejectedRow.reason)
                    .where(RejectedRow.import_id == row.id, RejectedRow.pass_ == pass_, RejectedRow.row_number > after)
                    .order_by(RejectedRow.row_number)
                    .limit(PAGE)
                )
            ).all()
            if not page:
                break
            for number, cells, reason in page:
                written += 1
                padded = [*cells[: len(headers)], *[""] * (len(headers) - len(cells))]
                # As text: a credit code or mobile must come back exactly as it was.
                for column, value in enumerate(padded):
                    sheet.write_string(written, column, str(value))
                sheet.write_string(written, len(headers), reason)
                sheet.write_number(written, len(headers) + 1, number)
            after = page[-1][0]
        workbook.close()
        if not written:
            await storage.discard(session, row.id, kind)
            return 0
        out.seek(0)
        await storage.store(session, row.id, kind, out)
    return written
