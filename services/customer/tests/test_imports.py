"""Customer imports (客户导入): the dry run reports each problem with its row and column, finds
duplicates within the file and among existing customers (naming only those the importer may
see), the import creates and updates what the report said, announces every customer, hands back
the rejected rows, resumes after a crash without creating anything twice, and a file imported
again creates nothing."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import uuid
from typing import Any

import grpc
import pytest
import xlsxwriter
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import imports_pb2 as ipb
from crm_customer.contacts.personal import PersonalData
from crm_customer.customers.models import Customer
from crm_customer.imports import job as import_job_module
from crm_customer.imports.checking import Checker
from crm_customer.imports.job import ImportJob
from crm_customer.imports.writing import ImportWriter
from crm_customer.search.models import SearchTerm
from crm_customer.search.service import search_term_rows
from crmkit.cn import make_credit_code, pinyin_full, pinyin_initials
from crmkit.identity import Identity, Role
from crmkit.testing.jobs import ran_since

HEADERS = [
    "客户名称", "简称", "客户类型", "统一社会信用代码", "省", "市", "区", "详细地址", "客户等级", "生命周期",
    "产品线", "客户来源", "标签", "负责人", "合同开始日期", "合同结束日期",
    "联系人姓名", "联系人手机", "联系人职务", "联系人微信", "联系人邮箱", "决策角色", "主要联系人",
]  # fmt: skip


def code(seed: int) -> str:
    return make_credit_code(f"91330106{seed:09d}")


def row(**values: str) -> list[str]:
    """A row by header (客户名称=...), the rest empty."""
    return [values.get(header, "") for header in HEADERS]


def xlsx(rows: list[list[str]], headers: list[str] = HEADERS) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, headers)
    for index, values in enumerate(rows, start=1):
        for column, value in enumerate(values):
            if value:
                sheet.write_string(index, column, value)
    workbook.close()
    return out.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


async def upload(harness, who: Identity, content: bytes, *, name: str = "客户.xlsx", update: bool = True) -> str:  # type: ignore[no-untyped-def]
    fmt = ipb.IMPORT_FORMAT_CSV if name.endswith(".csv") else ipb.IMPORT_FORMAT_XLSX
    started = await harness.stub.StartCustomerImport(
        ipb.StartCustomerImportRequest(
            request_id=str(uuid.uuid4()), file_name=name, format=fmt, size_bytes=len(content), update_existing=update
        ),
        metadata=harness.metadata(who),
    )
    import_id = started.customer_import.id
    chunk = 1 << 20
    for offset in range(0, len(content), chunk):
        await harness.stub.AppendCustomerImportChunk(
            ipb.AppendCustomerImportChunkRequest(
                import_id=import_id, offset=offset, data=content[offset : offset + chunk]
            ),
            metadata=harness.metadata(who),
        )
    await harness.stub.FinishCustomerImportUpload(
        ipb.FinishCustomerImportUploadRequest(import_id=import_id, sha256=hashlib.sha256(content).hexdigest()),
        metadata=harness.metadata(who),
    )
    return import_id


async def run_job(harness) -> None:  # type: ignore[no-untyped-def]
    moved_to = harness.clock.advance(dt.timedelta(seconds=5))
    await ran_since(harness.runtime.sessions, "customer-imports", moved_to, within=60)


async def get(harness, who: Identity, import_id: str) -> ipb.CustomerImport:  # type: ignore[no-untyped-def]
    request = ipb.GetCustomerImportRequest(id=import_id)
    found = await harness.stub.GetCustomerImport(request, metadata=harness.metadata(who))
    return found.customer_import


async def problems(harness, who: Identity, import_id: str, **request: Any) -> list[ipb.ImportProblem]:  # type: ignore[no-untyped-def]
    found, token = [], ""
    while True:
        page = await harness.stub.ListCustomerImportProblems(
            ipb.ListCustomerImportProblemsRequest(import_id=import_id, page_size=7, page_token=token, **request),
            metadata=harness.metadata(who),
        )
        found.extend(page.problems)
        token = page.next_page_token
        if not token:
            return found


def errors(found: list[ipb.ImportProblem]) -> set[tuple[int, str, str]]:
    return {(p.row, p.column, p.code) for p in found if p.severity == "error"}


async def confirm(harness, who: Identity, import_id: str) -> ipb.CustomerImport:  # type: ignore[no-untyped-def]
    confirmed = await harness.stub.ConfirmCustomerImport(
        ipb.ConfirmCustomerImportRequest(import_id=import_id), metadata=harness.metadata(who)
    )
    return confirmed.customer_import


async def rejected_file(harness, who: Identity, import_id: str) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    data, offset = b"", 0
    while True:
        page = await harness.stub.ReadCustomerImportFile(
            ipb.ReadCustomerImportFileRequest(import_id=import_id, offset=offset), metadata=harness.metadata(who)
        )
        if not page.data:
            break
        data += page.data
        offset += len(page.data)
    assert offset == page.total_bytes
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [tuple(values) for values in sheet.iter_rows(values_only=True)]


async def customers_named(harness, who: Identity) -> dict[str, pb.Customer]:  # type: ignore[no-untyped-def]
    listed = await harness.stub.ListCustomers(pb.ListCustomersRequest(page_size=200), metadata=harness.metadata(who))
    return {c.name: c for c in listed.customers}


PLANTED = [
    row(客户名称="甲食堂", 统一社会信用代码=code(1), 联系人姓名="张三", 联系人手机="13800000001", 客户类型="学校食堂"),
    row(客户名称="甲食堂", 联系人姓名="李四", 联系人手机="13800000002", 决策角色="采购"),  # row 3: its second contact
    row(统一社会信用代码=code(2), 联系人姓名="某人"),  # 4: no name
    row(客户名称="乙食堂", 联系人姓名="王五", 联系人手机="1234"),  # 5: bad mobile
    row(客户名称="丙食堂", 统一社会信用代码="12345"),  # 6: bad credit code
    row(客户名称="丁食堂", 客户等级="超级"),  # 7: unknown tier
    row(客户名称="戊食堂", 客户类型="火星基地"),  # 8: unknown customer type
    row(客户名称="己食堂", 合同开始日期="2026-13-45"),  # 9: not a date
    row(客户名称="庚食堂", 合同开始日期="2026-06-01", 合同结束日期="2026/1/1"),  # 10: ends before it starts
    row(客户名称="辛食堂", 负责人="没有这个人"),  # 11: unknown owner
    row(客户名称="壬食堂", 联系人姓名="赵六", 决策角色="老板"),  # 12: unknown decision role
    row(客户名称="癸食堂", 联系人姓名="钱七", 联系人邮箱="not-an-email"),  # 13: bad email
    row(客户名称="甲食堂", 统一社会信用代码=code(1)),  # 14: the customer of row 2 again, not next to it
    row(客户名称="子食堂", 联系人姓名="孙八", 联系人手机="13800000001"),  # 15: row 2's mobile
    row(客户名称="丑食堂", 联系人姓名="周九", 联系人手机="999", 联系人邮箱="bad"),  # 16: two problems
    row(客户名称="寅食堂", 负责人="rep.li", 联系人姓名="吴十", 联系人手机="13800000003", 客户等级="重点"),  # 17
    row(客户名称="卯食堂", 生命周期="意向", 标签="午餐、长期合作"),  # 18: placed by the rules (none: the importer)
    row(客户名称="辰食堂", 客户等级="重点", 联系人姓名="郑一"),  # 19
    row(客户名称="辰食堂", 客户等级="一般", 联系人姓名="郑二"),  # 20: disagrees with row 19
    row(客户名称="巳食堂", 联系人手机="13800000004"),  # 21: a contact without a name
]
PLANTED_ERRORS = {
    (4, "客户名称", "required"),
    (5, "联系人手机", "invalid"),
    (6, "统一社会信用代码", "invalid"),
    (7, "客户等级", "unknown_value"),
    (8, "客户类型", "unknown_value"),
    (9, "合同开始日期", "invalid"),
    (10, "合同结束日期", "invalid"),
    (11, "负责人", "unknown_owner"),
    (12, "决策角色", "unknown_value"),
    (13, "联系人邮箱", "invalid"),
    (14, "统一社会信用代码", "duplicate_in_file"),
    (15, "联系人手机", "duplicate_in_file"),
    (16, "联系人手机", "invalid"),
    (16, "联系人邮箱", "invalid"),
    (20, "客户等级", "inconsistent"),
    (21, "联系人姓名", "required"),
}


async def test_a_dry_run_reports_every_planted_problem_by_row_and_column_then_the_import_creates_the_rest(
    customer_service,
) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.announce_user(rep, name="李娜", username="rep.li")
    import_id = await upload(customer_service, admin, xlsx(PLANTED))
    assert (await get(customer_service, admin, import_id)).status == ipb.IMPORT_STATUS_CHECKING
    await run_job(customer_service)

    checked = await get(customer_service, admin, import_id)
    assert checked.status == ipb.IMPORT_STATUS_CHECKED, checked.error
    found = await problems(customer_service, admin, import_id)
    assert errors(found) == PLANTED_ERRORS
    assert all("/" in p.reason and not p.reason.isascii() for p in found)
    mobile = next(p for p in found if (p.row, p.column) == (5, "联系人手机"))
    assert mobile.reason.startswith("手机号"), mobile.reason
    assert checked.total_rows == 20
    counts = checked.dry_run
    assert (counts.rows, counts.customers, counts.created, counts.updated) == (20, 18, 3, 0)
    assert (counts.skipped, counts.problems, counts.rejected_rows, counts.contacts_added) == (15, 16, 16, 3)
    assert await customer_service.customer_count() == 0

    # The rows the dry run would reject, with the file's columns, a reason and the row number.
    rejected = await rejected_file(customer_service, admin, import_id)
    assert rejected[0][: len(HEADERS)] == tuple(HEADERS) and rejected[0][-2:] == ("错误原因", "原行号")
    by_row = {r[-1]: r for r in rejected[1:]}
    assert sorted(by_row) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21]
    assert "联系人手机：手机号" in by_row[5][-2]
    assert "第20行有错误" in by_row[19][-2]

    confirmed = await confirm(customer_service, admin, import_id)
    assert confirmed.status == ipb.IMPORT_STATUS_IMPORTING
    await run_job(customer_service)
    done = await get(customer_service, admin, import_id)
    assert done.status == ipb.IMPORT_STATUS_COMPLETED and done.percent == 100
    assert (done.result.created, done.result.updated, done.result.contacts_added) == (3, 0, 3)
    names = await customers_named(customer_service, admin)
    assert set(names) == {"甲食堂", "寅食堂", "卯食堂"}
    assert [(c.name, c.mobile) for c in names["甲食堂"].contacts] == [("张三", "13800000001"), ("李四", "13800000002")]
    assert names["甲食堂"].contacts[1].decision_role == pb.DECISION_ROLE_PURCHASER
    assert names["寅食堂"].owner_id == rep.principal_id and names["寅食堂"].tier == "key"
    assert names["卯食堂"].owner_id == admin.principal_id and list(names["卯食堂"].tags) == ["午餐", "长期合作"]
    outbox = await customer_service.published_outbox()
    created = [r for r in outbox if r.envelope.type.endswith(".customer_created")]
    assert len(created) == 3
    finished = [r for r in outbox if r.envelope.type.endswith(".customer_import_finished")]
    assert [r.envelope.aggregate_version for r in finished] == [1, 2]


async def test_gb18030_and_utf8_csv_files_are_read_alike(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rows = [row(客户名称="北京实验小学食堂", 省="北京", 联系人姓名="韩梅梅", 联系人手机="13911112222")]
    first = await upload(customer_service, admin, csv_bytes(rows, "gb18030"), name="客户.csv")
    bom = [row(客户名称="上海第一中学食堂", 联系人姓名="李雷", 联系人手机="13911113333")]
    second = await upload(customer_service, admin, csv_bytes(bom, "utf-8-sig"), name="客户2.csv")
    await run_job(customer_service)
    for import_id, encoding in ((first, "gb18030"), (second, "utf-8-sig")):
        checked = await get(customer_service, admin, import_id)
        assert checked.status == ipb.IMPORT_STATUS_CHECKED and checked.encoding == encoding
        assert checked.dry_run.created == 1 and checked.dry_run.problems == 0
        await confirm(customer_service, admin, import_id)
    await run_job(customer_service)
    names = await customers_named(customer_service, admin)
    assert names["北京实验小学食堂"].addresses[0].province == "北京"
    assert names["北京实验小学食堂"].contacts[0].name == "韩梅梅"
    assert "上海第一中学食堂" in names


async def test_a_duplicate_of_a_customer_the_importer_cannot_see_is_skipped_without_naming_it(customer_service) -> None:
    org = customer_service.org
    owner = org.person(Role.SALES, org.shop_b)
    importer = org.person(Role.SUPERVISOR, org.sub_a)
    admin = org.person(Role.ADMIN, org.hq)
    hidden = await customer_service.create(
        owner,
        name="秘密客户食堂",
        credit_code=code(7),
        contacts=[pb.Contact(name="老板", mobile="13700000007")],
    )
    rows = [
        row(客户名称="换个名字", 统一社会信用代码=code(7)),
        row(客户名称="另一家食堂", 联系人姓名="某某", 联系人手机="13700000007"),
        row(客户名称="秘密客户食堂"),
    ]
    import_id = await upload(customer_service, importer, xlsx(rows))
    await run_job(customer_service)
    found = await problems(customer_service, importer, import_id)
    assert errors(found) == {
        (2, "统一社会信用代码", "hidden_duplicate"),
        (3, "联系人手机", "hidden_duplicate"),
        (4, "客户名称", "hidden_duplicate"),
    }
    for problem in found:
        assert "秘密客户" not in problem.reason and not problem.existing_customer_id
        assert not problem.existing_visible and "同事负责的客户" in problem.reason
    assert (await get(customer_service, importer, import_id)).dry_run.skipped == 3

    # Someone who may see it is told which customer it is, and the row updates it.
    seen = await upload(customer_service, admin, xlsx(rows[:1]))
    await run_job(customer_service)
    notice = (await problems(customer_service, admin, seen))[0]
    assert (notice.severity, notice.code, notice.existing_customer_id) == ("notice", "updates_existing", hidden.id)
    assert notice.existing_visible and "秘密客户食堂" in notice.reason
    await confirm(customer_service, admin, seen)
    await run_job(customer_service)
    assert (await get(customer_service, admin, seen)).result.updated == 1
    renamed = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=hidden.id), metadata=customer_service.metadata(admin)
    )
    assert renamed.customer.name == "换个名字" and renamed.customer.version == hidden.version + 1


async def test_importing_the_same_file_again_creates_nothing(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rows = [row(客户名称=f"重复导入食堂{i}", 联系人姓名="某人") for i in range(12)]
    content = xlsx(rows)
    first = await upload(customer_service, admin, content)
    await run_job(customer_service)
    await confirm(customer_service, admin, first)
    await run_job(customer_service)
    assert (await get(customer_service, admin, first)).result.created == 12

    again = await upload(customer_service, admin, content)
    await run_job(customer_service)
    report = await get(customer_service, admin, again)
    assert (report.dry_run.created, report.dry_run.skipped) == (0, 12)
    assert {p.code for p in await problems(customer_service, admin, again)} == {"already_imported"}
    await confirm(customer_service, admin, again)
    await run_job(customer_service)
    assert (await get(customer_service, admin, again)).result.created == 0
    assert await customer_service.customer_count() == 12


async def test_an_import_cut_short_mid_file_resumes_and_creates_every_customer_once(
    customer_service, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rows = [row(客户名称=f"续传食堂{i:02d}", 联系人姓名="某人", 联系人手机=f"1360000{i:04d}") for i in range(40)]
    import_id = await upload(customer_service, admin, xlsx(rows))
    await run_job(customer_service)
    await confirm(customer_service, admin, import_id)
    monkeypatch.setattr(import_job_module, "BATCH_ROWS", 6)

    class CrashingWriter(ImportWriter):
        """Writes the third batch, then the process dies before it commits."""

        calls = 0

        async def write(self, session, drafts, now):  # type: ignore[no-untyped-def]
            written = await super().write(session, drafts, now)
            CrashingWriter.calls += 1
            if CrashingWriter.calls == 3:
                raise SystemExit("crash")
            return written

    monkeypatch.setattr(import_job_module, "ImportWriter", CrashingWriter)
    sessions = customer_service.runtime.sessions
    job = ImportJob(
        sessions=sessions,
        events=import_job_module.CustomerEvents(
            tables=customer_service.runtime.tables, namespace=customer_service.runtime.namespace
        ),
        personal=import_job_module.PersonalData(customer_service.runtime.keyring),
    )
    with pytest.raises(SystemExit):
        await job.run_pass(ByHand(sessions, customer_service.clock), import_id)  # type: ignore[arg-type]
    cut = await get(customer_service, admin, import_id)
    assert cut.status == ipb.IMPORT_STATUS_IMPORTING and cut.result.created == 12
    assert await customer_service.customer_count() == 12

    monkeypatch.setattr(import_job_module, "ImportWriter", ImportWriter)
    await run_job(customer_service)
    done = await get(customer_service, admin, import_id)
    assert done.status == ipb.IMPORT_STATUS_COMPLETED
    assert (done.result.created, done.result.rows, done.result.skipped) == (40, 40, 0)
    async with sessions() as session:
        names = (await session.execute(select(Customer.name, func.count()).group_by(Customer.name))).all()
    assert len(names) == 40 and {count for _, count in names} == {1}
    created = [r for r in await customer_service.outbox() if r.envelope.type.endswith(".customer_created")]
    assert len(created) == 40


class ByHand:
    """A pass run by hand, outside the job runner: transactions without a lease."""

    def __init__(self, sessions, clock) -> None:  # type: ignore[no-untyped-def]
        self._sessions, self.clock = sessions, clock

    def transaction(self):  # type: ignore[no-untyped-def]
        sessions = self._sessions

        class Transaction:
            async def __aenter__(self):  # type: ignore[no-untyped-def]
                self.session = sessions()
                await self.session.__aenter__()
                await self.session.begin()
                return self.session

            async def __aexit__(self, kind, error, trace):  # type: ignore[no-untyped-def]
                if kind is None:
                    await self.session.commit()
                else:
                    await self.session.rollback()
                await self.session.__aexit__(kind, error, trace)

        return Transaction()

    async def still_holds(self) -> bool:
        return True


async def test_a_rep_imports_into_their_own_book_and_service_staff_do_not_import(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    other = org.person(Role.SALES, org.shop_a)
    await customer_service.announce_user(other, name="王强", username="rep.wang")
    rows = [row(客户名称="自己的客户"), row(客户名称="同事的客户", 负责人="rep.wang")]
    import_id = await upload(customer_service, rep, xlsx(rows))
    await run_job(customer_service)
    assert errors(await problems(customer_service, rep, import_id)) == {(3, "负责人", "owner_not_allowed")}
    await confirm(customer_service, rep, import_id)
    await run_job(customer_service)
    mine = await customers_named(customer_service, rep)
    assert mine["自己的客户"].owner_id == rep.principal_id and "同事的客户" not in mine

    # Another rep cannot see, confirm or read it: it looks missing.
    refused = await customer_service.refusal(
        customer_service.stub.GetCustomerImport(
            ipb.GetCustomerImportRequest(id=import_id), metadata=customer_service.metadata(other)
        )
    )
    assert refused.code == grpc.StatusCode.NOT_FOUND
    service_staff = org.person(Role.SERVICE, org.sub_a)
    denied = await customer_service.refusal(
        customer_service.stub.StartCustomerImport(
            ipb.StartCustomerImportRequest(file_name="a.csv", format=ipb.IMPORT_FORMAT_CSV, size_bytes=10),
            metadata=customer_service.metadata(service_staff),
        )
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED


async def test_bad_upload_requests_name_the_field(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    for request, field in (
        (ipb.StartCustomerImportRequest(file_name="", format=ipb.IMPORT_FORMAT_CSV, size_bytes=5), "file_name"),
        (ipb.StartCustomerImportRequest(file_name="a.csv", format=9, size_bytes=5), "format"),
        (ipb.StartCustomerImportRequest(file_name="a.csv", format=ipb.IMPORT_FORMAT_CSV, size_bytes=0), "size_bytes"),
    ):
        refused = await customer_service.refusal(
            customer_service.stub.StartCustomerImport(request, metadata=customer_service.metadata(admin))
        )
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.field == field
    started = await customer_service.stub.StartCustomerImport(
        ipb.StartCustomerImportRequest(file_name="a.csv", format=ipb.IMPORT_FORMAT_CSV, size_bytes=5),
        metadata=customer_service.metadata(admin),
    )
    gap = await customer_service.refusal(
        customer_service.stub.AppendCustomerImportChunk(
            ipb.AppendCustomerImportChunkRequest(import_id=started.customer_import.id, offset=3, data=b"ab"),
            metadata=customer_service.metadata(admin),
        )
    )
    assert gap.field == "offset"
    early = await customer_service.refusal(
        customer_service.stub.ConfirmCustomerImport(
            ipb.ConfirmCustomerImportRequest(import_id=started.customer_import.id),
            metadata=customer_service.metadata(admin),
        )
    )
    assert early.code == grpc.StatusCode.FAILED_PRECONDITION


async def test_the_template_has_the_chinese_headers_and_reads_back_without_problems(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    template = await customer_service.stub.GetCustomerImportTemplate(
        ipb.GetCustomerImportTemplateRequest(format=ipb.IMPORT_FORMAT_XLSX), metadata=customer_service.metadata(admin)
    )
    sheet = load_workbook(io.BytesIO(template.content), read_only=True).worksheets[0]
    header = [v for v in next(sheet.iter_rows(values_only=True)) if v]
    assert header[:4] == ["客户名称*", "简称", "客户类型", "统一社会信用代码"] and "联系人手机" in header
    assert {"证照类型", "证照编号", "证照有效期至", "停工开始日期", "停工结束日期", "停工原因"} <= set(header)
    # Drop-downs on the licence kinds (the tenant's) and the closure reasons, as on the other choices.
    lists = [
        v.formula1 for v in load_workbook(io.BytesIO(template.content)).worksheets[0].data_validations.dataValidation
    ]
    assert any("食品经营许可证" in f for f in lists) and any("寒假" in f for f in lists)
    import_id = await upload(customer_service, admin, template.content, name="模板.xlsx")
    await run_job(customer_service)
    checked = await get(customer_service, admin, import_id)
    assert (checked.dry_run.customers, checked.dry_run.created, checked.dry_run.problems) == (1, 1, 0)
    assert checked.dry_run.contacts_added == 2


async def test_rows_without_an_owner_are_placed_by_the_assignment_rules_in_turn(customer_service) -> None:
    from crm.customer.v1 import assignment_pb2 as apb

    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    reps = [org.person(Role.SALES, org.shop_a) for _ in range(2)]
    for rep in reps:
        await customer_service.announce_user(rep)
    await customer_service.stub.SetAssignmentRules(
        apb.SetAssignmentRulesRequest(
            rules=[
                apb.AssignmentRule(
                    name="浙江轮流",
                    enabled=True,
                    strategy=apb.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
                    conditions=apb.AssignmentConditions(provinces=["浙江"]),
                    target=apb.AssignmentTarget(user_ids=[r.principal_id for r in reps]),
                )
            ]
        ),
        metadata=customer_service.metadata(admin),
    )
    rows = [row(客户名称=f"轮流食堂{i}", 省="浙江") for i in range(4)]
    import_id = await upload(customer_service, admin, xlsx(rows))
    await run_job(customer_service)
    await confirm(customer_service, admin, import_id)
    await run_job(customer_service)
    assert (await get(customer_service, admin, import_id)).result.created == 4
    names = await customers_named(customer_service, admin)
    owners = [names[f"轮流食堂{i}"].owner_id for i in range(4)]
    assert owners.count(reps[0].principal_id) == 2 and owners.count(reps[1].principal_id) == 2
    assert all(names[f"轮流食堂{i}"].assigned_rule_id for i in range(4))


async def test_an_import_runs_the_same_on_sqlite(customer_service_sqlite) -> None:
    harness = customer_service_sqlite
    org = harness.org
    admin = org.person(Role.ADMIN, org.hq)
    rep = org.person(Role.SALES, org.shop_a)
    await harness.announce_user(rep, name="李娜", username="rep.li")
    import_id = await upload(harness, admin, xlsx(PLANTED))
    await run_job(harness)
    assert errors(await problems(harness, admin, import_id)) == PLANTED_ERRORS
    await confirm(harness, admin, import_id)
    await run_job(harness)
    assert (await get(harness, admin, import_id)).result.created == 3
    assert set(await customers_named(harness, admin)) == {"甲食堂", "寅食堂", "卯食堂"}


# --------------------------------------------------------------------------- licences and closures

LC_HEADERS = [*HEADERS, "证照类型", "证照编号", "证照有效期至", "停工开始日期", "停工结束日期", "停工原因", "停工说明"]


def lc_row(**values: str) -> list[str]:
    return [values.get(header, "") for header in LC_HEADERS]


async def held(harness, customer_id: str) -> tuple[list[Any], list[Any], list[Any], list[Any]]:  # type: ignore[no-untyped-def]
    """The customer's licences, closures, stage history and tier history, as stored."""
    from crm_customer.closures.models import CustomerClosure
    from crm_customer.licences.models import Licence
    from crm_customer.stages.models import StageChangeRow
    from crm_customer.tiers.models import TierChangeRow

    async with harness.runtime.sessions() as session:
        found = []
        for model, order in (
            (Licence, Licence.number),
            (CustomerClosure, CustomerClosure.start_date),
            (StageChangeRow, StageChangeRow.occurred_at),
            (TierChangeRow, TierChangeRow.occurred_at),
        ):
            query = select(model).where(model.customer_id == customer_id).order_by(order)  # type: ignore[attr-defined]
            found.append(list(await session.scalars(query)))
    return found[0], found[1], found[2], found[3]


