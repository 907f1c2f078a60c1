"""gRPC edge of deliveries: DispatchOrder, UploadDeliveryPhoto, ConfirmDelivery and
GetOrderDelivery (a mixin of OrderServicer). A dispatch system calls them with a partner token
(`deliveries:write`); the dispatcher through the gateway."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import order_pb2 as pb
from crm_order.deliveries import service, validation
from crm_order.deliveries.models import DeliveryPhoto
from crm_order.deliveries.photos import TooManyPixels, sniff_photo
from crm_order.deliveries.views import delivery_message, photo_message
from crm_order.metrics import count_move
from crm_order.models import CREATE_REQUESTS
from crm_order.orders.models import Order
from crm_order.orders.service import visible_order
from crm_order.orders.views import order_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.errors import InvalidArgument, NotFound
from crmkit.grpc_server import RpcContext
from crmkit.idempotency import earlier_resource
from crmkit.identity import current_identity
from crmkit.uploads import PayloadTooLarge, UnsupportedMediaType
from crmkit.validate import identifier, text

log = logging.getLogger(__name__)
ACCEPTED = "a JPEG, PNG or WebP photo / 仅支持 JPEG、PNG、WebP 照片"


def _version(value: int) -> int:
    if value < 0:
        raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
    return value


class DeliveryRpcs(OrderServicerBase):
    async def _delivery(self, session: AsyncSession, order: Order) -> dpb.OrderDelivery:
        delivery, batches, photos = await service.delivery_of(session, order)
        return delivery_message(order.id, delivery, batches, photos)

    async def DispatchOrder(self, request: pb.DispatchOrderRequest, context: RpcContext) -> pb.DispatchOrderResponse:
        identity = current_identity()
        now = self._clock()
        order_id = identifier(request.id, "id")
        expected = _version(request.expected_version)
        dispatch = validation.dispatch_input(request, now)
        async with self._writes.transaction() as session:
            order, _ = await service.dispatch_order(
                session,
                identity=identity,
                events=self._events,
                order_id=order_id,
                expected_version=expected,
                dispatch=dispatch,
                now=now,
            )
            answer = pb.DispatchOrderResponse(order=order_message(order), delivery=await self._delivery(session, order))
        count_move("dispatch", order, now)
        return answer

    async def ConfirmDelivery(
        self, request: pb.ConfirmDeliveryRequest, context: RpcContext
    ) -> pb.ConfirmDeliveryResponse:
        identity = current_identity()
        now = self._clock()
        order_id = identifier(request.id, "id")
        expected = _version(request.expected_version)
        confirmation = validation.confirmation_input(request, now)
        async with self._writes.transaction() as session:
            order, _ = await service.confirm_delivery(
                session,
                identity=identity,
                events=self._events,
                order_id=order_id,
                expected_version=expected,
                confirmation=confirmation,
                now=now,
            )
            answer = pb.ConfirmDeliveryResponse(
                order=order_message(order), delivery=await self._delivery(session, order)
            )
        count_move("deliver", order, now)
        return answer

    async def GetOrderDelivery(
        self, request: dpb.GetOrderDeliveryRequest, context: RpcContext
    ) -> dpb.GetOrderDeliveryResponse:
        identity = current_identity()
        order_id = identifier(request.id, "id")
        async with self._reads() as session:
            order = await visible_order(session, identity=identity, order_id=order_id, now=self._clock())
            return dpb.GetOrderDeliveryResponse(delivery=await self._delivery(session, order))

    def _checked_photo(self, content: bytes) -> tuple[str, int, int]:
        limit = self._photo_max_bytes
        if len(content) > limit:
            mib = f"{limit / (1024 * 1024):g} MiB"
            raise PayloadTooLarge(f"content: larger than {mib} / 照片超过{mib}上限", field="content")
        if not content:
            raise UnsupportedMediaType("content", "is empty / 文件为空")
        try:
            sniffed = sniff_photo(content)
        except TooManyPixels as exc:
            raise PayloadTooLarge(
                f"content: image of {exc} pixels is too large / 图片像素过多", field="content"
            ) from exc
        if sniffed is None:
            raise UnsupportedMediaType("content", ACCEPTED)
        return sniffed.content_type, sniffed.width, sniffed.height

    async def UploadDeliveryPhoto(
        self, request: dpb.UploadDeliveryPhotoRequest, context: RpcContext
    ) -> dpb.UploadDeliveryPhotoResponse:
        identity = current_identity()
        now = self._clock()
        order_id = identifier(request.order_id, "order_id")
        request_id = text(request.request_id, "request_id", max_len=64)
        filename = text(request.filename, "filename", max_len=200)
        content_type, width, height = self._checked_photo(request.content)

        async def replay(session: AsyncSession, photo_id: str) -> dpb.UploadDeliveryPhotoResponse:
            photo = await session.get(DeliveryPhoto, photo_id)
            if photo is None or photo.order_id != order_id:
                raise NotFound("photo", photo_id)
            return dpb.UploadDeliveryPhotoResponse(photo=photo_message(photo))

        # Refuse before storing anything: a retry of a finished upload, an order the caller may
        # not deliver.
        async with self._reads() as session:
            if request_id and (earlier := await earlier_resource(session, CREATE_REQUESTS, identity, request_id)):
                return await replay(session, earlier)
            await service.order_for_photo(session, identity=identity, order_id=order_id, now=now)

        storage = self._object_storage()
        key = service.photo_key(identity.tenant_id)
        data = bytes(request.content)
        # Stored before the row is written, so a row never points at nothing.
        await storage.put(key, data)

        async def record(session: AsyncSession) -> tuple[str, dpb.UploadDeliveryPhotoResponse]:
            order = await service.order_for_photo(session, identity=identity, order_id=order_id, now=now)
            photo = await service.record_photo(
                session,
                identity=identity,
                order=order,
                storage_key=key,
                content_type=content_type,
                size=len(data),
                filename=filename,
                width=width,
                height=height,
                now=now,
            )
            return photo.id, dpb.UploadDeliveryPhotoResponse(photo=photo_message(photo))

        try:
            response = await self._writes.create_once(
                identity=identity, request_id=request_id, create=record, replay=replay
            )
        except BaseException:
            await self._forget(key)
            raise
        if response.photo.storage_key != key:
            # A concurrent retry of the same request recorded its own copy first.
            await self._forget(key)
        return response

    async def _forget(self, key: str) -> None:
        try:
            await self._object_storage().delete(key)
        except Exception:
            # Unreachable bytes under a random key; worth a line in the log, not the caller's error.
            log.warning("could not remove the unrecorded delivery photo %s", key, exc_info=True)
