"""Judging an import file's customers: each customer's rows read into a draft, checked by the
customer service's own validation (`customers.validation.customer_input`, the tenant's types,
product lines and custom fields, `contacts.validation.refuse_repeats_within`), its owner looked
up in the directory copy, and its duplicates found within the file and among existing customers.
Both passes judge the same way; the dry run stops there, the import then writes (imports.writing).

Every problem names its row and column, in Chinese first. A validation error stops at the first
bad field, so a draft is validated again with that field blanked until it passes: every bad
field of a row is reported, with the one message the service would have given for it."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from google.protobuf.struct_pb2 import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.closures.models import REASON_LABELS, ClosureRange, CustomerClosure
from crm_customer.closures.service import MAX_CLOSURES
from crm_customer.contacts.models import Contact, ContactInput
from crm_customer.contacts.personal import PersonalData
from crm_customer.contacts.validation import refuse_repeats_within
from crm_customer.customers.models import STAGES, Customer, CustomerInput
from crm_customer.customers.service import duplicate_refusal, scope_condition
from crm_customer.customers.validation import MAX_CONTACTS, SOURCES, TIERS, customer_input
from crm_customer.directory.models import DirectoryUser
from crm_customer.directory.service import OWNER_ROLES
from crm_customer.imports.models import ImportMark
from crm_customer.imports.sections import (
    CUSTOMER_COLUMNS,
    SECTIONS,
    SOURCE_WORDS,
    STAGE_WORDS,
    TIER_WORDS,
    YES_WORDS,
    Layout,
    choices,
    iso_date_text,
    split_list,
    word_of,
)
from crm_customer.licences.models import Licence, LicenceInput
from crm_customer.licences.service import MAX_LICENCES, licence_kinds
from crm_customer.search.service import CustomerTerms
from crm_customer.tenant_settings.custom_fields import FieldDefinition, check_values
from crm_customer.tenant_settings.service import check_customer_type, check_product_lines
from crmkit.clock import shanghai_date
from crmkit.errors import AlreadyExists, DomainError, InvalidArgument
from crmkit.identity import DataScope, Identity, Role

CUSTOMER_KEYS = tuple(c.key for c in CUSTOMER_COLUMNS)
CONTACT_FIELDS = {
    "name": "contact_name",
    "mobile": "contact_mobile",
    "wechat_id": "contact_wechat",
    "email": "contact_email",
    "decision_role": "contact_role",
    "title": "contact_title",
    "primary": "contact_primary",
}
ADDRESS_FIELDS = {"province": "province", "city": "city", "district": "district", "detail": "detail"}
PLACEHOLDER = "-"
_CONTACT_PATH = re.compile(r"^customer\.contacts\[(\d+)\]\.(\w+)$")


@dataclass
class Finding:
    row: int
    column: str  # a column key ("contact_mobile", "custom:settlement") or "" for the whole row
    code: str
    reason: str
    severity: str = "error"
    existing_id: str = ""
    existing_name: str = ""
    existing_visible: bool = False


@dataclass
class Group:
    """One customer's consecutive rows: (row number, the row's cells as read, its cells by key)."""

    rows: list[tuple[int, list[str], dict[str, str]]]
    credit_code: str
    name: str

    @property
    def first_row(self) -> int:
        return self.rows[0][0]

    @property
    def last_row(self) -> int:
        return self.rows[-1][0]


@dataclass
class Draft:
    group: Group
    findings: list[Finding] = field(default_factory=list)
    data: CustomerInput | None = None
    # The rows each contact of `data` came from.
    contact_rows: list[int] = field(default_factory=list)
    # The columns the file filled for this customer (an update changes only those).
    given: set[str] = field(default_factory=set)
    owner_text: str = ""
    owner: DirectoryUser | None = None
    # History from the file for a new customer: since when its owner has had it, and its last
    # follow-up (the revisit and pool clocks count from them).
    owner_since: dt.date | None = None
    last_follow_up: dt.date | None = None
    # create, update, unchanged or skip (set by `against_existing`).
    outcome: str = ""
    target: Customer | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    new_contacts: list[ContactInput] = field(default_factory=list)
    # The tenant's required custom fields the file leaves empty: a problem if it creates.
    missing_required: list[FieldDefinition] = field(default_factory=list)
    # The licences and closures the rows give, each with its row; those an existing customer
    # does not hold yet (an update adds them).
    licences: list[tuple[int, LicenceInput]] = field(default_factory=list)
    closures: list[tuple[int, ClosureRange]] = field(default_factory=list)
    new_licences: list[LicenceInput] = field(default_factory=list)
    new_closures: list[ClosureRange] = field(default_factory=list)
    # Its search terms and pinyin, worked out ahead by the import pass (imports.job) for a
    # customer it may create.
    search: CustomerTerms | None = None

    @property
    def rejected(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def error(self, row: int, column: str, code: str, reason: str, **existing: Any) -> None:
        self.findings.append(Finding(row, column, code, chinese_first(reason), **existing))


def chinese_first(reason: str) -> str:
    """Validation messages read "english / 中文"; the import's report leads with the Chinese."""
    english, sep, chinese = reason.partition(" / ")
    if sep and english.isascii() and not chinese.isascii():
        return f"{chinese} / {english}"
    return reason


