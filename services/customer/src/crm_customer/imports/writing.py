"""The import's writes for one batch of judged customers, in the batch's transaction.

New customers are built by `customers.service.new_customer` and placed as a create places them
(a named owner vouched for by the directory copy and checked by `check_placement`, the rules
when the owner column is empty, a rep's own book), then written a batch at a time: the rows and
their contacts in one flush, their search terms and `customer_created` events each in one
INSERT, the owner history beside them — what `create_customer` writes, without a round trip per
customer. Caps hold as in a create: the named owners' books are held for the transaction and
each new customer takes a place. Updates go through `customers.service.update_customer` and
`contacts.service.create_contact` one customer at a time (each in a savepoint, so one refusal
skips that customer only), publishing their usual `customer_updated`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.assignment.rules import facts_of_customer
from crm_customer.assignment.service import Decision, decide, nearest_pool, rules_of
from crm_customer.contacts.personal import PersonalData
from crm_customer.contacts.service import create_contact
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import (
    check_placement,
    initial_tiers,
    new_customer,
    placed_by_rule,
    placement_by_rule,
    update_customer,
)
from crm_customer.imports.checking import Draft, chinese_first
from crm_customer.imports.models import ImportMark
from crm_customer.ownership.service import CustomerCapReached, caps_of, held_by, hold_books, owner_change
from crm_customer.search.models import SearchTerm
from crm_customer.search.service import search_term_rows
from crmkit.db import insert_new
from crmkit.errors import DomainError
from crmkit.events import add_events
from crmkit.identity import Identity, Placement, Role


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    contacts_added: int = 0


class ImportWriter:
    def __init__(
        self, *, identity: Identity, events: CustomerEvents, personal: PersonalData, import_id: str, sha256: str
    ) -> None:
        self.identity = identity
        self.events = events
        self.personal = personal
        self.import_id = import_id
        self.sha256 = sha256

    async def write(self, session: AsyncSession, drafts: list[Draft], now: dt.datetime) -> Written:
        written = Written()
        creating = [d for d in drafts if d.outcome == "create"]
        if creating:
            await self._create(session, creating, now, written)
        for draft in drafts:
            if draft.outcome == "update":
                await self._update(session, draft, now, written)
        marks = [
            {
                "tenant_id": self.identity.tenant_id,
                "sha256": self.sha256,
                "row_number": draft.group.first_row,
                "import_id": self.import_id,
                "customer_id": draft.target.id,
            }
            for draft in drafts
            if draft.outcome in ("create", "update", "unchanged") and draft.target is not None
        ]
        if marks:
            await session.execute(insert(cast(Table, ImportMark.__table__)), marks)
        return written

    async def _create(self, session: AsyncSession, drafts: list[Draft], now: dt.datetime, written: Written) -> None:
        identity = self.identity
        tenant = identity.tenant_id
        named = sorted(
            {d.owner.user_id for d in drafts if d.owner is not None}
            | ({identity.principal_id} if identity.role is Role.SALES else set())
        )
        await hold_books(session, tenant, named)
        default, own = await caps_of(session, tenant, named)
        held = await held_by(session, tenant, named)
        room = {u: ((own.get(u) or default) - held[u]) if (own.get(u) or default) else None for u in named}
        # Without rules every unnamed customer lands alike (the pool above the importer, else
        # the importer): decided once, not asked per customer.
        ruleless: Decision | None = None
        if not await rules_of(session, tenant):
            pool = await nearest_pool(session, tenant, identity.org_path)
            ruleless = Decision(rule=None, owner=None, pool=pool, checks=[])
        created: list[Customer] = []
        rows: list[object] = []
        terms: list[dict[str, object]] = []
        events = []
        for draft in drafts:
            placed = await self._place(session, draft, room, ruleless)
            if placed is None:
                continue
            placement, decision = placed
            assert draft.data is not None
            customer = new_customer(
                identity,
                draft.data,
                custom_fields=draft.data.custom_fields,
                placement=placement,
                personal=self.personal,
                now=now,
            )
            # The file's tier or grade is a manual value (its history starts with the customer's
            # first change; an import writes no tier or stage history rows).
            initial_tiers(customer, draft.data)
            kind, pool_id = ("created", None) if decision is None else placed_by_rule(customer, decision, now)
            draft.target = customer
            history = owner_change(
                customer,
                from_owner_id="",
                kind=kind,
                reason="导入 / import",
                actor_id=identity.principal_id,
                now=now,
                rule_id=customer.assigned_rule_id or None,
                pool_id=pool_id,
            )
            mobiles = [m for m in map(self.personal.mobile_of, customer.contacts) if m]
            terms.extend(search_term_rows(customer, mobiles, self.personal))
            events.append(self.events.created_row(customer, identity.principal_id, now))
            written.contacts_added += len(customer.contacts)
            created.append(customer)
            batch = [customer, *customer.contacts, history]
            if decision is not None and decision.owner is not None:
                # The rules' next decision must count this customer in its owner's book.
                await insert_new(session, batch)
            else:
                rows.extend(batch)
        # Customers first, then what refers to them.
        await insert_new(session, sorted(rows, key=lambda row: not isinstance(row, Customer)))
        if terms:
            await session.execute(insert(cast(Table, SearchTerm.__table__)), terms)
        await add_events(session, self.events.tables, events)
        written.created += len(created)

    async def _place(
        self, session: AsyncSession, draft: Draft, room: dict[str, int | None], ruleless: Decision | None
    ) -> tuple[tuple[str, str, str], Decision | None] | None:
        """Owner, org unit and path of a new customer (and the rules' decision when they chose),
        or None when it cannot be placed (the draft then says why)."""
        identity = self.identity
        owner_row = next((n for n, _, cells in draft.group.rows if cells.get("owner")), draft.group.first_row)
        if identity.role is Role.SALES or draft.owner is not None:
            if draft.owner is not None:
                owner = draft.owner
                placement = (owner.user_id, owner.org_unit_id, owner.org_path)
                vouched = replace(identity, placement=Placement(*placement))
                try:
                    check_placement(vouched, *placement)
                except DomainError as exc:
                    draft.error(owner_row, "owner", "owner_not_allowed", chinese_first(exc.message))
                    draft.outcome = "skip"
                    return None
            else:
                placement = (identity.principal_id, identity.org_unit_id, identity.org_path)
            left = room.get(placement[0])
            if left is not None:
                if left <= 0:
                    cap = CustomerCapReached(0, "owner")
                    draft.error(owner_row, "owner", cap.code, "负责人的客户保有量已达上限 / the owner is at their cap")
                    draft.outcome = "skip"
                    return None
                room[placement[0]] = left - 1
            return placement, None
        assert draft.data is not None
        decision = ruleless or await decide(
            session,
            tenant_id=identity.tenant_id,
            facts=facts_of_customer(draft.data),
            fallback_org_path=identity.org_path,
            take_turn=True,
        )
        try:
            return placement_by_rule(identity, decision), decision
        except DomainError as exc:
            draft.error(owner_row, "owner", "no_assignee", chinese_first(exc.message))
            draft.outcome = "skip"
            return None

    async def _update(self, session: AsyncSession, draft: Draft, now: dt.datetime, written: Written) -> None:
        assert draft.target is not None
        first = draft.group.first_row
        try:
            async with session.begin_nested():
                if draft.changes:
                    await update_customer(
                        session,
                        identity=self.identity,
                        customer_id=draft.target.id,
                        changes=dict(draft.changes),
                        expected_version=0,
                        events=self.events,
                        personal=self.personal,
                        now=now,
                        reason="导入 / import",
                    )
                for contact in draft.new_contacts:
                    await create_contact(
                        session,
                        identity=self.identity,
                        customer_id=draft.target.id,
                        data=contact,
                        events=self.events,
                        personal=self.personal,
                        now=now,
                    )
        except DomainError as exc:
            column = (exc.field or "").removeprefix("customer.").split("[", 1)[0]
            draft.error(first, column, "not_editable", chinese_first(exc.message))
            draft.outcome = "skip"
            return
        written.updated += 1
        written.contacts_added += len(draft.new_contacts)
