"""GetCustomer and search pages on PostgreSQL through asyncpg: one prepared statement each, no ORM.

The busiest read skips SQLAlchemy's execution layer, which cost more than the query itself
(docs/performance.md). The tenant is matched in SQL and the rest of the data scope by
`service.visible`, the rule every other read uses; SQLite keeps the session path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
from sqlalchemy.engine import URL

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.customers.models import Customer, customer_to_proto
from crm_customer.customers.service import visible
from crmkit.errors import NotFound
from crmkit.identity import Identity

CUSTOMER_ROWS = """
SELECT c.id, c.tenant_id, c.org_unit_id, c.org_path, c.owner_id, c.name, c.short_name, c.type,
       c.credit_code, c.addresses, c.contract_start, c.contract_end, c.tags, c.custom_fields,
       c.lifecycle_stage, c.archived, c.version, c.created_at, c.updated_at,
       ARRAY(SELECT k FROM contacts k WHERE k.customer_id = c.id ORDER BY k.created_at) AS contacts
FROM customers c
"""
CUSTOMER_BY_ID = CUSTOMER_ROWS + "WHERE c.id = $1 AND c.tenant_id = $2"
# A search page: the ids were found under the caller's scope; archived ones drop out here too.
CUSTOMERS_BY_IDS = CUSTOMER_ROWS + "WHERE c.id = ANY($1::varchar[]) AND c.tenant_id = $2 AND NOT c.archived"


def _customer_of(row: asyncpg.Record) -> Customer:
    values = dict(row)
    values["contacts"] = [SimpleNamespace(**dict(contact)) for contact in values["contacts"]]
    return cast(Customer, SimpleNamespace(**values))


async def _json_codec(connection: asyncpg.Connection[Any]) -> None:
    await connection.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(connection: asyncpg.Connection[Any]) -> None:
    """Nothing to undo between uses: these connections only run CUSTOMER_BY_ID, outside any
    transaction, and never set session state. asyncpg's default reset (RESET ALL, CLOSE ALL,
    UNLISTEN, unlock advisory locks) would cost a round trip per GetCustomer."""


class FastCustomerReads:
    """An asyncpg pool opened on first use and closed with the runtime."""

    def __init__(self, url: URL, *, size: int = 10) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = size
        self._pool: asyncpg.Pool[Any] | None = None
        self._opening = asyncio.Lock()

    async def _acquire_pool(self) -> asyncpg.Pool[Any]:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=self._size, init=_json_codec, reset=_keep_session
                )
        return self._pool

    async def get(self, identity: Identity, customer_id: str) -> pb.Customer:
        pool = self._pool or await self._acquire_pool()
        row = await pool.fetchrow(CUSTOMER_BY_ID, customer_id, identity.tenant_id)
        if row is None:
            raise NotFound("customer", customer_id)
        customer = _customer_of(row)
        if not visible(identity, customer):
            raise NotFound("customer", customer_id)
        return customer_to_proto(customer)

    async def get_many(self, identity: Identity, customer_ids: Sequence[str]) -> list[pb.Customer]:
        """The caller's unarchived customers among these ids, in the given order."""
        if not customer_ids:
            return []
        pool = self._pool or await self._acquire_pool()
        rows = await pool.fetch(CUSTOMERS_BY_IDS, list(customer_ids), identity.tenant_id)
        visible_ones = {c.id: c for c in map(_customer_of, rows) if visible(identity, c)}
        return [customer_to_proto(visible_ones[i]) for i in customer_ids if i in visible_ones]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
