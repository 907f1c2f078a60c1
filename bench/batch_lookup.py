"""Batch recall benchmark: LookupBatch p50/p99 on N order lines' batches (default 10 M).

Fills an order database on PostgreSQL (a throwaway server unless CRM_TEST_DATABASE_URL) with N
rows of `order_line_batches`, generated in SQL by generate_series: batches of one product each,
every batch reaching 10–200 customers (one line per customer, so 105 on average) out of 100 000
customers owned by 50 reps, dispatched over three years; and the order service's customer facts
for those customers. Then starts the order service on it and looks batches up over gRPC at a few
concurrent requests, as the tenant's admin (every customer of the batch) and as one rep (their
own customers: the scope join), printing p50/p99 and the plan of one lookup. Target (issue 13):
p99 < 100 ms on 10 M lines.

The load drops the table's indexes and its foreign key to `orders` while it inserts and builds
the indexes after (a lookup reads only the batch lines and the customer facts, never `orders`;
the benchmark's lines have no orders behind them). The gateway's view adds the customers'
contacts from the customer service: not measured here (one ListContacts per visible customer,
16 at a time).
Usage: python bench/batch_lookup.py [--lines 10000000] [--duration 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import itertools
import multiprocessing
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import nats
from search import cpu_seconds, drive, plain_dsn

from crm.order.v1 import batches_pb2 as pb
from crm.order.v1 import order_pb2_grpc
from crm_devstack.stack import Stack, StackConfig
from crmkit.bus import ensure_stream
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.infra import provisioned_nats, provisioned_postgres

NAMESPACE = "benchbatches."
CUSTOMERS = 100_000
OWNERS = 50
PRODUCTS = 50
# Batch b reaches 10 + (b * 7919) % 191 customers: 10 to 200, 105 on average.
MEAN_REACH = 105
TENANT = str(uuid.UUID(int=1))
HQ = str(uuid.UUID(int=2))
HQ_PATH = f"/{HQ}/"

# Deterministic ids from numbers, so the SQL that generates rows and the Python that picks
# batches and callers agree: md5 of a tag and the number, read as a UUID.
CUSTOMER_ID = "md5('c' || {n})::uuid::text"
OWNER_ID = "md5('o' || {n})::uuid::text"


def owner_id(n: int) -> str:
    return str(uuid.UUID(hashlib.md5(f"o{n}".encode()).hexdigest()))


def batch_no(b: int) -> str:
    # ~100 batches a day from 2024-01-01, numbered within the day: "B20240315-042".
    day = dt.date(2024, 1, 1) + dt.timedelta(days=b // 100)
    return f"B{day:%Y%m%d}-{b % 100:03d}"


BATCH_NO_SQL = "'B' || to_char(date '2024-01-01' + (b / 100), 'YYYYMMDD') || '-' || lpad((b % 100)::text, 3, '0')"
REACH_SQL = "10 + (b * 7919) % 191"


async def load(dsn: str, lines: int) -> int:
    """The customer facts and about `lines` batch lines; returns the number of batches."""
    batches = max(1, lines // MEAN_REACH)
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.execute(
            f"""
            INSERT INTO customer_facts (tenant_id, customer_id, name, owner_id, org_unit_id, org_path, tier,
                                        archived, requirements, delivery_windows, version)
            SELECT '{TENANT}', {CUSTOMER_ID.format(n="n")}, '压测客户' || n, {OWNER_ID.format(n="n % " + str(OWNERS))},
                   '{HQ}', '{HQ_PATH}', 'normal', false, '[]', '[]', 1
            FROM generate_series(1, {CUSTOMERS}) n
            """
        )
        fk = await connection.fetchval(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'order_line_batches'::regclass AND contype = 'f'"
        )
        if fk:
            await connection.execute(f'ALTER TABLE order_line_batches DROP CONSTRAINT "{fk}"')
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'order_line_batches'"
            " AND indexname NOT LIKE '%_pkey'"
        )
        for row in indexes:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        await connection.execute("ALTER TABLE order_line_batches DROP CONSTRAINT order_line_batches_pkey")
        chunk = max(1, batches // 10)
        for first in range(0, batches, chunk):
            last = min(batches, first + chunk) - 1
            await connection.execute(
                f"""
                INSERT INTO order_line_batches (order_id, line_no, batch_no, tenant_id, customer_id, customer_name,
                    product_id, sku, product_name, unit, quantity_milli, delivery_date, dispatched_at)
                SELECT md5('l' || b || '-' || k)::uuid::text, 1, {BATCH_NO_SQL}, '{TENANT}',
                       {CUSTOMER_ID.format(n="c")}, '压测客户' || c,
                       md5('p' || (b % {PRODUCTS}))::uuid::text, 'SKU-' || (b % {PRODUCTS}),
                       '压测商品' || (b % {PRODUCTS}),
                       '箱', 1000 * (1 + k % 20), date '2024-01-01' + (b / 100) + 1,
                       (date '2024-01-01' + (b / 100))::timestamp AT TIME ZONE 'Asia/Shanghai'
                           + interval '6 hours' + k * interval '1 second'
                FROM generate_series({first}, {last}) b
                CROSS JOIN LATERAL generate_series(1, {REACH_SQL}) k
                CROSS JOIN LATERAL (SELECT 1 + ((b * 131 + k * 7907) % {CUSTOMERS}) AS c) picked
                """
            )
            print(f"  batches {last + 1}/{batches}  {time.perf_counter() - started:.0f} s", flush=True)
        await connection.execute(
            "ALTER TABLE order_line_batches ADD CONSTRAINT order_line_batches_pkey"
            " PRIMARY KEY (order_id, line_no, batch_no)"
        )
        for row in indexes:
            await connection.execute(row["indexdef"])
        await connection.execute("ANALYZE order_line_batches")
        await connection.execute("ANALYZE customer_facts")
        total = await connection.fetchval("SELECT count(*) FROM order_line_batches")
        print(f"loaded {total} lines in {batches} batches in {time.perf_counter() - started:.0f} s", flush=True)
        return batches
    finally:
        await connection.close()


async def explain(dsn: str, batch: str) -> str:
    """The plan of a lookup as the rep (the scope join), with its timing."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            """
            EXPLAIN (ANALYZE, BUFFERS)
            SELECT l.*, f.owner_id, f.org_unit_id FROM order_line_batches l
            LEFT JOIN customer_facts f ON f.tenant_id = l.tenant_id AND f.customer_id = l.customer_id
            WHERE l.tenant_id = $1 AND l.batch_no = $2 AND f.tenant_id = $1 AND f.owner_id = $3
            ORDER BY l.dispatched_at DESC, l.order_id, l.line_no LIMIT 5001
            """,
            TENANT,
            batch,
            owner_id(0),
        )
        return "\n".join("    " + row[0] for row in rows)
    finally:
        await connection.close()


async def measure(target: str, signer: IdentitySigner, batches: int, args: argparse.Namespace, pid: int) -> None:
    admin = Identity(principal_id=owner_id(1), tenant_id=TENANT, org_unit_id=HQ, org_path=HQ_PATH, role=Role.ADMIN)
    rep = Identity(principal_id=owner_id(0), tenant_id=TENANT, org_unit_id=HQ, org_path=HQ_PATH, role=Role.SALES)
    rng = random.Random(13)
    picks = [batch_no(rng.randrange(batches)) for _ in range(2000)]
    async with grpc.aio.insecure_channel(target) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        for who, caller in (("admin (whole tenant)", admin), ("sales rep (own customers)", rep)):
            md = ((METADATA_KEY, signer.sign(caller)),)
            next_batch = itertools.cycle(picks).__next__
            sizes: list[int] = []

            async def lookup(md: Any = md, next_batch: Any = next_batch, sizes: list[int] = sizes) -> None:
                try:
                    reply = await stub.LookupBatch(
                        pb.LookupBatchRequest(batch_no=next_batch()), metadata=md, timeout=10
                    )
                    sizes.append(len(reply.lines))
                except grpc.aio.AioRpcError as error:
                    # A batch that reached none of the rep's customers is NOT_FOUND: a real answer.
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    sizes.append(0)

            result = await drive(
                f"LookupBatch, {who}",
                lookup,
                concurrency=args.concurrency,
                duration=args.duration,
                processes={"order": pid},
            )
            mean = sum(sizes) / len(sizes) if sizes else 0
            print(result.line() + f"  lines/answer {mean:.1f}  (target p99 < 100 ms)", flush=True)


async def customer_stream(url: str) -> None:
    connection = await nats.connect(url)
    try:
        await ensure_stream(connection.jetstream(), "customer", namespace=NAMESPACE)
    finally:
        await connection.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per caller")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server:
        url = asyncio.run(postgres.create_database("bench_batches"))
        state_dir = Path(tempfile.mkdtemp(prefix="keyuan-batches-"))
        stack = Stack(
            StackConfig(
                state_dir=state_dir,
                nats_url=nats_server.url,
                database_urls={"order": url},
                event_namespace=NAMESPACE,
                log_dir=state_dir / "logs",
            )
        )
        try:
            # The stream the service's customer-facts consumer reads, as the customer service makes it.
            asyncio.run(customer_stream(nats_server.url))
            # The service applies its migrations on start: the rows go into the current schema.
            stack.start(components=("order",), timeout=300)
            print(f"cpus {multiprocessing.cpu_count()}; loading {args.lines} lines", flush=True)
            batches = asyncio.run(load(plain_dsn(url), args.lines))
            signer = IdentitySigner.from_file(state_dir / "keys" / "identity_private.pem")
            pid = stack.processes["order"].pid
            before = cpu_seconds(pid)
            print(f"\nLookupBatch on {args.lines} lines, {args.concurrency} concurrent", flush=True)
            asyncio.run(measure(f"127.0.0.1:{stack.port('order')}", signer, batches, args, pid))
            print(f"  order service CPU over the measurement: {cpu_seconds(pid) - before:.1f} s")
            print("\n  plan of one lookup as the rep:")
            print(asyncio.run(explain(plain_dsn(url), batch_no(batches // 2))))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
