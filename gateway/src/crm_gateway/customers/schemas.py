"""REST shapes of customers and contacts, validated before anything reaches a service."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, cast

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from crm.customer.v1 import customer_pb2 as pb
from crm_gateway.inputs import MAX_VERSION, ApiModel, json_safe, whole_numbers
from crm_gateway.profile.schemas import (
    AlertOut,
    Grade,
    PreferencesIn,
    PreferencesOut,
    ProfileLabels,
    SpecialRequirementIn,
    SpecialRequirementOut,
    TierSource,
    profile_out,
    requirements_to_proto,
)
from crmkit.clock import SHANGHAI
from crmkit.cn import normalize_credit_code, normalize_mobile

Stage = Literal["lead", "prospect", "signed", "dormant", "lost"]
# How soon pool rules take a neglected customer back: VIP, 重点 (key) or 一般 (normal).
Tier = Literal["vip", "key", "normal"]
# How a customer came: 展会, 网络推广, 客户推荐, 电话, 其他.
Source = Literal["trade_show", "online", "referral", "phone", "other"]
ProductLineName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
# Empty strings are accepted for optional fields and mean "none".
EMAIL_PATTERN = r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$"
DecisionRole = Literal["decision_maker", "purchaser", "user", "payer"]


def _credit_code(value: str | None) -> str | None:
    return normalize_credit_code(value) if value else value


def _mobile(value: str | None) -> str | None:
    return normalize_mobile(value) if value else value


Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
CreditCode = Annotated[str | None, AfterValidator(_credit_code)]
Mobile = Annotated[str | None, AfterValidator(_mobile)]
WechatId = Annotated[str | None, StringConstraints(pattern=r"^([A-Za-z][-_A-Za-z0-9]{5,19})?$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class Strict(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AddressIn(Strict):
    label: str = Field("", max_length=20)
    province: str = Field("", max_length=20)
    city: str = Field("", max_length=30)
    district: str = Field("", max_length=30)
    detail: str = Field("", max_length=200)


class ContactIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    mobile: Mobile = None
    wechat_id: WechatId = None
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    decision_role: DecisionRole | None = None
    title: str = Field("", max_length=50)
    primary: bool = False


class ContactPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=50)
    mobile: Mobile = None
    wechat_id: WechatId = None
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    decision_role: DecisionRole | None = None
    title: str | None = Field(None, max_length=50)
    primary: bool | None = None


class CustomerFields(Strict):
    short_name: Short = ""
    type: str = Field("", max_length=30)
    credit_code: CreditCode = None
    addresses: list[AddressIn] = Field(default_factory=list, max_length=10)
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    custom_fields: Annotated[dict[str, Any], AfterValidator(json_safe)] = Field(default_factory=dict, max_length=50)
    lifecycle_stage: Stage = "lead"
    tier: Tier = "normal"
    product_lines: list[ProductLineName] = Field(
        default_factory=list, max_length=50, description="From the tenant's product lines (GET /api/v1/product-lines)"
    )
    source: Source | None = None
    grade: Grade | None = Field(None, description="分级 S/A/B/C, set as a manual value")
    preferences: PreferencesIn = Field(default_factory=PreferencesIn, description="食材偏好")
    special_requirements: list[SpecialRequirementIn] = Field(
        default_factory=list, max_length=20, description="特殊要求, each kind once, from the tenant's kinds"
    )
    latitude: float | None = Field(
        None, ge=-90, le=90, description="The customer's own location (WGS-84 degrees, a map pin); with longitude"
    )
    # Both or neither: the customer service refuses one alone, naming the other.
    longitude: float | None = Field(None, ge=-180, le=180, description="With latitude")

    @field_validator("contract_end")
    @classmethod
    def _contract_in_order(cls, contract_end: dt.date | None, info: ValidationInfo) -> dt.date | None:
        # A field validator, not a model one, so the error names contract_end.
        start = info.data.get("contract_start")
        if start and contract_end and contract_end < start:
            raise ValueError("contract_end is before contract_start / 合同结束日期早于开始日期")
        return contract_end


class CustomerIn(CustomerFields):
    name: str = Field(min_length=1, max_length=200)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=30)
    owner_id: str | None = Field(None, max_length=36, description="Assign to this user (not for sales reps)")
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first result")


class CustomerPatch(Strict):
    """Only the fields present change (JSON merge semantics)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    short_name: Short | None = None
    type: str | None = Field(None, max_length=30)
    credit_code: CreditCode = None
    addresses: list[AddressIn] | None = Field(None, max_length=10)
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    tags: list[Tag] | None = Field(None, max_length=20)
    custom_fields: Annotated[dict[str, Any], AfterValidator(json_safe)] | None = Field(None, max_length=50)
    lifecycle_stage: Stage | None = None
    tier: Tier | None = None
    product_lines: list[ProductLineName] | None = Field(None, max_length=50)
    source: Source | None = None
    latitude: float | None = Field(None, ge=-90, le=90, description="With longitude; both null clear the location")
    longitude: float | None = Field(None, ge=-180, le=180, description="With latitude")
    owner_id: str | None = Field(None, max_length=36)
    grade: Grade | None = Field(None, description="A manual grade (needs `reason`); null clears the manual grade")
    preferences: PreferencesIn | None = Field(None, description="Replaces the preferences whole")
    special_requirements: list[SpecialRequirementIn] | None = Field(
        None, max_length=20, description="Replaces the special requirements whole; [] removes them"
    )
    reason: str = Field(
        "",
        max_length=200,
        description="Why the owner, tier or grade changes; required when the tier or grade changes. Kept in the"
        " history",
    )
    expected_version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="Fail with 409 if the customer changed meanwhile"
    )


