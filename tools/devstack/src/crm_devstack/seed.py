"""Loads the demo tenant through the gateway's public REST API, as a real admin would."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import httpx
from PIL import Image

from crm_devstack.demo_data import (
    DEMO_AFTER_SALES,
    CustomerSeed,
    DemoTenant,
    FollowUpSeed,
    OrderSeed,
    demo_confirmation,
    demo_dispatch,
    demo_tenant,
    import_file,
)
from crmkit.clock import SHANGHAI

DEMO_USER_PASSWORD = "keyuan-demo-2026"


class SeedError(RuntimeError):
    pass


CREATE_ATTEMPTS = 6
# A 429 was refused before it reached a service, so waiting it out is always safe: the demo's
# follow-ups, releases and shares spend a rep's write budget faster on a quick machine.
RATE_LIMITED_ATTEMPTS = 60
# Half-second tries for the directory copy to know the demo's users (see _assignment_rules).
DIRECTORY_WAIT_ATTEMPTS = 10
# 429: the gateway's write budget per user (a large demo can outrun it); 503/504: a busy machine.
RETRYABLE = {429, 503, 504}


def _ok(reply: httpx.Response) -> dict[str, Any]:
    if reply.status_code >= 400:
        raise SeedError(f"{reply.request.method} {reply.request.url.path}: {reply.status_code} {reply.text}")
    body: dict[str, Any] = reply.json()
    return body


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    tokens = _ok(await client.post("/api/v1/auth/login", json={"username": username, "password": password}))
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def customer_body(seed: CustomerSeed) -> dict[str, Any]:
    return {
        "name": seed.name,
        "short_name": seed.short_name,
        "type": seed.type,
        "credit_code": seed.credit_code,
        "addresses": [dataclasses.asdict(a) for a in seed.addresses],
        "contacts": [
            {
                "name": c.name,
                "mobile": c.mobile,
                "wechat_id": c.wechat_id,
                "email": c.email,
                "decision_role": c.decision_role,
                "title": c.title,
                "primary": c.primary,
            }
            for c in seed.contacts
        ],
        "contract_start": seed.contract_start or None,
        "contract_end": seed.contract_end or None,
        "tags": seed.tags,
        "lifecycle_stage": seed.lifecycle_stage,
        "tier": seed.tier,
        "product_lines": seed.product_lines,
        "source": seed.source,
        "custom_fields": seed.custom_fields,
        "grade": seed.grade or None,
        "preferences": seed.preferences,
        "special_requirements": seed.special_requirements,
        "latitude": seed.latitude,
        "longitude": seed.longitude,
        "request_id": f"demo-{seed.credit_code}",
    }


def follow_up_body(
    entry: FollowUpSeed,
    customer: dict[str, Any],
    *,
    today: dt.date,
    request_id: str,
    photo_ids: list[str] | None = None,
) -> dict[str, Any]:
    day = today - dt.timedelta(days=entry.days_ago)
    occurred_at = dt.datetime(day.year, day.month, day.day, entry.hour, 30, tzinfo=SHANGHAI).isoformat()
    body: dict[str, Any] = {
        "kind": entry.kind,
        "occurred_at": occurred_at,
        "content": entry.content,
        "outcome": entry.outcome,
        "request_id": request_id,
    }
    if customer["contacts"]:
        body["contact_ids"] = [customer["contacts"][0]["id"]]
    if entry.next_in_days is not None:
        body["next_follow_up_date"] = (today + dt.timedelta(days=entry.next_in_days)).isoformat()
    if entry.check_in is not None:
        body["check_in"] = {**dataclasses.asdict(entry.check_in), "checked_in_at": occurred_at}
    if photo_ids:
        body["photo_attachment_ids"] = photo_ids
    return body


def calendar_bodies(seed: CustomerSeed, *, today: dt.date) -> list[tuple[str, dict[str, Any]]]:
    """The customer's own closures and its licences as REST bodies: (path under the customer, body)."""

    def day(offset: int | None) -> str | None:
        return (today + dt.timedelta(days=offset)).isoformat() if offset is not None else None

    bodies: list[tuple[str, dict[str, Any]]] = []
    for index, closure in enumerate(seed.closures):
        body = {
            "start_date": day(closure.start_in_days),
            "end_date": day(closure.end_in_days),
            "reason": closure.reason,
            "note": closure.note,
            "request_id": f"demo-{seed.credit_code}-closure-{index}",
        }
        bodies.append(("closures", body))
    for index, licence in enumerate(seed.licences):
        body = {
            "kind": licence.kind,
            "number": licence.number,
            "issuer": licence.issuer,
            "valid_from": day(licence.valid_from_days),
            "valid_until": day(licence.valid_until_days),
            "request_id": f"demo-{seed.credit_code}-licence-{index}",
        }
        bodies.append(("licences", body))
    return bodies


