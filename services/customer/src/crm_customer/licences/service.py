"""Licences (资质证照): the tenant's kinds and which customer types must hold each, customers'
licences with their status, a customer's summary (missing / expired / expiring / valid), and the
expiring and expired licences of the caller's customers. Recording or changing a licence
publishes licence_recorded in the same transaction. Functions take the session and never commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.customers.models import Customer
from crm_customer.customers.service import WRITER_ROLES, get_customer, refuse_if_archived, scope_condition
from crm_customer.licences.events import LicenceEvents
from crm_customer.licences.models import (
    DEFAULT_KINDS,
    EXPIRING_WITHIN,
    NOTICE_NONE,
    STATUSES,
    Licence,
    LicenceInput,
    LicenceKind,
    LicenceKindRow,
    licence_to_proto,
    next_notice_on,
    status_of,
)
from crm_customer.licences.validation import dates_in_order
from crm_customer.tenant_settings.service import customer_types
from crmkit.clock import shanghai_date
from crmkit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from crmkit.identity import Identity, Role
from crmkit.paging import KeysetOrder

# Service staff see deliveries and closures, not papers; everyone else who sees a customer sees
# its licences (finance checks them before credit).
LICENCE_READERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES, Role.FINANCE)
KIND_EDITORS = (Role.ADMIN, Role.BOSS)
MAX_LICENCES = 100
EARLIEST_EXPIRY_FIRST = KeysetOrder("until_asc", Licence.valid_until, Licence.id, descending=False, value_kind="date")
_SEVERITY = {"missing": 4, "expired": 3, "expiring": 2, "valid": 1}


# --------------------------------------------------------------------------- kinds


async def licence_kinds(session: AsyncSession, *, tenant_id: str) -> list[LicenceKind]:
    rows = (
        await session.scalars(
            select(LicenceKindRow).where(LicenceKindRow.tenant_id == tenant_id).order_by(LicenceKindRow.position)
        )
    ).all()
    if not rows:
        return [LicenceKind(name, required) for name, required in DEFAULT_KINDS]
    return [LicenceKind(row.name, tuple(row.required_for or ())) for row in rows]


async def set_licence_kinds(
    session: AsyncSession, *, identity: Identity, kinds: Sequence[LicenceKind]
) -> list[LicenceKind]:
    """Replace the tenant's kinds; licences keep a kind that is removed. Required types must be
    the tenant's customer types."""
    identity.require_role(*KIND_EDITORS)
    known = set(await customer_types(session, tenant_id=identity.tenant_id))
    for index, kind in enumerate(kinds):
        for position, type_name in enumerate(kind.required_for):
            if type_name not in known:
                raise InvalidArgument(
                    f"kinds[{index}].required_for_types[{position}]",
                    f"unknown customer type {type_name!r} / 未知的客户类型",
                )
    await session.execute(delete(LicenceKindRow).where(LicenceKindRow.tenant_id == identity.tenant_id))
    session.add_all(
        LicenceKindRow(tenant_id=identity.tenant_id, name=k.name, required_for=list(k.required_for), position=i)
        for i, k in enumerate(kinds)
    )
    return list(kinds)


async def _check_kind(session: AsyncSession, tenant_id: str, kind: str) -> None:
    if kind not in {k.name for k in await licence_kinds(session, tenant_id=tenant_id)}:
        raise InvalidArgument("licence.kind", f"unknown licence kind {kind!r} / 未知的证照类型")


# --------------------------------------------------------------------------- a customer's licences


async def _writable_customer(session: AsyncSession, identity: Identity, customer_id: str, now: dt.datetime) -> Customer:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    refuse_if_archived(customer)
    return customer


async def _licence_of(session: AsyncSession, customer: Customer, licence_id: str) -> Licence:
    licence = await session.get(Licence, licence_id, with_for_update=True)
    if licence is None or licence.customer_id != customer.id:
        raise NotFound("licence", licence_id)
    return licence


def _start_notices(licence: Licence) -> None:
    """A new expiry date starts the notices over."""
    licence.notice_stage = NOTICE_NONE
    licence.next_notice_on = next_notice_on(licence.valid_until, NOTICE_NONE)


async def create_licence(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    data: LicenceInput,
    events: LicenceEvents,
    now: dt.datetime,
) -> Licence:
    customer = await _writable_customer(session, identity, customer_id, now)
    await _check_kind(session, customer.tenant_id, data.kind)
    held = await session.scalars(select(Licence.id).where(Licence.customer_id == customer.id).limit(MAX_LICENCES))
    if len(held.all()) >= MAX_LICENCES:
        raise FailedPrecondition(f"a customer keeps at most {MAX_LICENCES} licences / 每个客户最多{MAX_LICENCES}份证照")
    licence = Licence(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        kind=data.kind,
        number=data.number,
        issuer=data.issuer,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        attachment_id=data.attachment_id,
        notes=data.notes,
        version=1,
        created_by=identity.principal_id,
        created_at=now,
        updated_at=now,
    )
    _start_notices(licence)
    session.add(licence)
    await session.flush()
    message = licence_to_proto(licence, shanghai_date(now))
    await events.recorded(session, customer, message, identity.principal_id, now, created=True)
    return licence


