"""Import requests validated at the gRPC edge."""

from __future__ import annotations

import re

from crm.customer.v1 import imports_pb2 as ipb
from crm_customer.imports import storage
from crm_customer.imports.models import FORMATS, PASSES
from crm_customer.imports.service import MAX_FILE_BYTES, ImportInput
from crmkit.errors import InvalidArgument
from crmkit.validate import text

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def import_input(request: ipb.StartCustomerImportRequest) -> ImportInput:
    file_name = text(request.file_name, "file_name", max_len=200, required=True)
    file_format = FORMATS.parse(request.format, "format", unknown="xlsx or csv / 仅支持 xlsx 或 CSV")
    if not 0 < request.size_bytes <= MAX_FILE_BYTES:
        raise InvalidArgument(
            "size_bytes", f"between 1 byte and {MAX_FILE_BYTES >> 20} MiB / 文件须小于{MAX_FILE_BYTES >> 20} MB"
        )
    return ImportInput(
        file_name=file_name, format=file_format, size_bytes=request.size_bytes, update_existing=request.update_existing
    )


def chunk(request: ipb.AppendCustomerImportChunkRequest) -> tuple[int, bytes]:
    if request.offset < 0:
        raise InvalidArgument("offset", "cannot be negative / 不能为负")
    if not request.data or len(request.data) > storage.CHUNK:
        raise InvalidArgument("data", "1 byte to 1 MiB / 每块1字节到1 MiB")
    return request.offset, bytes(request.data)


def sha256(value: str) -> str:
    cleaned = value.strip().lower()
    if not SHA256.match(cleaned):
        raise InvalidArgument("sha256", "64 hex digits / 须为64位十六进制")
    return cleaned


def import_pass(value: int) -> str:
    return PASSES.parse(value, "pass", default="", unknown="dry_run or import / 未知的阶段")


def template_format(value: int) -> str:
    return FORMATS.parse(value, "format", default="xlsx", unknown="xlsx or csv / 仅支持 xlsx 或 CSV")
