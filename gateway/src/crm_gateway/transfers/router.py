"""/api/v1/transfers: moving a departing rep's customers (离职交接), forwarded to the customer
service, whose job moves them in batches; the gateway adds people's names."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import transfers_pb2 as tpb
from crm_gateway.customers.schemas import Stage, shanghai
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.profile.schemas import ALERTS_DESCRIPTION, AlertOut, row_alerts
from crm_gateway.web import Caller, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.identity import Identity, Role

router = APIRouter(prefix="/api/v1", tags=["transfers"])

Mode = Literal["one_user", "evenly", "by_rules", "pool"]
Status = Literal["pending", "running", "completed", "failed"]
MODES = ProtoEnum(tpb.TransferMode)
STATUSES = ProtoEnum(tpb.TransferStatus)
TRANSFER_STARTERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR)


class TransferFilterModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lifecycle_stage: Stage | None = None
    type: str | None = Field(None, max_length=30)
    province: str | None = Field(None, max_length=30, description="Of any of the customer's addresses")
    city: str | None = Field(None, max_length=30)
    tag: str | None = Field(None, max_length=30)


class TransferIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    from_user_id: str = Field(min_length=1, max_length=36, description="The rep whose customers move")
    mode: Mode = Field(
        description="one_user: all to to_user_ids[0]; evenly: spread over to_user_ids; by_rules: as the "
        "assignment rules place each; pool: released to pool_id or each customer's nearest pool"
    )
    to_user_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(default_factory=list, max_length=50)
    pool_id: str | None = Field(None, max_length=36)
    reason: str = Field(min_length=1, max_length=200, description="e.g. 离职交接")
    filter: TransferFilterModel = Field(default_factory=TransferFilterModel, description="Unset: the whole book")
    request_id: str | None = Field(
        None, max_length=64, description="Idempotency key: a retry returns the first transfer"
    )


class TransferSkipOut(BaseModel):
    customer_id: str
    customer_name: str = Field("", description="As it is now; empty if the customer is gone")
    reason: str = Field(description="customer_cap_reached, no_pool, archived or moved_meanwhile")
    alerts: list[AlertOut] = Field(default_factory=list, description=ALERTS_DESCRIPTION)


class TransferOut(BaseModel):
    id: str
    from_user_id: str
    from_user_name: str
    mode: Mode
    to_user_ids: list[str]
    to_user_names: list[str]
    pool_id: str | None
    reason: str
    filter: TransferFilterModel
    status: Status
    total: int = Field(description="Customers to move (once completed: those the transfer dealt with)")
    moved: int
    skipped: int
    skips: list[TransferSkipOut] = Field(description="The first 100 customers not moved, and why")
    error: str = Field(description="Why it failed, when it did")
    actor_id: str
    actor_name: str
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    finished_at: dt.datetime | None


class TransferPage(BaseModel):
    items: list[TransferOut]
    next_page_token: str | None


async def transfers_out(state: GatewayState, identity: Identity, transfers: list[tpb.Transfer]) -> list[TransferOut]:
    people = {t.from_user_id for t in transfers} | {t.actor_id for t in transfers}
    people |= {u for t in transfers for u in t.to_user_ids}
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=people - {""})
    labels = await state.profile_labels.for_caller(state, identity)
    return [
        TransferOut(
            id=t.id,
            from_user_id=t.from_user_id,
            from_user_name=names.get(t.from_user_id, ""),
            mode=cast(Mode, MODES.from_proto(t.mode)),
            to_user_ids=list(t.to_user_ids),
            to_user_names=[names.get(u, "") for u in t.to_user_ids],
            pool_id=t.pool_id or None,
            reason=t.reason,
            filter=TransferFilterModel(
                lifecycle_stage=cast(Stage, t.filter.lifecycle_stage) if t.filter.lifecycle_stage else None,
                type=t.filter.type or None,
                province=t.filter.province or None,
                city=t.filter.city or None,
                tag=t.filter.tag or None,
            ),
            status=cast(Status, STATUSES.from_proto(t.status)),
            total=t.total,
            moved=t.moved,
            skipped=t.skipped,
            skips=[
                TransferSkipOut(
                    customer_id=s.customer_id,
                    customer_name=s.customer_name,
                    reason=s.reason,
                    alerts=row_alerts(s.special_requirements, labels),
                )
                for s in t.skips
            ],
            error=t.error,
            actor_id=t.actor_id,
            actor_name=names.get(t.actor_id, ""),
            created_at=shanghai(t.create_time),
            finished_at=shanghai(t.finish_time) if t.HasField("finish_time") else None,
        )
        for t in transfers
    ]


@router.post(
    "/transfers",
    status_code=202,
    summary="Start moving a rep's customers to others or a pool (admin, boss, supervisor) 离职交接",
    description="Answers at once with the transfer `pending`; a job moves the customers in batches (poll "
    "GET /api/v1/transfers/{id}). Receivers must be active users who may own customers. A single receiver "
    "who cannot take the whole book under their cap: 412 customer_cap_reached; an even spread passes over a "
    "full receiver. Another unfinished transfer of the same rep: 412 transfer_running.",
)
async def start_transfer(body: TransferIn, state: State, identity: Caller) -> TransferOut:
    identity.require_role(*TRANSFER_STARTERS)
    filters = {k: v for k, v in body.filter.model_dump().items() if v}
    started = await state.customers.StartTransfer(
        tpb.StartTransferRequest(
            request_id=body.request_id or str(uuid.uuid4()),
            from_user_id=body.from_user_id,
            mode=MODES.to_proto(body.mode),  # type: ignore[arg-type]
            to_user_ids=body.to_user_ids,
            pool_id=body.pool_id or "",
            reason=body.reason,
            filter=tpb.TransferFilter(**filters),
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await transfers_out(state, identity, [started.transfer]))[0]


@router.get("/transfers/{transfer_id}", summary="A transfer and its progress 交接进度")
async def get_transfer(transfer_id: str, state: State, identity: Caller) -> TransferOut:
    found = await state.customers.GetTransfer(
        tpb.GetTransferRequest(id=path_id(transfer_id, "transfer_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await transfers_out(state, identity, [found.transfer]))[0]


@router.get("/transfers", summary="Transfers, newest first 交接记录")
async def list_transfers(
    state: State,
    identity: Caller,
    from_user_id: Annotated[str | None, Query(max_length=36)] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> TransferPage:
    found = await state.customers.ListTransfers(
        tpb.ListTransfersRequest(from_user_id=from_user_id or "", page_size=page_size, page_token=page_token),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return TransferPage(
        items=await transfers_out(state, identity, list(found.transfers)),
        next_page_token=found.next_page_token or None,
    )
