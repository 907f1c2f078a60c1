"""/api/v1/customers/{id}/follow-ups and /api/v1/follow-up-tasks: follow-ups (跟进记录), each
call forwarded to the customer service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, cast, get_args

from fastapi import APIRouter, Query
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import visits_pb2 as vpb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.profile.schemas import ALERTS_DESCRIPTION, AlertOut, row_alerts
from crm_gateway.web import Caller, GatewayState, State
from crmkit.clock import SHANGHAI
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["follow-ups"])

InteractionKind = Literal["phone", "wechat", "visit", "email", "meeting", "other"]
KINDS = ProtoEnum(fpb.InteractionKind)
DUE = {
    "today": fpb.FOLLOW_UP_DUE_TODAY,
    "overdue": fpb.FOLLOW_UP_DUE_OVERDUE,
    "this_week": fpb.FOLLOW_UP_DUE_THIS_WEEK,
}


class CheckInIn(ApiModel):
    """Where the phone was when the rep checked in at the visit (拜访签到), or that it could not
    tell (`no_location`: location refused or unavailable)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # Before the coordinates: their validator reads it.
    no_location: bool = Field(
        False,
        description="The phone gave no position: check in with the time and typed address only; leave out "
        "latitude, longitude and accuracy_m. No distance is measured.",
    )
    latitude: float | None = Field(
        None, ge=-90, le=90, validate_default=True, description="WGS-84 degrees; required unless no_location"
    )
    longitude: float | None = Field(
        None, ge=-180, le=180, validate_default=True, description="WGS-84 degrees; required unless no_location"
    )
    accuracy_m: float = Field(0, ge=0, le=10_000, description="The phone's accuracy radius, metres")
    address: str = Field("", max_length=200, description="The address text the phone reported or the rep typed")
    checked_in_at: AwareDatetime | None = Field(None, description="When; default the visit's time; not in the future")

    @field_validator("latitude", "longitude")
    @classmethod
    def _located_unless_told_not(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None and not info.data.get("no_location", False):
            raise PydanticCustomError("missing", "Field required unless no_location")
        return value


class CheckInOut(BaseModel):
    no_location: bool = Field(description="The phone gave no position: no coordinates, no distance")
    latitude: float | None = Field(description="Null with no_location")
    longitude: float | None = Field(description="Null with no_location")
    accuracy_m: float
    address: str
    checked_in_at: dt.datetime | None = Field(description="Asia/Shanghai")
    distance_m: float | None = Field(
        description="Metres from the customer's own location (straight line); null when the customer has none"
    )


class PhotoOut(BaseModel):
    """A visit photo: its attachment and signed URLs for <img src> (see /api/v1/attachments)."""

    attachment_id: str
    thumbnail_url: str = Field(description="Signed, no Authorization header needed, until signed_until")
    content_url: str = Field(description="Signed, the full photo")
    signed_until: dt.datetime = Field(description="Asia/Shanghai")


class FollowUpIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: InteractionKind = Field(
        description="电话 phone, 微信 wechat, 拜访 visit, 邮件 email, 会议 meeting, 其他 other"
    )
    occurred_at: AwareDatetime | None = Field(None, description="When it happened; default now; not in the future")
    contact_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(default_factory=list, max_length=20)
    content: str = Field(min_length=1, max_length=2000)
    outcome: str = Field("", max_length=500)
    next_follow_up_date: dt.date | None = Field(None, description="Asia/Shanghai day, today or later")
    corrects_id: str | None = Field(None, max_length=36, description="The follow-up this one corrects")
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first result")
    check_in: CheckInIn | None = Field(None, description="A visit's check-in (kind visit only)")
    photo_attachment_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(
        default_factory=list,
        max_length=9,
        description="A visit's photos (拍照记录): attachments of kind visit_photo of this customer, uploaded first",
    )


class FollowUpPatch(ApiModel):
    """Only the fields present change; only the author, within 24 hours of logging it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: InteractionKind | None = None
    occurred_at: AwareDatetime | None = None
    contact_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] | None = Field(None, max_length=20)
    content: str | None = Field(None, min_length=1, max_length=2000)
    outcome: str | None = Field(None, max_length=500)
    next_follow_up_date: dt.date | None = None


class FollowUpOut(BaseModel):
    id: str
    customer_id: str
    kind: InteractionKind
    occurred_at: dt.datetime = Field(description="Asia/Shanghai")
    contact_ids: list[str]
    content: str
    outcome: str
    next_follow_up_date: dt.date | None
    author_id: str
    author_name: str = Field(description="Empty if the user is gone")
    corrects_id: str | None
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    updated_at: dt.datetime = Field(description="Asia/Shanghai")
    editable_until: dt.datetime = Field(description="The author may edit it until then (Asia/Shanghai)")
    check_in: CheckInOut | None = Field(None, description="A visit's check-in; null otherwise")
    photos: list[PhotoOut] = Field(default_factory=list, description="A visit's photos, in the order taken")


class FollowUpPage(BaseModel):
    items: list[FollowUpOut]
    next_page_token: str | None


class FollowUpTaskOut(BaseModel):
    customer_id: str
    customer_name: str
    owner_id: str
    owner_name: str
    org_unit_id: str
    next_follow_up_date: dt.date
    last_interaction_at: dt.datetime | None = Field(description="Asia/Shanghai; null if never followed up")
    alerts: list[AlertOut] = Field(default_factory=list, description=ALERTS_DESCRIPTION)


class FollowUpTaskPage(BaseModel):
    items: list[FollowUpTaskOut]
    next_page_token: str | None


def _stamp(moment: dt.datetime, field: str = "occurred_at") -> Timestamp:
    stamp = Timestamp()
    try:
        stamp.FromDatetime(moment.astimezone(dt.UTC))
    except (OverflowError, ValueError) as exc:
        # 0001-01-01T00:00+08:00 is before the first representable instant.
        raise InvalidArgument(field, "is not a valid time / 时间无效") from exc
    return stamp


def _to_proto(values: dict[str, object], customer_id: str) -> fpb.Interaction:
    message = fpb.Interaction(customer_id=customer_id)
    if values.get("kind"):
        message.kind = KINDS.to_proto(str(values["kind"]))  # type: ignore[assignment]
    if values.get("occurred_at"):
        message.occur_time.CopyFrom(_stamp(cast(dt.datetime, values["occurred_at"])))
    message.contact_ids.extend(cast(list[str], values.get("contact_ids") or []))
    message.content = str(values.get("content") or "")
    message.outcome = str(values.get("outcome") or "")
    if values.get("next_follow_up_date"):
        message.next_follow_up_date = cast(dt.date, values["next_follow_up_date"]).isoformat()
    message.corrects_id = str(values.get("corrects_id") or "")
    check_in = cast(dict[str, Any] | None, values.get("check_in"))
    if check_in:
        message.check_in.CopyFrom(
            vpb.VisitCheckIn(
                no_location=check_in["no_location"],
                latitude=check_in["latitude"] or 0.0,
                longitude=check_in["longitude"] or 0.0,
                accuracy_m=check_in["accuracy_m"],
                address=check_in["address"],
            )
        )
        if check_in.get("checked_in_at"):
            message.check_in.check_in_time.CopyFrom(_stamp(check_in["checked_in_at"], "check_in.checked_in_at"))
    message.photo_attachment_ids.extend(cast(list[str], values.get("photo_attachment_ids") or []))
    return message


def _kind_filter(kind: str | None) -> fpb.InteractionKind.ValueType:
    # A plain string, not the Literal, so an unknown kind is a 400 naming `kind` like the service's.
    if kind is None or kind == "":
        return fpb.INTERACTION_KIND_UNSPECIFIED
    if kind not in get_args(InteractionKind):
        raise InvalidArgument("kind", "unknown follow-up kind / 未知的跟进方式")
    return cast(fpb.InteractionKind.ValueType, KINDS.to_proto(kind))


def _check_in_out(check_in: vpb.VisitCheckIn) -> CheckInOut:
    located = not check_in.no_location
    return CheckInOut(
        no_location=check_in.no_location,
        latitude=check_in.latitude if located else None,
        longitude=check_in.longitude if located else None,
        accuracy_m=check_in.accuracy_m,
        address=check_in.address,
        checked_in_at=shanghai(check_in.check_in_time) if check_in.HasField("check_in_time") else None,
        distance_m=check_in.distance_m if check_in.HasField("distance_m") else None,
    )


def _photos(state: GatewayState, identity: Identity, ids: list[str]) -> list[PhotoOut]:
    photos = []
    for attachment_id in ids:
        thumbnail = state.attachment_links.sign(identity, attachment_id, "thumbnail")
        content = state.attachment_links.sign(identity, attachment_id, "content")
        photos.append(
            PhotoOut(
                attachment_id=attachment_id,
                thumbnail_url=thumbnail.url,
                content_url=content.url,
                signed_until=content.expires_at.astimezone(SHANGHAI),
            )
        )
    return photos


async def _render(state: GatewayState, identity: Identity, interactions: list[fpb.Interaction]) -> list[FollowUpOut]:
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={i.author_id for i in interactions})
    return [
        FollowUpOut(
            id=i.id,
            customer_id=i.customer_id,
            kind=cast(InteractionKind, KINDS.from_proto(i.kind)),
            occurred_at=shanghai(i.occur_time),
            contact_ids=list(i.contact_ids),
            content=i.content,
            outcome=i.outcome,
            next_follow_up_date=dt.date.fromisoformat(i.next_follow_up_date) if i.next_follow_up_date else None,
            author_id=i.author_id,
            author_name=names.get(i.author_id, ""),
            corrects_id=i.corrects_id or None,
            created_at=shanghai(i.create_time),
            updated_at=shanghai(i.update_time),
            editable_until=shanghai(i.create_time) + dt.timedelta(hours=24),
            check_in=_check_in_out(i.check_in) if i.HasField("check_in") else None,
            photos=_photos(state, identity, list(i.photo_attachment_ids)),
        )
        for i in interactions
    ]


@router.post(
    "/customers/{customer_id}/follow-ups",
    status_code=201,
    summary="Log a follow-up 新增跟进记录",
    description="A visit (kind `visit`) may carry a check-in (拜访签到: the phone's position, accuracy and address) "
    "and up to 9 photos (拍照记录: upload each first to POST /api/v1/customers/{id}/attachments with kind "
    "`visit_photo`, then list their ids). The answer gives the distance to the customer's own location when it "
    "has one. Neither can be changed later.",
)
async def log_follow_up(customer_id: str, body: FollowUpIn, state: State, identity: Caller) -> FollowUpOut:
    logged = await state.customers.LogInteraction(
        fpb.LogInteractionRequest(
            request_id=body.request_id or str(uuid.uuid4()),
            interaction=_to_proto(body.model_dump(), path_id(customer_id, "customer_id")),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await _render(state, identity, [logged.interaction]))[0]


@router.get("/customers/{customer_id}/follow-ups", summary="A customer's follow-ups, newest first 跟进记录")
async def list_follow_ups(
    customer_id: str,
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
    kind: Annotated[
        str | None,
        Query(
            max_length=16,
            description="Only follow-ups of this kind: " + ", ".join(get_args(InteractionKind)),
            json_schema_extra={"enum": list(get_args(InteractionKind))},
        ),
    ] = None,
) -> FollowUpPage:
    found = await state.customers.ListInteractions(
        fpb.ListInteractionsRequest(
            customer_id=path_id(customer_id, "customer_id"),
            page_size=page_size,
            page_token=page_token,
            kind=_kind_filter(kind),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    items = await _render(state, identity, list(found.interactions))
    return FollowUpPage(items=items, next_page_token=found.next_page_token or None)


@router.patch(
    "/customers/{customer_id}/follow-ups/{follow_up_id}",
    summary="Edit your follow-up within 24 hours 修改跟进记录",
    description="Only its author, until `editable_until`; after that, log a correction (`corrects_id`).",
)
async def edit_follow_up(
    customer_id: str, follow_up_id: str, body: FollowUpPatch, state: State, identity: Caller
) -> FollowUpOut:
    present = body.model_dump(exclude_unset=True)
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for required in ("kind", "occurred_at", "content", "contact_ids"):
        if required in present and present[required] is None:
            raise InvalidArgument(required, "cannot be null / 不能为空")
    message = _to_proto(present, path_id(customer_id, "customer_id"))
    message.id = path_id(follow_up_id, "follow_up_id")
    paths = ["occur_time" if name == "occurred_at" else name for name in present]
    updated = await state.customers.UpdateInteraction(
        fpb.UpdateInteractionRequest(interaction=message, update_mask=FieldMask(paths=sorted(paths))),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await _render(state, identity, [updated.interaction]))[0]


@router.get(
    "/follow-up-tasks",
    summary="Due follow-ups: yours, or your team's 待跟进任务",
    description="Customers whose next follow-up falls today, before today (overdue) or from today to Sunday "
    "(this_week), in Asia/Shanghai days, earliest first. A rep sees their own customers; a supervisor their subtree.",
)
async def follow_up_tasks(
    state: State,
    identity: Caller,
    due: Literal["today", "overdue", "this_week"] = "today",
    owner_id: Annotated[str | None, Query(max_length=36)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=36)] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> FollowUpTaskPage:
    found = await state.customers.ListFollowUpTasks(
        fpb.ListFollowUpTasksRequest(
            due=DUE[due],
            owner_id=owner_id or "",
            org_unit_id=org_unit_id or "",
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    owners = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={t.owner_id for t in found.tasks})
    labels = await state.profile_labels.for_caller(state, identity)
    return FollowUpTaskPage(
        items=[
            FollowUpTaskOut(
                customer_id=t.customer_id,
                customer_name=t.customer_name,
                owner_id=t.owner_id,
                owner_name=owners.get(t.owner_id, ""),
                org_unit_id=t.org_unit_id,
                next_follow_up_date=dt.date.fromisoformat(t.next_follow_up_date),
                last_interaction_at=shanghai(t.last_interaction_time) if t.HasField("last_interaction_time") else None,
                alerts=row_alerts(t.special_requirements, labels),
            )
            for t in found.tasks
        ],
        next_page_token=found.next_page_token or None,
    )
