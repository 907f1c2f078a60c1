"""/api/v1/agreement-prices, /api/v1/past-prices and /api/v1/pricing-settings: agreement prices
(协议价) of the customers the caller may see, the prices a customer got before (历史成交价) where a
price is entered, and the tenant's quote approval threshold, forwarded to the order service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from crm.order.v1 import pricing_pb2 as pb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.orders.router import Price
from crm_gateway.web import Caller, State

router = APIRouter(prefix="/api/v1", tags=["prices"])

Threshold = Annotated[Decimal, Field(ge=1, le=100, max_digits=5, decimal_places=2, description="Percent, 1.00–100.00")]


class AgreementPriceIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    customer_id: str = Field(min_length=1, max_length=36, description="The customer, or a group's parent account")
    product_id: str = Field(min_length=1, max_length=36)
    price: Price
    valid_from: dt.date = Field(description="Asia/Shanghai; the first day it holds")
    valid_until: dt.date | None = Field(None, description="The last day it holds; omit for no end (长期)")


class AgreementPriceChange(AgreementPriceIn):
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed")


class AgreementPriceOut(BaseModel):
    id: str
    customer_id: str = Field(description="Who it was agreed with: for an inherited price, the group's parent")
    customer_name: str
    product_id: str
    sku: str
    product_name: str
    unit: str
    price: Decimal
    list_price: Decimal | None
    valid_from: dt.date
    valid_until: dt.date | None
    inherited: bool = Field(description="Agreed with the customer's group parent (集团协议价)")
    version: int
    updated_by: str
    updated_at: dt.datetime


class AgreementPricePage(BaseModel):
    items: list[AgreementPriceOut] = Field(description="By customer, product and start")
    next_page_token: str | None


class PastPriceOut(BaseModel):
    source: Literal["order", "quote"]
    document_id: str
    number: str = Field(description="The quote's number, or the order's short id")
    date: dt.date
    price: Decimal
    quantity: Decimal


class ProductPricesOut(BaseModel):
    product_id: str
    list_price: Decimal
    agreement_price: AgreementPriceOut | None = Field(description="Valid today: own, else the group's")
    past_prices: list[PastPriceOut] = Field(description="Newest first")


class PastPricesOut(BaseModel):
    items: list[ProductPricesOut] = Field(description="In the order of the product ids asked for")


class PricingSettingsIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    approval_threshold: Threshold
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class PricingSettingsOut(BaseModel):
    approval_threshold: Decimal = Field(description="Percent: a quote with a line or the whole below it needs approval")
    version: int
    updated_by: str
    updated_at: dt.datetime | None


def agreement_price_out(price: pb.AgreementPrice) -> AgreementPriceOut:
    return AgreementPriceOut(
        id=price.id,
        customer_id=price.customer_id,
        customer_name=price.customer_name,
        product_id=price.product_id,
        sku=price.sku,
        product_name=price.product_name,
        unit=price.unit,
        price=Decimal(price.price),
        list_price=Decimal(price.list_price) if price.list_price else None,
        valid_from=dt.date.fromisoformat(price.valid_from),
        valid_until=dt.date.fromisoformat(price.valid_until) if price.valid_until else None,
        inherited=price.inherited,
        version=price.version,
        updated_by=price.updated_by,
        updated_at=shanghai(price.update_time),
    )


def _settings_out(settings: pb.PricingSettings) -> PricingSettingsOut:
    return PricingSettingsOut(
        approval_threshold=Decimal(settings.approval_threshold),
        version=settings.version,
        updated_by=settings.updated_by,
        updated_at=shanghai(settings.update_time) if settings.HasField("update_time") else None,
    )


def _request(body: AgreementPriceIn, price_id: str = "", expected_version: int = 0) -> pb.UpsertAgreementPriceRequest:
    return pb.UpsertAgreementPriceRequest(
        id=price_id,
        customer_id=body.customer_id,
        product_id=body.product_id,
        price=str(body.price),
        valid_from=body.valid_from.isoformat(),
        valid_until=body.valid_until.isoformat() if body.valid_until else "",
        expected_version=expected_version,
    )


@router.get(
    "/agreement-prices",
    summary="Agreement prices 协议价",
    description="Of the customers you may see; with `customer_id` and `include_inherited`, also its group's prices.",
)
async def list_agreement_prices(
    state: State,
    identity: Caller,
    customer_id: Annotated[str, Query(max_length=36)] = "",
    product_id: Annotated[str, Query(max_length=36)] = "",
    include_inherited: Annotated[bool, Query(description="With customer_id: its group parent's prices too")] = False,
    current_only: Annotated[bool, Query(description="Only those valid today")] = False,
    page_size: Annotated[int, Query(ge=0, le=200)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> AgreementPricePage:
    found = await state.orders.ListAgreementPrices(
        pb.ListAgreementPricesRequest(
            customer_id=customer_id,
            product_id=product_id,
            include_inherited=include_inherited,
            current_only=current_only,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return AgreementPricePage(
        items=[agreement_price_out(p) for p in found.agreement_prices], next_page_token=found.next_page_token or None
    )


@router.post(
    "/agreement-prices",
    status_code=201,
    summary="Agree a price 新增协议价",
    description="Admins, bosses, supervisors (customers of their unit). Periods of one customer × product never "
    "overlap: an overlap is refused naming `valid_from`.",
)
async def create_agreement_price(body: AgreementPriceIn, state: State, identity: Caller) -> AgreementPriceOut:
    reply = await state.orders.UpsertAgreementPrice(
        _request(body), metadata=state.identity_metadata.for_caller(identity)
    )
    return agreement_price_out(reply.agreement_price)


@router.put("/agreement-prices/{price_id}", summary="Change an agreement price 修改协议价（含结束）")
async def change_agreement_price(
    price_id: str, body: AgreementPriceChange, state: State, identity: Caller
) -> AgreementPriceOut:
    reply = await state.orders.UpsertAgreementPrice(
        _request(body, path_id(price_id, "price_id"), body.expected_version or 0),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return agreement_price_out(reply.agreement_price)


@router.delete("/agreement-prices/{price_id}", status_code=204, summary="Delete an agreement price 删除协议价")
async def delete_agreement_price(
    price_id: str,
    state: State,
    identity: Caller,
    expected_version: Annotated[int, Query(ge=0, le=MAX_VERSION)] = 0,
) -> Response:
    await state.orders.DeleteAgreementPrice(
        pb.DeleteAgreementPriceRequest(id=path_id(price_id, "price_id"), expected_version=expected_version),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return Response(status_code=204)


@router.get(
    "/past-prices",
    summary="Past prices 历史成交价",
    description="Per product, the last prices the customer got (confirmed orders, approved quotes), its agreement "
    "price valid today and the list price.",
)
async def past_prices(
    state: State,
    identity: Caller,
    customer_id: Annotated[str, Query(min_length=1, max_length=36)],
    product_id: Annotated[list[str], Query(min_length=1, max_length=200, description="Repeat for each product")],
    limit: Annotated[int, Query(ge=0, le=20, description="0: 5")] = 0,
) -> PastPricesOut:
    found = await state.orders.PastPrices(
        pb.PastPricesRequest(customer_id=customer_id, product_ids=product_id, limit=limit),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return PastPricesOut(
        items=[
            ProductPricesOut(
                product_id=entry.product_id,
                list_price=Decimal(entry.list_price),
                agreement_price=agreement_price_out(entry.agreement_price)
                if entry.HasField("agreement_price")
                else None,
                past_prices=[
                    PastPriceOut(
                        source="quote" if past.source == "quote" else "order",
                        document_id=past.document_id,
                        number=past.number,
                        date=dt.date.fromisoformat(past.date),
                        price=Decimal(past.price),
                        quantity=Decimal(past.quantity),
                    )
                    for past in entry.past_prices
                ],
            )
            for entry in found.products
        ]
    )


@router.get("/pricing-settings", summary="The tenant's pricing settings 价格设置")
async def get_pricing_settings(state: State, identity: Caller) -> PricingSettingsOut:
    found = await state.orders.GetPricingSettings(
        pb.GetPricingSettingsRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return _settings_out(found.settings)


@router.put(
    "/pricing-settings",
    summary="Change the approval threshold (admin) 修改报价审批阈值",
    description="Quotes priced from now on need approval when a line or the whole is below it.",
)
async def update_pricing_settings(body: PricingSettingsIn, state: State, identity: Caller) -> PricingSettingsOut:
    reply = await state.orders.UpdatePricingSettings(
        pb.UpdatePricingSettingsRequest(
            approval_threshold=str(body.approval_threshold), expected_version=body.expected_version or 0
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return _settings_out(reply.settings)
