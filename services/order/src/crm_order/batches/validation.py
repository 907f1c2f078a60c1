"""Request checks of batch lookups and recalls: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import re

from crmkit.errors import InvalidArgument
from crmkit.validate import text

# Batch / lot numbers as suppliers print them: letters, digits and - _ . (e.g. "B20261128-01").
BATCH_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
BATCH_NO_MAX = 64


def batch_no(value: str, field: str = "batch_no", *, required: bool = True) -> str:
    cleaned = text(value, field, max_len=BATCH_NO_MAX, required=required)
    if cleaned and not BATCH_NO.fullmatch(cleaned):
        raise InvalidArgument(field, "letters, digits and - _ . only / 批次号只能含字母、数字和 - _ .")
    return cleaned


def reason(value: str) -> str:
    return text(value, "reason", max_len=500, required=True, multiline=True)
