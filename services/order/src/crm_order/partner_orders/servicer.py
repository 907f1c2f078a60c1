"""gRPC edge of partner orders (crm.order.v1.PartnerOrderService): ImportOrders in one
transaction, and the change log as a page (ListOrderChanges) or a stream (WatchOrderChanges)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from prometheus_client import Counter

from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import partner_orders_pb2 as ppb
from crm.order.v1 import partner_orders_pb2_grpc
from crm_order.partner_orders import changes, service, validation
from crm_order.servicer_base import OrderServicerBase
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity

ORDERS_IMPORTED = Counter("crm_order_orders_imported_total", "Orders imported by partner systems and history files")
OUTCOMES = {
    "created": ppb.IMPORT_OUTCOME_CREATED,
    "already_imported": ppb.IMPORT_OUTCOME_ALREADY_IMPORTED,
    "failed": ppb.IMPORT_OUTCOME_FAILED,
}
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# How often a watch looks for new changes once it has caught up.
POLL_SECONDS = 1.0


def _limit(value: int) -> int:
    if value < 0 or value > MAX_LIMIT:
        raise InvalidArgument("limit", f"must be between 0 and {MAX_LIMIT} / 数量须在0到{MAX_LIMIT}之间")
    return value or DEFAULT_LIMIT


def _result_message(result: service.ItemResult) -> ppb.ImportOrderResult:
    return ppb.ImportOrderResult(
        index=result.index,
        external_id=result.external_id,
        outcome=OUTCOMES[result.outcome],
        order_id=result.order_id,
        errors=[ppb.ImportFieldError(field=f, message=m) for f, m in result.errors],
        warnings=[pb.OrderWarning(code=w["code"], message=w["message"]) for w in result.warnings],
    )


class PartnerOrderServicer(OrderServicerBase, partner_orders_pb2_grpc.PartnerOrderServiceServicer):
    poll_seconds: float = POLL_SECONDS

    async def ImportOrders(self, request: ppb.ImportOrdersRequest, context: RpcContext) -> ppb.ImportOrdersResponse:
        identity = current_identity()
        now = self._clock()
        validation.batch_size(request.orders)
        items = [validation.import_item(i, item, now) for i, item in enumerate(request.orders)]
        async with self._writes.transaction() as session:
            results = await service.import_orders(
                session, identity=identity, events=self._events, items=items, dry_run=request.dry_run, now=now
            )
        counts = {outcome: sum(1 for r in results if r.outcome == outcome) for outcome in OUTCOMES}
        if not request.dry_run:
            ORDERS_IMPORTED.inc(counts["created"])
        return ppb.ImportOrdersResponse(
            results=[_result_message(r) for r in results],
            created=counts["created"],
            already_imported=counts["already_imported"],
            failed=counts["failed"],
        )

    async def ListOrderChanges(
        self, request: ppb.ListOrderChangesRequest, context: RpcContext
    ) -> ppb.ListOrderChangesResponse:
        identity = current_identity()
        after = changes.parse_cursor(request.cursor)
        limit = _limit(request.limit)
        async with self._reads() as session:
            rows = await changes.changes_after(session, identity=identity, after=after, limit=limit, now=self._clock())
        found = [changes.change_message(row) for row in rows]
        return ppb.ListOrderChangesResponse(changes=found, next_cursor=found[-1].cursor if found else str(after))

    async def WatchOrderChanges(
        self, request: ppb.WatchOrderChangesRequest, context: RpcContext
    ) -> AsyncIterator[ppb.WatchOrderChangesResponse]:
        identity = current_identity()
        after = changes.parse_cursor(request.cursor)
        while True:
            async with self._reads() as session:
                rows = await changes.changes_after(
                    session, identity=identity, after=after, limit=MAX_LIMIT, now=self._clock()
                )
            for row in rows:
                after = row.seq
                yield ppb.WatchOrderChangesResponse(change=changes.change_message(row))
            if len(rows) < MAX_LIMIT:
                # Caught up: look again shortly; the client's cancel ends the call here.
                await asyncio.sleep(self.poll_seconds)
