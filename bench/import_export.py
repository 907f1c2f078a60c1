"""Import and export benchmark: 100,000 customers through the stack as processes on PostgreSQL.

Starts the stack (NATS, the services and the gateway; CRM_TEST_DATABASE_URL / CRM_TEST_NATS_URL or
throwaway servers), hires a rep, writes an xlsx of --rows customers with one contact each (half
of them naming the rep as owner, the others placed by the rules), uploads it through REST and
times the dry run (upload to `checked`) and the import (confirm to `completed`), then exports the
list as xlsx and as CSV. Prints rows per second, the seconds of each phase, and the peak resident
memory (VmHWM) of the customer service and the gateway, read from /proc after each phase, with
the CPU seconds each (and the PostgreSQL server) used in it (steadier than wall time on a shared
machine).
Targets: dry run and import together under 3 minutes, peak memory under 500 MB, export of
100,000 customers under 60 s.

Usage: python bench/import_export.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import xlsxwriter

from crm_devstack.stack import Stack, StackConfig, free_port
from crmkit.testing.infra import provisioned_nats, provisioned_postgres

ADMIN_PASSWORD = "bench-admin-2026"
REP_PASSWORD = "bench-rep-2026"
HEADERS = [
    "客户名称",
    "客户类型",
    "省",
    "市",
    "区",
    "详细地址",
    "客户等级",
    "负责人",
    "联系人姓名",
    "联系人手机",
    "联系人职务",
]
DISTRICTS = ["西湖区", "拱墅区", "上城区", "滨江区", "余杭区"]


def write_file(path: Path, rows: int, owner: str = "rep.bench") -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    for i in range(rows):
        values = [
            f"杭州基准客户{i:06d}号食堂",
            "学校食堂",
            "浙江",
            "杭州",
            DISTRICTS[i % len(DISTRICTS)],
            f"文三路{i}号",
            ("VIP", "重点", "一般")[i % 3],
            owner if i % 2 else "",
            f"联系人{i}",
            f"13{i:09d}",
            "后勤主任",
        ]
        for column, value in enumerate(values):
            if value:
                sheet.write_string(i + 1, column, value)
    workbook.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far: on a shared machine a phase's wall time
    says as much about the neighbours as about us; its CPU time does not."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU of the PostgreSQL server this benchmark started (its processes below ours): the live
    processes' own, plus what ended backends left in the postmaster's children's times."""
    stats: dict[int, tuple[str, int, float, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        children = (int(fields[13]) + int(fields[14])) / tick
        stats[int(entry.name)] = (name, int(fields[1]), own, children)

    def ours(pid: int) -> bool:
        while pid > 1 and pid in stats:
            if pid == os.getpid():
                return True
            pid = stats[pid][1]
        return False

    total = 0.0
    for pid, (name, parent, own, children) in stats.items():
        if name == "postgres" and ours(pid):
            total += own + (children if stats.get(parent, ("",))[0] != "postgres" else 0.0)
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_for(
    client: httpx.AsyncClient, headers: dict[str, str], import_id: str, statuses: set[str]
) -> dict[str, Any]:
    last = -1
    while True:
        try:
            reply = await client.get(f"/api/v1/customer-imports/{import_id}", headers=headers, timeout=30)
        except httpx.TimeoutException:
            continue  # a busy machine: ask again
        found: dict[str, Any] = reply.json()
        if reply.status_code == 200 and found["status"] in statuses:
            return found
        if reply.status_code == 200 and found["percent"] // 10 != last:
            last = found["percent"] // 10
            print(f"  {found['status']} {found['percent']}%", flush=True)
        await asyncio.sleep(1)


async def benchmark(stack: Stack, rows: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"rows": rows}
    pids = {name: stack.processes[name].pid for name in ("customer", "gateway")}

    def cpu_now() -> dict[str, float]:
        return {**{name: cpu_seconds(pid) for name, pid in pids.items()}, "postgres": postgres_cpu_seconds()}

    used = cpu_now()

    def memory(phase: str) -> None:
        figures[f"peak_rss_mb_after_{phase}"] = {name: round(peak_rss_mb(pid), 1) for name, pid in pids.items()}
        now = cpu_now()
        figures[f"cpu_s_{phase}"] = {name: round(now[name] - used[name], 1) for name in now}
        used.update(now)

    memory("start")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=600) as client:
        tokens = (
            await client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        ).json()
        admin = {"Authorization": f"Bearer {tokens['access_token']}"}
        hq = (await client.get("/api/v1/auth/me", headers=admin)).json()["org_unit"]["id"]
        rep = (
            await client.post(
                "/api/v1/users",
                json={
                    "username": "rep.bench",
                    "display_name": "基准销售",
                    "password": REP_PASSWORD,
                    "role": "sales",
                    "org_unit_id": hq,
                },
                headers=admin,
            )
        ).json()
        while True:  # until the customer service's directory copy knows the rep
            probe = {"name": "探测", "enabled": False, "user_ids": [rep["id"]], "strategy": "fixed"}
            if (
                await client.put("/api/v1/assignment-rules", json={"rules": [probe]}, headers=admin)
            ).status_code == 200:
                break
            await asyncio.sleep(0.5)
        await client.put("/api/v1/assignment-rules", json={"rules": []}, headers=admin)

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "customers.xlsx"
            began = time.perf_counter()
            write_file(path, rows)
            content = path.read_bytes()
        figures["file_mb"] = round(len(content) / 1e6, 1)
        figures["file_written_s"] = round(time.perf_counter() - began, 1)

        began = time.perf_counter()
        uploaded = (
            await client.post(
                "/api/v1/customer-imports", params={"file_name": "基准客户.xlsx"}, content=content, headers=admin
            )
        ).json()
        checked = await wait_for(client, admin, uploaded["id"], {"checked", "failed"})
        dry_run = time.perf_counter() - began
        assert checked["status"] == "checked", checked
        memory("dry_run")
        began = time.perf_counter()
        await client.post(f"/api/v1/customer-imports/{uploaded['id']}/confirm", headers=admin)
        done = await wait_for(client, admin, uploaded["id"], {"completed", "failed"})
        imported = time.perf_counter() - began
        assert done["status"] == "completed", done
        memory("import")
        figures["dry_run"] = {"seconds": round(dry_run, 1), "rows_per_s": round(rows / dry_run), **checked["dry_run"]}
        figures["import"] = {"seconds": round(imported, 1), "rows_per_s": round(rows / imported), **done["result"]}
        figures["import_total_s"] = round(dry_run + imported, 1)
        print(
            json.dumps(
                {k: figures[k] for k in ("dry_run", "import", "import_total_s", "cpu_s_dry_run", "cpu_s_import")},
                ensure_ascii=False,
            ),
            flush=True,
        )

        for file_format in ("xlsx", "csv"):
            # A 100,000-row import on a busy machine outlasts the access token: sign in again.
            tokens = (
                await client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            ).json()
            admin = {"Authorization": f"Bearer {tokens['access_token']}"}
            began = time.perf_counter()
            size = 0
            async with client.stream(
                "GET", "/api/v1/exports/customers", params={"format": file_format}, headers=admin
            ) as reply:
                assert reply.status_code == 200, await reply.aread()
                first_byte = None
                async for piece in reply.aiter_bytes():
                    first_byte = first_byte or time.perf_counter() - began
                    size += len(piece)
            elapsed = time.perf_counter() - began
            figures[f"export_{file_format}"] = {
                "seconds": round(elapsed, 1),
                "first_byte_s": round(first_byte or 0, 1),
                "mb": round(size / 1e6, 1),
                "customers_per_s": round(rows / elapsed),
            }
            memory(f"export_{file_format}")
            print(json.dumps({f"export_{file_format}": figures[f"export_{file_format}"]}), flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    roomy = {"burst": 10_000_000, "per_minute": 600_000_000}
    os.environ.setdefault("CRM_GATEWAY_RATE_LIMITS", json.dumps(dict.fromkeys(("auth", "reads", "writes"), roomy)))
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server:
        databases = {
            c: asyncio.run(postgres.create_database(f"bench_{c}")) for c in ("customer", "analytics", "gateway")
        }
        state_dir = Path(f"/tmp/keyuan-bench-{uuid.uuid4().hex[:8]}")
        stack = Stack(
            StackConfig(
                state_dir=state_dir,
                ports={"gateway": free_port()},
                nats_url=nats_server.url,
                database_urls=databases,
                event_namespace=f"bench{free_port()}.",
                admin_password=ADMIN_PASSWORD,
                log_dir=state_dir / "logs",
            )
        )
        try:
            stack.start(timeout=90)
            figures = asyncio.run(benchmark(stack, args.rows))
        finally:
            stack.stop()
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    peak = max(v for key, by in figures.items() if key.startswith("peak_rss") for v in by.values())
    print(
        f"\nimport of {args.rows:,} rows: dry run {figures['dry_run']['seconds']} s "
        f"({figures['dry_run']['rows_per_s']:,} rows/s), import {figures['import']['seconds']} s "
        f"({figures['import']['rows_per_s']:,} rows/s), together {figures['import_total_s']} s (target < 180 s); "
        f"peak RSS {peak:.0f} MB (target < 500 MB); export xlsx {figures['export_xlsx']['seconds']} s, "
        f"csv {figures['export_csv']['seconds']} s (target < 60 s)"
    )


if __name__ == "__main__":
    main()
