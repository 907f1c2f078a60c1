"""The data-scope rule in SQL: literal values and values bound at execution select the same rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from crmkit.identity import Identity, Role
from crmkit.scope import bound_scope_clause, scope_clause, scope_values

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