CustomFieldType = Literal["text", "number", "date", "boolean", "choice"]


class CustomFieldIn(Strict):
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$", description="Key in custom_fields, e.g. settlement")
    label: str = Field(min_length=1, max_length=30, description="Shown to users, e.g. 结算方式")
    type: CustomFieldType
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=50, description="Choices of a choice field, in display order"
    )
    required: bool = False


class CustomFieldsIn(Strict):
    items: list[CustomFieldIn] = Field(max_length=50)


def custom_field_to_proto(field: CustomFieldIn) -> pb.CustomFieldDefinition:
    return pb.CustomFieldDefinition(
        key=field.key,
        label=field.label,
        type=pb.CustomFieldType.Value(f"CUSTOM_FIELD_TYPE_{field.type.upper()}"),
        options=field.options,
        required=field.required,
    )


def custom_field_out(definition: pb.CustomFieldDefinition) -> CustomFieldOut:
    return CustomFieldOut(
        key=definition.key,
        label=definition.label,
        type=cast(CustomFieldType, pb.CustomFieldType.Name(definition.type).removeprefix("CUSTOM_FIELD_TYPE_").lower()),
        options=list(definition.options),
        required=definition.required,
    )


def contact_to_proto(contact: ContactIn | ContactPatch) -> pb.Contact:
    role = getattr(contact, "decision_role", None)
    return pb.Contact(
        name=contact.name or "",
        mobile=contact.mobile or "",
        wechat_id=contact.wechat_id or "",
        email=contact.email or "",
        decision_role=pb.DecisionRole.Value(f"DECISION_ROLE_{role.upper()}") if role else pb.DECISION_ROLE_UNSPECIFIED,
        title=contact.title or "",
        primary=bool(contact.primary),
    )


def stage_value(stage: str) -> pb.LifecycleStage.ValueType:
    return pb.LifecycleStage.Value(f"LIFECYCLE_STAGE_{stage.upper()}")


