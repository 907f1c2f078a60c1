"""/api/v1/batches and /api/v1/recalls: batch recall (批次追溯) — which customers received a batch,
with the contacts to call (read from the customer service, in the caller's role view), and the
recall raised for it; forwarded to the order service."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal
from typing import Annotated

import grpc
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import customer_pb2 as cpb
from crm.order.v1 import batches_pb2 as pb
from crm_gateway.customers.schemas import DecisionRole, contact_out, shanghai
from crm_gateway.customers.views import apply_contact_view
from crm_gateway.inputs import ApiModel
from crm_gateway.web import Caller, GatewayState, State
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["batches"])

# As the order service takes them (crm_order.batches.validation), checked here so a bad path
# is a 400 naming the field without a call.
BATCH_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Contacts are read per customer (the customer service has no batch read): this many at a time.
CONTACT_READS = 16
# Customer service answers that leave a customer's contacts out rather than fail the lookup.
CONTACTS_MISSING = frozenset({grpc.StatusCode.NOT_FOUND})
CONTACTS_DOWN = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def batch_path(value: str) -> str:
    if not BATCH_NO.fullmatch(value):
        raise InvalidArgument("batch_no", "letters, digits and - _ . only, up to 64 / 批次号只能含字母、数字和-_.")
    return value


class RecallIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=500, description="Why; shown to owners and on the recall tickets")


class QuantityOut(BaseModel):
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: Decimal


class ContactToCall(BaseModel):
    name: str
    title: str
    decision_role: DecisionRole | None
    mobile: str = Field(description="Masked (138****8000) for roles without the personal-information permission")
    primary: bool


class BatchCustomerOut(BaseModel):
    customer_id: str
    customer_name: str
    owner_id: str
    owner_name: str
    quantities: list[QuantityOut]
    last_delivery_date: dt.date | None
    last_dispatched_at: dt.datetime | None = Field(description="Asia/Shanghai")
    order_count: int
    contacts: list[ContactToCall] = Field(description="Primary contact first; empty on a recall's list")


class BatchLineOut(BaseModel):
    order_id: str
    line_no: int
    customer_id: str
    customer_name: str
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: Decimal
    delivery_date: dt.date
    dispatched_at: dt.datetime = Field(description="Asia/Shanghai")


class RecallOut(BaseModel):
    id: str
    batch_no: str
    reason: str
    raised_by: str
    raised_by_name: str
    raised_at: dt.datetime = Field(description="Asia/Shanghai")
    customers: list[BatchCustomerOut] = Field(description="Those of its customers you may see")
    customer_count: int = Field(description="Every customer it reached, also those you may not see")


class BatchLookupOut(BaseModel):
    batch_no: str
    customers: list[BatchCustomerOut] = Field(description="The customer with the latest dispatch first")
    lines: list[BatchLineOut] = Field(description="Newest dispatch first")
    truncated: bool = Field(description="More than 5000 lines: only the newest are listed")
    contacts_unavailable: bool = Field(description="The customer service did not answer: contacts are missing")
    recall: RecallOut | None


class RecallPage(BaseModel):
    items: list[RecallOut] = Field(description="Newest first")
    next_page_token: str | None


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def customer_out(
    customer: pb.BatchCustomer, names: dict[str, str], contacts: list[ContactToCall] | None = None
) -> BatchCustomerOut:
    return BatchCustomerOut(
        customer_id=customer.customer_id,
        customer_name=customer.customer_name,
        owner_id=customer.owner_id,
        owner_name=names.get(customer.owner_id, ""),
        quantities=[
            QuantityOut(
                product_id=q.product_id,
                sku=q.sku,
                product_name=q.product_name,
                unit=q.unit,
                quantity=Decimal(q.quantity),
            )
            for q in customer.quantities
        ],
        last_delivery_date=_date(customer.last_delivery_date),
        last_dispatched_at=shanghai(customer.last_dispatch_time) if customer.HasField("last_dispatch_time") else None,
        order_count=customer.order_count,
        contacts=contacts or [],
    )


def recall_out(recall: pb.Recall, names: dict[str, str]) -> RecallOut:
    return RecallOut(
        id=recall.id,
        batch_no=recall.batch_no,
        reason=recall.reason,
        raised_by=recall.raised_by,
        raised_by_name=names.get(recall.raised_by, ""),
        raised_at=shanghai(recall.raise_time),
        customers=[customer_out(c, names) for c in recall.customers],
        customer_count=recall.customer_count,
    )


def contacts_to_call(identity: Identity, contacts: list[cpb.Contact]) -> list[ContactToCall]:
    """A customer's contacts as the caller's role view shows them, the primary one first."""
    shown = [apply_contact_view(identity, contact_out(c)) for c in contacts]
    shown.sort(key=lambda c: not c.primary)
    return [
        ContactToCall(name=c.name, title=c.title, decision_role=c.decision_role, mobile=c.mobile, primary=c.primary)
        for c in shown
    ]


async def _contacts(
    state: GatewayState, identity: Identity, customer_ids: list[str]
) -> tuple[dict[str, list[ContactToCall]], bool]:
    """Each customer's contacts, read with the caller's identity (the customer service applies
    its scope too), and whether the customer service failed to answer for some."""
    metadata = state.identity_metadata.for_caller(identity)
    gate = asyncio.Semaphore(CONTACT_READS)
    down = False

    async def read(customer_id: str) -> list[ContactToCall]:
        nonlocal down
        async with gate:
            try:
                found = await state.customers.ListContacts(
                    cpb.ListContactsRequest(customer_id=customer_id), metadata=metadata
                )
            except grpc.aio.AioRpcError as error:
                if error.code() in CONTACTS_MISSING:
                    return []
                if error.code() in CONTACTS_DOWN:
                    down = True
                    return []
                raise
        return contacts_to_call(identity, list(found.contacts))

    found = await asyncio.gather(*(read(customer_id) for customer_id in customer_ids))
    return dict(zip(customer_ids, found, strict=True)), down


async def _names(state: GatewayState, identity: Identity, user_ids: set[str]) -> dict[str, str]:
    return await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=user_ids - {""})


def _people(recalls: list[pb.Recall]) -> set[str]:
    return {r.raised_by for r in recalls} | {c.owner_id for r in recalls for c in r.customers}


@router.get(
    "/batches/{batch_no}",
    summary="Who received a batch 批次追溯",
    description="The customers you may see that received the batch, with quantities, delivery dates and the "
    "contacts to call; 404 when none did.",
)
async def lookup_batch(batch_no: str, state: State, identity: Caller) -> BatchLookupOut:
    found = await state.orders.LookupBatch(
        pb.LookupBatchRequest(batch_no=batch_path(batch_no)), metadata=state.identity_metadata.for_caller(identity)
    )
    customer_ids = [c.customer_id for c in found.customers]
    contacts, down = await _contacts(state, identity, customer_ids)
    recalls = [found.recall] if found.HasField("recall") else []
    names = await _names(state, identity, {c.owner_id for c in found.customers} | _people(recalls))
    return BatchLookupOut(
        batch_no=found.batch_no,
        customers=[customer_out(c, names, contacts.get(c.customer_id)) for c in found.customers],
        lines=[
            BatchLineOut(
                order_id=line.order_id,
                line_no=line.line_no,
                customer_id=line.customer_id,
                customer_name=line.customer_name,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                unit=line.unit,
                quantity=Decimal(line.quantity),
                delivery_date=dt.date.fromisoformat(line.delivery_date),
                dispatched_at=shanghai(line.dispatch_time),
            )
            for line in found.lines
        ],
        truncated=found.truncated,
        contacts_unavailable=down,
        recall=recall_out(recalls[0], names) if recalls else None,
    )


@router.post(
    "/batches/{batch_no}/recall",
    status_code=201,
    summary="Recall a batch 发起召回",
    description="Admins, bosses and supervisors who see a customer of the batch. The recall reaches every "
    "customer that received it; their owners are notified and the ticket service opens a recall ticket per "
    "customer. A batch is recalled once: again is 409 `already_recalled`.",
)
async def raise_recall(batch_no: str, body: RecallIn, state: State, identity: Caller) -> RecallOut:
    raised = await state.orders.RaiseRecall(
        pb.RaiseRecallRequest(batch_no=batch_path(batch_no), reason=body.reason),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return recall_out(raised.recall, await _names(state, identity, _people([raised.recall])))


@router.get("/recalls", summary="Recalls 召回记录", description="Recalls that reached a customer you may see.")
async def list_recalls(
    state: State,
    identity: Caller,
    batch_no: Annotated[str, Query(max_length=64, description="Only this batch's recall")] = "",
    recall_id: Annotated[str, Query(max_length=36, description="Only this recall")] = "",
    page_size: Annotated[int, Query(ge=0, le=200)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> RecallPage:
    found = await state.orders.ListRecalls(
        pb.ListRecallsRequest(
            batch_no=batch_path(batch_no) if batch_no else "",
            recall_id=recall_id,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    recalls = list(found.recalls)
    names = await _names(state, identity, _people(recalls))
    return RecallPage(items=[recall_out(r, names) for r in recalls], next_page_token=found.next_page_token or None)
