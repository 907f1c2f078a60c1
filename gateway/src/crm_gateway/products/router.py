"""/api/v1/products: the light catalogue, forwarded to the order service. Everyone signed in reads
it (sales without cost); admins and bosses upsert by SKU (partners too, with their API key)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.order.v1 import catalogue_pb2 as pb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.orders.views import sees
from crm_gateway.web import Caller, State
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["products"])

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="CNY, two decimals")]
Name = Annotated[str, Field(min_length=1, max_length=20)]


class AttributesIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    halal: bool = Field(False, description="清真")
    organic: bool = Field(False, description="有机")
    contains_pork: bool = Field(False, description="含猪肉")
    cold_chain: bool = Field(False, description="冷链")
    allergens: list[Name] = Field(default_factory=list, max_length=20, description="过敏原, e.g. 花生")


class ProductIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100, description="e.g. 冷冻牛腩")
    category: str = Field("", max_length=100, description="Levels separated by '/', e.g. 肉禽/牛肉")
    specification: str = Field("", max_length=100, description="e.g. 5kg/箱")
    unit: str = Field(min_length=1, max_length=10, description="斤, 公斤, 箱, 件, 袋, 吨 …")
    list_price: Money
    cost: Money = Decimal(0)
    tax_rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)] = Decimal(0)
    attributes: AttributesIn = Field(default_factory=AttributesIn)
    active: bool = True
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Fail with 409 if it changed")


class AttributesOut(BaseModel):
    halal: bool
    organic: bool
    contains_pork: bool
    cold_chain: bool
    allergens: list[str]


class ProductOut(BaseModel):
    id: str
    sku: str
    name: str
    category: str
    specification: str
    unit: str
    list_price: Decimal
    cost: Decimal | None = Field(description="Hidden (null) for sales")
    tax_rate: Decimal
    attributes: AttributesOut
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductUpserted(BaseModel):
    product: ProductOut
    created: bool


class ProductPage(BaseModel):
    items: list[ProductOut] = Field(description="By SKU")
    next_page_token: str | None


def product_out(identity: Identity, product: pb.Product) -> ProductOut:
    a = product.attributes
    return ProductOut(
        id=product.id,
        sku=product.sku,
        name=product.name,
        category=product.category,
        specification=product.specification,
        unit=product.unit,
        list_price=Decimal(product.list_price),
        cost=Decimal(product.cost) if sees(identity, "product.cost") else None,
        tax_rate=Decimal(product.tax_rate),
        attributes=AttributesOut(
            halal=a.halal,
            organic=a.organic,
            contains_pork=a.contains_pork,
            cold_chain=a.cold_chain,
            allergens=list(a.allergens),
        ),
        active=product.active,
        version=product.version,
        created_at=shanghai(product.create_time),
        updated_at=shanghai(product.update_time),
    )


@router.get("/products", summary="Products 商品", description="Search by name, pinyin, initials or SKU prefix.")
async def list_products(
    state: State,
    identity: Caller,
    q: Annotated[str, Query(max_length=50, description="e.g. 牛腩, niunan, nn, NR-")] = "",
    category: Annotated[str, Query(max_length=100, description="A category and everything under it")] = "",
    include_inactive: bool = False,
    page_size: Annotated[int, Query(ge=0, le=200)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> ProductPage:
    found = await state.orders.ListProducts(
        pb.ListProductsRequest(
            query=q, category=category, include_inactive=include_inactive, page_size=page_size, page_token=page_token
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return ProductPage(
        items=[product_out(identity, p) for p in found.products], next_page_token=found.next_page_token or None
    )


@router.get("/products/{product_id}", summary="A product 商品详情")
async def get_product(product_id: str, state: State, identity: Caller) -> ProductOut:
    found = await state.orders.GetProduct(
        pb.GetProductRequest(id=path_id(product_id, "product_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return product_out(identity, found.product)


@router.put(
    "/products/by-sku/{sku}",
    summary="Create or change a product by SKU 按编码新增或修改商品",
    description="Admins and bosses (and partner systems). A new SKU creates the product.",
)
async def upsert_product(sku: str, body: ProductIn, state: State, identity: Caller) -> ProductUpserted:
    a = body.attributes
    reply = await state.orders.UpsertProduct(
        pb.UpsertProductRequest(
            product=pb.Product(
                sku=path_id(sku, "sku"),
                name=body.name,
                category=body.category,
                specification=body.specification,
                unit=body.unit,
                list_price=str(body.list_price),
                cost=str(body.cost),
                tax_rate=str(body.tax_rate),
                attributes=pb.ProductAttributes(
                    halal=a.halal,
                    organic=a.organic,
                    contains_pork=a.contains_pork,
                    cold_chain=a.cold_chain,
                    allergens=a.allergens,
                ),
                active=body.active,
            ),
            expected_version=body.expected_version or 0,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return ProductUpserted(product=product_out(identity, reply.product), created=reply.created)
