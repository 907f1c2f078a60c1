"""The light catalogue over gRPC: upsert by SKU, search by pinyin and initials, roles, fields named."""

from __future__ import annotations

import grpc
import pytest

from crm.order.v1 import catalogue_pb2 as pb
from crmkit.identity import Role
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness

BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)


@BOTH
async def test_products_are_upserted_by_sku_and_found_by_pinyin_initials_and_category(backend: OrderHarness) -> None:
    beef = await backend.product("NR-001", "冷冻牛腩", price="42.8", halal=True, allergens=["芝麻"])
    await backend.product("ZR-001", "猪里脊", price="30.00", contains_pork=True)
    changed = await backend.product("NR-001", "冷冻牛腩", price="45.00")
    assert (changed.id, changed.version, changed.list_price, beef.list_price) == (beef.id, 2, "45.00", "42.80")
    rep = backend.org.person(Role.SALES, backend.org.shop_a)

    async def skus(**query: object) -> list[str]:
        reply = await backend.stub.ListProducts(pb.ListProductsRequest(**query), metadata=backend.md(rep))  # type: ignore[arg-type]
        return [p.sku for p in reply.products]

    assert await skus(query="niunan") == ["NR-001"]
    assert await skus(query="znl") == []
    assert await skus(query="zlj") == ["ZR-001"]
    assert await skus(query="牛") == ["NR-001"]
    assert await skus(category="肉禽") == ["NR-001", "ZR-001"]
    assert await skus(category="肉") == []


async def test_only_admins_and_bosses_write_the_catalogue_and_bad_fields_are_named(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    product = pb.Product(sku="NR-001", name="冷冻牛腩", unit="箱", list_price="1")
    denied = await refusal(
        order_service.stub.UpsertProduct(pb.UpsertProductRequest(product=product), metadata=order_service.md(rep))
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    cases = {
        "product.sku": pb.Product(sku="牛 腩", name="x", unit="箱", list_price="1"),
        "product.list_price": pb.Product(sku="A", name="x", unit="箱", list_price="-1"),
        "product.tax_rate": pb.Product(sku="A", name="x", unit="箱", list_price="1", tax_rate="1.5"),
        "product.attributes.halal": pb.Product(
            sku="A",
            name="x",
            unit="箱",
            list_price="1",
            attributes=pb.ProductAttributes(halal=True, contains_pork=True),
        ),
    }
    for field, bad in cases.items():
        refused = await refusal(
            order_service.stub.UpsertProduct(
                pb.UpsertProductRequest(product=bad), metadata=order_service.md(order_service.admin)
            )
        )
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