def demo_photo(index: int) -> bytes:
    """A small JPEG standing in for a photo from the visit: a coloured scene with a few shapes."""
    from PIL import Image, ImageDraw

    palette = [(196, 120, 70), (90, 140, 90), (70, 110, 170), (180, 170, 90), (150, 90, 140), (110, 160, 170)]
    picture = Image.new("RGB", (640, 480), palette[index % len(palette)])
    draw = ImageDraw.Draw(picture)
    for step in range(4):
        inset = 40 + step * 45 + index * 3
        draw.rectangle((inset, inset, 640 - inset, 480 - inset // 2), outline=(250, 250, 245), width=6)
    draw.ellipse((480 - index * 10, 40, 600 - index * 10, 160), fill=(250, 230, 160))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return out.getvalue()


async def load_demo(base_url: str, admin_password: str, *, customers: int = 500, concurrency: int = 4) -> DemoTenant:
    """Four creates in flight: SQLite has one writer, so more only queue inside the service, where
    a create waiting past the gateway's deadline is cancelled and its connection held until SQLite's
    busy timeout gives up (eight once stalled the embedded stack for 20 s in CI)."""
    today = dt.datetime.now(SHANGHAI).date()
    tenant = demo_tenant(customers=customers, today=today)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        admin = await login(client, "admin", admin_password)
        units = _ok(await client.get("/api/v1/org-units", headers=admin))["items"]
        hq = next(u for u in units if u["kind"] == "hq")
        ids: dict[str, str] = {}
        for unit in tenant.org_units:
            if unit.kind == "hq":
                ids[unit.key] = hq["id"]
                continue
            created = _ok(
                await client.post(
                    "/api/v1/org-units",
                    headers=admin,
                    json={"name": unit.name, "parent_id": ids[unit.parent_key or ""]},
                )
            )
            ids[unit.key] = created["id"]
        for user in tenant.users:
            if user.username == "admin":
                continue
            _ok(
                await client.post(
                    "/api/v1/users",
                    headers=admin,
                    json={
                        "username": user.username,
                        "display_name": user.display_name,
                        "password": DEMO_USER_PASSWORD,
                        "role": user.role,
                        "org_unit_id": ids[user.org_unit_key],
                    },
                )
            )
        _ok(await client.put("/api/v1/custom-fields", headers=admin, json={"items": tenant.custom_fields}))
        _ok(await client.put("/api/v1/product-lines", headers=admin, json={"product_lines": tenant.product_lines}))
        _ok(await client.put("/api/v1/revisit-plans", headers=admin, json={"plans": tenant.revisit_plans}))
        pools = {
            pool.org_unit_key: _ok(
                await client.post(
                    "/api/v1/pools",
                    headers=admin,
                    json={
                        "name": pool.name,
                        "org_unit_id": ids[pool.org_unit_key],
                        "requires_approval": pool.requires_approval,
                        "rules": pool.rules,
                    },
                )
            )
            for pool in tenant.pools
        }
        await _assignment_rules(client, tenant, ids, admin)
        headers = {
            username: await login(client, username, DEMO_USER_PASSWORD)
            for username in sorted({c.owner_username for c in tenant.customers})
        }
        gate = asyncio.Semaphore(concurrency)
        # Each created customer's id by its credit code.
        customer_ids: dict[str, str] = {}

        async def post(path: str, owner: str, body: dict[str, Any]) -> dict[str, Any]:
            failures = 0
            for attempt in range(RATE_LIMITED_ATTEMPTS):
                reply = await client.post(path, headers=headers[owner], json=body)
                # A busy machine can hold SQLite's single writer past the call's deadline. The
                # body carries a request_id, so a retry returns the record if the first try
                # committed after all, and never creates it twice.
                failures += reply.status_code in RETRYABLE - {429}
                if reply.status_code not in RETRYABLE or failures >= CREATE_ATTEMPTS:
                    return _ok(reply)
                await asyncio.sleep(float(reply.headers.get("retry-after", 0.5 * (attempt + 1))))
            return _ok(reply)

        async def upload_photo(customer_id: str, owner: str, request_id: str, index: int) -> str:
            for attempt in range(RATE_LIMITED_ATTEMPTS):
                reply = await client.post(
                    f"/api/v1/customers/{customer_id}/attachments",
                    headers=headers[owner],
                    files={"file": (f"visit-{index}.jpg", demo_photo(index), "image/jpeg")},
                    data={"kind": "visit_photo", "request_id": request_id},
                )
                if reply.status_code not in RETRYABLE:
                    break
                await asyncio.sleep(float(reply.headers.get("retry-after", 0.5 * (attempt + 1))))
            return str(_ok(reply)["id"])

        photo_count = 0

        async def create(seed: CustomerSeed) -> None:
            nonlocal photo_count
            async with gate:
                customer = await post("/api/v1/customers", seed.owner_username, customer_body(seed))
                customer_ids[seed.name] = customer["id"]
                for index, entry in enumerate(seed.follow_ups):
                    request_id = f"demo-{seed.credit_code}-{index}"
                    photo_ids = []
                    for photo in range(entry.photos):
                        photo_count += 1
                        photo_ids.append(
                            await upload_photo(
                                customer["id"], seed.owner_username, f"{request_id}-photo-{photo}", photo_count
                            )
                        )
                    await post(
                        f"/api/v1/customers/{customer['id']}/follow-ups",
                        seed.owner_username,
                        follow_up_body(entry, customer, today=today, request_id=request_id, photo_ids=photo_ids),
                    )
                for path, body in calendar_bodies(seed, today=today):
                    await post(f"/api/v1/customers/{customer['id']}/{path}", seed.owner_username, body)
                customer_ids[seed.credit_code] = customer["id"]
                if seed.release_reason:
                    await post(
                        f"/api/v1/customers/{customer['id']}/release",
                        seed.owner_username,
                        {"reason": seed.release_reason},
                    )

        await asyncio.gather(*(create(seed) for seed in tenant.customers))
        await _closure_templates(client, tenant, customer_ids, admin)
        await _claim_one_for_approval(client, tenant, pools, headers, admin)
        await _share_with_colleagues(client, admin)
        await _import_waiting_for_confirmation(client, tenant, admin)
        await _profile_links(client, tenant, customer_ids)
        await _products_and_orders(client, tenant, customer_ids, admin, headers)
    return tenant


async def _profile_links(client: httpx.AsyncClient, tenant: DemoTenant, customer_ids: dict[str, str]) -> None:
    """The boss joins the group's branches to their parent, records the relations between
    customers and raises a few tiers and grades in the annual review (each with its reason)."""
    boss = await login(client, "chen.jianguo", DEMO_USER_PASSWORD)
    for group in tenant.groups:
        for branch in group.branches:
            _ok(
                await client.put(
                    f"/api/v1/customers/{customer_ids[branch]}/parent",
                    headers=boss,
                    json={"parent_customer_id": customer_ids[group.parent]},
                )
            )
    for relation in tenant.relations:
        _ok(
            await client.post(
                f"/api/v1/customers/{customer_ids[relation.customer]}/relations",
                headers=boss,
                json={
                    "related_customer_id": customer_ids[relation.related],
                    "kind": relation.kind,
                    "note": relation.note,
                },
            )
        )
    for change in tenant.tier_changes:
        _ok(
            await client.put(
                f"/api/v1/customers/{customer_ids[change.customer]}/{change.dimension}",
                headers=boss,
                json={"value": change.value, "reason": change.reason},
            )
        )


async def _import_waiting_for_confirmation(
    client: httpx.AsyncClient, tenant: DemoTenant, admin: dict[str, str]
) -> None:
    """An import the admin uploaded and has not confirmed: its dry-run report (two problems, a
    customer it would update) waits in the import wizard. Confirming it is left to the user, so
    the demo's customers stay those of `tenant`."""
    uploaded = _ok(
        await client.post(
            "/api/v1/customer-imports",
            params={"file_name": "新客户名单.csv", "request_id": "demo-import"},
            content=import_file(tenant),
            headers=admin,
        )
    )
    for _ in range(120):
        found = _ok(await client.get(f"/api/v1/customer-imports/{uploaded['id']}", headers=admin))
        if found["status"] != "checking":
            return
        await asyncio.sleep(0.5)


async def _share_with_colleagues(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """In each shop with two reps or more, the first rep's three newest customers are shared with
    the next rep (协作人): two for good with read-write access, one read-only for a month."""
    users = _ok(await client.get("/api/v1/users", headers=admin))["items"]
    reps_by_unit: dict[str, list[dict[str, Any]]] = {}
    for user in users:
        if user["role"] == "sales" and user["active"]:
            reps_by_unit.setdefault(user["org_unit_id"], []).append(user)
    month_later = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=30)).replace(microsecond=0).isoformat()
    for reps in reps_by_unit.values():
        if len(reps) < 2:
            continue
        owner, colleague = sorted(reps, key=lambda u: u["username"])[:2]
        owned = _ok(
            await client.get("/api/v1/customers", headers=admin, params={"owner_id": owner["id"], "page_size": 3})
        )
        for index, customer in enumerate(owned["items"]):
            body: dict[str, Any] = (
                {"access": "read_write"} if index < 2 else {"access": "read", "expires_at": month_later}
            )
            _ok(
                await client.put(
                    f"/api/v1/customers/{customer['id']}/collaborators/{colleague['id']}", headers=admin, json=body
                )
            )


async def _assignment_rules(
    client: httpx.AsyncClient, tenant: DemoTenant, unit_ids: dict[str, str], admin: dict[str, str]
) -> None:
    """The demo's assignment rules. A rule naming users needs them in the customer service's
    directory copy, which the gateway's user_changed events fill a moment after the users were
    created: wait for it a while, then keep only the rules that name an org unit."""
    users = {u["username"]: u["id"] for u in _ok(await client.get("/api/v1/users", headers=admin))["items"]}
    rules = [
        {
            "name": rule.name,
            "strategy": rule.strategy,
            "conditions": rule.conditions,
            "user_ids": [users[name] for name in rule.usernames],
            "org_unit_id": unit_ids[rule.org_unit_key] if rule.org_unit_key else None,
        }
        for rule in tenant.assignment_rules
    ]
    for _ in range(DIRECTORY_WAIT_ATTEMPTS):
        reply = await client.put("/api/v1/assignment-rules", headers=admin, json={"rules": rules})
        if reply.status_code != 400:
            _ok(reply)
            return
        await asyncio.sleep(0.5)
    _ok(
        await client.put(
            "/api/v1/assignment-rules", headers=admin, json={"rules": [r for r in rules if not r["user_ids"]]}
        )
    )


async def _claim_one_for_approval(
    client: httpx.AsyncClient,
    tenant: DemoTenant,
    pools: dict[str, dict[str, Any]],
    headers: dict[str, dict[str, str]],
    admin: dict[str, str],
) -> None:
    """A Hangzhou rep claims a customer from the Hangzhou pool, so its supervisor finds a claim
    awaiting a decision (审核记录) on the first visit."""
    pool = pools.get("hangzhou")
    if pool is None:
        return
    waiting = _ok(await client.get(f"/api/v1/pools/{pool['id']}/customers", headers=admin))["items"]
    claimant = next((c.owner_username for c in tenant.customers if c.org_unit_key.startswith("hz-")), None)
    if not waiting or claimant is None:
        return
    if claimant not in headers:
        headers[claimant] = await login(client, claimant, DEMO_USER_PASSWORD)
    reply = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        headers=headers[claimant],
        json={"customer_id": waiting[0]["id"], "reason": "客户主动来电询价，希望恢复供货", "request_id": "demo-claim"},
    )
    # The claimant may have released this very customer and so be in its cool-down: then the
    # demo simply has no claim waiting.
    if reply.status_code not in (201, 412):
        _ok(reply)


