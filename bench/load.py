"""Load benchmark: our GetCustomer (gRPC and via the gateway) against bare floors, and search.

Runs against a local stack on PostgreSQL (CRM_TEST_DATABASE_URL, else a throwaway server) and
prints, in one run, throughput and p50/p99 at the chosen concurrency for:
  (a) GetCustomer over gRPC        vs a bare grpc.aio + asyncpg primary-key lookup
  (b) GET /api/v1/customers/{id}   vs a bare FastAPI → grpc.aio → asyncpg chain
  (c) SearchCustomers p50/p99 on --search-customers synthetic customers, by query shape.
Usage: python bench/load.py [--duration 10] [--concurrency 64] [--search-customers 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import grpc
import httpx

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import customer_pb2_grpc
from crm_devstack.stack import Stack, StackConfig, free_port, wait_for_port
from crmkit.cn import make_credit_code, pinyin_full, pinyin_initials, search_terms
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.infra import provisioned_nats, provisioned_postgres

HERE = Path(__file__).resolve().parent
ADMIN_PASSWORD = "bench-admin-2026"
REP_PASSWORD = "bench-rep-2026"


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<44} {self.throughput:>8.0f} req/s  p50 {self.pct(50):>7.1f} ms  "
            f"p99 {self.pct(99):>7.1f} ms  errors {self.errors}"
        )


async def drive(name: str, call: Callable[[], Awaitable[None]], *, concurrency: int, duration: float) -> Result:
    """`concurrency` workers calling back-to-back for `duration` seconds (after a short warm-up)."""
    latencies: list[float] = []
    errors = 0
    stop_at = 0.0

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                await call()
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    stop_at = time.perf_counter() + min(2.0, duration / 5)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.clear()
    errors = 0
    began = time.perf_counter()
    stop_at = began + duration
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), errors, time.perf_counter() - began, latencies)


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def spawn(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, timeout=30, process=process)
    return process


async def seed(stack: Stack, customers: int) -> tuple[Identity, str, list[str]]:
    """Admin hires a rep; the rep creates customers through the gateway. Returns rep identity."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        admin_tokens = (
            await client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        ).json()
        admin = {"Authorization": f"Bearer {admin_tokens['access_token']}"}
        hq = (await client.get("/api/v1/org-units", headers=admin)).json()["items"][0]
        user = (
            await client.post(
                "/api/v1/users",
                headers=admin,
                json={
                    "username": "bench.rep",
                    "display_name": "压测销售",
                    "password": REP_PASSWORD,
                    "role": "sales",
                    "org_unit_id": hq["id"],
                },
            )
        ).json()
        tokens = (
            await client.post("/api/v1/auth/login", json={"username": "bench.rep", "password": REP_PASSWORD})
        ).json()
        rep = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = (await client.get("/api/v1/auth/me", headers=rep)).json()
        gate = asyncio.Semaphore(16)
        ids: list[str] = []

        async def create(index: int) -> None:
            async with gate:
                reply = await client.post(
                    "/api/v1/customers",
                    headers=rep,
                    json={
                        "name": f"上海市浦东新区第{index + 1}实验学校食堂",
                        "type": "学校食堂",
                        "contacts": [{"name": "张伟", "mobile": f"139{index:08d}", "decision_role": "purchaser"}],
                    },
                )
                reply.raise_for_status()
                ids.append(reply.json()["id"])

        await asyncio.gather(*(create(i) for i in range(customers)))
    identity = Identity(
        principal_id=user["id"], tenant_id=me["tenant_id"], org_unit_id=hq["id"], org_path=hq["path"], role=Role.SALES
    )
    return identity, tokens["access_token"], ids


# ------------------------------------------------------------------ synthetic search corpus

