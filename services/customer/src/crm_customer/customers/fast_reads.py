"""GetCustomer and search on PostgreSQL through asyncpg: prepared statements, no ORM.

The busiest reads skip SQLAlchemy's execution layer, which cost more than the queries themselves
(docs/performance.md). Customers load through one statement with their contacts aggregated; the
tenant is matched in SQL and the rest of the data scope by `service.visible`, the rule every
other read uses. Search runs the service's own Core statements on the same pool (`direct`).
SQLite keeps the session path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
from sqlalchemy.engine import URL

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.personal import PersonalData
from crm_customer.customers.models import Customer, customer_to_proto
from crm_customer.customers.service import visible
from crmkit.direct_reads import DirectReads
from crmkit.errors import NotFound
from crmkit.identity import DataScope, Identity

CUSTOMER_ROWS = """
SELECT c.id, c.tenant_id, c.org_unit_id, c.org_path, c.owner_id, c.name, c.short_name, c.type,
       c.credit_code, c.addresses, c.contract_start, c.contract_end, c.tags, c.custom_fields,
       c.lifecycle_stage, c.archived, c.version, c.created_at, c.updated_at, c.last_interaction_at,
       c.next_follow_up_date, c.tier, c.pool_id, c.owned_since, c.first_visit_due,
       c.product_lines, c.source, c.assigned_rule_id,
       c.preferences, c.special_requirements, c.tier_manual, c.tier_automatic, c.grade, c.grade_manual,
       c.grade_automatic, c.parent_customer_id, c.latitude, c.longitude,
       ARRAY(SELECT k FROM contacts k WHERE k.customer_id = c.id ORDER BY k.created_at, k.position, k.id) AS contacts
FROM customers c
"""
CUSTOMER_BY_ID = CUSTOMER_ROWS + "WHERE c.id = $1 AND c.tenant_id = $2"
# A search page: the ids were found under the caller's scope; archived ones drop out here too.
CUSTOMERS_BY_IDS = CUSTOMER_ROWS + "WHERE c.id = ANY($1::varchar[]) AND c.tenant_id = $2 AND NOT c.archived"
# Which of these customers are shared with the caller now (collaborators/models.py, READ_SHARES).
SHARED_WITH = """
SELECT customer_id FROM customer_collaborators
WHERE customer_id = ANY($1::varchar[]) AND tenant_id = $2 AND user_id = $3 AND (expires_at IS NULL OR expires_at > $4)
"""


def _customer_of(row: asyncpg.Record) -> Customer:
    values = dict(row)
    values["contacts"] = [SimpleNamespace(**dict(contact)) for contact in values["contacts"]]
    return cast(Customer, SimpleNamespace(**values))


async def _json_codec(connection: asyncpg.Connection[Any]) -> None:
    await connection.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class FastCustomerReads:
    """Customer reads on an asyncpg pool opened on first use and closed with the runtime."""

    def __init__(self, url: URL, personal: PersonalData, *, size: int = 10) -> None:
        self.direct = DirectReads(url, size=size, init=_json_codec)
        self._personal = personal

    async def get(self, identity: Identity, customer_id: str, now: dt.datetime) -> pb.Customer:
        pool = await self.direct.pool()
        row = await pool.fetchrow(CUSTOMER_BY_ID, customer_id, identity.tenant_id)
        if row is None:
            raise NotFound("customer", customer_id)
        customer = _customer_of(row)
        if not await self._visible(identity, [customer], now):
            raise NotFound("customer", customer_id)
        return customer_to_proto(customer, self._personal)

    async def get_many(self, identity: Identity, customer_ids: Sequence[str], now: dt.datetime) -> list[pb.Customer]:
        """The caller's unarchived customers among these ids, in the given order."""
        if not customer_ids:
            return []
        pool = await self.direct.pool()
        rows = await pool.fetch(CUSTOMERS_BY_IDS, list(customer_ids), identity.tenant_id)
        customers = list(map(_customer_of, rows))
        visible_ones = {c.id: c for c in await self._visible(identity, customers, now)}
        return [customer_to_proto(visible_ones[i], self._personal) for i in customer_ids if i in visible_ones]

    async def _visible(self, identity: Identity, customers: list[Customer], now: dt.datetime) -> list[Customer]:
        """Those the caller may see: by the rule every read uses, asking about shares only for
        the customers a sales rep does not own."""
        unowned = [c.id for c in customers if not visible(identity, c)]
        shared: set[str] = set()
        if unowned and identity.scope is DataScope.OWN:
            pool = await self.direct.pool()
            rows = await pool.fetch(SHARED_WITH, unowned, identity.tenant_id, identity.principal_id, now)
            shared = {row[0] for row in rows}
        return [c for c in customers if visible(identity, c, shared=c.id in shared)]

    async def close(self) -> None:
        await self.direct.close()
