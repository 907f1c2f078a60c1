"""Closure validation at the gRPC edge: a range (dates in order, a sane span, a known reason), the
fields an edit names, a template, the customers a template is applied to."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.closures.models import REASONS, ClosureRange
from crm_customer.customers.models import STAGES, ListFilter
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, iso_date, text

MAX_NOTE = 200
MAX_NAME = 60
# A closure longer than a year is a customer that stopped buying, not a holiday.
MAX_SPAN_DAYS = 366
# Dates outside these years are typing mistakes (2207 for 2027).
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_TEMPLATE_RANGES = 20
MAX_CUSTOMER_IDS = 500
EDITABLE = ("start_date", "end_date", "reason", "note")
TEMPLATE_EDITABLE = ("name", "ranges")


def _date(value: str, field_name: str) -> dt.date:
    day = iso_date(value, field_name)
    if day is None:
        raise InvalidArgument(field_name, "is required / 必填")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidArgument(
            field_name, f"must lie in {FIRST_YEAR}–{LAST_YEAR} / 日期须在{FIRST_YEAR}至{LAST_YEAR}年之间"
        )
    return day


def _reason(value: int, field_name: str) -> str:
    return REASONS.parse(value, field_name, unknown="unknown reason / 未知的停工原因")


def checked_range(start: dt.date, end: dt.date, reason: str, note: str, prefix: str) -> None:
    """The rules between a range's fields, named by the field at fault."""
    if end < start:
        raise InvalidArgument(f"{prefix}end_date", "is before start_date / 结束日期不能早于开始日期")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise InvalidArgument(
            f"{prefix}end_date", f"a closure lasts at most {MAX_SPAN_DAYS} days / 停工最长{MAX_SPAN_DAYS}天"
        )
    if reason == "other" and not note:
        raise InvalidArgument(f"{prefix}note", "is required when the reason is other / 原因为其他时须填写说明")


def closure_range(
    *, start_date: str, end_date: str, reason: int, note: str, prefix: str, range_id: str = ""
) -> ClosureRange:
    """A range's fields as a request gives them; `prefix` names them ("closure.")."""
    start = _date(start_date, f"{prefix}start_date")
    end = _date(end_date, f"{prefix}end_date")
    word = _reason(reason, f"{prefix}reason")
    cleaned = text(note, f"{prefix}note", max_len=MAX_NOTE)
    checked_range(start, end, word, cleaned, prefix)
    return ClosureRange(start, end, word, cleaned, range_id)


def new_closure(message: cpb.Closure) -> tuple[str, ClosureRange]:
    customer_id = identifier(message.customer_id, "closure.customer_id")
    return customer_id, closure_range(
        start_date=message.start_date,
        end_date=message.end_date,
        reason=message.reason,
        note=message.note,
        prefix="closure.",
    )


def closure_changes(message: cpb.Closure, paths: Sequence[str]) -> dict[str, Any]:
    """The fields an edit names, each validated on its own (the rules between them are checked
    against the stored closure: `checked_range`)."""
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    changes: dict[str, Any] = {}
    for path in paths:
        if path not in EDITABLE:
            raise InvalidArgument("update_mask", f"cannot change {path!r} / 不能修改字段 {path}")
        field_name = f"closure.{path}"
        if path == "start_date":
            changes["start_date"] = _date(message.start_date, field_name)
        elif path == "end_date":
            changes["end_date"] = _date(message.end_date, field_name)
        elif path == "reason":
            changes["reason"] = _reason(message.reason, field_name)
        else:
            changes["note"] = text(message.note, field_name, max_len=MAX_NOTE)
    return changes


def _overlapping(ranges: Sequence[ClosureRange], prefix: str) -> None:
    ordered = sorted(enumerate(ranges), key=lambda pair: pair[1].start_date)
    for (_, earlier), (index, later) in itertools.pairwise(ordered):
        if later.start_date <= earlier.end_date:
            span = f"{earlier.start_date}–{earlier.end_date}"
            raise InvalidArgument(f"{prefix}[{index}].start_date", f"overlaps the range {span} / 与{span}的时段重叠")


def template_ranges(ranges: Sequence[cpb.ClosureTemplateRange], prefix: str, *, keep_ids: bool) -> list[ClosureRange]:
    if not ranges:
        raise InvalidArgument(prefix, "needs at least one range / 至少需要一个时段")
    if len(ranges) > MAX_TEMPLATE_RANGES:
        raise InvalidArgument(prefix, f"at most {MAX_TEMPLATE_RANGES} ranges / 最多{MAX_TEMPLATE_RANGES}个时段")
    found = []
    for index, item in enumerate(ranges):
        range_prefix = f"{prefix}[{index}]."
        range_id = identifier(item.id, f"{range_prefix}id", required=False) if keep_ids else ""
        found.append(
            closure_range(
                start_date=item.start_date,
                end_date=item.end_date,
                reason=item.reason,
                note=item.note,
                prefix=range_prefix,
                range_id=range_id,
            )
        )
    ids = [r.id for r in found if r.id]
    if len(set(ids)) != len(ids):
        raise InvalidArgument(prefix, "names a range id twice / 时段编号重复")
    _overlapping(found, prefix)
    return found


def template_name(value: str) -> str:
    return text(value, "template.name", max_len=MAX_NAME, required=True)


def template_changes(message: cpb.ClosureTemplate, paths: Sequence[str]) -> dict[str, Any]:
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    changes: dict[str, Any] = {}
    for path in paths:
        if path not in TEMPLATE_EDITABLE:
            raise InvalidArgument("update_mask", f"cannot change {path!r} / 不能修改字段 {path}")
        if path == "name":
            changes["name"] = template_name(message.name)
        else:
            changes["ranges"] = template_ranges(message.ranges, "template.ranges", keep_ids=True)
    return changes


def customer_ids(values: Sequence[str], field_name: str = "customer_ids") -> list[str]:
    if len(values) > MAX_CUSTOMER_IDS:
        raise InvalidArgument(field_name, f"at most {MAX_CUSTOMER_IDS} at once / 一次最多{MAX_CUSTOMER_IDS}个客户")
    ids = [identifier(value, f"{field_name}[{index}]") for index, value in enumerate(values)]
    return list(dict.fromkeys(ids))


def customer_filter(message: cpb.ClosureCustomerFilter, present: bool) -> ListFilter | None:
    """The list filter a template is applied by; None when the request has none. A filter that
    narrows nothing would take every customer the caller has: refused."""
    if not present:
        return None
    stage = text(message.lifecycle_stage, "filter.lifecycle_stage", max_len=16)
    if stage and stage not in STAGES.words:
        raise InvalidArgument("filter.lifecycle_stage", "unknown stage / 未知的客户阶段")
    found = ListFilter(
        lifecycle_stage=stage or None,
        type=text(message.type, "filter.type", max_len=30) or None,
        owner_id=identifier(message.owner_id, "filter.owner_id", required=False) or None,
        org_unit_id=identifier(message.org_unit_id, "filter.org_unit_id", required=False) or None,
        tag=text(message.tag, "filter.tag", max_len=30) or None,
    )
    if found == ListFilter():
        raise InvalidArgument(
            "filter", "narrows nothing; name a type, tag, stage, owner or org unit / 请至少指定一个筛选条件"
        )
    return found
