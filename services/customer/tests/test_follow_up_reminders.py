"""Follow-up reminders: on the morning of a customer's next follow-up date (Asia/Shanghai) its
owner is reminded once, however often the job runs that day."""

from __future__ import annotations

import datetime as dt

from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crmkit.clock import SHANGHAI, shanghai_date
from crmkit.identity import Role
from crmkit.testing.jobs import ran_since

JOB = "follow-up-reminders"


async def _reminders(harness) -> list[events_pb2.FollowUpReminder]:  # type: ignore[no-untyped-def]
    found = []
    for row in await harness.outbox():
        if row.envelope.type == "crm.customer.v1.follow_up_reminder":
            message = events_pb2.FollowUpReminder()
            assert row.envelope.payload.Unpack(message)
            found.append(message)
    return found


async def _move_to(harness, moment: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    moved_to = harness.clock.advance(moment - harness.clock())
    await ran_since(harness.runtime.sessions, JOB, moved_to)


async def test_the_owner_is_reminded_once_on_the_due_morning(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    due, later = (
        await customer_service.create(rep, name="扬州广陵区食堂"),
        await customer_service.create(rep, name="泰州海陵区食堂"),
    )
    tomorrow = shanghai_date(customer_service.clock()) + dt.timedelta(days=1)
    for customer, day in ((due, tomorrow), (later, tomorrow + dt.timedelta(days=1))):
        await customer_service.stub.LogInteraction(
            fpb.LogInteractionRequest(
                interaction=fpb.Interaction(
                    customer_id=customer.id,
                    kind=fpb.INTERACTION_KIND_PHONE,
                    content="约好明天再联系",
                    next_follow_up_date=day.isoformat(),
                )
            ),
            metadata=customer_service.metadata(rep),
        )
    morning = dt.datetime.combine(tomorrow, dt.time(9, 0), tzinfo=SHANGHAI)

    await _move_to(customer_service, morning)
    first = await _reminders(customer_service)
    await _move_to(customer_service, morning + dt.timedelta(hours=2))
    again = await _reminders(customer_service)

    assert [(r.customer.id, r.owner_id, r.due_date) for r in first] == [
        (due.id, rep.principal_id, tomorrow.isoformat())
    ]
    assert [r.customer.id for r in again] == [due.id]
