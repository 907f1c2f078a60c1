"""Search benchmark: SearchCustomers p50/p99 by query shape on a large synthetic corpus.

Loads N synthetic customers (Chinese names from cities, districts, brands and kinds; one contact
each, its mobile sealed as the service stores it; 50 owners, the benchmark's sales rep owning one
in fifty) with their search terms straight into a customer database, starts the customer service
on it, and searches over gRPC at a few concurrent requests (latency, not saturation), as an
admin and as the sales rep.

`bench/load.py` runs this as its part (c) on a fresh corpus. Run alone, `--keep` leaves the corpus
in a database named after its size (`keyuan_bench_search_<N>`) on the server, and its
personal-data keyring under `.crm/bench/`; later runs with `--keep` reuse both (a corpus whose
keyring is gone is loaded again): a million customers took 1,044 s to load on the 2-core machine.
Usage: python bench/search.py [--customers 1000000] [--keep] [--duration 5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import itertools
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import grpc
from sqlalchemy.engine import make_url

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import customer_pb2_grpc
from crm_customer.contacts.personal import ContactDetails, PersonalData
from crm_customer.search.terms import search_terms
from crm_devstack.stack import Stack, StackConfig, personal_data_keys
from crmkit.cn import make_credit_code, pinyin_full, pinyin_initials
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.pii import Keyring, ensure_keyring, write_keyring
from crmkit.testing.infra import provisioned_nats, provisioned_postgres


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    # CPU milliseconds per request of each process watched: steadier than throughput on a
    # machine whose speed moves between runs, so changes can be compared across runs.
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        cpu = "  ".join(f"{name} {ms:.2f}" for name, ms in self.cpu_ms.items())
        return (
            f"{self.name:<44} {self.throughput:>8.0f} req/s  p50 {self.pct(50):>7.1f} ms  "
            f"p99 {self.pct(99):>7.1f} ms  errors {self.errors}" + (f"  cpu ms/req: {cpu}" if cpu else "")
        )


async def drive(
    name: str,
    call: Callable[[], Awaitable[None]],
    *,
    concurrency: int,
    duration: float,
    processes: Mapping[str, int] | None = None,
) -> Result:
    """`concurrency` workers calling back-to-back for `duration` seconds (after a short warm-up),
    with the CPU time per request of `processes` (name → pid) over the measured part."""
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
    watched = dict(processes or {})
    cpu_before = {who: cpu_seconds(pid) for who, pid in watched.items()}
    # The load generator is Python too: its own collector's passes would stall every request in
    # flight and show up as the servers' tail (disabling it took the worst of 25 s of (b) from
    # 239 to 159 ms in one comparison).
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        stop_at = began + duration
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result = Result(name, len(latencies), errors, time.perf_counter() - began, latencies)
    finally:
        gc.enable()
    if result.requests:
        result.cpu_ms = {
            who: 1000 * (cpu_seconds(pid) - cpu_before[who]) / result.requests for who, pid in watched.items()
        }
    return result


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


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


CONTACT_COLUMNS = [
    "id",
    "tenant_id",
    "customer_id",
    "name",
    "mobile_sealed",
    "mobile_index",
    "key_id",
    "decision_role",
    "title",
    "is_primary",
    "position",
    "created_at",
    "updated_at",
]
Rows = list[tuple[Any, ...]]


def synthetic_rows(args: tuple[int, int, str, str, str, list[str], str]) -> tuple[Rows, Rows, Rows]:
    """Customers, their contacts and their search terms, for one chunk of the corpus."""
    start, count, tenant_id, org_unit_id, org_path, owners, keyring_text = args
    personal = PersonalData(Keyring.parse(keyring_text))
    rng = random.Random(start)
    customers: Rows = []
    contacts: Rows = []
    terms: Rows = []
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
        contact = SimpleNamespace(id=str(uuid.UUID(int=rng.getrandbits(128))), tenant_id=tenant_id)
        personal.seal(contact, ContactDetails(mobile=mobile))
        sealed = (contact.mobile_sealed, contact.mobile_index, contact.key_id)
        contacts.append((contact.id, tenant_id, customer_id, "采购负责人", *sealed, "purchaser", "", True, 0, now, now))
        indexed = search_terms(name, "", code) | dict(personal.mobile_search_terms(tenant_id, [mobile]))
        for term, rank in indexed.items():
            terms.append((tenant_id, term, rank, customer_id, owners[index % len(owners)]))
    return customers, contacts, terms


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


async def load_search_corpus(dsn: str, identity: Identity, total: int, keyring: Keyring) -> None:
    owners = [identity.principal_id] + [str(uuid.uuid4()) for _ in range(49)]
    chunk = 5000
    place = (identity.tenant_id, identity.org_unit_id, identity.org_path)
    jobs = [(s, min(chunk, total - s), *place, owners, keyring.to_text()) for s in range(0, total, chunk)]
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
    rebuild = await _drop_indexes(connection, ("customer_search_terms", "contacts"))
    with multiprocessing.Pool(2) as pool:
        for customers, contacts, terms in pool.imap_unordered(synthetic_rows, jobs):
            await connection.copy_records_to_table("customers", records=customers, columns=columns)
            await connection.copy_records_to_table("contacts", records=contacts, columns=CONTACT_COLUMNS)
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
    await connection.execute("VACUUM (ANALYZE) contacts")
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


# ------------------------------------------------------------------ measuring


def query_shapes(total: int) -> dict[str, list[str]]:
    # Customer i's mobile ends in i % 10000: tails below min(total, 10000) all exist, each shared
    # by about total / 10000 customers.
    tails = min(total, 10000)
    return {
        "1-char Chinese (食)": ["食", "北", "店", "学"],
        "2-char Chinese (食堂)": ["食堂", "酒店", "浦东", "实验", "西湖"],
        "4-char Chinese (实验小学)": ["实验小学", "员工食堂", "西湖明德", "餐饮管理"],
        "pinyin initials (shxx)": ["shxx", "hzsxh", "bjs", "szs"],
        "full pinyin (shitang)": ["shitang", "shanghai", "jiudian", "xihu"],
        "mobile number": [f"13{i:09d}" for i in range(0, total, max(1, total // 50))],
        "mobile last four (0500)": [f"{i:04d}" for i in range(0, tails, max(1, tails // 20))],
    }


async def measure_search(
    target: str,
    signer: IdentitySigner,
    rep: Identity,
    *,
    total: int,
    concurrency: int,
    duration: float,
    service_pid: int | None = None,
) -> list[Result]:
    """Every query shape as the tenant's admin and as the rep, printing each line as it comes;
    with the customer service's CPU per search when its pid is given (steadier than latency on a
    machine that is busy with other work)."""
    processes = {"customer": service_pid} if service_pid else None
    admin = Identity(
        principal_id="bench-admin",
        tenant_id=rep.tenant_id,
        org_unit_id=rep.org_unit_id,
        org_path=rep.org_path,
        role=Role.ADMIN,
    )
    results: list[Result] = []
    async with grpc.aio.insecure_channel(target) as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        rep_label = f"sales rep (own + {SHARED_WITH_REP} shared)"
        for who, caller in (("admin (whole tenant)", admin), (rep_label, rep)):
            md = ((METADATA_KEY, signer.sign(caller)),)
            for shape, queries in query_shapes(total).items():
                next_query = itertools.cycle(queries).__next__

                async def search(md: Any = md, next_query: Callable[[], str] = next_query) -> None:
                    await stub.SearchCustomers(
                        pb.SearchCustomersRequest(query=next_query(), page_size=20), metadata=md, timeout=10
                    )

                result = await drive(
                    f"search {shape}, {who}", search, concurrency=concurrency, duration=duration, processes=processes
                )
                print(result.line(), flush=True)
                results.append(result)
            for order_name, order in LIST_ORDERS.items():
                pages = itertools.cycle(["", *await _later_page_tokens(stub, md, order)]).__next__

                async def list_page(md: Any = md, order: int = order, pages: Callable[[], str] = pages) -> None:
                    await stub.ListCustomers(
                        pb.ListCustomersRequest(page_size=20, order_by=order, page_token=pages()),
                        metadata=md,
                        timeout=10,
                    )

                result = await drive(
                    f"list {order_name}, {who}",
                    list_page,
                    concurrency=concurrency,
                    duration=duration,
                    processes=processes,
                )
                print(result.line(), flush=True)
                results.append(result)
    return results


LIST_ORDERS = {"newest first": pb.CUSTOMER_ORDER_UNSPECIFIED, "by name (pinyin)": pb.CUSTOMER_ORDER_NAME_ASC}


async def _later_page_tokens(stub: Any, md: Any, order: int, pages: int = 5) -> list[str]:
    """Tokens of the pages after the first, so the list measures paging on, not one page."""
    tokens, token = [], ""
    for _ in range(pages):
        response = await stub.ListCustomers(
            pb.ListCustomersRequest(page_size=20, order_by=order, page_token=token), metadata=md
        )
        token = response.next_page_token
        if not token:
            break
        tokens.append(token)
    return tokens


# Customers of other owners shared with the benchmark's rep (collaborators), live and expired.
SHARED_WITH_REP = 200
EXPIRED_SHARES = 50


async def share_with_rep(dsn: str, rep: Identity) -> None:
    """Make the rep a collaborator on SHARED_WITH_REP customers of colleagues (half read-only)
    and on EXPIRED_SHARES more whose access has expired, once per corpus: their scope then
    carries collaborations, as a real rep's does."""
    connection = await asyncpg.connect(dsn)
    try:
        if await connection.fetchval(
            "SELECT count(*) FROM customer_collaborators WHERE tenant_id = $1 AND user_id = $2",
            rep.tenant_id,
            rep.principal_id,
        ):
            return
        ids = await connection.fetch(
            # Spread over the book as a real rep's would be (the first ids in order would let a
            # merge join stop early, which no real book does).
            "SELECT id FROM customers WHERE tenant_id = $1 AND owner_id <> $2 ORDER BY md5(id) LIMIT $3",
            rep.tenant_id,
            rep.principal_id,
            SHARED_WITH_REP + EXPIRED_SHARES,
        )
        now = dt.datetime.now(dt.UTC)
        rows = [
            (
                row[0],
                rep.principal_id,
                rep.tenant_id,
                "read" if index % 2 else "read_write",
                now - dt.timedelta(days=1) if index >= SHARED_WITH_REP else None,
                "bench-admin",
                now,
            )
            for index, row in enumerate(ids)
        ]
        await connection.copy_records_to_table(
            "customer_collaborators",
            records=rows,
            columns=["customer_id", "user_id", "tenant_id", "access", "expires_at", "added_by", "added_at"],
        )
        await connection.execute("ANALYZE customer_collaborators")
    finally:
        await connection.close()