async def _closure_templates(
    client: httpx.AsyncClient, tenant: DemoTenant, ids: dict[str, str], admin: dict[str, str]
) -> None:
    """The tenant's calendars (校历), each applied to its customers of that type in that city."""
    for template in tenant.closure_templates:
        created = _ok(
            await client.post(
                "/api/v1/closure-templates",
                headers=admin,
                json={"name": template.name, "ranges": template.ranges, "request_id": f"demo-{template.name}"},
            )
        )
        chosen = [
            ids[c.credit_code]
            for c in tenant.customers
            if c.type == template.customer_type and c.addresses[0].city == template.city and c.credit_code in ids
        ]
        for start in range(0, len(chosen), 500):
            _ok(
                await client.post(
                    f"/api/v1/closure-templates/{created['id']}/customers",
                    headers=admin,
                    json={"customer_ids": chosen[start : start + 500]},
                )
            )


# How long a new customer's facts may take to reach the order service (through NATS).
ORDER_FACTS_WAIT = 30.0


async def _products_and_orders(
    client: httpx.AsyncClient,
    tenant: DemoTenant,
    customer_ids: dict[str, str],
    admin: dict[str, str],
    headers: dict[str, dict[str, str]],
) -> None:
    """The catalogue, then a few orders placed by the customers' reps and moved along: the boss
    records the COD payments and the deliveries."""
    products = {}
    for product in tenant.products:
        body = dataclasses.asdict(product)
        sku = body.pop("sku")
        upserted = _ok(await client.put(f"/api/v1/products/by-sku/{sku}", headers=admin, json=body))
        products[sku] = upserted["product"]["id"]
    await _agreement_prices(client, tenant, customer_ids, products, admin)
    boss = await login(client, "chen.jianguo", DEMO_USER_PASSWORD)
    order_ids: list[str] = []
    for index, order in enumerate(tenant.orders):
        rep = headers[order.owner_username]
        body = {
            "customer_id": customer_ids[order.customer],
            "payment_mode": "cod",
            "lines": [{"product_id": products[sku], "quantity": quantity} for sku, quantity in order.lines],
            "delivery_date": order.delivery_date,
            "delivery_address": "",
            "urgent": order.urgent,
            "request_id": f"demo-order-{index}",
        }
        # The customer's facts reach the order service through NATS: until then it is unknown (404).
        deadline = asyncio.get_running_loop().time() + ORDER_FACTS_WAIT
        while True:
            reply = await client.post("/api/v1/orders", headers=rep, json=body)
            if reply.status_code != 404 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        created = _ok(reply)
        order_ids.append(created["id"])
        for action in order.actions:
            who = rep if action in ("confirm", "release") else boss
            if action in ("dispatch", "deliver"):
                await _deliveries(client, boss, created["id"], index, order, action)
                continue
            _ok(await client.post(f"/api/v1/orders/{created['id']}/{action}", headers=who, json={}))
    await _quotes(client, tenant, customer_ids, products, headers)
    await _order_history(client, tenant, customer_ids, admin)
    await _after_sales(client, tenant, order_ids, headers, boss)


