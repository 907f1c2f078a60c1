"""Loads the demo tenant through the gateway's public REST API, as a real admin would."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import httpx

from crm_devstack.demo_data import CustomerSeed, DemoTenant, demo_tenant

DEMO_USER_PASSWORD = "keyuan-demo-2026"


class SeedError(RuntimeError):
    pass


CREATE_ATTEMPTS = 6
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
        "custom_fields": seed.custom_fields,
        "request_id": f"demo-{seed.credit_code}",
    }


async def load_demo(base_url: str, admin_password: str, *, customers: int = 500, concurrency: int = 4) -> DemoTenant:
    """Four creates in flight: SQLite has one writer, so more only queue inside the service, where
    a create waiting past the gateway's deadline is cancelled and its connection held until SQLite's
    busy timeout gives up (eight once stalled the embedded stack for 20 s in CI)."""
    tenant = demo_tenant(customers=customers, today=dt.date.today())
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
        headers = {
            username: await login(client, username, DEMO_USER_PASSWORD)
            for username in sorted({c.owner_username for c in tenant.customers})
        }
        gate = asyncio.Semaphore(concurrency)

        async def create(seed: CustomerSeed) -> None:
            async with gate:
                for attempt in range(CREATE_ATTEMPTS):
                    reply = await client.post(
                        "/api/v1/customers", headers=headers[seed.owner_username], json=customer_body(seed)
                    )
                    # A busy machine can hold SQLite's single writer past the call's deadline. The
                    # body carries a request_id, so a retry returns the customer if the first try
                    # committed after all, and never creates it twice.
                    if reply.status_code not in RETRYABLE or attempt == CREATE_ATTEMPTS - 1:
                        _ok(reply)
                        return
                    await asyncio.sleep(float(reply.headers.get("retry-after", 0.5 * (attempt + 1))))

        await asyncio.gather(*(create(seed) for seed in tenant.customers))
    return tenant