# ------------------------------------------------------------------ a corpus kept between runs

KEPT_NAMESPACE = uuid.UUID("6f1c2b1e-5d0a-4c8e-9a57-3b1d2f0c9e41")


def kept_corpus_rep() -> Identity:
    """The same sales rep and tenant in every run, so a kept corpus's owner column stays theirs."""
    return Identity(
        principal_id=str(uuid.uuid5(KEPT_NAMESPACE, "rep")),
        tenant_id=str(uuid.uuid5(KEPT_NAMESPACE, "tenant")),
        org_unit_id=str(uuid.uuid5(KEPT_NAMESPACE, "hq")),
        org_path="/bench-hq/",
        role=Role.SALES,
    )


KEPT_KEYRINGS = Path(".crm") / "bench"


async def kept_database(
    admin_url: str, name: str, tenant_id: str, total: int, *, keyring_kept: bool
) -> tuple[str, bool]:
    """The kept database's asyncpg URL and whether its corpus is complete and readable; an
    incomplete one (an interrupted load leaves its indexes dropped), or one whose keyring is gone,
    is recreated empty, UTF-8 with C ctype as in tests."""
    admin = await asyncpg.connect(plain_dsn(make_url(admin_url).render_as_string(hide_password=False)))
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            if keyring_kept and await corpus_loaded(plain_dsn(url), tenant_id, total):
                return url, True
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        )
    finally:
        await admin.close()
    return url, False


