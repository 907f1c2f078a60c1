"""Licence validation at the gRPC edge: a licence, the fields an edit names, the tenant's kinds,
a list query."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.licences.models import STATUSES, LicenceInput, LicenceKind
from crmkit.errors import InvalidArgument
from crmkit.validate import iso_date, text

MAX_KINDS = 50
MAX_KIND_NAME = 30
MAX_NUMBER = 64
MAX_ISSUER = 100
MAX_NOTES = 500
# Attachments are another feature's; their ids are opaque tokens of this shape.
ATTACHMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
FIRST_YEAR, LAST_YEAR = 1950, 2199
EDITABLE = ("kind", "number", "issuer", "valid_from", "valid_until", "attachment_id", "notes")


def _date(value: str, field_name: str) -> dt.date | None:
    day = iso_date(value, field_name)
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidArgument(
            field_name, f"must lie in {FIRST_YEAR}–{LAST_YEAR} / 日期须在{FIRST_YEAR}至{LAST_YEAR}年之间"
        )
    return day


def _attachment_id(value: str, field_name: str) -> str:
    cleaned = value.strip()
    if cleaned and not ATTACHMENT_ID.fullmatch(cleaned):
        raise InvalidArgument(field_name, "is not an attachment id / 附件编号格式不正确")
    return cleaned


def dates_in_order(valid_from: dt.date | None, valid_until: dt.date | None, prefix: str = "licence.") -> None:
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidArgument(f"{prefix}valid_until", "is before valid_from / 有效期止不能早于有效期起")


def _field(message: cpb.Licence, path: str) -> Any:
    name = f"licence.{path}"
    if path == "kind":
        return text(message.kind, name, max_len=MAX_KIND_NAME, required=True)
    if path == "number":
        return text(message.number, name, max_len=MAX_NUMBER, required=True)
    if path == "issuer":
        return text(message.issuer, name, max_len=MAX_ISSUER)
    if path == "valid_from":
        return _date(message.valid_from, name)
    if path == "valid_until":
        return _date(message.valid_until, name)
    if path == "attachment_id":
        return _attachment_id(message.attachment_id, name)
    return text(message.notes, name, max_len=MAX_NOTES, multiline=True)


def licence_input(message: cpb.Licence) -> LicenceInput:
    data = LicenceInput(**{path: _field(message, path) for path in EDITABLE})
    dates_in_order(data.valid_from, data.valid_until)
    return data


def licence_changes(message: cpb.Licence, paths: Sequence[str]) -> dict[str, Any]:
    """The fields an edit names, by column; the order of the dates is checked against the stored
    licence (`dates_in_order`)."""
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    changes = {}
    for path in paths:
        if path not in EDITABLE:
            raise InvalidArgument("update_mask", f"cannot change {path!r} / 不能修改字段 {path}")
        changes[path] = _field(message, path)
    return changes


def kinds(values: Sequence[cpb.LicenceKind]) -> list[LicenceKind]:
    if not values:
        raise InvalidArgument("kinds", "needs at least one kind / 至少需要一种证照类型")
    if len(values) > MAX_KINDS:
        raise InvalidArgument("kinds", f"at most {MAX_KINDS} kinds / 最多{MAX_KINDS}种证照类型")
    found: list[LicenceKind] = []
    for index, value in enumerate(values):
        name = text(value.name, f"kinds[{index}].name", max_len=MAX_KIND_NAME, required=True)
        if any(kind.name == name for kind in found):
            raise InvalidArgument(f"kinds[{index}].name", "names a kind twice / 证照类型重复")
        types = [
            text(t, f"kinds[{index}].required_for_types[{i}]", max_len=30, required=True)
            for i, t in enumerate(value.required_for_types)
        ]
        found.append(LicenceKind(name, tuple(dict.fromkeys(types))))
    return found


def expiring_status(value: int) -> str:
    """ "expiring", "expired" or "" for both."""
    status = STATUSES.parse(value, "status", default="", unknown="unknown status / 未知的状态")
    if status not in ("", "expiring", "expired"):
        raise InvalidArgument("status", "must be expiring or expired / 只能查询即将到期或已过期")
    return status
