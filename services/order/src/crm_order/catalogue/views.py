"""A product as the contract describes it."""

from __future__ import annotations

from crm.order.v1 import catalogue_pb2 as pb
from crm_order.catalogue.models import Product
from crm_order.money import rate_text, yuan
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


def product_message(product: Product) -> pb.Product:
    return pb.Product(
        id=product.id,
        tenant_id=product.tenant_id,
        sku=product.sku,
        name=product.name,
        category=product.category,
        specification=product.specification,
        unit=product.unit,
        list_price=yuan(product.list_price_fen),
        cost=yuan(product.cost_fen),
        tax_rate=rate_text(product.tax_rate),
        attributes=pb.ProductAttributes(
            halal=product.halal,
            organic=product.organic,
            contains_pork=product.contains_pork,
            cold_chain=product.cold_chain,
            allergens=product.allergens,
        ),
        active=product.active,
        version=product.version,
        create_time=timestamp_of(as_utc(product.created_at)),
        update_time=timestamp_of(as_utc(product.updated_at)),
    )
