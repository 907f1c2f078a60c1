"""Collaborators: who works on a customer beside its owner. The owner, and supervisors, admins
and bosses over the customer, add and remove them; a collaborator's access ends when it
expires (the expiry job), when it is removed, when they become the owner, or when the customer
goes to a pool. Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.collaborators.endings import REMOVED, end_collaborations
from crm_customer.collaborators.models import Collaborator, collaborator_to_proto
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import get_customer, refuse_if_archived
from crmkit.errors import FailedPrecondition, InvalidArgument, NotFound
from crmkit.identity import Identity, Role

MANAGERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)
MAX_COLLABORATORS = 20


def _live(now: dt.datetime) -> object:
    return or_(Collaborator.expires_at.is_(None), Collaborator.expires_at > now)


async def list_collaborators(session: AsyncSession, *, customer_id: str, now: dt.datetime) -> list[Collaborator]:
    query = (
        select(Collaborator)
        .where(Collaborator.customer_id == customer_id, _live(now))  # type: ignore[arg-type]
        .order_by(Collaborator.added_at, Collaborator.user_id)
    )
    return list((await session.scalars(query)).all())


async def _managed_customer(session: AsyncSession, identity: Identity, customer_id: str, now: dt.datetime) -> Customer:
    """The customer, locked, if the caller may manage its collaborators: as its owner, or over it."""
    identity.require_role(*MANAGERS)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="own", for_update=True
    )
    refuse_if_archived(customer)
    if not customer.owner_id:
        raise FailedPrecondition("a customer in a pool has no collaborators / 公海客户不能设置协作人")
    return customer


def _vouched(identity: Identity, user_id: str) -> None:
    """The service knows no directory: the gateway vouches (a `Placement` for this call) that the
    user is an active user of the tenant who may collaborate."""
    if identity.placement is None or identity.placement.owner_id != user_id:
        raise InvalidArgument(
            "user_id",
            "not vouched for by the directory; add collaborators through the gateway / 协作人未经核实，请通过网关添加",
        )


async def put_collaborator(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    user_id: str,
    access: str,
    expires_at: dt.datetime | None,
    events: CustomerEvents,
    now: dt.datetime,
) -> Collaborator:
    """Add a collaborator, or change their access or expiry."""
    if expires_at is not None and expires_at <= now:
        raise InvalidArgument("expire_time", "must be in the future / 须晚于当前时间")
    customer = await _managed_customer(session, identity, customer_id, now)
    if user_id == customer.owner_id:
        raise InvalidArgument("user_id", "is the customer's owner / 该用户已是负责人")
    _vouched(identity, user_id)
    row = await session.get(Collaborator, (customer_id, user_id))
    if row is not None and row.expires_at is not None and row.expires_at <= now:
        # An expired access the job has not removed yet is not one to extend: start afresh.
        await session.delete(row)
        await session.flush()
        row = None
    if row is None:
        live = await list_collaborators(session, customer_id=customer_id, now=now)
        if len(live) >= MAX_COLLABORATORS:
            raise FailedPrecondition(f"at most {MAX_COLLABORATORS} collaborators / 协作人最多{MAX_COLLABORATORS}位")
        row = Collaborator(customer_id=customer_id, user_id=user_id, tenant_id=customer.tenant_id, added_at=now)
        session.add(row)
    elif row.access == access and row.expires_at == expires_at:
        return row
    row.access, row.expires_at, row.added_by = access, expires_at, identity.principal_id
    await session.flush()
    await events.collaborator_added(session, customer, collaborator_to_proto(row), identity.principal_id, now)
    return row


async def remove_collaborator(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    user_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> None:
    customer = await _managed_customer(session, identity, customer_id, now)
    row = await session.get(Collaborator, (customer_id, user_id))
    if row is None:
        raise NotFound("collaborator", user_id)
    await end_collaborations(
        session, customer, [row], cause=REMOVED, actor_id=identity.principal_id, events=events, now=now
    )
