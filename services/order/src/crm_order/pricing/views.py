"""Agreement prices, past prices and settings as the contract describes them."""

from __future__ import annotations

from crm.order.v1 import pricing_pb2 as pb
from crm_order.catalogue.models import Product
from crm_order.money import quantity_text, yuan
from crm_order.pricing.models import AgreementPrice, PricingSettings
from crm_order.pricing.service import DEFAULT_THRESHOLD_BP, PastPrice
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


def agreement_price_message(
    price: AgreementPrice, *, product: Product | None, customer_name: str, inherited: bool = False
) -> pb.AgreementPrice:
    return pb.AgreementPrice(
        id=price.id,
        tenant_id=price.tenant_id,
        customer_id=price.customer_id,
        customer_name=customer_name,
        product_id=price.product_id,
        sku=product.sku if product else "",
        product_name=product.name if product else "",
        unit=product.unit if product else "",
        price=yuan(price.price_fen),
        list_price=yuan(product.list_price_fen) if product else "",
        valid_from=price.valid_from.isoformat(),
        valid_until=price.valid_until.isoformat() if price.valid_until else "",
        inherited=inherited,
        version=price.version,
        updated_by=price.updated_by,
        update_time=timestamp_of(as_utc(price.updated_at)),
    )


def past_price_message(past: PastPrice) -> pb.PastPrice:
    return pb.PastPrice(
        source=past.source,
        document_id=past.document_id,
        number=past.number,
        date=past.day.isoformat(),
        price=yuan(past.price_fen),
        quantity=quantity_text(past.quantity_milli),
    )


def threshold_text(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d}"


def settings_message(settings: PricingSettings | None) -> pb.PricingSettings:
    if settings is None:
        return pb.PricingSettings(approval_threshold=threshold_text(DEFAULT_THRESHOLD_BP))
    return pb.PricingSettings(
        approval_threshold=threshold_text(settings.approval_threshold_bp),
        version=settings.version,
        updated_by=settings.updated_by,
        update_time=timestamp_of(as_utc(settings.updated_at)),
    )
