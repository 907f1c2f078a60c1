"""Past prices (历史成交价) on a few 100k order lines: how long `past_prices` takes for one
customer and ten products, on SQLite (the embedded default) and, given a DSN, on PostgreSQL.

`python bench/past_prices.py [LINES] [postgresql+asyncpg://…]` builds the order service's schema
in a fresh database, fills it with LINES order lines (default 300 000: 2 000 customers, 5 lines
an order) plus one heavy customer with 2 000 orders, then prints the median and worst of 50 runs
for an average customer and for the heavy one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from crm_order.models import Base, Order, OrderLine
from crm_order.pricing.service import past_prices

TENANT = str(uuid.uuid4())
PRODUCTS = [str(uuid.uuid4()) for _ in range(200)]
LINES_PER_ORDER = 5


def _orders(
    customer: str, count: int, rng: random.Random, start: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for n in range(count):
        order_id = str(uuid.uuid4())
        at = start + dt.timedelta(hours=n * 7)
        orders.append(
            {
                "id": order_id,
                "tenant_id": TENANT,
                "customer_id": customer,
                "customer_name": "客户",
                "owner_id": "",
                "org_unit_id": "",
                "payment_mode": "cod",
                "state": rng.choice(("confirmed", "delivered", "completed", "draft", "cancelled")),
                "total_fen": 0,
                "delivery_date": at.date(),
                "delivery_address": "",
                "notes": "",
                "urgent": False,
                "warnings": [],
                "overrides": [],
                "cancel_reason": "",
                "paid_at": None,
                "created_by": "",
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
        for line_no, product in enumerate(rng.sample(PRODUCTS[:40], LINES_PER_ORDER), start=1):
            lines.append(
                {
                    "order_id": order_id,
                    "line_no": line_no,
                    "product_id": product,
                    "sku": "SKU",
                    "product_name": "商品",
                    "unit": "箱",
                    "quantity_milli": 2000,
                    "unit_price_fen": rng.randint(1000, 5000),
                    "amount_fen": 0,
                    "tax_rate": 900,
                    "unit_cost_fen": 0,
                }
            )
    return orders, lines


async def main(total_lines: int, url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rng = random.Random(13)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    customers = [str(uuid.uuid4()) for _ in range(2000)]
    per_customer = max(1, total_lines // LINES_PER_ORDER // len(customers))
    heavy = str(uuid.uuid4())
    loading = time.perf_counter()
    for batch_start in range(0, len(customers), 200):
        batch = customers[batch_start : batch_start + 200] + ([heavy] if batch_start == 0 else [])
        orders: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        for customer in batch:
            made = _orders(customer, 2000 if customer == heavy else per_customer, rng, start)
            orders += made[0]
            lines += made[1]
        async with sessions() as session, session.begin():
            await session.execute(insert(Order), orders)
            await session.execute(insert(OrderLine), lines)
    print(
        f"loaded {len(customers) * per_customer * LINES_PER_ORDER + 2000 * LINES_PER_ORDER} lines "
        f"in {time.perf_counter() - loading:.1f}s ({engine.dialect.name})"
    )
    for label, customer in (("average customer", customers[7]), ("heavy customer (2 000 orders)", heavy)):
        timings = []
        for _ in range(50):
            async with sessions() as session:
                began = time.perf_counter()
                found = await past_prices(
                    session, tenant_id=TENANT, customer_id=customer, product_ids=PRODUCTS[:10], limit=5
                )
                timings.append((time.perf_counter() - began) * 1000)
        shown = sum(len(v) for v in found.values())
        print(
            f"{label}: 10 products, {shown} prices: median {statistics.median(timings):.2f} ms, "
            f"worst {max(timings):.2f} ms"
        )
    await engine.dispose()


if __name__ == "__main__":
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    fresh = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'past_prices.db'}"
    target = sys.argv[2] if len(sys.argv) > 2 else fresh
    asyncio.run(main(lines, target))
