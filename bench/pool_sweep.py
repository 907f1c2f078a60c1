"""Pool sweep benchmark: the customer service's `pool-sweep` job over N customers (default a
million) of which a share (default 10%) is due to go back to the pool, on PostgreSQL, and the
outbox relay publishing the events the returns write, beside raw JetStream publishing measured in
the same run.

Loads the customers straight into a customer database with SQL (every customer owned by one of 50
reps, held for 40 days, tier 一般 (15 days without a follow-up returns it); the due ones never
followed up, the others followed up yesterday; four search terms each: a return leaves a customer's terms alone, so
their number does not change the figures), with one pool at headquarters. Starts the customer service
on it with its test clock control on, moves its clock ten minutes to set the sweep off, and reports:

- the job: from the move until the run finished (its lease row), and customers returned per second;
- job + relay: from the move until the outbox held nothing unpublished (the relay publishes
  while the job still runs, so this is the time a user waits for every event);
- the relay's own rate: the same events written to the outbox again at once (new ids) and timed
  until it has published them all, against raw JetStream: as many messages of the same size
  published by one client with pipelined acks (publish_async, as the relay does) on its own
  stream, the ceiling the relay is compared with.

Target (issue 11): job and relay together under 60 s; the relay at >= 50% of raw publishing.
Usage: python bench/pool_sweep.py [--customers 1000000] [--due 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import nats
from sqlalchemy.engine import make_url

from crm_devstack.stack import Stack, StackConfig
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.clock import advance_service_clock_sync
from crmkit.testing.infra import provisioned_nats, provisioned_postgres

REPS = 50
TERMS_PER_CUSTOMER = 4
NAMESPACE = "benchsweep."

CUSTOMERS_SQL = """
INSERT INTO customers (
    id, tenant_id, org_unit_id, org_path, owner_id, name, short_name, type, credit_code, addresses,
    contract_start, contract_end, tags, custom_fields, lifecycle_stage, archived, version,
    pinyin_full, pinyin_initials, created_at, updated_at, last_interaction_at, next_follow_up_date,
    product_lines, source, tier, pool_enter_kind, pool_enter_reason, owned_since)
SELECT md5($1 || i::text)::uuid::text, $1, $2, $3, 'rep-' || (i % $4::int), '杭州市西湖区第' || i || '号学校食堂', '',
       '学校食堂', NULL, '[]', NULL, NULL, '[]', '{}', 'signed', false, 1,
       'hangzhoushixihuqudi' || i || 'haoxuexiaoshitang', 'hzsxhqdhxxst', $5, $5,
       CASE WHEN i % $6 = 0 THEN NULL ELSE $7::timestamptz END, NULL, '[]', '', 'normal', '', '', $5
FROM generate_series(1, $8) AS i
"""
TERMS_SQL = """
INSERT INTO customer_search_terms (tenant_id, term, rank, customer_id, owner_id)
SELECT c.tenant_id, t.term, t.rank, c.id, c.owner_id
FROM customers c CROSS JOIN (VALUES ('杭州', 1), ('西湖', 1), ('食堂', 1), ('hzs', 3)) AS t(term, rank)
WHERE c.tenant_id = $1
"""


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def load(dsn: str, operator: Identity, total: int, due_every: int) -> str:
    """The customers, their terms and a pool at headquarters; returns the pool's id."""
    connection = await asyncpg.connect(dsn)
    began = time.perf_counter()
    held_since = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    followed_up = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    try:
        await connection.execute(
            CUSTOMERS_SQL,
            operator.tenant_id,
            operator.org_unit_id,
            operator.org_path,
            REPS,
            held_since,
            due_every,
            followed_up,
            total,
        )
        await connection.execute(TERMS_SQL, operator.tenant_id)
        pool_id = str(uuid.uuid4())
        await connection.execute(
            "INSERT INTO pools (id, tenant_id, name, org_unit_id, org_path, requires_approval, rules, version, "
            "created_at, updated_at) VALUES ($1, $2, '总部公海', $3, $4, false, '{}', 1, now(), now())",
            pool_id,
            operator.tenant_id,
            operator.org_unit_id,
            operator.org_path,
        )
        await connection.execute("VACUUM (ANALYZE) customers")
        await connection.execute("VACUUM (ANALYZE) customer_search_terms")
    finally:
        await connection.close()
    print(f"loaded {total} customers ({total // due_every} due) in {time.perf_counter() - began:.0f} s", flush=True)
    return pool_id


async def unpublished(dsn: str) -> tuple[int, int]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow("SELECT count(*) FILTER (WHERE published_at IS NULL), count(*) FROM outbox")
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        await connection.close()


async def sweep_finished_after(dsn: str, moment: dt.datetime) -> dt.datetime | None:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT last_started_at, last_finished_at, last_error FROM job_leases WHERE job_name = 'pool-sweep'"
        )
    finally:
        await connection.close()
    if row is None or row["last_started_at"] is None or row["last_started_at"] < moment:
        return None
    if row["last_error"]:
        raise RuntimeError(f"the sweep failed: {row['last_error']}")
    finished: dt.datetime | None = row["last_finished_at"]
    return finished if finished is not None and finished >= row["last_started_at"] else None