# --- partner orders (issue 13): a year of history imported from an ERP file ----------------------


async def _order_history(
    client: httpx.AsyncClient, tenant: DemoTenant, customer_ids: dict[str, str], admin: dict[str, str]
) -> None:
    """A year of monthly, completed orders of the first three ordering customers, imported as an
    admin's history file (导入历史订单) with their original dates, so the charts show a year."""
    prices = {product.sku: product.list_price for product in tenant.products}
    today = dt.datetime.now(SHANGHAI).date()
    rows = ["外部单号,客户,SKU,数量,单价,下单日期,送货日期,状态"]
    for index, order in enumerate(tenant.orders[:3]):
        for months_ago in range(12, 0, -1):
            ordered = today - dt.timedelta(days=30 * months_ago + 3 * index)
            delivered = ordered + dt.timedelta(days=1)
            for sku, quantity in order.lines:
                rows.append(
                    f"DEMO-U8-{index}-{months_ago:02d},{customer_ids[order.customer]},{sku},{quantity},"
                    f"{prices[sku]},{ordered.isoformat()},{delivered.isoformat()},已完成"
                )
    _ok(
        await client.post(
            "/api/v1/order-imports",
            params={"file_name": "历史订单.csv", "dry_run": False},
            content="\r\n".join(rows).encode("utf-8"),
            headers={**admin, "Content-Type": "text/csv"},
        )
    )


