"""Imports and exports over REST: the template, an upload's dry-run report with rows and columns,
confirm, progress and the rejected rows; 413 and 415 for files that are not ours; another rep's
import looks missing; exports keep the role view (service staff get masked mobiles) and the data
scope (another rep's customers are absent), in xlsx and CSV, and are audited."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import xlsxwriter
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

IMPORTS = "/api/v1/customer-imports"
EXPORT = "/api/v1/exports/customers"
GATEWAY_SETTINGS = {"import_max_bytes": 200_000}
HEADERS = ["客户名称", "客户类型", "统一社会信用代码", "省", "市", "联系人姓名", "联系人手机", "联系人职务"]


def xlsx(rows: list[list[str]]) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    for index, values in enumerate(rows, start=1):
        for column, value in enumerate(values):
            if value:
                sheet.write_string(index, column, value)
    workbook.close()
    return out.getvalue()


async def until_status(client, headers, import_id: str, *statuses: str, within: float = 30) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = (await client.get(f"{IMPORTS}/{import_id}", headers=headers)).json()
        if found["status"] in statuses:
            return dict(found)
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.3)


async def test_an_upload_is_checked_reported_confirmed_and_imported_with_its_rejected_rows(stack, org, api) -> None:  # type: ignore[no-untyped-def]
    client, supervisor = stack.client, org.supervisor
    template = await client.get(f"{IMPORTS}/template", headers=supervisor.headers)
    assert template.status_code == 200
    assert "filename*=UTF-8''" in template.headers["content-disposition"]
    header = next(load_workbook(io.BytesIO(template.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert header[0] == "客户名称*" and "联系人手机" in header

    good = api.mobile()
    rows = [
        ["网关导入食堂", "学校食堂", api.credit_code(), "浙江", "杭州", "周一", good, "主任"],
        ["网关导入食堂", "", "", "", "", "周二", api.mobile(), "采购"],
        ["坏手机食堂", "", "", "", "", "某人", "12345", ""],
        ["", "", "", "", "", "", "", ""],
        ["坏类型食堂", "火星基地", "", "", "", "", "", ""],
    ]
    uploaded = await client.post(
        IMPORTS, params={"file_name": "客户导入.xlsx"}, content=xlsx(rows), headers=supervisor.headers
    )
    assert uploaded.status_code == 202, uploaded.text
    body = uploaded.json()
    assert body["status"] == "checking" and body["format"] == "xlsx"
    checked = await until_status(client, supervisor.headers, body["id"], "checked", "failed")
    assert checked["status"] == "checked", checked
    assert checked["dry_run"] | {} == {
        "rows": 4,
        "customers": 3,
        "created": 1,
        "updated": 0,
        "skipped": 2,
        "rejected_rows": 2,
        "problems": 2,
        "contacts_added": 2,
    }
    problems = (await client.get(f"{IMPORTS}/{body['id']}/problems", headers=supervisor.headers)).json()["items"]
    assert [(p["row"], p["column"], p["code"], p["severity"]) for p in problems] == [
        (4, "联系人手机", "invalid", "error"),
        (6, "客户类型", "unknown_value", "error"),
    ]
    assert problems[0]["reason"].startswith("手机号码格式不正确")
    assert checked["rejected_rows_url"] == f"{IMPORTS}/{body['id']}/rejected-rows"
    rejected = await client.get(checked["rejected_rows_url"], headers=supervisor.headers)
    assert rejected.status_code == 200
    sheet = load_workbook(io.BytesIO(rejected.content), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][-2:] == ("错误原因", "原行号") and [v[-1] for v in values[1:]] == [4, 6]

    # Someone else cannot see it; the importer confirms and the job imports.
    hidden = await client.get(f"{IMPORTS}/{body['id']}", headers=org.sales_b.headers)
    api.problem(hidden, 404)
    confirmed = await client.post(f"{IMPORTS}/{body['id']}/confirm", headers=supervisor.headers)
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "importing"
    done = await until_status(client, supervisor.headers, body["id"], "completed", "failed")
    assert done["status"] == "completed" and done["percent"] == 100
    assert (done["result"]["created"], done["result"]["contacts_added"]) == (1, 2)
    found = await client.get("/api/v1/customers", params={"q": good}, headers=supervisor.headers)
    [customer] = found.json()["items"]
    assert customer["name"] == "网关导入食堂" and [c["name"] for c in customer["contacts"]] == ["周一", "周二"]
    listed = (await client.get(IMPORTS, headers=supervisor.headers)).json()["items"]
    assert body["id"] in [i["id"] for i in listed]

    # The importer is told on the notification stream when the report is ready and when it is done.
    async def told() -> list[dict[str, Any]]:
        page = (await client.get("/api/v1/notifications", headers=supervisor.headers)).json()["items"]
        return [n for n in page if n["link_id"] == body["id"]]

    notices = await api.eventually(told, lambda found: len(found) == 2, within=20)
    assert {n["kind"] for n in notices} == {"import_checked", "import_completed"}
    completed = next(n for n in notices if n["kind"] == "import_completed")
    assert completed["link_type"] == "customer_import" and "新建1个" in completed["body"]


async def test_files_that_are_not_spreadsheets_or_too_large_are_refused(stack, org, api) -> None:  # type: ignore[no-untyped-def]
    client, headers = stack.client, org.admin.headers
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    api.problem(
        await client.post(IMPORTS, params={"file_name": "照片.xlsx"}, content=png, headers=headers),
        415,
        code="unsupported_media_type",
    )
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 4
    api.problem(await client.post(IMPORTS, params={"file_name": "a.csv"}, content=pdf, headers=headers), 415)
    # Over the limit (this module's is 200 kB): refused at the edge before it is read.
    big = await client.post(IMPORTS, params={"file_name": "big.csv"}, content=b"a,b\n" * 60_000, headers=headers)
    assert big.status_code == 413 and big.json()["code"] == "payload_too_large"
    api.problem(await client.post(IMPORTS, params={"file_name": "empty.csv"}, content=b"", headers=headers), 400)
    api.problem(await client.post(IMPORTS, content=b"a,b\n", headers=headers), 422)
    # Service staff read customers but do not import.
    api.problem(
        await client.post(
            IMPORTS, params={"file_name": "a.csv"}, content="客户名称\n某食堂\n".encode(), headers=org.service.headers
        ),
        403,
    )


async def _export(client, headers, **params: Any) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = await client.get(EXPORT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    if params.get("format") == "csv":
        assert response.content.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [[v or "" for v in values] for values in sheet.iter_rows(values_only=True)]


async def test_exports_keep_the_role_view_and_the_data_scope_and_are_audited(stack, org, api) -> None:  # type: ignore[no-untyped-def]
    client = stack.client
    mobile_a, mobile_b = api.mobile(), api.mobile()
    mine = await api.create_customer(
        org.sales_a, name="导出甲食堂", contacts=[{"name": "甲联系人", "mobile": mobile_a, "wechat_id": "wx_jia001"}]
    )
    theirs = await api.create_customer(
        org.sales_b, name="导出乙食堂", contacts=[{"name": "乙联系人", "mobile": mobile_b}]
    )

    rows = await _export(client, org.sales_a.headers, format="csv")
    header, data = rows[0], rows[1:]
    assert header[:2] == ["客户名称", "简称"] and header[-2:] == ["客户编号", "创建时间"]
    ids = {row[header.index("客户编号")] for row in data}
    assert mine["id"] in ids and theirs["id"] not in ids
    row = next(r for r in data if r[header.index("客户编号")] == mine["id"])
    assert row[header.index("联系人手机")] == mobile_a and row[header.index("联系人微信")] == "wx_jia001"
    assert row[header.index("负责人")] == "张三"

    # Service staff see masked mobiles and no WeChat id, in the export as on screen.
    staff = await _export(client, org.service.headers, format="xlsx", q="导出甲食堂")
    header, data = staff[0], staff[1:]
    row = next(r for r in data if r[header.index("客户编号")] == mine["id"])
    assert row[header.index("联系人手机")] == f"{mobile_a[:3]}****{mobile_a[-4:]}"
    assert row[header.index("联系人微信")] == ""
    assert mobile_a not in json.dumps(staff, ensure_ascii=False)

    filtered = await _export(client, org.supervisor.headers, format="csv", owner_id=org.sales_b.id)
    assert {r[-2] for r in filtered[1:]} >= {theirs["id"]} and mine["id"] not in {r[-2] for r in filtered[1:]}
    api.problem(await client.get(EXPORT, params={"lifecycle_stage": "nope"}, headers=org.admin.headers), 422)

    engine = create_async_engine(stack.gateway_database_url)
    try:
        async with engine.connect() as connection:
            found = (
                await connection.execute(
                    text("SELECT actor_id, detail FROM audit_log WHERE action = 'customers.export' ORDER BY at")
                )
            ).all()
    finally:
        await engine.dispose()
    by_actor = {actor: json.loads(detail) for actor, detail in found}
    assert by_actor[org.service.id]["format"] == "xlsx" and by_actor[org.service.id]["filter"]["q"] == "导出甲食堂"
    assert by_actor[org.service.id]["rows"] >= 1 and by_actor[org.service.id]["completed"] is True
    assert by_actor[org.supervisor.id]["filter"]["owner_id"] == org.sales_b.id