async def corpus_loaded(dsn: str, tenant_id: str, total: int) -> bool:
    """Complete: all its customers are there and the term indexes were rebuilt after COPY."""
    connection = await asyncpg.connect(dsn)
    try:
        customers = await connection.fetchval("SELECT count(*) FROM customers WHERE tenant_id = $1", tenant_id)
        indexes = await connection.fetchval("SELECT count(*) FROM pg_indexes WHERE tablename = 'customer_search_terms'")
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await connection.close()
    return bool(customers == total and indexes >= 3)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the corpus for later runs, and reuse a kept one")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per query shape and caller")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server:
        loaded = False
        if args.keep:
            rep = kept_corpus_rep()
            name = f"keyuan_bench_search_{args.customers}"
            kept_keyring = KEPT_KEYRINGS / f"{name}.keys"
            url, loaded = asyncio.run(
                kept_database(
                    postgres.admin_url, name, rep.tenant_id, args.customers, keyring_kept=kept_keyring.exists()
                )
            )
        else:
            url = asyncio.run(postgres.create_database("bench_search"))
            rep = Identity(
                principal_id=str(uuid.uuid4()),
                tenant_id=str(uuid.uuid4()),
                org_unit_id=str(uuid.uuid4()),
                org_path="/bench-hq/",
                role=Role.SALES,
            )
        state_dir = Path(tempfile.mkdtemp(prefix="keyuan-search-"))
        # The service's keyring: the kept corpus's own (its contacts are sealed under it), or new.
        keyring_path = personal_data_keys(state_dir, "customer")
        if args.keep:
            write_keyring(keyring_path, ensure_keyring(kept_keyring), create=True)
        keyring = ensure_keyring(keyring_path)
        stack = Stack(
            StackConfig(
                state_dir=state_dir,
                nats_url=nats_server.url,
                database_urls={"customer": url},
                # One fixed namespace: on a shared NATS every run reuses the same (empty) stream.
                event_namespace="benchsearch.",
                log_dir=state_dir / "logs",
            )
        )
        try:
            # The service applies its migrations on start, so the corpus goes into the current schema.
            stack.start(components=("customer",), timeout=120)
            if loaded:
                print(f"reusing the kept corpus of {args.customers} customers", flush=True)
            else:
                asyncio.run(load_search_corpus(plain_dsn(url), rep, args.customers, keyring))
            asyncio.run(share_with_rep(plain_dsn(url), rep))
            signer = IdentitySigner.from_file(state_dir / "keys" / "identity_private.pem")
            print(f"\nsearch on {args.customers} customers, {args.concurrency} concurrent, page of 20", flush=True)
            asyncio.run(
                measure_search(
                    f"127.0.0.1:{stack.port('customer')}",
                    signer,
                    rep,
                    total=args.customers,
                    concurrency=args.concurrency,
                    duration=args.duration,
                    service_pid=stack.processes["customer"].pid,
                )
            )
            print("\n  plan of the 2-character query 食堂 (admin scope):")
            print(asyncio.run(explain(plain_dsn(url), rep.tenant_id, "食堂")))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
