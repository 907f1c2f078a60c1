"""/api/v1/customers/{id}/licences, /api/v1/licences/expiring and /api/v1/licence-kinds: licences
and certificates (资质证照), each call forwarded to the customer service.

Who sees what is the service's rule: everyone who may see a customer sees its licences except
service staff (403); finance reads but does not write them; a sales rep's other customers and
another tenant's look missing (404). The owner hears of a licence running out through the
notification inbox (notifications/licences.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query, Response
from google.protobuf.field_mask_pb2 import FieldMask
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import calendar_pb2 as cpb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.web import Caller, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument

router = APIRouter(prefix="/api/v1", tags=["licences"])

LicenceStatus = Literal["valid", "expiring", "expired"]
SummaryStatus = Literal["valid", "expiring", "expired", "missing"]
STATUSES = ProtoEnum(cpb.LicenceStatus)
AttachmentId = Annotated[
    str,
    Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description="附件编号 (from the attachments API); '' for none"),
]


class LicenceIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: str = Field(
        min_length=1, max_length=30, description="One of the tenant's kinds (GET /licence-kinds), e.g. 食品经营许可证"
    )
    number: str = Field(min_length=1, max_length=64, description="证照编号")
    issuer: str = Field("", max_length=100, description="发证机关, e.g. 杭州市西湖区市场监督管理局")
    valid_from: dt.date | None = Field(None, description="有效期起")
    valid_until: dt.date | None = Field(None, description="有效期至（含）, not before valid_from; null: 长期有效")
    attachment_id: AttachmentId = ""
    notes: str = Field("", max_length=500)
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first result")


class LicencePatch(ApiModel):
    """Only the fields present change; null clears valid_from or valid_until."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: str | None = Field(None, min_length=1, max_length=30)
    number: str | None = Field(None, min_length=1, max_length=64)
    issuer: str | None = Field(None, max_length=100)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    attachment_id: AttachmentId | None = None
    notes: str | None = Field(None, max_length=500)
    expected_version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed meanwhile"
    )


class LicenceOut(BaseModel):
    id: str
    customer_id: str
    kind: str
    number: str
    issuer: str
    valid_from: dt.date | None
    valid_until: dt.date | None = Field(description="Last valid day; null: never expires")
    attachment_id: str | None
    notes: str
    status: LicenceStatus = Field(description="Today (Asia/Shanghai): valid, expiring (within 30 days) or expired")
    days_left: int | None = Field(
        description="Days until valid_until (negative once expired); null if it never expires"
    )
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class LicenceSummaryOut(BaseModel):
    status: SummaryStatus = Field(description="The worst of missing, expired, expiring, valid (资质状态)")
    missing_kinds: list[str] = Field(description="Kinds its type requires that it holds none of (缺少)")
    expiring_kinds: list[str]
    expired_kinds: list[str]


class CustomerLicences(BaseModel):
    items: list[LicenceOut] = Field(description="By kind, latest first within a kind")
    summary: LicenceSummaryOut


class ExpiringLicenceOut(BaseModel):
    licence: LicenceOut
    customer_name: str
    owner_id: str
    owner_name: str
    org_unit_id: str


class ExpiringLicencePage(BaseModel):
    items: list[ExpiringLicenceOut]
    next_page_token: str | None


class LicenceKindModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=30, description="e.g. 食品经营许可证")
    required_for_types: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=50, description="Customer types that must hold one, e.g. 学校食堂"
    )


class LicenceKindList(ApiModel):
    items: list[LicenceKindModel] = Field(min_length=1, max_length=50)


def licence_out(licence: cpb.Licence) -> LicenceOut:
    return LicenceOut(
        id=licence.id,
        customer_id=licence.customer_id,
        kind=licence.kind,
        number=licence.number,
        issuer=licence.issuer,
        valid_from=dt.date.fromisoformat(licence.valid_from) if licence.valid_from else None,
        valid_until=dt.date.fromisoformat(licence.valid_until) if licence.valid_until else None,
        attachment_id=licence.attachment_id or None,
        notes=licence.notes,
        status=cast(LicenceStatus, STATUSES.from_proto(licence.status)),
        days_left=licence.days_left if licence.valid_until else None,
        version=licence.version,
        created_at=shanghai(licence.create_time),
        updated_at=shanghai(licence.update_time),
    )


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else ""


