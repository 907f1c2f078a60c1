"""Imports and exports through the whole stack as processes on PostgreSQL: an xlsx of 1,000 rows
with 37 planted problems reports exactly those 37 in the dry run, imports the rest, and the same
file imported again creates nothing; an export as service staff has masked phones."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx
import pytest
import xlsxwriter

from crm_devstack.stack import Stack
from crmkit.cn import make_credit_code

from .conftest import ADMIN_PASSWORD, login, ok

pytestmark = pytest.mark.e2e
PASSWORD = "import-密码-2026"
IMPORTS = "/api/v1/customer-imports"
HEADERS = [
    "客户名称", "客户类型", "统一社会信用代码", "省", "市", "详细地址", "客户等级", "生命周期", "负责人",
    "合同开始日期", "联系人姓名", "联系人手机", "联系人职务", "联系人邮箱",
]  # fmt: skip
ROWS = 1000
# Each planted problem: the column it is in, and what to put there (one problem per row).
PLANTS = [
    ("联系人手机", "1234"),
    ("统一社会信用代码", "ABC"),
    ("客户等级", "超级"),
    ("生命周期", "休眠中"),
    ("合同开始日期", "2026-02-30"),
    ("联系人邮箱", "not-an-email"),
    ("联系人姓名", ""),
    ("联系人手机", "duplicate"),
    ("负责人", "查无此人"),
    ("客户类型", "外星食堂"),
]


def _until(check: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = check()
        if answer is not None:
            return answer
        time.sleep(0.5)
    return None


def planted_file(rep_username: str) -> tuple[bytes, set[tuple[int, str]], int]:
    """1,000 data rows: customers of one row, every tenth of two (a second contact), and 37 rows
    each with one planted problem. Returns the file, the planted (row, column) and the customers."""
    rows: list[dict[str, str]] = []
    planted: set[tuple[int, str]] = set()
    customer = 0
    while len(rows) < ROWS:
        customer += 1
        values = {
            "客户名称": f"导入测试{customer:04d}号食堂",
            "客户类型": "学校食堂",
            "统一社会信用代码": make_credit_code(f"91330106{customer:09d}") if customer % 3 == 0 else "",
            "省": "浙江",
            "市": "杭州",
            "详细地址": f"文三路{customer}号",
            "客户等级": ("VIP", "重点", "一般")[customer % 3],
            "生命周期": ("线索", "意向", "已签约")[customer % 3],
            "负责人": rep_username if customer % 2 else "",
            "联系人姓名": f"联系人{customer}",
            "联系人手机": f"138{customer:08d}",
            "联系人职务": "后勤主任",
        }
        rows.append(values)
        if customer % 10 == 0 and len(rows) < ROWS:
            rows.append(
                {
                    "客户名称": values["客户名称"],
                    "联系人姓名": f"副联系人{customer}",
                    "联系人手机": f"139{customer:08d}",
                }
            )
    # 37 single-row customers, spread over the file, get one problem each.
    singles = [
        i for i, values in enumerate(rows) if "客户类型" in values and (i + 1 >= len(rows) or "客户类型" in rows[i + 1])
    ]
    for n, index in enumerate(singles[5::21][:37]):
        column, value = PLANTS[n % len(PLANTS)]
        if value == "duplicate":
            value = rows[0]["联系人手机"]
        rows[index][column] = value
        planted.add((index + 2, column))
    assert len(planted) == 37
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    for number, values in enumerate(rows, start=1):
        for column, header in enumerate(HEADERS):
            if values.get(header):
                sheet.write_string(number, column, values[header])
    workbook.close()
    return out.getvalue(), planted, customer


def _run(client: httpx.Client, admin: dict[str, str], content: bytes) -> dict[str, Any]:
    started = ok(client.post(IMPORTS, params={"file_name": "千行客户.xlsx"}, content=content, headers=admin), 202)

    def checked() -> dict[str, Any] | None:
        found = ok(client.get(f"{IMPORTS}/{started['id']}", headers=admin))
        return found if found["status"] in ("checked", "failed") else None

    report = _until(checked, within=120)
    assert report is not None and report["status"] == "checked", report
    return dict(report)


def _confirm(client: httpx.Client, admin: dict[str, str], import_id: str) -> dict[str, Any]:
    ok(client.post(f"{IMPORTS}/{import_id}/confirm", headers=admin), 202)

    def done() -> dict[str, Any] | None:
        found = ok(client.get(f"{IMPORTS}/{import_id}", headers=admin))
        return found if found["status"] in ("completed", "failed") else None

    result = _until(done, within=180)
    assert result is not None and result["status"] == "completed", result
    return dict(result)


def _count_customers(client: httpx.Client, headers: dict[str, str]) -> int:
    count, token = 0, ""
    while True:
        page = ok(client.get("/api/v1/customers", params={"page_size": 200, "page_token": token}, headers=headers))
        count += len(page["items"])
        token = page["next_page_token"] or ""
        if not token:
            return count


def test_a_thousand_rows_with_37_planted_problems_report_exactly_those_import_the_rest_and_import_once(
    stack: Stack,
) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=60) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        hq = ok(client.get("/api/v1/auth/me", headers=admin))["org_unit"]["id"]
        rep = ok(
            client.post(
                "/api/v1/users",
                json={
                    "username": "rep.import",
                    "display_name": "导入销售",
                    "password": PASSWORD,
                    "role": "sales",
                    "org_unit_id": hq,
                },
                headers=admin,
            ),
            201,
        )

        def directory_knows_the_rep() -> bool | None:
            probe = {"name": "探测", "enabled": False, "user_ids": [rep["id"]], "strategy": "fixed"}
            reply = client.put("/api/v1/assignment-rules", json={"rules": [probe]}, headers=admin)
            return True if reply.status_code == 200 else None

        assert _until(directory_knows_the_rep, within=30), "the customer service never heard of the rep"
        ok(client.put("/api/v1/assignment-rules", json={"rules": []}, headers=admin))

        content, planted, customers = planted_file("rep.import")
        report = _run(client, admin, content)
        problems, token = [], ""
        while True:
            page = ok(
                client.get(
                    f"{IMPORTS}/{report['id']}/problems", params={"page_size": 50, "page_token": token}, headers=admin
                )
            )
            problems.extend(page["items"])
            token = page["next_page_token"] or ""
            if not token:
                break
        errors = {(p["row"], p["column"]) for p in problems if p["severity"] == "error"}
        assert errors == planted
        assert report["dry_run"]["problems"] == 37 and report["dry_run"]["rejected_rows"] == 37
        assert report["dry_run"]["rows"] == ROWS and report["dry_run"]["customers"] == customers
        assert report["dry_run"]["created"] == customers - 37
        assert _count_customers(client, admin) == 0

        result = _confirm(client, admin, report["id"])
        assert result["result"]["created"] == customers - 37 and result["result"]["rejected_rows"] == 37
        assert _count_customers(client, admin) == customers - 37
        rep_headers = login(client, "rep.import", PASSWORD)
        owned = _count_customers(client, rep_headers)
        assert 0 < owned < customers - 37

        again = _run(client, admin, content)
        assert again["dry_run"]["created"] == 0 and again["dry_run"]["updated"] == 0
        assert _confirm(client, admin, again["id"])["result"]["created"] == 0
        assert _count_customers(client, admin) == customers - 37


def test_an_export_as_service_staff_has_masked_phones(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=60) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        hq = ok(client.get("/api/v1/auth/me", headers=admin))["org_unit"]["id"]
        customer = ok(
            client.post(
                "/api/v1/customers",
                json={"name": "导出掩码食堂", "contacts": [{"name": "掩码联系人", "mobile": "13712345678"}]},
                headers=admin,
            ),
            201,
        )
        body = {"username": "service.export", "display_name": "客服", "password": PASSWORD, "role": "service"}
        ok(client.post("/api/v1/users", json={**body, "org_unit_id": hq}, headers=admin), 201)
        staff = login(client, "service.export", PASSWORD)
        reply = client.get("/api/v1/exports/customers", params={"format": "csv", "q": "导出掩码"}, headers=staff)
        assert reply.status_code == 200, reply.text
        rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
        header = rows[0]
        [row] = [r for r in rows[1:] if r[header.index("客户编号")] == customer["id"]]
        assert row[header.index("联系人手机")] == "137****5678"
        assert "13712345678" not in reply.text
        full = client.get("/api/v1/exports/customers", params={"format": "csv", "q": "导出掩码"}, headers=admin)
        assert "13712345678" in full.content.decode("utf-8-sig")
