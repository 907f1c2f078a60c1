"""Follow-ups: log, edit (the author, for 24 hours), list a customer's timeline, and the due
follow-ups that are its owner's tasks. Logging one is a change of its customer: the customer's
last_interaction_at and next_follow_up_date move, its version goes up, and one
interaction_logged event carries both. Functions take the session and never commit."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import get_customer, refuse_if_archived, scope_condition
from crm_customer.follow_ups.models import EDIT_WINDOW, Interaction, InteractionInput, interaction_to_proto
from crm_customer.visits.service import record_visit
from crmkit.clock import as_utc
from crmkit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import Identity
from crmkit.paging import KeysetOrder

# What keeps a claimed customer with its new owner: a visit or a phone call they log.
FIRST_VISIT_KINDS = ("visit", "phone")
NEWEST_FIRST = KeysetOrder("occurred_desc", Interaction.occurred_at, Interaction.id, descending=True, value_kind="time")
EARLIEST_DUE_FIRST = KeysetOrder(
    "due_asc", Customer.next_follow_up_date, Customer.id, descending=False, value_kind="date"
)


def _check_contacts(customer: Customer, contact_ids: list[str], field: str) -> None:
    known = {contact.id for contact in customer.contacts}
    for index, contact_id in enumerate(contact_ids):
        if contact_id not in known:
            raise InvalidArgument(f"{field}[{index}]", "not a contact of this customer / 不是该客户的联系人")


async def _refresh_bookkeeping(session: AsyncSession, customer: Customer, now: dt.datetime) -> None:
    """The customer's latest follow-up time and next follow-up, from its entries as they now are;
    a new version, as for any change of the customer."""
    await session.flush()
    latest_time = await session.scalar(
        select(func.max(Interaction.occurred_at)).where(Interaction.customer_id == customer.id)
    )
    # The latest entry logged (not the latest in occur time) says what happens next: logging a
    # visit from last week today still completes today's task.
    latest_logged = await session.scalar(
        select(Interaction.next_follow_up_date)
        .where(Interaction.customer_id == customer.id)
        .order_by(Interaction.created_at.desc(), Interaction.id.desc())
        .limit(1)
    )
    customer.last_interaction_at = as_utc(latest_time) if latest_time else None
    customer.next_follow_up_date = latest_logged
    customer.version += 1
    customer.updated_at = now


async def log_interaction(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    data: InteractionInput,
    events: CustomerEvents,
    now: dt.datetime,
) -> Interaction:
    """Anyone who may see the customer may log a follow-up on it (service and finance call
    customers too), except a collaborator with read-only access; an archived customer takes none."""
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    refuse_if_archived(customer)
    await session.refresh(customer, attribute_names=["contacts"])
    _check_contacts(customer, data.contact_ids, "interaction.contact_ids")
    if data.corrects_id:
        corrected = await session.get(Interaction, data.corrects_id)
        if corrected is None or corrected.customer_id != customer.id:
            raise InvalidArgument(
                "interaction.corrects_id", "no such follow-up of this customer / 该客户没有这条跟进记录"
            )
    interaction = Interaction(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        author_id=identity.principal_id,
        kind=data.kind,
        occurred_at=data.occurred_at or now,
        contact_ids=data.contact_ids,
        content=data.content,
        outcome=data.outcome,
        next_follow_up_date=data.next_follow_up_date,
        corrects_id=data.corrects_id,
        created_at=now,
        updated_at=now,
    )
    session.add(interaction)
    # A visit's check-in and photos beside it (visits/); None keeps the relationship from loading.
    interaction.visit = (
        await record_visit(
            session,
            customer=customer,
            interaction_id=interaction.id,
            visit=data.visit,
            occurred_at=interaction.occurred_at,
        )
        if data.visit
        else None
    )
    if interaction.kind in FIRST_VISIT_KINDS and customer.owner_id == identity.principal_id:
        # The new owner's first visit or call after a claim: the customer stays with them.
        customer.first_visit_due = None
    await _refresh_bookkeeping(session, customer, now)
    await events.interaction_logged(session, customer, interaction_to_proto(interaction), identity.principal_id, now)
    return interaction


async def update_interaction(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    interaction_id: str,
    changes: dict[str, Any],
    events: CustomerEvents,
    now: dt.datetime,
) -> Interaction:
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    interaction = await session.get(Interaction, interaction_id, with_for_update=True)
    if interaction is None or interaction.customer_id != customer.id:
        raise NotFound("follow-up", interaction_id)
    if interaction.author_id != identity.principal_id:
        raise PermissionDenied("only its author may edit a follow-up / 只有记录人可以修改跟进记录")
    if now - as_utc(interaction.created_at) > EDIT_WINDOW:
        raise FailedPrecondition(
            "a follow-up can be edited for 24 hours; log a correction instead / "
            "跟进记录仅可在24小时内修改，请新增一条更正记录"
        )
    refuse_if_archived(customer)
    await session.refresh(customer, attribute_names=["contacts"])
    if "contact_ids" in changes:
        _check_contacts(customer, changes["contact_ids"], "interaction.contact_ids")
    if changes.get("kind", "visit") != "visit" and interaction.visit is not None:
        raise InvalidArgument(
            "interaction.kind", "a visit with a check-in or photos stays a visit / 已签到或有照片的拜访不能改为其他方式"
        )
    for column, value in changes.items():
        setattr(interaction, column, value)
    interaction.updated_at = now
    await _refresh_bookkeeping(session, customer, now)
    await events.interaction_logged(
        session, customer, interaction_to_proto(interaction), identity.principal_id, now, edited=True
    )
    return interaction


async def list_interactions(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    page_size: int,
    page_token: str,
    now: dt.datetime,
    kind: str | None = None,
) -> tuple[list[Interaction], str]:
    """A customer's follow-ups, newest first by when they happened; only those of `kind` if given."""
    await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    statement = select(Interaction).where(Interaction.customer_id == customer_id)
    if kind is not None:
        statement = statement.where(Interaction.kind == kind)
    query = NEWEST_FIRST.apply(statement, page_token)
    rows = (await session.scalars(query.limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda row: (row.occurred_at, row.id))


@dataclass(frozen=True)
class TaskQuery:
    first: dt.date | None
    last: dt.date
    owner_id: str | None = None
    org_unit_id: str | None = None


def _tasks_statement(
    identity: Identity, query: TaskQuery
) -> Select[str, str, str, str, dt.date | None, dt.datetime | None]:
    statement = select(
        Customer.id,
        Customer.name,
        Customer.owner_id,
        Customer.org_unit_id,
        Customer.next_follow_up_date,
        Customer.last_interaction_at,
    ).where(
        # Tasks are the owner's: a collaborator sees the customer, not its owner's to-do list.
        scope_condition(identity, access="own"),
        Customer.archived.is_(False),
        Customer.next_follow_up_date.is_not(None),
        Customer.next_follow_up_date <= query.last,
    )
    if query.first is not None:
        statement = statement.where(Customer.next_follow_up_date >= query.first)
    if query.owner_id:
        statement = statement.where(Customer.owner_id == query.owner_id)
    if query.org_unit_id:
        statement = statement.where(Customer.org_path.contains(f"/{query.org_unit_id}/", autoescape=True))
    return statement


async def list_follow_up_tasks(
    session: AsyncSession, *, identity: Identity, query: TaskQuery, page_size: int, page_token: str
) -> tuple[list[Any], str]:
    """The caller's customers whose next follow-up falls in the query's days, earliest first.
    The data scope makes them a rep's own and a supervisor's subtree."""
    statement = EARLIEST_DUE_FIRST.apply(_tasks_statement(identity, query), page_token)
    rows = (await session.execute(statement.limit(page_size + 1))).all()
    return EARLIEST_DUE_FIRST.page(rows, page_size, lambda row: (row.next_follow_up_date, row.id))