async def update_licence(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    licence_id: str,
    changes: dict[str, Any],
    expected_version: int,
    events: LicenceEvents,
    now: dt.datetime,
) -> Licence:
    customer = await _writable_customer(session, identity, customer_id, now)
    licence = await _licence_of(session, customer, licence_id)
    if expected_version and licence.version != expected_version:
        raise Aborted("licence was changed by someone else / 证照已被他人修改，请刷新后重试")
    if "kind" in changes and changes["kind"] != licence.kind:
        await _check_kind(session, customer.tenant_id, changes["kind"])
    dates_in_order(changes.get("valid_from", licence.valid_from), changes.get("valid_until", licence.valid_until))
    changed = [key for key, value in changes.items() if getattr(licence, key) != value]
    if not changed:
        return licence
    for key in changed:
        setattr(licence, key, changes[key])
    if "valid_until" in changed:
        _start_notices(licence)
    licence.version += 1
    licence.updated_at = now
    await session.flush()
    message = licence_to_proto(licence, shanghai_date(now))
    await events.recorded(session, customer, message, identity.principal_id, now, created=False)
    return licence


async def delete_licence(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    licence_id: str,
    events: LicenceEvents,
    now: dt.datetime,
) -> None:
    """A record entered by mistake goes; the customer's other licences of its kind take up their
    notices again (they may have been superseded by this one)."""
    customer = await _writable_customer(session, identity, customer_id, now)
    licence = await _licence_of(session, customer, licence_id)
    message = licence_to_proto(licence, shanghai_date(now))
    message.version += 1
    await session.delete(licence)
    await session.flush()
    for other in (
        await session.scalars(select(Licence).where(Licence.customer_id == customer.id, Licence.kind == licence.kind))
    ).all():
        other.next_notice_on = next_notice_on(other.valid_until, other.notice_stage)
    await events.removed(session, customer, message, identity.principal_id, now)


def _latest_by_kind(licences: Sequence[Licence]) -> dict[str, Licence]:
    """Each kind's latest licence: the one valid longest (never expiring beats any date)."""
    latest: dict[str, Licence] = {}
    for licence in licences:
        best = latest.get(licence.kind)
        if best is None or _later(licence, best):
            latest[licence.kind] = licence
    return latest


def _later(licence: Licence, other: Licence) -> bool:
    if other.valid_until is None:
        return False
    return licence.valid_until is None or licence.valid_until > other.valid_until


def summarize(
    licences: Sequence[Licence], kinds: Sequence[LicenceKind], customer_type: str, today: dt.date
) -> cpb.CustomerLicenceSummary:
    latest = _latest_by_kind(licences)
    missing = [k.name for k in kinds if customer_type and customer_type in k.required_for and k.name not in latest]
    by_status: dict[str, list[str]] = {"expiring": [], "expired": []}
    for kind, licence in latest.items():
        status, _ = status_of(licence.valid_until, today)
        if status in by_status:
            by_status[status].append(kind)
    worst = "valid"
    for status, found in (("missing", missing), ("expired", by_status["expired"]), ("expiring", by_status["expiring"])):
        if found and _SEVERITY[status] > _SEVERITY[worst]:
            worst = status
    return cpb.CustomerLicenceSummary(
        status=STATUSES.to_proto(worst),  # type: ignore[arg-type]
        missing_kinds=missing,
        expiring_kinds=sorted(by_status["expiring"]),
        expired_kinds=sorted(by_status["expired"]),
    )


@dataclass(frozen=True)
class CustomerLicences:
    licences: list[Licence]
    summary: cpb.CustomerLicenceSummary


async def list_customer_licences(
    session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime
) -> CustomerLicences:
    identity.require_role(*LICENCE_READERS)
    customer = await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    licences = list((await session.scalars(select(Licence).where(Licence.customer_id == customer.id))).all())
    kinds = await licence_kinds(session, tenant_id=customer.tenant_id)
    order = {k.name: i for i, k in enumerate(kinds)}
    far = dt.date.max.toordinal()
    licences.sort(
        key=lambda lic: (
            order.get(lic.kind, len(order)),
            lic.kind,
            -(lic.valid_until.toordinal() if lic.valid_until else far),
        )
    )
    return CustomerLicences(licences, summarize(licences, kinds, customer.type, shanghai_date(now)))


def superseded(licence: Any) -> ColumnElement[bool]:
    """A later licence of the same kind on the same customer exists."""
    later = aliased(Licence)
    return exists().where(
        later.customer_id == licence.customer_id,
        later.kind == licence.kind,
        or_(later.valid_until.is_(None), later.valid_until > licence.valid_until),
    )


@dataclass(frozen=True)
class ExpiringQuery:
    status: str = ""
    owner_id: str | None = None
    org_unit_id: str | None = None


async def list_expiring(
    session: AsyncSession,
    *,
    identity: Identity,
    query: ExpiringQuery,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[Any], str]:
    """The expiring (within 30 days) and expired licences of the caller's unarchived customers,
    earliest first; licences a later one of their kind supersedes are left out."""
    identity.require_role(*LICENCE_READERS)
    today = shanghai_date(now)
    conditions: list[ColumnElement[bool]] = [
        Licence.tenant_id == identity.tenant_id,
        Licence.valid_until.is_not(None),
        Licence.valid_until <= today + dt.timedelta(days=EXPIRING_WITHIN),
        scope_condition(identity, now=now),
        Customer.archived.is_(False),
        ~superseded(Licence),
    ]
    if query.status == "expiring":
        conditions.append(Licence.valid_until >= today)
    elif query.status == "expired":
        conditions.append(Licence.valid_until < today)
    if query.owner_id:
        conditions.append(Customer.owner_id == query.owner_id)
    if query.org_unit_id:
        conditions.append(Customer.org_path.contains(f"/{query.org_unit_id}/", autoescape=True))
    statement = (
        select(Licence, Customer.name, Customer.owner_id, Customer.org_unit_id)
        .join(Customer, and_(Customer.id == Licence.customer_id))
        .where(*conditions)
    )
    rows = (await session.execute(EARLIEST_EXPIRY_FIRST.apply(statement, page_token).limit(page_size + 1))).all()
    return EARLIEST_EXPIRY_FIRST.page(rows, page_size, lambda row: (row[0].valid_until, row[0].id))