LICENSED = [
    lc_row(客户名称="西湖实小食堂", 客户等级="重点", 生命周期="意向", 联系人姓名="王建国", 联系人手机="13800010001",
           证照类型="食品经营许可证", 证照编号="JY1330106001", 证照有效期至="2028/6/30",
           停工开始日期="2027-01-20", 停工结束日期="2027-02-18", 停工原因="寒假"),
    lc_row(客户名称="西湖实小食堂", 证照类型="营业执照", 证照编号="YZ0001",
           停工开始日期="2027-07-10", 停工结束日期="2027-08-31", 停工原因="summer_break"),
    lc_row(客户名称="城西工厂食堂", 停工开始日期="2027-02-01", 停工结束日期="2027-02-10", 停工原因="其他",
           停工说明="设备检修"),
]  # fmt: skip


async def import_licences_and_closures(harness) -> None:  # type: ignore[no-untyped-def]
    org = harness.org
    admin = org.person(Role.ADMIN, org.hq)
    import_id = await upload(harness, admin, xlsx(LICENSED, LC_HEADERS))
    await run_job(harness)
    checked = await get(harness, admin, import_id)
    assert checked.status == ipb.IMPORT_STATUS_CHECKED, checked.error
    assert errors(await problems(harness, admin, import_id)) == set()
    assert (checked.dry_run.customers, checked.dry_run.created) == (2, 2)
    await confirm(harness, admin, import_id)
    await run_job(harness)
    assert (await get(harness, admin, import_id)).result.created == 2

    names = await customers_named(harness, admin)
    school = names["西湖实小食堂"]
    licences, closures, stages, tiers = await held(harness, school.id)
    assert [(lc.kind, lc.number, lc.valid_until) for lc in licences] == [
        ("食品经营许可证", "JY1330106001", dt.date(2028, 6, 30)),
        ("营业执照", "YZ0001", None),
    ]
    assert licences[0].next_notice_on == dt.date(2028, 5, 31)
    assert [(c.start_date, c.end_date, c.reason) for c in closures] == [
        (dt.date(2027, 1, 20), dt.date(2027, 2, 18), "winter_break"),
        (dt.date(2027, 7, 10), dt.date(2027, 8, 31), "summer_break"),
    ]
    # Stage and tier history, as a create through the API keeps them.
    assert [(s.from_stage, s.to_stage) for s in stages] == [("", "prospect")]
    assert [(t.dimension, t.to_value, t.effective_value) for t in tiers] == [("value", "key", "key")]
    factory, other_closures, factory_stages, factory_tiers = await held(harness, names["城西工厂食堂"].id)
    assert factory == [] and [(c.reason, c.note) for c in other_closures] == [("other", "设备检修")]
    assert [s.to_stage for s in factory_stages] == ["lead"] and factory_tiers == []

    outbox = await harness.outbox()
    about_school = [r.envelope.type.rsplit(".", 1)[-1] for r in outbox if r.envelope.aggregate_id == school.id]
    assert sorted(about_school) == [
        "closure_scheduled",
        "closure_scheduled",
        "customer_created",
        "licence_recorded",
        "licence_recorded",
    ]
    assert about_school[0] == "customer_created"

    # The same file again creates nothing, and adds no licence or closure twice.
    again = await upload(harness, admin, xlsx(LICENSED, LC_HEADERS))
    await run_job(harness)
    await confirm(harness, admin, again)
    await run_job(harness)
    assert (await get(harness, admin, again)).result.created == 0
    licences, closures, _, _ = await held(harness, school.id)
    assert (len(licences), len(closures)) == (2, 2)


