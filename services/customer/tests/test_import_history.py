"""Customers imported with their history (负责起始日期, 最近跟进日期): the dates are checked by
row and column, a new customer's owner holds it since that day and its last follow-up is that
day's, and the revisit plans count from them — a VIP held for a month is due a revisit today, as
soon as the import completes, while one created today is not."""

from __future__ import annotations

import datetime as dt

from crm.customer.v1 import imports_pb2 as ipb
from crm.customer.v1 import revisits_pb2 as rpb
from crmkit.clock import SHANGHAI, shanghai_date
from crmkit.identity import Role
from crmkit.testing.jobs import ran_since

from .test_imports import HEADERS, confirm, customers_named, errors, get, problems, run_job, upload, xlsx

HISTORY_HEADERS = [*HEADERS, "负责起始日期", "最近跟进日期"]


def history_row(name: str, since: str = "", followed: str = "", **values: str) -> list[str]:
    cells = {"客户名称": name, **values}
    return [cells.get(header, "") for header in HEADERS] + [since, followed]


async def test_owner_since_and_last_follow_up_carry_the_sheets_history_into_the_clocks(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.announce_user(rep, name="李娜", username="rep.li")
    today = shanghai_date(customer_service.clock())
    day = lambda days: (today - dt.timedelta(days=days)).isoformat()  # noqa: E731
    rows = [
        history_row("老客户甲食堂", day(30), day(20), 负责人="rep.li", 客户等级="VIP"),
        history_row("乙食堂", (today + dt.timedelta(days=1)).isoformat(), 负责人="rep.li"),  # row 3: future
        history_row("丙食堂", "2026-02-30", 负责人="rep.li"),  # row 4: no such day
        history_row("丁食堂", day(10), day(20), 负责人="rep.li"),  # row 5: followed before held
        history_row("新客户戊食堂", 负责人="rep.li", 客户等级="VIP"),
    ]
    import_id = await upload(customer_service, admin, xlsx(rows, HISTORY_HEADERS))
    await run_job(customer_service)
    found = await problems(customer_service, admin, import_id)
    assert errors(found) == {
        (3, "负责起始日期", "future_date"),
        (4, "负责起始日期", "invalid_date"),
        (5, "最近跟进日期", "before_owner_since"),
    }
    assert all(not p.reason.isascii() for p in found if p.severity == "error")
    assert (await get(customer_service, admin, import_id)).dry_run.created == 2

    # Plans in force before the import: VIP every 14 days by the owner; setting them schedules
    # at once (nothing is due yet: the file's customers are not imported).
    plans_at = customer_service.clock()
    await customer_service.stub.SetRevisitPlans(
        rpb.SetRevisitPlansRequest(
            plans=[rpb.RevisitPlan(tier="vip", interval_days=14, assignee=rpb.REVISIT_ASSIGNEE_OWNER)]
        ),
        metadata=customer_service.metadata(admin),
    )
    await ran_since(customer_service.runtime.sessions, "revisit-tasks", plans_at, within=30)
    confirmed_at = customer_service.clock()
    await confirm(customer_service, admin, import_id)
    await run_job(customer_service)
    assert (await get(customer_service, admin, import_id)).status == ipb.IMPORT_STATUS_COMPLETED

    named = await customers_named(customer_service, admin)
    held, fresh = named["老客户甲食堂"], named["新客户戊食堂"]
    start = lambda days: dt.datetime.combine(today - dt.timedelta(days=days), dt.time(0), tzinfo=SHANGHAI)  # noqa: E731
    assert held.owned_since.ToDatetime(dt.UTC) == start(30)
    assert held.last_interaction_time.ToDatetime(dt.UTC) == start(20)
    assert fresh.HasField("owned_since") and not fresh.HasField("last_interaction_time")
    assert fresh.owned_since.ToDatetime(dt.UTC) > start(0)

    # The completed import asked for a revisit run at once, not at the job's next daily one.
    await ran_since(customer_service.runtime.sessions, "revisit-tasks", confirmed_at, within=30)
    tasks = await customer_service.stub.ListRevisitTasks(
        rpb.ListRevisitTasksRequest(due=rpb.REVISIT_DUE_TODAY), metadata=customer_service.metadata(rep)
    )
    assert [(t.customer_name, t.due_date) for t in tasks.tasks] == [("老客户甲食堂", today.isoformat())]