@router.get("/licence-kinds", summary="The tenant's kinds of licence 资质证照类型")
async def list_kinds(state: State, identity: Caller) -> LicenceKindList:
    found = await state.customers.ListLicenceKinds(
        cpb.ListLicenceKindsRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return LicenceKindList(
        items=[LicenceKindModel(name=k.name, required_for_types=list(k.required_for_types)) for k in found.kinds]
    )


@router.put(
    "/licence-kinds",
    summary="Replace the tenant's kinds of licence 设置证照类型",
    description="Admins and bosses. Required types must be the tenant's customer types; licences keep a removed kind.",
)
async def set_kinds(body: LicenceKindList, state: State, identity: Caller) -> LicenceKindList:
    saved = await state.customers.SetLicenceKinds(
        cpb.SetLicenceKindsRequest(
            kinds=[cpb.LicenceKind(name=k.name, required_for_types=k.required_for_types) for k in body.items]
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return LicenceKindList(
        items=[LicenceKindModel(name=k.name, required_for_types=list(k.required_for_types)) for k in saved.kinds]
    )


@router.get(
    "/customers/{customer_id}/licences",
    summary="A customer's licences and their status 客户资质证照",
    description="Each licence with its status today, and the customer's summary (missing required kinds for its "
    "type, expired, expiring). Service staff may not read licences (403).",
)
async def list_licences(customer_id: str, state: State, identity: Caller) -> CustomerLicences:
    found = await state.customers.ListCustomerLicences(
        cpb.ListCustomerLicencesRequest(customer_id=path_id(customer_id, "customer_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    summary = found.summary
    return CustomerLicences(
        items=[licence_out(lic) for lic in found.licences],
        summary=LicenceSummaryOut(
            status=cast(SummaryStatus, STATUSES.from_proto(summary.status)),
            missing_kinds=list(summary.missing_kinds),
            expiring_kinds=list(summary.expiring_kinds),
            expired_kinds=list(summary.expired_kinds),
        ),
    )


@router.post("/customers/{customer_id}/licences", status_code=201, summary="Record a licence 新增资质证照")
async def create_licence(customer_id: str, body: LicenceIn, state: State, identity: Caller) -> LicenceOut:
    created = await state.customers.CreateLicence(
        cpb.CreateLicenceRequest(
            request_id=body.request_id or str(uuid.uuid4()),
            licence=cpb.Licence(
                customer_id=path_id(customer_id, "customer_id"),
                kind=body.kind,
                number=body.number,
                issuer=body.issuer,
                valid_from=_iso(body.valid_from),
                valid_until=_iso(body.valid_until),
                attachment_id=body.attachment_id,
                notes=body.notes,
            ),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return licence_out(created.licence)


@router.patch("/customers/{customer_id}/licences/{licence_id}", summary="Change a licence 修改资质证照")
async def update_licence(
    customer_id: str, licence_id: str, body: LicencePatch, state: State, identity: Caller
) -> LicenceOut:
    present = body.model_dump(exclude_unset=True)
    present.pop("expected_version", None)
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for name in ("kind", "number", "issuer", "attachment_id", "notes"):
        if name in present and present[name] is None:
            raise InvalidArgument(name, "cannot be null / 不能为空")
    message = cpb.Licence(
        id=path_id(licence_id, "licence_id"),
        customer_id=path_id(customer_id, "customer_id"),
        kind=body.kind or "",
        number=body.number or "",
        issuer=body.issuer or "",
        valid_from=_iso(body.valid_from),
        valid_until=_iso(body.valid_until),
        attachment_id=body.attachment_id or "",
        notes=body.notes or "",
    )
    updated = await state.customers.UpdateLicence(
        cpb.UpdateLicenceRequest(
            licence=message, update_mask=FieldMask(paths=sorted(present)), expected_version=body.expected_version or 0
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return licence_out(updated.licence)


@router.delete(
    "/customers/{customer_id}/licences/{licence_id}",
    status_code=204,
    summary="Delete a licence entered by mistake 删除资质证照",
)
async def delete_licence(customer_id: str, licence_id: str, state: State, identity: Caller) -> Response:
    await state.customers.DeleteLicence(
        cpb.DeleteLicenceRequest(
            customer_id=path_id(customer_id, "customer_id"), licence_id=path_id(licence_id, "licence_id")
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return Response(status_code=204)


@router.get(
    "/licences/expiring",
    summary="Expiring and expired licences 即将到期/已过期的资质证照",
    description="Of your customers (a supervisor's subtree, everyone's for admins), earliest first; a licence "
    "a later one of its kind supersedes is left out.",
)
async def list_expiring(
    state: State,
    identity: Caller,
    status: Literal["expiring", "expired"] | None = None,
    owner_id: Annotated[str | None, Query(max_length=36)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=36)] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> ExpiringLicencePage:
    found = await state.customers.ListExpiringLicences(
        cpb.ListExpiringLicencesRequest(
            status=STATUSES.to_proto(status or ""),  # type: ignore[arg-type]
            owner_id=owner_id or "",
            org_unit_id=org_unit_id or "",
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={i.owner_id for i in found.licences}
    )
    return ExpiringLicencePage(
        items=[
            ExpiringLicenceOut(
                licence=licence_out(i.licence),
                customer_name=i.customer_name,
                owner_id=i.owner_id,
                owner_name=names.get(i.owner_id, ""),
                org_unit_id=i.org_unit_id,
            )
            for i in found.licences
        ],
        next_page_token=found.next_page_token or None,
    )