async def test_licences_and_closures_are_imported_with_their_events_and_the_history_rows(customer_service) -> None:
    await import_licences_and_closures(customer_service)


async def test_licences_and_closures_are_imported_alike_on_sqlite(customer_service_sqlite) -> None:
    await import_licences_and_closures(customer_service_sqlite)


BAD_LICENCES_AND_CLOSURES = [
    lc_row(客户名称="好食堂", 证照类型="食品经营许可证", 证照编号="JY01"),  # 2: fine
    lc_row(客户名称="一号食堂", 证照类型="驾驶证", 证照编号="X1"),  # 3: unknown kind
    lc_row(客户名称="二号食堂", 证照类型="营业执照"),  # 4: no number
    lc_row(客户名称="三号食堂", 证照类型="营业执照", 证照编号="Y1", 证照有效期至="2028-02-30"),  # 5: not a date
    lc_row(客户名称="四号食堂", 停工开始日期="2027-03-01", 停工结束日期="2027-02-01", 停工原因="寒假"),  # 6: ends first
    lc_row(客户名称="五号食堂", 停工开始日期="2027-03-01", 停工结束日期="2027-03-05", 停工原因="度假"),  # 7: reason
    lc_row(客户名称="六号食堂", 停工开始日期="2027-03-01", 停工结束日期="2027-03-05", 停工原因="其他"),  # 8: no note
    lc_row(客户名称="七号食堂", 停工结束日期="2027-03-05", 停工原因="春节"),  # 9: no start
    lc_row(客户名称="八号食堂", 停工开始日期="2027-01-01", 停工结束日期="2027-01-31", 停工原因="春节"),  # 10
    lc_row(
        客户名称="八号食堂", 停工开始日期="2027-01-15", 停工结束日期="2027-02-15", 停工原因="寒假"
    ),  # 11: overlaps 10
    lc_row(客户名称="九号食堂", 证照类型="营业执照", 证照编号="Z9"),  # 12
    lc_row(客户名称="九号食堂", 证照类型="营业执照", 证照编号="Z9"),  # 13: the same licence again
    lc_row(客户名称="十号食堂", 停工开始日期="2027-01-01", 停工结束日期="2028-06-30", 停工原因="装修"),  # 14: too long
]
BAD_LICENCE_AND_CLOSURE_ERRORS = {
    (3, "证照类型", "unknown_value"),
    (4, "证照编号", "required"),
    (5, "证照有效期至", "invalid"),
    (6, "停工结束日期", "invalid"),
    (7, "停工原因", "unknown_value"),
    (8, "停工说明", "required"),
    (9, "停工开始日期", "required"),
    (11, "停工开始日期", "closure_overlap"),
    (13, "证照编号", "duplicate_in_file"),
    (14, "停工结束日期", "invalid"),
}


