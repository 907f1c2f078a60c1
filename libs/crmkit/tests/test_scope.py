"""The data-scope rule in SQL: literal values and values bound at execution select the same rows."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from crmkit.identity import Identity, Role
from crmkit.scope import Shares, bound_scope_clause, scope_clause, scope_values, shared_clause

metadata = MetaData()
records = Table(
    "records",
    metadata,
    Column("id", String, primary_key=True),
    Column("tenant_id", String),
    Column("org_path", String),
    Column("owner_id", String),
)

# Paths holding LIKE's wildcards and escape character: a bound pattern must match them literally.
ROWS = [
    ("hq-own", "t1", "/hq/", "rep"),
    ("a-own", "t1", "/hq/a_1/", "rep"),
    ("a-other", "t1", "/hq/a_1/", "colleague"),
    ("a-child", "t1", "/hq/a_1/shop/", "colleague"),
    ("look-alike", "t1", "/hq/ab1/", "colleague"),
    ("percent", "t1", "/hq/a%1/", "colleague"),
    ("slash", "t1", "/hq/a//1/", "colleague"),
    ("other-tenant", "t2", "/hq/a_1/", "rep"),
]


def _visible(clause: object, values: dict[str, str] | None = None) -> set[str]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(records), [dict(zip(("id", "tenant_id", "org_path", "owner_id"), r, strict=True)) for r in ROWS]
        )
        found = connection.execute(select(records.c.id).where(clause), values or {})  # type: ignore[arg-type]
        return set(found.scalars())


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("org_path", ["/hq/", "/hq/a_1/", "/hq/a%1/", "/hq/a//1/"])
def test_bound_scope_selects_what_the_literal_rule_selects(role: Role, org_path: str) -> None:
    caller = Identity(principal_id="rep", tenant_id="t1", org_unit_id="u", org_path=org_path, role=role)
    columns = {"tenant": records.c.tenant_id, "org_path": records.c.org_path, "owner": records.c.owner_id}

    literal = _visible(scope_clause(caller, **columns))
    bound = _visible(bound_scope_clause(caller.scope, **columns), scope_values(caller))

    assert bound == literal
    expected = {r[0] for r in ROWS if r[1] == "t1" and caller.can_see(owner_id=r[3], org_path=r[2])}
    assert bound == expected


def test_subtree_pattern_does_not_treat_underscore_as_a_wildcard() -> None:
    supervisor = Identity(principal_id="s", tenant_id="t1", org_unit_id="u", org_path="/hq/a_1/", role=Role.SUPERVISOR)
    columns = {"tenant": records.c.tenant_id, "org_path": records.c.org_path, "owner": records.c.owner_id}

    seen = _visible(bound_scope_clause(supervisor.scope, **columns), scope_values(supervisor))

    assert seen == {"a-own", "a-other", "a-child"}


shares_table = Table(
    "shares",
    metadata,
    Column("tenant_id", String),
    Column("record_id", String),
    Column("user_id", String),
    Column("expires_at", String, nullable=True),
    Column("access", String),
)
SHARES = Shares(
    record_id=records.c.id,
    tenant=shares_table.c.tenant_id,
    record=shares_table.c.record_id,
    user=shares_table.c.user_id,
    expires_at=shares_table.c.expires_at,
    owned=records.c.owner_id != "",
)
NOW = "2027-01-10"
SHARE_ROWS = [
    ("t1", "a-other", "rep", None, "read"),
    ("t1", "a-child", "rep", "2027-02-01", "write"),
    ("t1", "look-alike", "rep", "2027-01-01", "write"),  # expired before NOW
    ("t1", "percent", "someone-else", None, "write"),
    ("t1", "pooled", "rep", None, "write"),  # the record has no owner: it sits in a pool
    ("t2", "slash", "rep", None, "write"),  # a share row of another tenant
]


def _visible_with_shares(clause: object, values: dict[str, object]) -> set[str]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        columns = ("id", "tenant_id", "org_path", "owner_id")
        connection.execute(insert(records), [dict(zip(columns, r, strict=True)) for r in [*ROWS, POOLED]])
        share_columns = ("tenant_id", "record_id", "user_id", "expires_at", "access")
        connection.execute(insert(shares_table), [dict(zip(share_columns, r, strict=True)) for r in SHARE_ROWS])
        found = connection.execute(select(records.c.id).where(clause), values)  # type: ignore[arg-type]
        return set(found.scalars())


POOLED = ("pooled", "t1", "/hq/a_1/", "")
REP = Identity(principal_id="rep", tenant_id="t1", org_unit_id="u", org_path="/hq/a_1/", role=Role.SALES)
COLUMNS = {"tenant": records.c.tenant_id, "org_path": records.c.org_path, "owner": records.c.owner_id}


def test_a_rep_also_sees_owned_records_shared_with_them_until_the_share_expires() -> None:
    literal = _visible_with_shares(scope_clause(REP, **COLUMNS, shares=SHARES, now=NOW), {})  # type: ignore[arg-type]
    bound = _visible_with_shares(
        bound_scope_clause(REP.scope, **COLUMNS, shares=SHARES),
        scope_values(REP, now=NOW),  # type: ignore[arg-type]
    )

    assert literal == bound == {"hq-own", "a-own", "a-other", "a-child"}


def test_only_narrows_the_shares_that_count() -> None:
    writable = replace(SHARES, only=shares_table.c.access == "write")

    seen = _visible_with_shares(scope_clause(REP, **COLUMNS, shares=writable, now=NOW), {})  # type: ignore[arg-type]

    assert seen == {"hq-own", "a-own", "a-child"}


def test_shares_change_nothing_for_wider_scopes() -> None:
    supervisor = replace(REP, role=Role.SUPERVISOR)

    seen = _visible_with_shares(scope_clause(supervisor, **COLUMNS, shares=SHARES), {})

    assert seen == {"a-own", "a-other", "a-child", "pooled"}


def test_a_rule_with_shares_refuses_to_judge_them_without_a_moment() -> None:
    with pytest.raises(ValueError, match="now"):
        scope_clause(REP, **COLUMNS, shares=SHARES)


def test_can_see_counts_a_share_only_on_an_owned_record() -> None:
    assert REP.can_see(owner_id="colleague", org_path="/hq/x/", shared=True)
    assert not REP.can_see(owner_id="colleague", org_path="/hq/x/")
    assert not REP.can_see(owner_id="", org_path="/hq/x/", shared=True)


def test_the_shared_clause_selects_the_shared_records_someone_else_owns() -> None:
    own = _visible_with_shares(scope_clause(REP, **COLUMNS), {})
    shared = _visible_with_shares(
        shared_clause(REP, tenant=records.c.tenant_id, owner=records.c.owner_id, shares=SHARES, now=NOW),  # type: ignore[arg-type]
        {},
    )

    assert own == {"hq-own", "a-own"}
    assert shared == {"a-other", "a-child"}
