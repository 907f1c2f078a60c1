"""/api/v1/customers/{id}/closures and /api/v1/closure-templates: closures (停工/放假) and the
tenant's calendar templates (校历), each call forwarded to the customer service.

Who sees what is the service's rule: everyone who may see a customer sees its closures except
finance (403); service staff read but do not write them; a sales rep's other customers and
another tenant's look missing (404)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query, Response
from google.protobuf.field_mask_pb2 import FieldMask
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import calendar_pb2 as cpb
from crm_gateway.customers.schemas import Stage, shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.web import Caller, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument

router = APIRouter(prefix="/api/v1", tags=["closures"])

ClosureReason = Literal["winter_break", "summer_break", "spring_festival", "factory_shutdown", "renovation", "other"]
REASONS = ProtoEnum(cpb.ClosureReason)
REASON_DESCRIPTION = (
    "寒假 winter_break, 暑假 summer_break, 春节 spring_festival, 工厂停工 factory_shutdown, 装修 renovation, 其他 other"
)
Note = Annotated[
    str, Field(max_length=200, description="说明；原因为 other 时必填 / required when the reason is other")
]
CustomerIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=36)]], Field(max_length=500)]


class ClosureIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    start_date: dt.date = Field(description="第一天停工/放假 (Asia/Shanghai)")
    end_date: dt.date = Field(description="最后一天（含），不早于 start_date，最长366天")
    reason: ClosureReason = Field(description=REASON_DESCRIPTION)
    note: Note = ""
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first result")


class ClosurePatch(ApiModel):
    """Only the fields present change; a closure from a template changes only with the template."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    reason: ClosureReason | None = None
    note: Note | None = None
    expected_version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed meanwhile"
    )


class ClosureOut(BaseModel):
    id: str
    customer_id: str
    start_date: dt.date
    end_date: dt.date = Field(description="Last closed day, inclusive")
    reason: ClosureReason
    note: str
    template_id: str | None = Field(description="The template (校历) it comes from; null for the customer's own")
    template_name: str
    version: int
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    updated_at: dt.datetime = Field(description="Asia/Shanghai")


class ClosureList(BaseModel):
    items: list[ClosureOut] = Field(description="By start date")
    current: ClosureOut | None = Field(
        description="The closure covering today (Asia/Shanghai), if the customer is closed"
    )


class TemplateRangeIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str | None = Field(
        None,
        max_length=36,
        description="On a change: the range it replaces (its customers' closures change with it); omit for a new range",
    )
    start_date: dt.date
    end_date: dt.date
    reason: ClosureReason = Field(description=REASON_DESCRIPTION)
    note: Note = ""


class TemplateRangeOut(BaseModel):
    id: str
    start_date: dt.date
    end_date: dt.date
    reason: ClosureReason
    note: str


class TemplateIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=60, description="e.g. 2027 杭州中小学校历; unique in the tenant")
    ranges: list[TemplateRangeIn] = Field(min_length=1, max_length=20, description="Ranges that do not overlap")
    request_id: str | None = Field(None, max_length=64)


class TemplatePatch(ApiModel):
    """`ranges` replaces the list: a range with the id of an old one changes it, one without an id
    is added, an old one left out is removed — on every customer the template is applied to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=60)
    ranges: list[TemplateRangeIn] | None = Field(None, min_length=1, max_length=20)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class TemplateOut(BaseModel):
    id: str
    name: str
    ranges: list[TemplateRangeOut]
    customer_count: int = Field(description="Customers it is applied to")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplateList(BaseModel):
    items: list[TemplateOut]


class TemplateChanged(BaseModel):
    template: TemplateOut
    closures_changed: int = Field(description="Closures changed, added or removed on its customers")


class TemplateDeleted(BaseModel):
    closures_removed: int


class CustomerFilterIn(ApiModel):
    """Your customers matching all the fields given (at least one); at most 5,000 at once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: str | None = Field(None, max_length=30, description="e.g. 学校食堂")
    tag: str | None = Field(None, max_length=20)
    lifecycle_stage: Stage | None = None
    owner_id: str | None = Field(None, max_length=36)
    org_unit_id: str | None = Field(None, max_length=36)


class ApplyIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    customer_ids: CustomerIds = Field(default_factory=list, description="At most 500")
    filter: CustomerFilterIn | None = None


class ClosureOverlapOut(BaseModel):
    closure: ClosureOut = Field(description="One of the customer's own closures")
    range: TemplateRangeOut = Field(description="The template's range it overlaps")


class ClosureConflictOut(BaseModel):
    customer_id: str
    customer_name: str
    closure: ClosureOut = Field(description="The earliest of its own closures that overlap a range of the template")
    overlaps: list[ClosureOverlapOut] = Field(
        default_factory=list,
        description="Every overlap that kept the template off it: its closure and the template's range, earliest first",
    )


class ApplyOut(BaseModel):
    applied_customer_ids: list[str]
    already_applied_customer_ids: list[str]
    not_found_customer_ids: list[str] = Field(description="Missing, archived, or not yours to change")
    conflicts: list[ClosureConflictOut] = Field(description="Left out: a closure of their own overlaps a range")


class RemoveIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    customer_ids: CustomerIds = Field(min_length=1)


class RemoveOut(BaseModel):
    removed_customer_ids: list[str]
    not_found_customer_ids: list[str]


class TemplateCustomerOut(BaseModel):
    customer_id: str
    customer_name: str
    owner_id: str
    owner_name: str
    applied_at: dt.datetime


class TemplateCustomerPage(BaseModel):
    items: list[TemplateCustomerOut]
    next_page_token: str | None


def closure_out(closure: cpb.Closure) -> ClosureOut:
    return ClosureOut(
        id=closure.id,
        customer_id=closure.customer_id,
        start_date=dt.date.fromisoformat(closure.start_date),
        end_date=dt.date.fromisoformat(closure.end_date),
        reason=cast(ClosureReason, REASONS.from_proto(closure.reason)),
        note=closure.note,
        template_id=closure.template_id or None,
        template_name=closure.template_name,
        version=closure.version,
        created_at=shanghai(closure.create_time),
        updated_at=shanghai(closure.update_time),
    )


def _template_out(template: cpb.ClosureTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        name=template.name,
        ranges=[_range_out(r) for r in template.ranges],
        customer_count=template.customer_count,
        version=template.version,
        created_at=shanghai(template.create_time),
        updated_at=shanghai(template.update_time),
    )


def _range_out(value: cpb.ClosureTemplateRange) -> TemplateRangeOut:
    return TemplateRangeOut(
        id=value.id,
        start_date=dt.date.fromisoformat(value.start_date),
        end_date=dt.date.fromisoformat(value.end_date),
        reason=cast(ClosureReason, REASONS.from_proto(value.reason)),
        note=value.note,
    )


def _ranges(ranges: list[TemplateRangeIn]) -> list[cpb.ClosureTemplateRange]:
    return [
        cpb.ClosureTemplateRange(
            id=r.id or "",
            start_date=r.start_date.isoformat(),
            end_date=r.end_date.isoformat(),
            reason=REASONS.to_proto(r.reason),  # type: ignore[arg-type]
            note=r.note,
        )
        for r in ranges
    ]


# --------------------------------------------------------------------------- a customer's closures


