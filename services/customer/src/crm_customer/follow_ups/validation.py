"""Follow-up validation at the gRPC edge: a new entry, the fields an edit names, a task query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm_customer.follow_ups.models import KINDS, InteractionInput
from crm_customer.visits.validation import visit_input
from crmkit.clock import as_utc, shanghai_date
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, iso_date, text

MAX_CONTENT = 2000
MAX_OUTCOME = 500
MAX_CONTACTS = 20
# A phone's clock may run a little ahead of ours; beyond this an entry is "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)
EDITABLE = ("kind", "occur_time", "contact_ids", "content", "outcome", "next_follow_up_date")


def _kind(value: int, field_name: str) -> str:
    return KINDS.parse(value, field_name, unknown="unknown follow-up kind / 未知的跟进方式")


def kind_filter(value: int) -> str | None:
    """A list's kind narrowing: unset lists every kind."""
    return None if value == 0 else _kind(value, "kind")


def _occurred_at(message: fpb.Interaction, field_name: str, now: dt.datetime) -> dt.datetime:
    if not message.HasField("occur_time"):
        return now
    try:
        moment = as_utc(message.occur_time.ToDatetime(tzinfo=dt.UTC))
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(field_name, "is not a valid time / 时间无效") from exc
    if moment > now + CLOCK_SKEW:
        raise InvalidArgument(field_name, "is in the future / 跟进时间不能晚于现在")
    return moment


def _contact_ids(values: Any, field_name: str) -> list[str]:
    if len(values) > MAX_CONTACTS:
        raise InvalidArgument(field_name, f"at most {MAX_CONTACTS} contacts / 最多{MAX_CONTACTS}个联系人")
    ids = [identifier(value, f"{field_name}[{index}]") for index, value in enumerate(values)]
    if len(set(ids)) != len(ids):
        raise InvalidArgument(field_name, "names a contact twice / 联系人重复")
    return ids


def _next_date(value: str, field_name: str, now: dt.datetime) -> dt.date | None:
    date = iso_date(value, field_name)
    if date is not None and date < shanghai_date(now):
        raise InvalidArgument(field_name, "is in the past / 下次跟进日期不能早于今天")
    return date


def interaction_input(message: fpb.Interaction, now: dt.datetime) -> InteractionInput:
    """Everything a new entry may carry, validated; `now` is the business clock."""
    kind = _kind(message.kind, "interaction.kind")
    return InteractionInput(
        kind=kind,
        occurred_at=_occurred_at(message, "interaction.occur_time", now),
        contact_ids=_contact_ids(message.contact_ids, "interaction.contact_ids"),
        content=text(message.content, "interaction.content", max_len=MAX_CONTENT, required=True, multiline=True),
        outcome=text(message.outcome, "interaction.outcome", max_len=MAX_OUTCOME, multiline=True),
        next_follow_up_date=_next_date(message.next_follow_up_date, "interaction.next_follow_up_date", now),
        corrects_id=identifier(message.corrects_id, "interaction.corrects_id", required=False) or None,
        visit=visit_input(message, kind, now),
    )


def interaction_changes(message: fpb.Interaction, paths: list[str], now: dt.datetime) -> dict[str, Any]:
    """The fields an edit names, validated, by column name."""
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    changes: dict[str, Any] = {}
    for path in paths:
        if path not in EDITABLE:
            raise InvalidArgument("update_mask", f"cannot change {path!r} / 不能修改字段 {path}")
        field_name = f"interaction.{path}"
        if path == "kind":
            changes["kind"] = _kind(message.kind, field_name)
        elif path == "occur_time":
            changes["occurred_at"] = _occurred_at(message, field_name, now)
        elif path == "contact_ids":
            changes["contact_ids"] = _contact_ids(message.contact_ids, field_name)
        elif path == "content":
            changes["content"] = text(message.content, field_name, max_len=MAX_CONTENT, required=True, multiline=True)
        elif path == "outcome":
            changes["outcome"] = text(message.outcome, field_name, max_len=MAX_OUTCOME, multiline=True)
        else:
            changes["next_follow_up_date"] = _next_date(message.next_follow_up_date, field_name, now)
    return changes


def due_window(due: int, now: dt.datetime) -> tuple[dt.date | None, dt.date]:
    """The (first, last) next-follow-up dates a task query covers, in Asia/Shanghai days; first
    is None for "overdue", which has no beginning."""
    today = shanghai_date(now)
    if due == fpb.FOLLOW_UP_DUE_TODAY:
        return today, today
    if due == fpb.FOLLOW_UP_DUE_OVERDUE:
        return None, today - dt.timedelta(days=1)
    if due == fpb.FOLLOW_UP_DUE_THIS_WEEK:
        return today, today + dt.timedelta(days=6 - today.weekday())
    if due == fpb.FOLLOW_UP_DUE_UNSPECIFIED:
        raise InvalidArgument("due", "is required / 必填")
    raise InvalidArgument("due", "unknown due window / 未知的到期范围")