async def _agreement_prices(
    client: httpx.AsyncClient,
    tenant: DemoTenant,
    customer_ids: dict[str, str],
    products: dict[str, str],
    admin: dict[str, str],
) -> None:
    """The admin agrees the demo's prices, once each customer's facts reached the order service
    (404 until then); the orders placed after take them."""
    list_prices = {product.sku: Decimal(product.list_price) for product in tenant.products}
    today = dt.datetime.now(SHANGHAI).date()
    for seed in tenant.agreement_prices:
        body = {
            "customer_id": customer_ids[seed.customer],
            "product_id": products[seed.sku],
            "price": str((list_prices[seed.sku] * Decimal(seed.rate)).quantize(Decimal("0.01"))),
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=seed.days)).isoformat() if seed.days else None,
        }
        deadline = asyncio.get_running_loop().time() + ORDER_FACTS_WAIT
        while True:
            reply = await client.post("/api/v1/agreement-prices", headers=admin, json=body)
            if reply.status_code != 404 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        _ok(reply)


async def _after_sales(
    client: httpx.AsyncClient,
    tenant: DemoTenant,
    order_ids: list[str],
    headers: dict[str, dict[str, str]],
    boss: dict[str, str],
) -> None:
    """The demo after-sales (售后) on the completed and the delivered order: asked for by the
    order's rep, decided by the boss where the seed says so."""
    for index, seed in enumerate(DEMO_AFTER_SALES):
        rep = headers[tenant.orders[seed.order_index].owner_username]
        body = {
            "type": seed.type,
            "lines": [{"line_no": line_no, "quantity": quantity} for line_no, quantity in seed.lines],
            "reason": seed.reason,
            "reissue_invoice": seed.reissue_invoice,
            "request_id": f"demo-after-sale-{index}",
        }
        order_id = order_ids[seed.order_index]
        created = _ok(await client.post(f"/api/v1/orders/{order_id}/after-sales", headers=rep, json=body))
        if seed.decision:
            decision = {"decision": seed.decision, "comment": seed.comment}
            _ok(await client.post(f"/api/v1/after-sales/{created['id']}/decision", headers=boss, json=decision))