@router.get(
    "/customers/{customer_id}/closures",
    summary="A customer's closures 停工/放假",
    description="Its closures by start date, and the one covering today. Finance may not read closures (403).",
)
async def list_closures(
    customer_id: str,
    state: State,
    identity: Caller,
    from_: Annotated[dt.date | None, Query(alias="from", description="Only those ending on or after this day")] = None,
) -> ClosureList:
    found = await state.customers.ListClosures(
        cpb.ListClosuresRequest(
            customer_id=path_id(customer_id, "customer_id"), from_date=from_.isoformat() if from_ else ""
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return ClosureList(
        items=[closure_out(c) for c in found.closures],
        current=closure_out(found.current) if found.HasField("current") else None,
    )


@router.post(
    "/customers/{customer_id}/closures",
    status_code=201,
    summary="Add a closure 新增停工/放假",
    description="Refused (400, code `closure_overlap`, field `start_date`) when it overlaps another closure of "
    "the customer.",
)
async def create_closure(customer_id: str, body: ClosureIn, state: State, identity: Caller) -> ClosureOut:
    created = await state.customers.CreateClosure(
        cpb.CreateClosureRequest(
            request_id=body.request_id or str(uuid.uuid4()),
            closure=cpb.Closure(
                customer_id=path_id(customer_id, "customer_id"),
                start_date=body.start_date.isoformat(),
                end_date=body.end_date.isoformat(),
                reason=REASONS.to_proto(body.reason),  # type: ignore[arg-type]
                note=body.note,
            ),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return closure_out(created.closure)


@router.patch("/customers/{customer_id}/closures/{closure_id}", summary="Change a closure 修改停工/放假")
async def update_closure(
    customer_id: str, closure_id: str, body: ClosurePatch, state: State, identity: Caller
) -> ClosureOut:
    present = body.model_dump(exclude_unset=True)
    present.pop("expected_version", None)
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for name, value in present.items():
        if value is None:
            raise InvalidArgument(name, "cannot be null / 不能为空")
    message = cpb.Closure(id=path_id(closure_id, "closure_id"), customer_id=path_id(customer_id, "customer_id"))
    if body.start_date:
        message.start_date = body.start_date.isoformat()
    if body.end_date:
        message.end_date = body.end_date.isoformat()
    if body.reason:
        message.reason = REASONS.to_proto(body.reason)  # type: ignore[assignment]
    message.note = body.note or ""
    updated = await state.customers.UpdateClosure(
        cpb.UpdateClosureRequest(
            closure=message, update_mask=FieldMask(paths=sorted(present)), expected_version=body.expected_version or 0
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return closure_out(updated.closure)


@router.delete(
    "/customers/{customer_id}/closures/{closure_id}", status_code=204, summary="Remove a closure 删除停工/放假"
)
async def delete_closure(customer_id: str, closure_id: str, state: State, identity: Caller) -> Response:
    await state.customers.DeleteClosure(
        cpb.DeleteClosureRequest(
            customer_id=path_id(customer_id, "customer_id"), closure_id=path_id(closure_id, "closure_id")
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return Response(status_code=204)


# --------------------------------------------------------------------------- templates (校历)


@router.get("/closure-templates", summary="The tenant's calendar templates 校历模板")
async def list_templates(state: State, identity: Caller) -> TemplateList:
    found = await state.customers.ListClosureTemplates(
        cpb.ListClosureTemplatesRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return TemplateList(items=[_template_out(t) for t in found.templates])


@router.post(
    "/closure-templates",
    status_code=201,
    summary="Create a calendar template 新建校历模板",
    description="Admins and bosses. Apply it to customers with POST /closure-templates/{id}/customers.",
)
async def create_template(body: TemplateIn, state: State, identity: Caller) -> TemplateOut:
    created = await state.customers.CreateClosureTemplate(
        cpb.CreateClosureTemplateRequest(
            request_id=body.request_id or str(uuid.uuid4()),
            template=cpb.ClosureTemplate(name=body.name, ranges=_ranges(body.ranges)),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return _template_out(created.template)


@router.get("/closure-templates/{template_id}", summary="A calendar template 校历模板详情")
async def get_template(template_id: str, state: State, identity: Caller) -> TemplateOut:
    found = await state.customers.GetClosureTemplate(
        cpb.GetClosureTemplateRequest(id=path_id(template_id, "template_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return _template_out(found.template)


@router.patch(
    "/closure-templates/{template_id}",
    summary="Change a calendar template, and every customer it is applied to 修改校历模板",
    description="Admins and bosses. A changed range moves its closure on every customer the template is applied to; "
    "refused (400 `closure_overlap`, field `ranges[i]`) when a customer's own closure is in the way.",
)
async def update_template(template_id: str, body: TemplatePatch, state: State, identity: Caller) -> TemplateChanged:
    present = body.model_dump(exclude_unset=True)
    present.pop("expected_version", None)
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for name, value in present.items():
        if value is None:
            raise InvalidArgument(name, "cannot be null / 不能为空")
    message = cpb.ClosureTemplate(id=path_id(template_id, "template_id"), name=body.name or "")
    message.ranges.extend(_ranges(body.ranges or []))
    changed = await state.customers.UpdateClosureTemplate(
        cpb.UpdateClosureTemplateRequest(
            template=message, update_mask=FieldMask(paths=sorted(present)), expected_version=body.expected_version or 0
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return TemplateChanged(template=_template_out(changed.template), closures_changed=changed.closures_changed)


@router.delete(
    "/closure-templates/{template_id}",
    summary="Delete a calendar template 删除校历模板",
    description="Admins and bosses. Its closures leave every customer it was applied to.",
)
async def delete_template(template_id: str, state: State, identity: Caller) -> TemplateDeleted:
    deleted = await state.customers.DeleteClosureTemplate(
        cpb.DeleteClosureTemplateRequest(id=path_id(template_id, "template_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return TemplateDeleted(closures_removed=deleted.closures_removed)


@router.post(
    "/closure-templates/{template_id}/customers",
    summary="Apply a calendar template to customers 批量应用校历",
    description="To the listed customers (at most 500) and/or your customers matching `filter` (at most 5,000); "
    "only customers you may change. Applying twice changes nothing; a customer whose own closure overlaps a range "
    "is left out and listed in `conflicts`.",
)
async def apply_template(template_id: str, body: ApplyIn, state: State, identity: Caller) -> ApplyOut:
    request = cpb.ApplyClosureTemplateRequest(
        template_id=path_id(template_id, "template_id"), customer_ids=body.customer_ids
    )
    if body.filter is not None:
        request.filter.CopyFrom(cpb.ClosureCustomerFilter(**body.filter.model_dump(exclude_none=True)))
    applied = await state.customers.ApplyClosureTemplate(request, metadata=state.identity_metadata.for_caller(identity))
    return ApplyOut(
        applied_customer_ids=list(applied.applied_customer_ids),
        already_applied_customer_ids=list(applied.already_applied_customer_ids),
        not_found_customer_ids=list(applied.not_found_customer_ids),
        conflicts=[
            ClosureConflictOut(
                customer_id=c.customer_id,
                customer_name=c.customer_name,
                closure=closure_out(c.closure),
                overlaps=[
                    ClosureOverlapOut(closure=closure_out(o.closure), range=_range_out(o.range)) for o in c.overlaps
                ],
            )
            for c in applied.conflicts
        ],
    )


@router.post(
    "/closure-templates/{template_id}/customers/remove",
    summary="Take customers off a calendar template 移出校历",
    description="Its closures leave them (closure_removed for each).",
)
async def remove_template_customers(template_id: str, body: RemoveIn, state: State, identity: Caller) -> RemoveOut:
    removed = await state.customers.RemoveClosureTemplateCustomers(
        cpb.RemoveClosureTemplateCustomersRequest(
            template_id=path_id(template_id, "template_id"), customer_ids=body.customer_ids
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return RemoveOut(
        removed_customer_ids=list(removed.removed_customer_ids),
        not_found_customer_ids=list(removed.not_found_customer_ids),
    )


@router.get("/closure-templates/{template_id}/customers", summary="Your customers on a calendar template 已应用的客户")
async def list_template_customers(
    template_id: str,
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> TemplateCustomerPage:
    found = await state.customers.ListClosureTemplateCustomers(
        cpb.ListClosureTemplateCustomersRequest(
            template_id=path_id(template_id, "template_id"), page_size=page_size, page_token=page_token
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={c.owner_id for c in found.customers}
    )
    return TemplateCustomerPage(
        items=[
            TemplateCustomerOut(
                customer_id=c.customer_id,
                customer_name=c.customer_name,
                owner_id=c.owner_id,
                owner_name=names.get(c.owner_id, ""),
                applied_at=shanghai(c.apply_time),
            )
            for c in found.customers
        ],
        next_page_token=found.next_page_token or None,
    )
