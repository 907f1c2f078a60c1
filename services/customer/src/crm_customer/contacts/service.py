"""A customer's contacts: list, add, edit, remove. A contact change is a change of its customer
(new version, search terms rewritten, one customer_updated event). Functions take the session and
never commit: the caller does."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.contacts.models import Contact, ContactInput, new_contact
from crm_customer.contacts.personal import PERSONAL_FIELDS, PersonalData
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import (
    WRITER_ROLES,
    contact_mobiles,
    get_customer,
    refuse_duplicates,
    refuse_if_archived,
)
from crm_customer.search.service import index_for_search
from crmkit.errors import NotFound
from crmkit.identity import Identity


async def list_contacts(
    session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime
) -> list[Contact]:
    customer = await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    return list(customer.contacts)


async def _contact_in_scope(
    session: AsyncSession, identity: Identity, customer_id: str, contact_id: str, now: dt.datetime
) -> tuple[Customer, Contact]:
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    refuse_if_archived(customer)
    for contact in customer.contacts:
        if contact.id == contact_id:
            return customer, contact
    raise NotFound("contact", contact_id)


async def _touch(
    session: AsyncSession,
    customer: Customer,
    identity: Identity,
    events: CustomerEvents,
    personal: PersonalData,
    now: dt.datetime,
) -> None:
    customer.version += 1
    customer.updated_at = now
    await session.flush()
    await session.refresh(customer, attribute_names=["contacts"])
    await index_for_search(session, customer, contact_mobiles(customer, personal), personal)
    await events.updated(session, customer, ["contacts"], identity.principal_id, now)


async def create_contact(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    data: ContactInput,
    events: CustomerEvents,
    personal: PersonalData,
    now: dt.datetime,
) -> Contact:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    refuse_if_archived(customer)
    await refuse_duplicates(
        session,
        identity,
        credit_code=None,
        mobiles=[data.mobile] if data.mobile else [],
        wechat_ids=[data.wechat_id] if data.wechat_id else [],
        personal=personal,
    )
    # The customer row is locked, so no concurrent add can take the same place at the end.
    last = await session.scalar(select(func.max(Contact.position)).where(Contact.customer_id == customer.id))
    position = 0 if last is None else last + 1
    contact = new_contact(identity.tenant_id, customer.id, data, now, position, personal)
    session.add(contact)
    await _touch(session, customer, identity, events, personal, now)
    return contact


async def update_contact(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    contact_id: str,
    changes: dict[str, Any],
    events: CustomerEvents,
    personal: PersonalData,
    now: dt.datetime,
) -> Contact:
    identity.require_role(*WRITER_ROLES)
    customer, contact = await _contact_in_scope(session, identity, customer_id, contact_id, now)
    await refuse_duplicates(
        session,
        identity,
        credit_code=None,
        mobiles=[changes["mobile"]] if changes.get("mobile") else [],
        wechat_ids=[changes["wechat_id"]] if changes.get("wechat_id") else [],
        personal=personal,
        exclude_contact_id=contact.id,
    )
    details = {key: changes.pop(key) for key in PERSONAL_FIELDS if key in changes}
    if details:
        personal.seal(contact, replace(personal.details(contact), **details))
    for key, value in changes.items():
        setattr(contact, key, value)
    contact.updated_at = now
    await _touch(session, customer, identity, events, personal, now)
    return contact


async def delete_contact(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    contact_id: str,
    events: CustomerEvents,
    personal: PersonalData,
    now: dt.datetime,
) -> None:
    identity.require_role(*WRITER_ROLES)
    customer, contact = await _contact_in_scope(session, identity, customer_id, contact_id, now)
    await session.delete(contact)
    await _touch(session, customer, identity, events, personal, now)
