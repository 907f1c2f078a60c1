"""Reading an import file row by row without holding its rows: xlsx through openpyxl's read-only
mode (it parses the sheet's XML as it iterates), CSV through the csv module over a decoding
stream. Cells come out as stripped text (numbers without a spurious ".0", dates as ISO dates).

CSV encodings: a UTF-8 byte-order mark says UTF-8; otherwise the file is UTF-8 if it decodes as
UTF-8 from end to end (text in GB18030 almost never does), else GB18030 (a superset of GBK and
GB2312, which is what Excel on a Chinese Windows saves "CSV" as)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import read_dimension

XLSX_MAGIC = b"PK\x03\x04"
BOM = codecs.BOM_UTF8


class UnreadableFile(Exception):
    """The file is not what it claims or cannot be read at all; the message is for the importer."""


def sniff_format(head: bytes) -> str:
    """ "xlsx" (a zip), "csv" (text), or "" for anything else (images, PDFs, old .xls, binaries)."""
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if not head or b"\x00" in head:
        return ""
    sample = head[: 64 * 1024]
    for encoding in ("utf-8", "gb18030"):
        try:
            # The sample may end inside a character: decode all but a possibly cut tail.
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return "csv"
    return ""


def detect_encoding(source: IO[bytes]) -> str:
    """ "utf-8-sig", "utf-8" or "gb18030" for a CSV file (read through, then rewound)."""
    source.seek(0)
    head = source.read(len(BOM))
    if head == BOM:
        source.seek(0)
        return "utf-8-sig"
    source.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := source.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
        source.seek(0)
        gb = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := source.read(1 << 20):
                gb.decode(chunk)
            gb.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise UnreadableFile("无法识别文件编码，请另存为 UTF-8 或 GB18030 的 CSV / unknown text encoding") from exc
    source.seek(0)
    return encoding


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # A mobile typed into a number cell comes back as 13800138000.0.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return str(value).strip()


def rows(source: IO[bytes], file_format: str, encoding: str = "") -> Iterator[list[str]]:
    """Every row of the file's first sheet as text cells, the header first; row i (from 1) is the
    spreadsheet's row i, blank rows included (as empty lists)."""
    source.seek(0)
    if file_format == "xlsx":
        yield from _xlsx_rows(source)
    else:
        yield from _csv_rows(source, encoding or detect_encoding(source))


def _xlsx_rows(source: IO[bytes]) -> Iterator[list[str]]:
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile("不是有效的 xlsx 文件 / not a readable xlsx workbook") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            cells = [cell_text(v) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            yield cells
    finally:
        workbook.close()


def _csv_rows(source: IO[bytes], encoding: str) -> Iterator[list[str]]:
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    try:
        for record in csv.reader(text):
            cells = [cell.strip() for cell in record]
            while cells and not cells[-1]:
                cells.pop()
            yield cells
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误：{exc} / malformed CSV") from exc
    finally:
        text.detach()


def xlsx_row_estimate(source: IO[bytes]) -> int:
    """Rows the first sheet says it spans (its dimension), for progress; 0 when it does not say.
    Only the workbook part and the sheet's head are read: `load_workbook` would parse the whole
    shared-string table first (every distinct text of the file), a second time beside the pass."""
    source.seek(0)
    try:
        reader = ExcelReader(source, read_only=True)
        reader.read_manifest()
        reader.read_workbook()
        _, rel = next(iter(reader.parser.find_sheets()))
        with reader.archive.open(rel.target) as sheet:
            dimensions = read_dimension(sheet)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, StopIteration):
        return 0
    finally:
        source.seek(0)
    return int(dimensions[3] or 0) if dimensions else 0
