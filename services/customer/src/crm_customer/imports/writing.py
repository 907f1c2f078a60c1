"""The import's writes for one batch of judged customers, in the batch's transaction.

New customers are built by `customers.service.new_customer` and placed as a create places them
(a named owner vouched for by the directory copy and checked by `check_placement`, the rules
when the owner column is empty, a rep's own book), then written a batch at a time: the rows and
their contacts in one flush, their search terms and `customer_created` events each in one
INSERT, the owner, stage and tier history beside them, and the file's licences and closures with
their `licence_recorded` and `closure_scheduled` — what `create_customer` and the licence and
closure creates write, without a round trip per customer. Caps hold as in a create: the named
owners' books are held for the transaction and each new customer takes a place. Updates go
through `customers.service.update_customer` and `contacts.service.create_contact` (and
`create_licence`, `create_closure` for what it does not hold yet) one customer at a time (each
in a savepoint, so one refusal skips that customer only), publishing their usual events."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any, cast

from google.protobuf.message import Message
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2
from crm_customer.assignment.rules import facts_of_customer
from crm_customer.assignment.service import Decision, decide, nearest_pool, rules_of
from crm_customer.closures.events import ClosureEvents
from crm_customer.closures.models import ClosureRange, CustomerClosure, closure_to_proto
from crm_customer.closures.service import create_closure
from crm_customer.contacts.personal import PersonalData
from crm_customer.contacts.service import create_contact
from crm_customer.customers.events import CustomerEvents, about_customer
from crm_customer.customers.models import Customer
from crm_customer.customers.service import (
    SET_AT_CREATION,
    check_placement,
    initial_tiers,
    new_customer,
    placed_by_rule,
    placement_by_rule,
    update_customer,
)
from crm_customer.imports.checking import Draft, chinese_first
from crm_customer.imports.models import ImportMark
from crm_customer.licences.events import LicenceEvents
from crm_customer.licences.models import NOTICE_NONE, Licence, LicenceInput, licence_to_proto, next_notice_on
from crm_customer.licences.service import create_licence
from crm_customer.ownership.service import CustomerCapReached, caps_of, held_by, hold_books, owner_change
from crm_customer.revisits.job import start_of
from crm_customer.search.models import SearchTerm
from crm_customer.search.service import (
    SEARCH_TERM_COLUMNS,
    CustomerTerms,
    SearchTermRecord,
    customer_terms,
    search_term_records,
)
from crm_customer.stages.service import stage_change_row
from crm_customer.tiers.rules import tier_change_row
from crmkit.clock import shanghai_date
from crmkit.db import insert_new, insert_records, insert_rows, new_rows
from crmkit.errors import DomainError
from crmkit.events import outbox_row
from crmkit.identity import Identity, Placement, Role
from crmkit.ids import time_ordered_id


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
        await insert_rows(session, cast(Table, ImportMark.__table__), marks)
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
        terms: list[SearchTermRecord] = []
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
                # Time-ordered: the search-term indexes (keyed by term, then customer) take each
                # batch's customers at the end of each term's run instead of all over it.
                customer_id=time_ordered_id(),
            )
            # The file's history: since when the owner has had it, and its last follow-up.
            if draft.owner_since is not None and customer.owner_id:
                customer.owned_since = start_of(draft.owner_since)
            if draft.last_follow_up is not None:
                customer.last_interaction_at = start_of(draft.last_follow_up)
            # The file's tier or grade is a manual value, kept in its history as a create keeps it.
            moves = initial_tiers(customer, draft.data)
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
            terms.extend(search_term_records(customer, draft.search or self.terms_of(draft)))
            events.append(self.events.created_row(customer, identity.principal_id, now))
            written.contacts_added += len(customer.contacts)
            created.append(customer)
            actor = identity.principal_id
            batch: list[Any] = [customer, *customer.contacts, history]
            batch.append(stage_change_row(customer, from_stage="", actor_id=actor, now=now))
            batch.extend(tier_change_row(customer, m, reason=SET_AT_CREATION, actor_id=actor, now=now) for m in moves)
            for _, licence_data in draft.licences:
                licence = self._licence(customer, licence_data, now)
                batch.append(licence)
                message = events_pb2.LicenceRecorded(
                    **about_customer(customer), licence=licence_to_proto(licence, shanghai_date(now)), created=True
                )
                events.append(self._event_row(message, customer, now))
            for _, closure_data in draft.closures:
                closure = self._closure(customer, closure_data, now)
                batch.append(closure)
                scheduled = events_pb2.ClosureScheduled(**about_customer(customer), closure=closure_to_proto(closure))
                events.append(self._event_row(scheduled, customer, now))
            if decision is not None and decision.owner is not None:
                # The rules' next decision must count this customer in its owner's book.
                await insert_new(session, batch)
            else:
                rows.extend(batch)
        # Customers first, then what refers to them; COPY on PostgreSQL.
        for table, table_rows in new_rows(sorted(rows, key=lambda row: not isinstance(row, Customer))).items():
            await insert_rows(session, table, table_rows)
        # In the primary key's order: a b-tree takes keys in order far faster than scattered, and
        # these are most of what an import writes (about 50 per customer).
        # The records' first four fields are the key, so plain tuple order is the key's order.
        terms.sort()
        await insert_records(session, cast(Table, SearchTerm.__table__), SEARCH_TERM_COLUMNS, terms)
        await insert_rows(session, self.events.tables.outbox, events)
        written.created += len(created)

    def terms_of(self, draft: Draft) -> CustomerTerms:
        """A new customer's search terms and pinyin, from its draft: the import pass works them
        out ahead (imports.job), while the database is still writing the batch before."""
        assert draft.data is not None
        # The mobiles as the file gave them (validated), rather than opened again from the seals.
        mobiles = [c.mobile for c in draft.data.contacts if c.mobile]
        return customer_terms(self.identity.tenant_id, draft.data, mobiles, self.personal)

    def _licence(self, customer: Customer, data: LicenceInput, now: dt.datetime) -> Licence:
        return Licence(
            id=str(uuid.uuid4()),
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            kind=data.kind,
            number=data.number,
            issuer=data.issuer,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            attachment_id="",
            notes=data.notes,
            version=1,
            created_by=self.identity.principal_id,
            created_at=now,
            updated_at=now,
            # The expiry job's notices start as for any new licence.
            notice_stage=NOTICE_NONE,
            next_notice_on=next_notice_on(data.valid_until, NOTICE_NONE),
        )

    def _closure(self, customer: Customer, data: ClosureRange, now: dt.datetime) -> CustomerClosure:
        return CustomerClosure(
            id=str(uuid.uuid4()),
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            start_date=data.start_date,
            end_date=data.end_date,
            reason=data.reason,
            note=data.note,
            template_id=None,
            template_range_id=None,
            version=1,
            created_by=self.identity.principal_id,
            created_at=now,
            updated_at=now,
        )

    def _event_row(self, message: Message, customer: Customer, now: dt.datetime) -> dict[str, Any]:
        """An event about a new customer as an outbox row, for the batch's one INSERT."""
        _, row = outbox_row(
            message=message,
            tenant_id=customer.tenant_id,
            org_unit_id=customer.org_unit_id,
            aggregate_id=customer.id,
            aggregate_version=customer.version,
            occurred_at=now,
            actor_id=self.identity.principal_id,
            namespace=self.events.namespace,
        )
        return row

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
                for licence in draft.new_licences:
                    await create_licence(
                        session,
                        identity=self.identity,
                        customer_id=draft.target.id,
                        data=licence,
                        events=LicenceEvents(self.events),
                        now=now,
                    )
                for closure in draft.new_closures:
                    await create_closure(
                        session,
                        identity=self.identity,
                        customer_id=draft.target.id,
                        data=closure,
                        events=ClosureEvents(self.events),
                        now=now,
                    )
        except DomainError as exc:
            column = (exc.field or "").removeprefix("customer.").split("[", 1)[0]
            draft.error(first, column, "not_editable", chinese_first(exc.message))
            draft.outcome = "skip"
            return
        written.updated += 1
        written.contacts_added += len(draft.new_contacts)