def _delivery_photo() -> bytes:
    """A small JPEG standing in for the phone's 签收照片."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (188, 208, 228)).save(out, "JPEG")
    return out.getvalue()


async def _deliveries(
    client: httpx.AsyncClient, boss: dict[str, str], order_id: str, index: int, order: OrderSeed, action: str
) -> None:
    """Dispatch with the demo's vehicle, driver and batch numbers; confirm with a photo."""
    now = dt.datetime.now(SHANGHAI).replace(microsecond=0)
    if action == "dispatch":
        body = demo_dispatch(index, order, (now + dt.timedelta(hours=3)).isoformat())
        _ok(await client.post(f"/api/v1/orders/{order_id}/delivery/dispatch", headers=boss, json=body))
        return
    photo = _ok(
        await client.post(
            f"/api/v1/orders/{order_id}/delivery/photos",
            headers=boss,
            files={"file": ("签收照片.jpg", _delivery_photo(), "image/jpeg")},
            data={"request_id": f"demo-delivery-photo-{index}"},
        )
    )
    _ok(
        await client.post(
            f"/api/v1/orders/{order_id}/delivery/confirm",
            headers=boss,
            json=demo_confirmation(now.isoformat(), photo["id"]),
        )
    )


# (rate of the list price, note): one approved at once, one waiting for the supervisor.
_QUOTE_RATES = ((Decimal("0.95"), "年度框架报价，含送货"), (Decimal("0.85"), "新学期大单，申请特价"))


async def _quotes(
    client: httpx.AsyncClient,
    tenant: DemoTenant,
    customer_ids: dict[str, str],
    products: dict[str, str],
    headers: dict[str, dict[str, str]],
) -> None:
    """Two submitted quotes (报价单) for the first ordering customers: at 95% of the list price,
    approved at once, and at 85%, waiting in the supervisor's approval queue."""
    prices = {product.sku: Decimal(product.list_price) for product in tenant.products}
    valid_until = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=30)).isoformat()
    for index, (order, (rate, note)) in enumerate(zip(tenant.orders, _QUOTE_RATES, strict=False)):
        rep = headers[order.owner_username]
        lines = [
            {
                "product_id": products[sku],
                "quantity": "10",
                "quoted_price": str((prices[sku] * rate).quantize(Decimal("0.01"))),
            }
            for sku, _ in order.lines
        ]
        body = {
            "customer_id": customer_ids[order.customer],
            "lines": lines,
            "valid_until": valid_until,
            "notes": note,
            "request_id": f"demo-quote-{index}",
        }
        created = _ok(await client.post("/api/v1/quotes", headers=rep, json=body))
        _ok(await client.post(f"/api/v1/quotes/{created['id']}/submit", headers=rep, json={}))