def normalise_name(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalise_code(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().upper()


def groups(rows: Iterable[tuple[int, list[str]]], layout: Layout) -> Iterator[Group]:
    """The file's customers, each its consecutive rows (see `imports.sections`); blank rows are
    skipped."""
    current: Group | None = None
    for number, values in rows:
        if not any(values):
            continue
        cells = layout.cells(values)
        credit, name = normalise_code(cells.get("credit_code", "")), normalise_name(cells.get("name", ""))
        if current is not None and _continues(current, credit, name):
            current.rows.append((number, values, cells))
            continue
        if current is not None:
            yield current
        current = Group(rows=[(number, values, cells)], credit_code=credit, name=name)
    if current is not None:
        yield current


def _continues(group: Group, credit: str, name: str) -> bool:
    if not credit and not name:
        return True
    if name and name != group.name:
        return False
    return not credit or credit == group.credit_code or (not group.credit_code and name == group.name)


@dataclass
class FileRegistry:
    """What earlier customers of the file used, by first row: a later customer with the same
    credit code, name (without a credit code), mobile or WeChat id is a duplicate within the file."""

    credit_codes: dict[str, int] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)
    mobiles: dict[str, int] = field(default_factory=dict)
    wechat_ids: dict[str, int] = field(default_factory=dict)


class Checker:
    """Judges the customers of one pass of one import, as the importer."""

    def __init__(
        self,
        *,
        identity: Identity,
        layout: Layout,
        definitions: Sequence[FieldDefinition],
        personal: PersonalData,
        sha256: str,
        update_existing: bool,
        now: dt.datetime,
    ) -> None:
        self.identity = identity
        self.layout = layout
        self.definitions = {d.key: d for d in definitions}
        self.definition_list = list(definitions)
        self.optional_definitions = [replace(d, required=False) for d in definitions]
        self.personal = personal
        self.sha256 = sha256
        self.update_existing = update_existing
        self.now = now
        self.registry = FileRegistry()
        self._tenant_checks: dict[tuple[str, str], str] = {}
        self._owners: dict[str, tuple[DirectoryUser | None, str]] = {}
        self._licence_kinds: list[str] | None = None

    # ------------------------------------------------------------------ reading and validation

    def read(self, group: Group) -> Draft:
        """The customer's rows as a validated draft with every problem the rows alone show, and
        its duplicates within the file (the registry remembers it for later customers)."""
        draft = Draft(group=group)
        values, origin = self._customer_values(draft)
        message = self._customer_message(draft, values, origin)
        contacts: list[pb.Contact] = []
        for number, _, cells in group.rows:
            for section in SECTIONS:
                problems: list[tuple[str, str, str]] = []
                item = section.read(cells, number, problems)
                for key, code, reason in problems:
                    draft.error(number, key, code, reason)
                if item is None:
                    continue
                if section.key == "contacts":
                    contacts.append(item)
                    draft.contact_rows.append(number)
                elif section.key == "licences":
                    draft.licences.append((number, item))
                else:
                    draft.closures.append((number, item))
        message.contacts.extend(contacts)
        draft.owner_text = values.get("owner", "")
        self._history_dates(draft, values, origin)
        self._within_customer(draft)
        self._validate(draft, message, origin)
        self._within_file(draft)
        return draft

    def _history_dates(self, draft: Draft, values: dict[str, str], origin: dict[str, int]) -> None:
        """负责起始日期 and 最近跟进日期: dates, not after today, the follow-up not before the
        owner got the customer."""
        today = shanghai_date(self.now)
        dates: dict[str, dt.date] = {}
        for key in ("owner_since", "last_follow_up"):
            text = values.get(key, "")
            if not text:
                continue
            try:
                day = dt.date.fromisoformat(iso_date_text(text))
            except ValueError:
                draft.error(origin[key], key, "invalid_date", "须为日期，如 2026-03-01 / must be a date (YYYY-MM-DD)")
                continue
            if day > today:
                draft.error(origin[key], key, "future_date", "不能晚于今天 / must not be after today")
                continue
            dates[key] = day
        since, followed = dates.get("owner_since"), dates.get("last_follow_up")
        if since is not None and followed is not None and followed < since:
            draft.error(
                origin["last_follow_up"],
                "last_follow_up",
                "before_owner_since",
                "不能早于负责起始日期 / must not be before the owner-since date",
            )
            followed = None
        draft.owner_since, draft.last_follow_up = since, followed

    def _within_customer(self, draft: Draft) -> None:
        """One customer's licences and closures among themselves: a licence given twice, closures
        that overlap (a customer's closures never do), more than a customer may keep."""
        seen: dict[tuple[str, str], int] = {}
        for number, licence in draft.licences:
            earlier = seen.setdefault((licence.kind, licence.number), number)
            if earlier != number:
                draft.error(
                    number, "licence_number", "duplicate_in_file", f"与第{earlier}行的证照重复 / repeats row {earlier}"
                )
        ordered = sorted(draft.closures, key=lambda pair: (pair[1].start_date, pair[0]))
        for (before_row, before), (number, later) in itertools.pairwise(ordered):
            if later.start_date <= before.end_date:
                first = min(number, before_row)
                draft.error(
                    max(number, before_row),
                    "closure_start",
                    "closure_overlap",
                    f"与第{first}行的停工时段重叠 / overlaps the closure of row {first}",
                )
        for items, limit, column, what in (
            (draft.licences, MAX_LICENCES, "licence_number", "份证照"),
            (draft.closures, MAX_CLOSURES, "closure_start", "条停工记录"),
        ):
            if len(items) > limit:
                draft.error(
                    items[limit][0], column, "invalid", f"每个客户最多{limit}{what} / at most {limit} per customer"
                )

    def _customer_values(self, draft: Draft) -> tuple[dict[str, str], dict[str, int]]:
        """The customer's columns, each from the first row that fills it; a later row with
        another value is inconsistent."""
        values: dict[str, str] = {}
        origin: dict[str, int] = {}
        for number, _, cells in draft.group.rows:
            for key, value in cells.items():
                if key not in CUSTOMER_KEYS and not key.startswith("custom:"):
                    continue
                same = normalise_code(value) if key == "credit_code" else value
                if key not in values:
                    values[key], origin[key] = same, number
                elif values[key] != same:
                    draft.error(
                        number,
                        key,
                        "inconsistent",
                        f"与本客户第{origin[key]}行不一致 / differs from row {origin[key]} of this customer",
                    )
        draft.given = set(values)
        return values, origin

    def _customer_message(self, draft: Draft, values: dict[str, str], origin: dict[str, int]) -> pb.Customer:
        message = pb.Customer(
            name=values.get("name", ""),
            short_name=values.get("short_name", ""),
            type=values.get("type", ""),
            credit_code=values.get("credit_code", ""),
            contract_start=iso_date_text(values.get("contract_start", "")),
            contract_end=iso_date_text(values.get("contract_end", "")),
            tags=split_list(values.get("tags", "")),
            product_lines=split_list(values.get("product_lines", "")),
        )
        if any(values.get(key) for key in ADDRESS_FIELDS):
            message.addresses.append(pb.Address(**{f: values.get(k, "") for f, k in ADDRESS_FIELDS.items()}))
        for key, words, stored in (
            ("tier", TIER_WORDS, TIERS),
            ("lifecycle_stage", STAGE_WORDS, STAGES.words),
            ("source", SOURCE_WORDS, SOURCES),
        ):
            if not values.get(key):
                continue
            word = word_of(values[key], words, stored)
            if word is None:
                draft.error(origin[key], key, "unknown_value", f"须为{choices(words)}之一 / not one of the choices")
            elif key == "lifecycle_stage":
                message.lifecycle_stage = STAGES.to_proto(word)  # type: ignore[assignment]
            else:
                setattr(message, key, word)
        custom: dict[str, Any] = {}
        for key, value in values.items():
            if key.startswith("custom:"):
                custom[key.removeprefix("custom:")] = self._custom_value(key.removeprefix("custom:"), value)
        if custom:
            message.custom_fields.CopyFrom(_struct(custom))
        return message

    def _custom_value(self, key: str, value: str) -> Any:
        definition = self.definitions.get(key)
        if definition is None or definition.type in ("text", "choice"):
            return value
        if definition.type == "date":
            return iso_date_text(value)
        if definition.type == "boolean":
            return YES_WORDS.get(value.upper(), value)
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        return int(number) if number.is_integer() else number

    def _validate(self, draft: Draft, message: pb.Customer, origin: dict[str, int]) -> None:
        """`customer_input` and the tenant-independent checks, again and again with each bad
        field blanked, so every bad field is reported once."""
        seen: set[str] = set()
        for _ in range(64):
            try:
                data = customer_input(message)
                custom = check_values(self.optional_definitions, dict(data.custom_fields))
                refuse_repeats_within(data.contacts)
            except (InvalidArgument, AlreadyExists) as exc:
                path = exc.field or ""
                if path in seen:
                    return
                seen.add(path)
                row, column = self._place(path, draft, origin)
                reason = exc.reason if isinstance(exc, InvalidArgument) else exc.message.split(" / ")[0]
                if isinstance(exc, AlreadyExists):
                    reason = "同一客户的联系人重复 / repeated within this customer"
                draft.error(row, column, "required" if "required" in reason else "invalid", reason)
                if not _blank(message, path):
                    return
                continue
            if not draft.rejected:
                draft.data = replace(data, custom_fields=custom)
                # A required custom field binds a new customer; a row updating one may leave it out.
                draft.missing_required = [
                    d for d in self.definition_list if d.required and custom.get(d.key) in (None, "")
                ]
            return

    def _place(self, path: str, draft: Draft, origin: dict[str, int]) -> tuple[int, str]:
        """The row and column a validation error's field came from."""
        first = draft.group.first_row
        match = _CONTACT_PATH.match(path)
        if match:
            index, name = int(match.group(1)), match.group(2)
            return draft.contact_rows[index], CONTACT_FIELDS.get(name, "contact_name")
        if path == "customer.contacts":
            return draft.contact_rows[min(MAX_CONTACTS, len(draft.contact_rows) - 1)], "contact_name"
        key = path.removeprefix("customer.")
        if key.startswith("addresses"):
            key = ADDRESS_FIELDS.get(key.rsplit(".", 1)[-1], "detail")
        elif key.startswith("custom_fields"):
            key = "custom:" + key.removeprefix("custom_fields").lstrip(".")
        else:
            key = key.split("[", 1)[0]
        return origin.get(key, first), key

    def _within_file(self, draft: Draft) -> None:
        group, registry = draft.group, self.registry
        # An invalid credit code already has its problem; repeating it is not another one.
        bad_code = any(f.column == "credit_code" for f in draft.findings)
        if group.credit_code and not bad_code:
            earlier = registry.credit_codes.setdefault(group.credit_code, group.first_row)
            if earlier != group.first_row:
                draft.error(
                    group.first_row,
                    "credit_code",
                    "duplicate_in_file",
                    f"与第{earlier}行的客户重复（同一客户的行须相邻）/ the same customer as row {earlier}",
                )
        elif group.name and not group.credit_code:
            earlier = registry.names.setdefault(group.name, group.first_row)
            if earlier != group.first_row:
                draft.error(
                    group.first_row,
                    "name",
                    "duplicate_in_file",
                    f"与第{earlier}行的客户同名（同一客户的行须相邻）/ the same name as row {earlier}",
                )
        if draft.data is None:
            return
        for contact, number in zip(draft.data.contacts, draft.contact_rows, strict=True):
            for value, seen, column, label in (
                (contact.mobile, registry.mobiles, "contact_mobile", "手机号"),
                (contact.wechat_id, registry.wechat_ids, "contact_wechat", "微信号"),
            ):
                if not value:
                    continue
                earlier = seen.setdefault(value, group.first_row)
                if earlier != group.first_row:
                    draft.error(
                        number,
                        column,
                        "duplicate_in_file",
                        f"{label}与第{earlier}行的客户重复 / also used by the customer of row {earlier}",
                    )

    # ------------------------------------------------------------------ the tenant and directory

    async def check_tenant(self, session: AsyncSession, draft: Draft) -> None:
        """The tenant's customer types and product lines (each value asked once per pass), and
        the owner column through the directory copy."""
        data = draft.data
        if data is None:
            return
        first = draft.group.first_row
        if data.type:
            reason = await self._tenant_check(session, "type", data.type)
            if reason:
                draft.error(first, "type", "unknown_value", reason)
        for value in data.product_lines:
            reason = await self._tenant_check(session, "product_line", value)
            if reason:
                draft.error(first, "product_lines", "unknown_value", reason)
        if draft.licences:
            if self._licence_kinds is None:
                self._licence_kinds = [k.name for k in await licence_kinds(session, tenant_id=self.identity.tenant_id)]
            for number, licence in draft.licences:
                if licence.kind not in self._licence_kinds:
                    draft.error(
                        number,
                        "licence_kind",
                        "unknown_value",
                        f"须为本企业的证照类型之一：{'、'.join(self._licence_kinds)} / unknown licence kind",
                    )
        await self._check_owner(session, draft)
        if draft.rejected:
            draft.data = None

    async def _tenant_check(self, session: AsyncSession, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._tenant_checks:
            tenant = self.identity.tenant_id
            try:
                if kind == "type":
                    await check_customer_type(session, tenant_id=tenant, value=value)
                else:
                    await check_product_lines(session, tenant_id=tenant, values=[value])
                self._tenant_checks[key] = ""
            except InvalidArgument as exc:
                self._tenant_checks[key] = chinese_first(exc.reason)
        return self._tenant_checks[key]

    async def _check_owner(self, session: AsyncSession, draft: Draft) -> None:
        text = draft.owner_text
        if not text:
            return
        if text not in self._owners:
            self._owners[text] = await self._find_owner(session, text)
        user, why = self._owners[text]
        row = next((n for n, _, cells in draft.group.rows if cells.get("owner")), draft.group.first_row)
        if user is None:
            draft.error(row, "owner", "unknown_owner", why)
        elif self.identity.role is Role.SALES and user.user_id != self.identity.principal_id:
            draft.error(row, "owner", "owner_not_allowed", "销售只能导入到自己名下 / reps import into their own book")
        elif self.identity.scope is DataScope.SUBTREE and not user.org_path.startswith(self.identity.org_path):
            draft.error(row, "owner", "owner_not_allowed", "负责人不在你的组织范围内 / outside your org unit")
        else:
            draft.owner = user

    async def _find_owner(self, session: AsyncSession, text: str) -> tuple[DirectoryUser | None, str]:
        tenant = self.identity.tenant_id
        found = list(
            await session.scalars(
                select(DirectoryUser).where(DirectoryUser.tenant_id == tenant, DirectoryUser.username == text)
            )
        ) or list(
            await session.scalars(
                select(DirectoryUser).where(DirectoryUser.tenant_id == tenant, DirectoryUser.display_name == text)
            )
        )
        if not found:
            return None, "找不到该用户（填写用户名或姓名）/ no such user"
        active = [u for u in found if u.active and u.role in OWNER_ROLES]
        if len(active) > 1:
            return None, "有多位同名用户，请填写用户名 / several users have this name; give the username"
        if not active:
            return None, "该用户已停用或不能负责客户 / inactive, or may not own customers"
        return active[0], ""

    # ------------------------------------------------------------------ existing customers

    async def against_existing(self, session: AsyncSession, drafts: Sequence[Draft]) -> None:
        """Each draft's outcome: create, update (a customer the importer may change, matched by
        credit code, else by name), unchanged, or skip — with the existing customer named only
        when the importer may see it. One query per kind of key for the whole batch."""
        live = [d for d in drafts if d.data is not None and not d.rejected]
        for draft in drafts:
            if draft.data is None or draft.rejected:
                draft.outcome = "skip"
        if not live:
            return
        tenant = self.identity.tenant_id
        marked = set(
            await session.scalars(
                select(ImportMark.row_number).where(
                    ImportMark.tenant_id == tenant,
                    ImportMark.sha256 == self.sha256,
                    ImportMark.row_number.in_([d.group.first_row for d in live]),
                )
            )
        )
        by_code: dict[str, Customer] = {}
        codes = [d.data.credit_code for d in live if d.data and d.data.credit_code]
        if codes:
            query = select(Customer).where(Customer.tenant_id == tenant, Customer.credit_code.in_(codes))
            by_code = {c.credit_code or "": c for c in await session.scalars(query)}
        by_name: dict[str, list[Customer]] = {}
        names = [d.data.name for d in live if d.data and not d.data.credit_code]
        if names:
            query = select(Customer).where(Customer.tenant_id == tenant, Customer.name.in_(names))
            for customer in await session.scalars(query):
                by_name.setdefault(customer.name, []).append(customer)
        holders = await self._contact_holders(session, live)
        candidates = {c.id for c in by_code.values()} | {c.id for cs in by_name.values() for c in cs}
        candidates |= {c.id for c in holders.values()}
        readable, writable = await self._access(session, candidates)
        for draft in live:
            if draft.group.first_row in marked:
                draft.error(
                    draft.group.first_row,
                    "",
                    "already_imported",
                    "此前已从同一文件导入 / already imported from this file",
                )
                draft.outcome = "skip"
                continue
            self._judge(draft, by_code, by_name, holders, readable, writable)
        await self._licences_and_closures_held(session, [d for d in live if d.target is not None])

    async def _licences_and_closures_held(self, session: AsyncSession, drafts: Sequence[Draft]) -> None:
        """What an update adds: the licences (by kind and number) and closures (by their days and
        reason) the existing customer does not hold yet; a new closure overlapping one it holds
        is a problem of its row."""
        drafts = [d for d in drafts if d.licences or d.closures]
        if not drafts:
            return
        ids = {d.target.id for d in drafts if d.target is not None}
        query = select(Licence.customer_id, Licence.kind, Licence.number).where(Licence.customer_id.in_(ids))
        held_licences = {(customer_id, kind, number) for customer_id, kind, number in await session.execute(query)}
        held_closures: dict[str, list[CustomerClosure]] = {}
        for row in await session.scalars(select(CustomerClosure).where(CustomerClosure.customer_id.in_(ids))):
            held_closures.setdefault(row.customer_id, []).append(row)
        for draft in drafts:
            assert draft.target is not None
            target = draft.target
            draft.new_licences = [
                licence
                for _, licence in draft.licences
                if (target.id, licence.kind, licence.number) not in held_licences
            ]
            for number, closure in draft.closures:
                same = [c for c in held_closures.get(target.id, []) if c.start_date <= closure.end_date
                        and c.end_date >= closure.start_date]  # fmt: skip
                if not same:
                    draft.new_closures.append(closure)
                    continue
                held = same[0]
                if (held.start_date, held.end_date, held.reason) != (
                    closure.start_date,
                    closure.end_date,
                    closure.reason,
                ):
                    label = REASON_LABELS.get(held.reason, held.reason)
                    draft.error(
                        number,
                        "closure_start",
                        "closure_overlap",
                        f"与已有的停工{held.start_date}至{held.end_date}（{label}）重叠 / overlaps a closure it has",
                    )
            if draft.rejected:
                draft.outcome, draft.target = "skip", None
            elif draft.outcome == "unchanged" and (draft.new_licences or draft.new_closures):
                draft.outcome = "update"
                for finding in draft.findings:
                    if finding.code == "updates_existing":
                        finding.reason = f"将更新已有客户“{target.name}”"

    async def _contact_holders(self, session: AsyncSession, drafts: Sequence[Draft]) -> dict[str, Customer]:
        """The customers already holding the drafts' mobiles and WeChat ids, by blind index."""
        tenant = self.identity.tenant_id
        indexes: list[str] = []
        for draft in drafts:
            assert draft.data is not None
            for contact in draft.data.contacts:
                if contact.mobile:
                    indexes.append(self.personal.mobile_index(tenant, contact.mobile))
                if contact.wechat_id:
                    indexes.append(self.personal.wechat_index(tenant, contact.wechat_id))
        if not indexes:
            return {}
        found: dict[str, Customer] = {}
        for column in (Contact.mobile_index, Contact.wechat_id_index):
            rows = await session.execute(
                select(column, Customer)
                .join(Customer, Customer.id == Contact.customer_id)
                .where(Contact.tenant_id == tenant, column.in_(indexes))
            )
            for index, customer in rows:
                found[str(index)] = customer
        return found

    async def _access(self, session: AsyncSession, ids: set[str]) -> tuple[set[str], set[str]]:
        if not ids:
            return set(), set()
        readable = set(
            await session.scalars(
                select(Customer.id).where(Customer.id.in_(ids), scope_condition(self.identity, now=self.now))
            )
        )
        writable = set(
            await session.scalars(
                select(Customer.id).where(
                    Customer.id.in_(readable or {""}), scope_condition(self.identity, now=self.now, access="write")
                )
            )
        )
        return readable, writable

    def _judge(
        self,
        draft: Draft,
        by_code: dict[str, Customer],
        by_name: dict[str, list[Customer]],
        holders: dict[str, Customer],
        readable: set[str],
        writable: set[str],
    ) -> None:
        data = draft.data
        assert data is not None
        first = draft.group.first_row
        target: Customer | None = None
        matched_by = "credit_code"
        if data.credit_code:
            target = by_code.get(data.credit_code)
        else:
            same = by_name.get(data.name, [])
            matched_by = "name"
            if len(same) > 1:
                draft.error(
                    first,
                    "name",
                    "duplicate_existing",
                    f"已有{len(same)}个同名客户，请填写统一社会信用代码"
                    " / several customers have this name; give the credit code",
                )
            elif same:
                target = same[0]
        tenant = self.identity.tenant_id
        for contact, number in zip(data.contacts, draft.contact_rows, strict=True):
            keys = []
            if contact.mobile:
                keys.append((self.personal.mobile_index(tenant, contact.mobile), "contact_mobile", "mobile"))
            if contact.wechat_id:
                keys.append((self.personal.wechat_index(tenant, contact.wechat_id), "contact_wechat", "wechat_id"))
            for index, column, field_name in keys:
                holder = holders.get(index)
                if holder is None or (target is not None and holder.id == target.id):
                    continue
                self._duplicate(draft, number, column, holder, field_name, readable)
        if target is not None:
            self._existing(draft, target, matched_by, readable, writable)
        else:
            for definition in draft.missing_required:
                draft.error(first, f"custom:{definition.key}", "required", "必填 / is required")
        if draft.rejected:
            draft.outcome = "skip"
        elif target is None:
            draft.outcome = "create"

    def _duplicate(
        self, draft: Draft, row: int, column: str, holder: Customer, field_name: str, readable: set[str]
    ) -> None:
        seen = holder.id in readable
        refusal = duplicate_refusal(self.identity, holder, field_name, seen=seen)
        draft.error(
            row,
            column,
            "duplicate_existing" if seen else "hidden_duplicate",
            refusal.message,
            existing_id=holder.id if seen else "",
            existing_name=holder.name if seen else "",
            existing_visible=seen,
        )

    def _existing(
        self, draft: Draft, target: Customer, matched_by: str, readable: set[str], writable: set[str]
    ) -> None:
        first = draft.group.first_row
        column = "credit_code" if matched_by == "credit_code" else "name"
        if target.id not in readable:
            self._duplicate(draft, first, column, target, matched_by, readable)
            return
        named: dict[str, Any] = {"existing_id": target.id, "existing_name": target.name, "existing_visible": True}
        if target.archived:
            draft.error(first, column, "not_editable", f"已有客户“{target.name}”已归档 / it is archived", **named)
        elif target.id not in writable:
            draft.error(
                first, column, "not_editable", f"你无权修改已有客户“{target.name}” / you may not change it", **named
            )
        elif not self.update_existing:
            draft.error(first, column, "exists", f"客户“{target.name}”已存在（未选择更新已有客户）/ it exists", **named)
        if draft.rejected:
            return
        draft.target = target
        draft.changes, draft.new_contacts = self._update_of(draft, target)
        if len(target.contacts) + len(draft.new_contacts) > MAX_CONTACTS:
            draft.error(
                draft.contact_rows[-1],
                "contact_name",
                "invalid",
                f"联系人最多{MAX_CONTACTS}个 / at most {MAX_CONTACTS} contacts",
            )
            return
        draft.outcome = "update" if draft.changes or draft.new_contacts else "unchanged"
        verb = "将更新" if draft.outcome == "update" else "与已有客户相同，无需更新："
        draft.findings.append(
            Finding(first, column, "updates_existing", f"{verb}已有客户“{target.name}”", severity="notice", **named)
        )

    def _update_of(self, draft: Draft, target: Customer) -> tuple[dict[str, Any], list[ContactInput]]:
        """The fields the file gives that differ from the customer's (the owner column does not
        move a customer: transfers do), and the contacts it does not have yet."""
        data = draft.data
        assert data is not None
        changes: dict[str, Any] = {}
        for key in ("name", "short_name", "type", "credit_code", "tier", "lifecycle_stage", "source"):
            if key in draft.given and getattr(data, key) != getattr(target, key):
                changes[key] = getattr(data, key)
        for key in ("tags", "product_lines", "contract_start", "contract_end"):
            if key in draft.given and getattr(data, key) != getattr(target, key):
                changes[key] = getattr(data, key)
        if data.addresses and (not target.addresses or target.addresses[0] != data.addresses[0]):
            changes["addresses"] = [data.addresses[0], *(target.addresses or [])[1:]]
        custom = {k: v for k, v in data.custom_fields.items() if (target.custom_fields or {}).get(k) != v}
        if custom:
            changes["custom_fields"] = {**(target.custom_fields or {}), **custom}
        have_mobiles = {c.mobile_index for c in target.contacts if c.mobile_index}
        have_wechats = {c.wechat_id_index for c in target.contacts if c.wechat_id_index}
        have_names = {c.name for c in target.contacts}
        tenant = self.identity.tenant_id
        new_contacts = []
        for contact in data.contacts:
            if contact.mobile and self.personal.mobile_index(tenant, contact.mobile) in have_mobiles:
                continue
            if contact.wechat_id and self.personal.wechat_index(tenant, contact.wechat_id) in have_wechats:
                continue
            if not contact.mobile and not contact.wechat_id and contact.name in have_names:
                continue
            new_contacts.append(contact)
        return changes, new_contacts


def _struct(values: dict[str, Any]) -> Struct:
    message = Struct()
    message.update(values)
    return message


def _blank(message: pb.Customer, path: str) -> bool:
    """Blank the field a validation error named, so validation can go on to the next; False when
    the path is not one we know how to blank (validation then stops at it)."""
    match = _CONTACT_PATH.match(path)
    if match:
        contact = message.contacts[int(match.group(1))]
        name = match.group(2)
        if name == "name":
            contact.name = PLACEHOLDER
        elif name in ("mobile", "wechat_id", "email", "title"):
            setattr(contact, name, "")
        elif name == "decision_role":
            contact.decision_role = pb.DECISION_ROLE_UNSPECIFIED
        else:
            return False
        return True
    if path == "customer.contacts":
        del message.contacts[MAX_CONTACTS:]
        return True
    key = path.removeprefix("customer.")
    if key.startswith("custom_fields"):
        name = key.removeprefix("custom_fields").lstrip(".")
        custom = dict(message.custom_fields.items())
        if name in custom:
            custom.pop(name)
            message.custom_fields.Clear()
            message.custom_fields.update(custom)
            return True
        message.custom_fields.Clear()
        return True
    if key.startswith("addresses"):
        del message.addresses[:]
        return True
    simple: dict[str, Callable[[], None]] = {
        "name": lambda: setattr(message, "name", PLACEHOLDER),
        "short_name": lambda: setattr(message, "short_name", ""),
        "type": lambda: setattr(message, "type", ""),
        "credit_code": lambda: setattr(message, "credit_code", ""),
        "contract_start": lambda: setattr(message, "contract_start", ""),
        "contract_end": lambda: setattr(message, "contract_end", ""),
        "tier": lambda: setattr(message, "tier", ""),
        "source": lambda: setattr(message, "source", ""),
        "lifecycle_stage": lambda: setattr(message, "lifecycle_stage", pb.LIFECYCLE_STAGE_UNSPECIFIED),
    }
    root = key.split("[", 1)[0]
    if root in simple:
        simple[root]()
        return True
    if root in ("tags", "product_lines"):
        del getattr(message, root)[:]
        return True
    return False


__all__ = ["Checker", "DomainError", "Draft", "Finding", "Group", "groups"]
