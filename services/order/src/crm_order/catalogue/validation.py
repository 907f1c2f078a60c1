"""A product as a request gives it: clean values out, or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm.order.v1 import catalogue_pb2 as pb
from crm_order.money import parse_fen, parse_rate
from crmkit.errors import InvalidArgument
from crmkit.validate import text

SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_ALLERGENS = 20


@dataclass(frozen=True)
class ProductInput:
    sku: str
    name: str
    category: str
    specification: str
    unit: str
    list_price_fen: int
    cost_fen: int
    tax_rate: int
    halal: bool
    organic: bool
    contains_pork: bool
    cold_chain: bool
    allergens: list[str]
    active: bool


def sku(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidArgument(field, "is required / 必填")
    if not SKU.fullmatch(cleaned):
        raise InvalidArgument(field, "1 to 64 letters, digits, '.', '-' or '_' / 须为1到64位字母、数字或 . - _")
    return cleaned


def product_input(product: pb.Product) -> ProductInput:
    attributes = product.attributes
    if attributes.halal and attributes.contains_pork:
        raise InvalidArgument("product.attributes.halal", "a halal product cannot contain pork / 清真商品不能含猪肉")
    if len(attributes.allergens) > MAX_ALLERGENS:
        raise InvalidArgument("product.attributes.allergens", f"at most {MAX_ALLERGENS} / 最多{MAX_ALLERGENS}项")
    allergens: list[str] = []
    for index, allergen in enumerate(attributes.allergens):
        item = text(allergen, f"product.attributes.allergens[{index}]", max_len=20, required=True)
        if item not in allergens:
            allergens.append(item)
    category = "/".join(part.strip() for part in text(product.category, "product.category", max_len=100).split("/"))
    if category and any(not part for part in category.split("/")):
        raise InvalidArgument("product.category", "empty level between '/' / 分类层级不能为空")
    return ProductInput(
        sku=sku(product.sku, "product.sku"),
        name=text(product.name, "product.name", max_len=100, required=True),
        category=category,
        specification=text(product.specification, "product.specification", max_len=100),
        unit=text(product.unit, "product.unit", max_len=10, required=True),
        list_price_fen=parse_fen(_required(product.list_price, "product.list_price"), "product.list_price"),
        cost_fen=parse_fen(product.cost or "0", "product.cost"),
        tax_rate=parse_rate(product.tax_rate or "0", "product.tax_rate"),
        halal=attributes.halal,
        organic=attributes.organic,
        contains_pork=attributes.contains_pork,
        cold_chain=attributes.cold_chain,
        allergens=allergens,
        active=product.active,
    )


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidArgument(field, "is required / 必填")
    return value