CITIES = [
    ("上海市", ["浦东新区", "徐汇区", "静安区", "闵行区"]),
    ("杭州市", ["西湖区", "拱墅区", "滨江区"]),
    ("苏州市", ["姑苏区", "吴中区", "工业园区"]),
    ("北京市", ["海淀区", "朝阳区", "东城区"]),
]
BRANDS = [
    "鲜达",
    "明德",
    "实验",
    "育才",
    "锦江",
    "如家",
    "海底",
    "绿源",
    "金桥",
    "新民",
    "华联",
    "百味",
    "福满",
    "同心",
]
KINDS = [
    ("小学食堂", "学校食堂"),
    ("中学食堂", "学校食堂"),
    ("员工食堂", "企业食堂"),
    ("大酒店", "连锁酒店"),
    ("餐饮管理有限公司", "团膳"),
    ("川菜馆", "中餐"),
    ("西餐厅", "西餐"),
    ("养殖场", "养殖场"),
    ("食品经销部", "经销商"),
]


def synthetic_rows(
    args: tuple[int, int, str, str, str, list[str]],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    start, count, tenant_id, org_unit_id, org_path, owners = args
    rng = random.Random(start)
    customers: list[tuple[Any, ...]] = []
    terms: list[tuple[Any, ...]] = []
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    for index in range(start, start + count):
        city, districts = CITIES[index % len(CITIES)]
        kind, type_ = KINDS[rng.randrange(len(KINDS))]
        name = f"{city}{rng.choice(districts)}{rng.choice(BRANDS)}{kind}{index}号"
        customer_id = str(uuid.UUID(int=rng.getrandbits(128)))
        mobile = f"13{index:09d}"
        code = make_credit_code(f"91310000{index:09d}")
        customers.append(
            (
                customer_id,
                tenant_id,
                org_unit_id,
                org_path,
                owners[index % len(owners)],
                name,
                "",
                type_,
                code,
                "[]",
                None,
                None,
                "[]",
                "{}",
                "signed",
                False,
                1,
                pinyin_full(name)[:600],
                pinyin_initials(name)[:200],
                now,
                now,
            )
        )
        for term, rank in search_terms(name, "", [mobile], code).items():
            terms.append((tenant_id, term, rank, customer_id, owners[index % len(owners)]))
    return customers, terms


async def _drop_indexes(connection: asyncpg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """Drop the tables' keys and indexes for the bulk load; returns the statements that rebuild
    them exactly as the migrations made them. Building an index once after COPY is several
    times faster than maintaining three indexes over 67 M term rows row by row. (Only for
    tables no foreign key points at.)"""
    constraints = await connection.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS definition "
        "FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u')",
        list(tables),
    )
    indexes = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        list(tables),
    )
    for index in indexes:
        await connection.execute(f'DROP INDEX "{index["indexname"]}"')
    for constraint in constraints:
        await connection.execute(f'ALTER TABLE {constraint["tbl"]} DROP CONSTRAINT "{constraint["conname"]}"')
    return [
        *(f'ALTER TABLE {c["tbl"]} ADD CONSTRAINT "{c["conname"]}" {c["definition"]}' for c in constraints),
        *(index["indexdef"] for index in indexes),
    ]


async def load_search_corpus(dsn: str, identity: Identity, total: int) -> None:
    owners = [identity.principal_id] + [str(uuid.uuid4()) for _ in range(49)]
    chunk = 5000
    jobs = [
        (s, min(chunk, total - s), identity.tenant_id, identity.org_unit_id, identity.org_path, owners)
        for s in range(0, total, chunk)
    ]
    connection = await asyncpg.connect(dsn)
    columns = [
        "id",
        "tenant_id",
        "org_unit_id",
        "org_path",
        "owner_id",
        "name",
        "short_name",
        "type",
        "credit_code",
        "addresses",
        "contract_start",
        "contract_end",
        "tags",
        "custom_fields",
        "lifecycle_stage",
        "archived",
        "version",
        "pinyin_full",
        "pinyin_initials",
        "created_at",
        "updated_at",
    ]
    began = time.perf_counter()
    loaded = 0
    rebuild = await _drop_indexes(connection, ("customer_search_terms",))
    with multiprocessing.Pool(2) as pool:
        for customers, terms in pool.imap_unordered(synthetic_rows, jobs):
            await connection.copy_records_to_table("customers", records=customers, columns=columns)
            await connection.copy_records_to_table(
                "customer_search_terms", records=terms, columns=["tenant_id", "term", "rank", "customer_id", "owner_id"]
            )
            loaded += len(customers)
            if loaded % 100000 < chunk:
                print(f"  loaded {loaded} customers ({time.perf_counter() - began:.0f}s)", flush=True)
    print(f"  copied in {time.perf_counter() - began:.0f}s; rebuilding {len(rebuild)} indexes", flush=True)
    await connection.execute("SET maintenance_work_mem = '1GB'")
    for statement in rebuild:
        await connection.execute(statement)
    # What autovacuum gives a table in its steady state: a visibility map, so the index-only
    # scans search relies on do not visit the heap.
    await connection.execute("VACUUM (ANALYZE) customers")
    await connection.execute("VACUUM (ANALYZE) customer_search_terms")
    rows = await connection.fetchval("SELECT count(*) FROM customer_search_terms")
    print(f"  corpus: {total} customers, {rows} search terms, loaded in {time.perf_counter() - began:.0f}s")
    await connection.close()