async def test_bad_licence_and_closure_cells_are_reported_by_row_and_column_in_chinese(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    import_id = await upload(customer_service, admin, xlsx(BAD_LICENCES_AND_CLOSURES, LC_HEADERS))
    await run_job(customer_service)
    found = await problems(customer_service, admin, import_id)
    assert errors(found) == BAD_LICENCE_AND_CLOSURE_ERRORS
    assert all(not p.reason.isascii() for p in found)
    reasons = {(p.row, p.column): p.reason for p in found}
    assert reasons[(6, "停工结束日期")].startswith("结束日期不能早于开始日期")
    assert "第10行" in reasons[(11, "停工开始日期")] and "食品经营许可证" in reasons[(3, "证照类型")]
    checked = await get(customer_service, admin, import_id)
    assert (checked.dry_run.created, checked.dry_run.skipped) == (1, 10)


async def test_an_update_adds_the_licences_and_closures_the_customer_lacks(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    existing = await customer_service.create(admin, name="老客户食堂", credit_code=code(31))
    rows = [
        lc_row(客户名称="老客户食堂", 统一社会信用代码=code(31), 证照类型="卫生许可证", 证照编号="WS1",
               停工开始日期="2027-01-20", 停工结束日期="2027-02-18", 停工原因="寒假"),
    ]  # fmt: skip
    for _ in range(2):
        import_id = await upload(customer_service, admin, xlsx(rows, LC_HEADERS))
        await run_job(customer_service)
        await confirm(customer_service, admin, import_id)
        await run_job(customer_service)
    first_result = await get(customer_service, admin, import_id)
    assert first_result.result.created == 0
    licences, closures, _, _ = await held(customer_service, existing.id)
    assert [lc.number for lc in licences] == ["WS1"] and len(closures) == 1

    # A closure overlapping one it holds is refused on its row.
    clash = [lc_row(客户名称="老客户食堂", 统一社会信用代码=code(31), 停工开始日期="2027-02-01",
                    停工结束日期="2027-02-28", 停工原因="春节")]  # fmt: skip
    import_id = await upload(customer_service, admin, xlsx(clash, LC_HEADERS))
    await run_job(customer_service)
    assert errors(await problems(customer_service, admin, import_id)) == {(2, "停工开始日期", "closure_overlap")}


async def test_imported_customers_are_indexed_for_search_as_a_created_customer_is(customer_service) -> None:
    """The import works out each new customer's search terms ahead of writing its batch: they
    must be the very terms and pinyin a create writes."""
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rows = [
        row(客户名称="重庆西湖实验小学食堂", 简称="实小", 统一社会信用代码=code(77), 联系人姓名="某人",
            联系人手机="13912345678"),
        row(客户名称="重庆西湖实验小学食堂", 联系人姓名="另一人", 联系人手机="13987654321"),
        row(客户名称="长乐路幼儿园", 联系人姓名="无手机的人"),
    ]  # fmt: skip
    import_id = await upload(customer_service, admin, xlsx(rows))
    await run_job(customer_service)
    await confirm(customer_service, admin, import_id)
    await run_job(customer_service)
    assert (await get(customer_service, admin, import_id)).result.created == 2

    personal = PersonalData(customer_service.runtime.keyring)
    async with customer_service.runtime.sessions() as session:
        for customer in await session.scalars(select(Customer)):
            mobiles = [m for m in map(personal.mobile_of, customer.contacts) if m]
            indexed = await session.execute(
                select(SearchTerm.term, SearchTerm.rank, SearchTerm.owner_id).where(
                    SearchTerm.customer_id == customer.id
                )
            )
            expected = {(r["term"], r["rank"], r["owner_id"]) for r in search_term_rows(customer, mobiles, personal)}
            assert set(indexed) == expected
            assert (customer.pinyin_full, customer.pinyin_initials) == (
                pinyin_full(customer.name),
                pinyin_initials(customer.name),
            )
    assert await customer_service.search(admin, "cqxh") == ["重庆西湖实验小学食堂"]
    assert await customer_service.search(admin, "13987654321") == ["重庆西湖实验小学食堂"]
    assert await customer_service.search(admin, "幼儿") == ["长乐路幼儿园"]


async def test_a_file_that_cannot_be_read_further_fails_the_pass_after_the_batches_before(
    customer_service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next batch is read while one is written: a reading error still reaches the pass, the
    batches before it stay written, and nothing keeps reading after the pass has ended."""
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rows = [row(客户名称=f"读坏食堂{i:02d}", 联系人姓名="某人") for i in range(20)]
    import_id = await upload(customer_service, admin, xlsx(rows))
    await run_job(customer_service)
    await confirm(customer_service, admin, import_id)
    monkeypatch.setattr(import_job_module, "BATCH_ROWS", 5)
    read = Checker.read

    def read_until_row_15(self, group):  # type: ignore[no-untyped-def]
        if group.first_row == 15:
            raise ValueError("the file is unreadable from row 15")
        return read(self, group)

    monkeypatch.setattr(Checker, "read", read_until_row_15)
    sessions = customer_service.runtime.sessions
    job = ImportJob(
        sessions=sessions,
        events=import_job_module.CustomerEvents(
            tables=customer_service.runtime.tables, namespace=customer_service.runtime.namespace
        ),
        personal=import_job_module.PersonalData(customer_service.runtime.keyring),
    )
    with pytest.raises(ValueError, match="row 15"):
        await job.run_pass(ByHand(sessions, customer_service.clock), import_id)  # type: ignore[arg-type]
    assert not [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith("_read_ahead")]  # type: ignore[union-attr]
    cut = await get(customer_service, admin, import_id)
    # Rows 2-6, 7-11 and 12-14 are before the bad row: the first two batches are written.
    assert cut.status == ipb.IMPORT_STATUS_IMPORTING and cut.result.created == 10
    assert await customer_service.customer_count() == 10

    monkeypatch.setattr(Checker, "read", read)
    await run_job(customer_service)
    done = await get(customer_service, admin, import_id)
    assert (done.status, done.result.created) == (ipb.IMPORT_STATUS_COMPLETED, 20)
    assert await customer_service.customer_count() == 20
