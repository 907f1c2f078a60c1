"""gRPC edge of pricing: agreement prices, past prices and the tenant's settings (a mixin of
OrderServicer)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import pricing_pb2 as pb
from crm_order.catalogue.models import Product
from crm_order.catalogue.service import products_by_id
from crm_order.customer_facts.models import CustomerFact
from crm_order.money import yuan
from crm_order.orders import service as orders
from crm_order.pricing import service, validation
from crm_order.pricing.events import PricingEvents
from crm_order.pricing.models import AgreementPrice
from crm_order.pricing.resolution import valid_agreements
from crm_order.pricing.views import agreement_price_message, past_price_message, settings_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.clock import shanghai_date
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import Identity, current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier


async def _messages(
    session: AsyncSession, *, identity: Identity, prices: list[AgreementPrice], for_customer: str = ""
) -> list[pb.AgreementPrice]:
    """With product and customer names; `for_customer`: prices of others are its inherited ones."""
    products = await products_by_id(session, identity=identity, ids=list({p.product_id for p in prices}))
    customer_ids = list({p.customer_id for p in prices})
    rows = await session.execute(
        select(CustomerFact.customer_id, CustomerFact.name).where(
            CustomerFact.tenant_id == identity.tenant_id, CustomerFact.customer_id.in_(customer_ids)
        )
    )
    names = {customer_id: name for customer_id, name in rows}
    return [
        agreement_price_message(
            price,
            product=products.get(price.product_id),
            customer_name=names.get(price.customer_id, ""),
            inherited=bool(for_customer) and price.customer_id != for_customer,
        )
        for price in prices
    ]


class PricingRpcs(OrderServicerBase):
    @property
    def _pricing_events(self) -> PricingEvents:
        return PricingEvents(tables=self._tables, namespace=self._namespace)

    async def UpsertAgreementPrice(
        self, request: pb.UpsertAgreementPriceRequest, context: RpcContext
    ) -> pb.UpsertAgreementPriceResponse:
        identity = current_identity()
        given = validation.agreement_price_input(request)
        now = self._clock()
        async with self._writes.transaction() as session:
            price, created = await service.upsert_agreement_price(
                session,
                identity=identity,
                price_id=given.price_id,
                customer_id=given.customer_id,
                product_id=given.product_id,
                price_fen=given.price_fen,
                valid_from=given.valid_from,
                valid_until=given.valid_until,
                expected_version=given.expected_version,
                now=now,
            )
            [message] = await _messages(session, identity=identity, prices=[price])
            await self._pricing_events.price_set(session, message, created=created, identity=identity, at=now)
        return pb.UpsertAgreementPriceResponse(agreement_price=message, created=created)

    async def ListAgreementPrices(
        self, request: pb.ListAgreementPricesRequest, context: RpcContext
    ) -> pb.ListAgreementPricesResponse:
        identity = current_identity()
        size = page_size(request.page_size)
        customer_id = identifier(request.customer_id, "customer_id", required=False)
        product_id = identifier(request.product_id, "product_id", required=False)
        if request.include_inherited and not customer_id:
            raise InvalidArgument("include_inherited", "needs customer_id / 需指定客户")
        now = self._clock()
        async with self._reads() as session:
            prices, token = await service.list_agreement_prices(
                session,
                identity=identity,
                customer_id=customer_id,
                product_id=product_id,
                include_inherited=request.include_inherited,
                current_only=request.current_only,
                page_size=size,
                page_token=request.page_token,
                now=now,
            )
            messages = await _messages(session, identity=identity, prices=prices, for_customer=customer_id)
        return pb.ListAgreementPricesResponse(agreement_prices=messages, next_page_token=token)

    async def DeleteAgreementPrice(
        self, request: pb.DeleteAgreementPriceRequest, context: RpcContext
    ) -> pb.DeleteAgreementPriceResponse:
        identity = current_identity()
        price_id = identifier(request.id, "id")
        if request.expected_version < 0:
            raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
        now = self._clock()
        async with self._writes.transaction() as session:
            price = await service.delete_agreement_price(
                session, identity=identity, price_id=price_id, expected_version=request.expected_version, now=now
            )
            [message] = await _messages(session, identity=identity, prices=[price])
            await self._pricing_events.price_removed(session, message, identity=identity, at=now)
        return pb.DeleteAgreementPriceResponse()

    async def PastPrices(self, request: pb.PastPricesRequest, context: RpcContext) -> pb.PastPricesResponse:
        identity = current_identity()
        customer_id = identifier(request.customer_id, "customer_id")
        product_ids = validation.product_ids(request.product_ids)
        limit = validation.past_limit(request.limit)
        now = self._clock()
        async with self._reads() as session:
            fact = await orders.visible_customer(session, identity=identity, customer_id=customer_id, now=now)
            products: dict[str, Product] = await products_by_id(session, identity=identity, ids=product_ids)
            for index, product_id in enumerate(product_ids):
                if product_id not in products:
                    raise InvalidArgument(f"product_ids[{index}]", "unknown product / 商品不存在")
            agreements = await valid_agreements(
                session,
                tenant_id=identity.tenant_id,
                customer=fact,
                product_ids=product_ids,
                on_date=shanghai_date(now),
            )
            past = await service.past_prices(
                session, tenant_id=identity.tenant_id, customer_id=customer_id, product_ids=product_ids, limit=limit
            )
            agreed = await _messages(
                session, identity=identity, prices=list(agreements.values()), for_customer=customer_id
            )
            by_product = {message.product_id: message for message in agreed}
            result = []
            for product_id in product_ids:
                entry = pb.ProductPrices(
                    product_id=product_id,
                    list_price=yuan(products[product_id].list_price_fen),
                    past_prices=[past_price_message(p) for p in past.get(product_id, [])],
                )
                if product_id in by_product:
                    entry.agreement_price.CopyFrom(by_product[product_id])
                result.append(entry)
        return pb.PastPricesResponse(products=result)

    async def GetPricingSettings(
        self, request: pb.GetPricingSettingsRequest, context: RpcContext
    ) -> pb.GetPricingSettingsResponse:
        identity = current_identity()
        async with self._reads() as session:
            settings = await service.pricing_settings(session, tenant_id=identity.tenant_id)
            return pb.GetPricingSettingsResponse(settings=settings_message(settings))

    async def UpdatePricingSettings(
        self, request: pb.UpdatePricingSettingsRequest, context: RpcContext
    ) -> pb.UpdatePricingSettingsResponse:
        identity = current_identity()
        threshold = validation.threshold_bp(request.approval_threshold)
        if request.expected_version < 0:
            raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
        now = self._clock()
        async with self._writes.transaction() as session:
            settings = await service.update_pricing_settings(
                session, identity=identity, threshold_bp=threshold, expected_version=request.expected_version, now=now
            )
            message = settings_message(settings)
            await self._pricing_events.settings_changed(session, settings, message, identity=identity, at=now)
        return pb.UpdatePricingSettingsResponse(settings=message)
