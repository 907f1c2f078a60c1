"""Checks of an order against its customer's facts (the service's own copy): special
requirements, closures, delivery windows and licences. Pure functions over the facts, so each
rule is tested without a database; `crm_order.orders.service` loads the facts and applies them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crmkit.errors import FailedPrecondition

REQUIREMENT_LABELS = {"halal": "清真", "no_pork": "不含猪肉", "allergens": "过敏原", "organic": "有机认证"}


class RequirementConflict(FailedPrecondition):
    """A line conflicts with a special requirement and no supervisor let it through (409)."""

    code = "requirement_conflict"


class DeliveryDateClosed(FailedPrecondition):
    code = "delivery_date_closed"


class LicenceExpired(FailedPrecondition):
    code = "licence_expired"


class CreditUnavailable(FailedPrecondition):
    """Credit mode needs the credit service (a later issue; and whenever it is down)."""

    code = "credit_unavailable"


@dataclass(frozen=True)
class LineGoods:
    """What the checks need of a line's product."""

    line_no: int
    sku: str
    halal: bool
    organic: bool
    contains_pork: bool
    allergens: Sequence[str]


@dataclass(frozen=True)
class Conflict:
    line_no: int
    sku: str
    requirement: str
    message: str


def requirement_conflicts(requirements: Iterable[dict[str, Any]], lines: Iterable[LineGoods]) -> list[Conflict]:
    """Each line against each requirement the order service knows how to judge (halal, no pork,
    excluded allergens, organic); other kinds (cold chain …) shape delivery, not the goods."""
    found: list[Conflict] = []
    kinds = list(requirements)
    for line in lines:
        for requirement in kinds:
            kind = str(requirement.get("kind", ""))
            reason = _conflict(kind, [str(d) for d in requirement.get("details") or []], line)
            if reason:
                found.append(Conflict(line.line_no, line.sku, kind, reason))
    return found


def _conflict(kind: str, details: list[str], line: LineGoods) -> str:
    if kind == "halal" and (not line.halal or line.contains_pork):
        return f"{line.sku} is not halal / {line.sku} 非清真商品，客户要求清真"
    if kind == "no_pork" and line.contains_pork:
        return f"{line.sku} contains pork / {line.sku} 含猪肉，客户要求不含猪肉"
    if kind == "allergens":
        excluded = sorted(set(details) & set(line.allergens))
        if excluded:
            names = "、".join(excluded)
            return (
                f"{line.sku} contains excluded allergens {', '.join(excluded)} / {line.sku} 含客户排除的过敏原：{names}"
            )
    if kind == "organic" and not line.organic:
        return f"{line.sku} is not organic / {line.sku} 非有机商品，客户要求有机认证"
    return ""


def closure_covering(closures: Iterable[tuple[dt.date, dt.date]], day: dt.date) -> tuple[dt.date, dt.date] | None:
    for start, end in closures:
        if start <= day <= end:
            return start, end
    return None


def outside_delivery_windows(windows: Sequence[dict[str, Any]], day: dt.date) -> bool:
    """Whether the customer takes deliveries on set weekdays and this day is none of them."""
    weekdays = {int(w.get("weekday", 0)) for w in windows}
    return bool(weekdays) and day.isoweekday() not in weekdays


def expired_kinds(licences: Iterable[tuple[str, dt.date | None]], today: dt.date) -> list[str]:
    """Kinds whose latest licence (the one valid longest; never-expiring wins) has expired."""
    latest: dict[str, dt.date | None] = {}
    for kind, valid_until in licences:
        if kind not in latest:
            latest[kind] = valid_until
            continue
        held = latest[kind]
        if held is not None and (valid_until is None or valid_until > held):
            latest[kind] = valid_until
    return sorted(kind for kind, until in latest.items() if until is not None and until < today)