async def explain(dsn: str, tenant_id: str, term: str) -> str:
    connection = await asyncpg.connect(dsn)
    rows = await connection.fetch(
        "EXPLAIN (ANALYZE, COSTS OFF) SELECT c.* FROM customers c JOIN customer_search_terms t ON t.customer_id = c.id "
        "WHERE t.tenant_id = $1 AND t.term = $2 AND c.tenant_id = $1 AND c.archived = false "
        "ORDER BY t.rank, t.customer_id LIMIT 21",
        tenant_id,
        term,
    )
    await connection.close()
    return "\n".join("    " + r[0] for r in rows)


# ------------------------------------------------------------------ main


async def benchmark(stack: Stack, customer_db: str, args: argparse.Namespace) -> None:
    identity, access_token, ids = await seed(stack, args.customers)
    signer = IdentitySigner.from_file(stack.config.state_dir / "keys" / "identity_private.pem")
    metadata = ((METADATA_KEY, signer.sign(identity)),)
    pick = itertools.cycle(ids).__next__
    results: list[tuple[Result, Result]] = []

    ours = grpc.aio.insecure_channel(f"127.0.0.1:{stack.config.customer_port}")
    stub = customer_pb2_grpc.CustomerServiceStub(ours)

    async def our_get() -> None:
        await stub.GetCustomer(pb.GetCustomerRequest(id=pick()), metadata=metadata, timeout=5)

    floor_grpc_port, floor_http_port = free_port(), free_port()
    floor_grpc = spawn(
        [sys.executable, str(HERE / "floors.py"), "grpc", str(floor_grpc_port), plain_dsn(customer_db)], floor_grpc_port
    )
    floor_http = spawn(
        [sys.executable, str(HERE / "floors.py"), "http", str(floor_http_port), f"127.0.0.1:{floor_grpc_port}"],
        floor_http_port,
    )
    try:
        bare = grpc.aio.insecure_channel(f"127.0.0.1:{floor_grpc_port}")
        bare_stub = customer_pb2_grpc.CustomerServiceStub(bare)

        async def bare_get() -> None:
            await bare_stub.GetCustomer(pb.GetCustomerRequest(id=pick()), timeout=5)

        c, d = args.concurrency, args.duration
        floor_a = await drive("floor: bare grpc.aio + asyncpg", bare_get, concurrency=c, duration=d)
        print(floor_a.line(), flush=True)
        ours_a = await drive("(a) GetCustomer over gRPC", our_get, concurrency=c, duration=d)
        print(ours_a.line(), flush=True)
        results.append((ours_a, floor_a))

        # aiohttp, not httpx, drives HTTP: httpx's pool tops out near 350 req/s here and would
        # measure itself rather than the servers.
        connector = aiohttp.TCPConnector(limit=c)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
            bare_base = f"http://127.0.0.1:{floor_http_port}"
            auth = {"Authorization": f"Bearer {access_token}"}

            async def bare_rest() -> None:
                async with http.get(f"{bare_base}/customers/{pick()}") as reply:
                    reply.raise_for_status()
                    await reply.read()

            async def our_rest() -> None:
                async with http.get(f"{stack.gateway_url}/api/v1/customers/{pick()}", headers=auth) as reply:
                    reply.raise_for_status()
                    await reply.read()

            floor_b = await drive("floor: bare FastAPI → grpc.aio → asyncpg", bare_rest, concurrency=c, duration=d)
            print(floor_b.line(), flush=True)
            ours_b = await drive("(b) GET /api/v1/customers/{id} via gateway", our_rest, concurrency=c, duration=d)
            print(ours_b.line(), flush=True)
            results.append((ours_b, floor_b))
        await bare.close()
    finally:
        floor_http.terminate()
        floor_grpc.terminate()

    print("\nratios (ours / floor, same run, same machine and database):")
    for ours_r, floor_r in results:
        print(
            f"  {ours_r.name:<44} throughput {ours_r.throughput / floor_r.throughput:6.0%}   "
            f"p99 {ours_r.pct(99):.1f} ms vs {floor_r.pct(99):.1f} ms"
        )

    if args.search_customers:
        print(f"\n(c) search on {args.search_customers} customers (PostgreSQL, LC_CTYPE=C database)")
        await load_search_corpus(plain_dsn(customer_db), identity, args.search_customers)
        admin = Identity(
            principal_id="bench-admin",
            tenant_id=identity.tenant_id,
            org_unit_id=identity.org_unit_id,
            org_path=identity.org_path,
            role=Role.ADMIN,
        )
        shapes = {
            "2-char Chinese (食堂)": ["食堂", "酒店", "浦东", "实验", "西湖"],
            "4-char Chinese (实验小学)": ["实验小学", "员工食堂", "西湖明德", "餐饮管理"],
            "pinyin initials (shxx)": ["shxx", "hzsxh", "bjs", "szs"],
            "full pinyin (shitang)": ["shitang", "shanghai", "jiudian", "xihu"],
            "mobile number": [
                f"13{i:09d}" for i in range(0, args.search_customers, max(1, args.search_customers // 50))
            ],
        }
        for who, caller in (("admin (whole tenant)", admin), ("sales rep (own customers)", identity)):
            md = ((METADATA_KEY, signer.sign(caller)),)
            for shape, queries in shapes.items():
                next_query = itertools.cycle(queries).__next__

                async def search(md: Any = md, next_query: Callable[[], str] = next_query) -> None:
                    await stub.SearchCustomers(
                        pb.SearchCustomersRequest(query=next_query(), page_size=20), metadata=md, timeout=10
                    )

                result = await drive(
                    f"search {shape}, {who}",
                    search,
                    concurrency=args.search_concurrency,
                    duration=max(3.0, args.duration / 2),
                )
                print(result.line(), flush=True)
        print("\n  plan of the 2-character query 食堂 (admin scope):")
        print(await explain(plain_dsn(customer_db), identity.tenant_id, "食堂"))
    await ours.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--customers", type=int, default=300, help="customers created through the API for (a)/(b)")
    parser.add_argument("--search-customers", type=int, default=100_000, help="synthetic corpus for (c); 0 skips")
    parser.add_argument("--search-concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    # SIGTERM (timeout, kill) must still run the finally blocks that stop the stack and servers.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server:
        databases = {
            c: asyncio.run(postgres.create_database(f"bench_{c}")) for c in ("customer", "analytics", "gateway")
        }
        state_dir = Path(f"/tmp/keyuan-bench-{uuid.uuid4().hex[:8]}")
        stack = Stack(
            StackConfig(
                state_dir=state_dir,
                http_port=free_port(),
                nats_url=nats_server.url,
                database_urls=databases,
                event_namespace=f"bench{free_port()}.",
                admin_password=ADMIN_PASSWORD,
                log_dir=state_dir / "logs",
            )
        )
        print(
            json.dumps(
                {
                    "postgres": postgres.admin_url,
                    "nats": nats_server.url,
                    "concurrency": args.concurrency,
                    "duration_s": args.duration,
                    "cpus": multiprocessing.cpu_count(),
                }
            )
        )
        try:
            stack.start(timeout=90)
            asyncio.run(benchmark(stack, databases["customer"], args))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