def fields_to_proto(values: dict[str, Any], customer: pb.Customer) -> None:
    """Copy the REST field values present in `values` onto a proto Customer."""
    simple = ("name", "short_name", "type", "credit_code", "owner_id", "tier", "source", "grade")
    for key in simple:
        if key in values:
            setattr(customer, key, values[key] or "")
    if "addresses" in values:
        del customer.addresses[:]
        customer.addresses.extend(pb.Address(**a) for a in values["addresses"] or [])
    for key in ("contract_start", "contract_end"):
        if key in values:
            setattr(customer, key, values[key].isoformat() if values[key] else "")
    if "tags" in values:
        del customer.tags[:]
        customer.tags.extend(values["tags"] or [])
    if "product_lines" in values:
        del customer.product_lines[:]
        customer.product_lines.extend(values["product_lines"] or [])
    if "custom_fields" in values:
        custom = Struct()
        custom.update(values["custom_fields"] or {})
        customer.custom_fields.CopyFrom(custom)
    if values.get("lifecycle_stage"):
        customer.lifecycle_stage = stage_value(values["lifecycle_stage"])
    if values.get("preferences") is not None:
        customer.preferences.CopyFrom(PreferencesIn.model_validate(values["preferences"]).to_proto())
    if "special_requirements" in values:
        del customer.special_requirements[:]
        requirements = [SpecialRequirementIn.model_validate(r) for r in values["special_requirements"] or []]
        customer.special_requirements.extend(requirements_to_proto(requirements))
    for key in ("latitude", "longitude"):
        if values.get(key) is not None:
            setattr(customer, key, values[key])


def shanghai(stamp: Timestamp) -> dt.datetime:
    """A proto timestamp as the API shows times: Asia/Shanghai, with its offset."""
    return stamp.ToDatetime(tzinfo=dt.UTC).astimezone(SHANGHAI)


class CustomFieldOut(BaseModel):
    key: str
    label: str
    type: CustomFieldType
    options: list[str]
    required: bool


class CustomFieldList(BaseModel):
    items: list[CustomFieldOut]


class CustomerTypeList(BaseModel):
    items: list[str]


class AddressOut(BaseModel):
    label: str
    province: str
    city: str
    district: str
    detail: str


class ContactOut(BaseModel):
    id: str
    customer_id: str
    name: str
    mobile: str = Field(description="Masked (138****8000) for roles without the personal-information permission")
    wechat_id: str | None = Field(description="null for roles that may not see it (service, finance)")
    email: str = Field(description="Masked (z***@example.com) like mobile")
    decision_role: DecisionRole | None
    title: str
    primary: bool
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    updated_at: dt.datetime = Field(description="Asia/Shanghai")


class ContactList(BaseModel):
    items: list[ContactOut]


class CustomerOut(BaseModel):
    id: str
    name: str
    short_name: str
    type: str
    credit_code: str | None
    addresses: list[AddressOut]
    contacts: list[ContactOut]
    contract_start: dt.date | None
    contract_end: dt.date | None
    tags: list[str]
    custom_fields: dict[str, Any]
    lifecycle_stage: Stage
    tier: Tier
    product_lines: list[str]
    source: Source | None
    owner_id: str | None = Field(description="null while a pool holds the customer")
    owner_name: str = Field(description="The owner's display name; empty if the user is gone")
    pool_id: str | None = Field(description="The pool holding the customer while nobody owns it")
    assigned_rule_id: str | None = Field(
        None, description="The assignment rule that chose its current owner or pool; null when none did"
    )
    owned_since: dt.datetime | None = Field(description="Since when its owner holds it (Asia/Shanghai)")
    first_visit_due: dt.datetime | None = Field(
        description="After a claim: log a visit or call by then, or it returns to the pool (Asia/Shanghai)"
    )
    org_unit_id: str
    archived: bool
    version: int = Field(description="Send as expected_version to refuse a change made meanwhile")
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    updated_at: dt.datetime = Field(description="Asia/Shanghai")
    last_interaction_at: dt.datetime | None = Field(description="The latest follow-up's time; null if none")
    next_follow_up_date: dt.date | None = Field(description="The owner's next follow-up task; null if none")
    latitude: float | None = Field(None, description="The customer's own location (WGS-84); null when not set")
    longitude: float | None = Field(None, description="With latitude")
    my_collaboration: Literal["read", "read_write"] | None = Field(
        None,
        description="On a customer's own page, for a sales rep who does not own it: their access as its"
        " collaborator (read_write may edit and log follow-ups). Null otherwise.",
    )
    # profile (issue 12)
    preferences: PreferencesOut
    special_requirements: list[SpecialRequirementOut]
    alerts: list[AlertOut] = Field(
        description="特殊要求提醒: show it as a prominent banner wherever the customer appears (lists included)"
    )
    tier_label: str = Field(description="The tenant's name of the tier, e.g. VIP, 重点, 一般")
    tier_source: TierSource | None = Field(description="manual (wins until cleared), automatic, or null: never set")
    automatic_tier: Tier | None = Field(description="The analytics service's tier, even while a manual one hides it")
    grade: Grade | None = Field(description="分级 S/A/B/C; null when none is set")
    grade_label: str = Field(description="The tenant's name of the grade; empty without a grade")
    grade_source: TierSource | None
    automatic_grade: Grade | None
    parent_customer_id: str | None = Field(description="The group's parent (集团/总部) of this branch; null: none")


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_page_token: str | None = Field(description="Pass as page_token for the next page; null on the last")