async def relay_drain_rate(dsn: str, events: int) -> float:
    """Events per second the relay publishes from a full outbox: the run's events written again
    (new ids, so the broker stores them anew) in one transaction, timed until all are published."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO outbox (event_id, subject, envelope, created_at, attempts) "
            "SELECT md5(random()::text || seq::text)::uuid::text, subject, envelope, now(), 0 FROM outbox "
            "ORDER BY seq LIMIT $1",
            events,
        )
        began = time.perf_counter()
        while await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.1)
            if time.perf_counter() - began > 600:
                raise RuntimeError("the relay did not drain the outbox within 10 minutes")
        return events / (time.perf_counter() - began)
    finally:
        await connection.close()


async def average_envelope_size(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT avg(length(envelope)) FROM outbox") or 200)
    finally:
        await connection.close()


async def raw_publish(nats_url: str, messages: int, size: int) -> float:
    """Messages per second one client publishes to JetStream with pipelined acks."""
    client = await nats.connect(nats_url)
    js = client.jetstream()
    stream = f"BENCH_RAW_{uuid.uuid4().hex[:8]}"
    subject = f"benchraw.{stream}"
    await js.add_stream(name=stream, subjects=[subject])
    payload = b"x" * size
    try:
        began = time.perf_counter()
        window: list[asyncio.Future[object]] = []
        for index in range(messages):
            window.append(
                await js.publish_async(subject, payload, headers={"Nats-Msg-Id": f"{stream}-{index}"})  # type: ignore[arg-type]
            )
            if len(window) >= 200:
                await asyncio.gather(*window)
                window.clear()
        await asyncio.gather(*window)
        return messages / (time.perf_counter() - began)
    finally:
        await js.delete_stream(stream)
        await client.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--due", type=float, default=0.1, help="share of the customers due to go back")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    due_every = max(1, round(1 / args.due))
    operator = Identity(str(uuid.uuid4()), str(uuid.uuid4()), "bench-hq", "/bench-hq/", Role.ADMIN)
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server:
        url = asyncio.run(postgres.create_database("bench_sweep"))
        dsn = plain_dsn(make_url(url).render_as_string(hide_password=False))
        state_dir = Path(tempfile.mkdtemp(prefix="keyuan-sweep-"))
        stack = Stack(
            StackConfig(
                state_dir=state_dir,
                nats_url=nats_server.url,
                database_urls={"customer": url},
                event_namespace=NAMESPACE,
                log_dir=state_dir / "logs",
                environment={"CRM_CUSTOMER_TEST_CLOCK_CONTROL": "true"},
            )
        )
        try:
            stack.start(components=("customer",), timeout=120)
            asyncio.run(load(dsn, operator, args.customers, due_every))
            signer = IdentitySigner.from_file(state_dir / "keys" / "identity_private.pem")
            moved = advance_service_clock_sync(
                f"127.0.0.1:{stack.port('customer')}",
                dt.timedelta(minutes=10),
                metadata=((METADATA_KEY, signer.sign(operator)),),
            )
            began = time.perf_counter()
            job_seconds = relay_seconds = None
            while relay_seconds is None:
                time.sleep(0.2)
                if job_seconds is None and asyncio.run(sweep_finished_after(dsn, moved)) is not None:
                    job_seconds = time.perf_counter() - began
                    print(f"  the sweep finished after {job_seconds:.1f} s", flush=True)
                if job_seconds is not None:
                    pending, _ = asyncio.run(unpublished(dsn))
                    if pending == 0:
                        relay_seconds = time.perf_counter() - began
                if time.perf_counter() - began > 900:
                    raise RuntimeError("the sweep and relay did not finish within 15 minutes")
            pending, events = asyncio.run(unpublished(dsn))
            returned = args.customers // due_every
            size = asyncio.run(average_envelope_size(dsn))
            drain = asyncio.run(relay_drain_rate(dsn, events))
            raw = asyncio.run(raw_publish(nats_server.url, events, size))
        finally:
            stack.stop()
    assert job_seconds is not None
    print(f"\npool sweep on {args.customers} customers, {returned} due (PostgreSQL)")
    print(f"  job:             {job_seconds:7.1f} s   {returned / job_seconds:8.0f} customers returned/s")
    print(f"  job + relay:     {relay_seconds:7.1f} s   {events} events ({size} bytes on average) published (< 60 s)")
    print(f"  relay, drained:  {drain:9.0f} events/s")
    print(f"  raw JetStream:   {raw:9.0f} messages/s of {size} bytes, pipelined acks")
    print(f"  relay / raw:     {drain / raw:7.0%}   (target >= 50%)")


if __name__ == "__main__":
    main()