def contact_out(contact: pb.Contact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        customer_id=contact.customer_id,
        name=contact.name,
        mobile=contact.mobile,
        wechat_id=contact.wechat_id,
        email=contact.email,
        decision_role=cast(
            DecisionRole, pb.DecisionRole.Name(contact.decision_role).removeprefix("DECISION_ROLE_").lower()
        )
        if contact.decision_role
        else None,
        title=contact.title,
        primary=contact.primary,
        created_at=shanghai(contact.create_time),
        updated_at=shanghai(contact.update_time),
    )


def customer_out(
    customer: pb.Customer, owner_names: dict[str, str], labels: ProfileLabels | None = None
) -> CustomerOut:
    return CustomerOut(
        **profile_out(customer, labels or ProfileLabels()),
        id=customer.id,
        name=customer.name,
        short_name=customer.short_name,
        type=customer.type,
        credit_code=customer.credit_code or None,
        addresses=[
            AddressOut(label=a.label, province=a.province, city=a.city, district=a.district, detail=a.detail)
            for a in customer.addresses
        ],
        contacts=[contact_out(c) for c in customer.contacts],
        contract_start=dt.date.fromisoformat(customer.contract_start) if customer.contract_start else None,
        contract_end=dt.date.fromisoformat(customer.contract_end) if customer.contract_end else None,
        tags=list(customer.tags),
        custom_fields=whole_numbers(json_format.MessageToDict(customer.custom_fields)),
        lifecycle_stage=cast(
            Stage, pb.LifecycleStage.Name(customer.lifecycle_stage).removeprefix("LIFECYCLE_STAGE_").lower()
        ),
        tier=cast(Tier, customer.tier or "normal"),
        product_lines=list(customer.product_lines),
        source=cast(Source, customer.source) if customer.source else None,
        owner_id=customer.owner_id or None,
        owner_name=owner_names.get(customer.owner_id, ""),
        pool_id=customer.pool_id or None,
        assigned_rule_id=customer.assigned_rule_id or None,
        owned_since=shanghai(customer.owned_since) if customer.HasField("owned_since") else None,
        first_visit_due=shanghai(customer.first_visit_due) if customer.HasField("first_visit_due") else None,
        org_unit_id=customer.org_unit_id,
        archived=customer.archived,
        version=customer.version,
        created_at=shanghai(customer.create_time),
        updated_at=shanghai(customer.update_time),
        last_interaction_at=shanghai(customer.last_interaction_time)
        if customer.HasField("last_interaction_time")
        else None,
        next_follow_up_date=dt.date.fromisoformat(customer.next_follow_up_date)
        if customer.next_follow_up_date
        else None,
        latitude=customer.latitude if customer.HasField("latitude") else None,
        longitude=customer.longitude if customer.HasField("longitude") else None,
    )
