"""Transfer validation at the gRPC edge."""

from __future__ import annotations

from crm.customer.v1 import transfers_pb2 as tpb
from crm_customer.customers.models import STAGES
from crm_customer.transfers.models import MODES
from crm_customer.transfers.service import TransferInput
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, text

MAX_RECEIVERS = 50


def transfer_filter(message: tpb.TransferFilter) -> dict[str, str]:
    stage = text(message.lifecycle_stage, "filter.lifecycle_stage", max_len=16)
    if stage and stage not in STAGES.words:
        raise InvalidArgument("filter.lifecycle_stage", f"one of {', '.join(STAGES.words)} / 未知的客户阶段")
    values = {
        "lifecycle_stage": stage,
        "type": text(message.type, "filter.type", max_len=30),
        "province": text(message.province, "filter.province", max_len=30),
        "city": text(message.city, "filter.city", max_len=30),
        "tag": text(message.tag, "filter.tag", max_len=30),
    }
    return {key: value for key, value in values.items() if value}


def transfer_input(request: tpb.StartTransferRequest) -> TransferInput:
    mode = MODES.parse(request.mode, "mode", unknown="unknown mode / 未知的交接方式")
    receivers = [identifier(v, f"to_user_ids[{i}]") for i, v in enumerate(request.to_user_ids)]
    if len(receivers) > MAX_RECEIVERS:
        raise InvalidArgument("to_user_ids", f"at most {MAX_RECEIVERS} users / 最多{MAX_RECEIVERS}人")
    if len(set(receivers)) != len(receivers):
        raise InvalidArgument("to_user_ids", "a user is named twice / 有重复的接收人")
    if mode == "one_user" and len(receivers) != 1:
        raise InvalidArgument("to_user_ids", "name exactly one receiver / 须指定一名接收人")
    if mode == "evenly" and len(receivers) < 2:
        raise InvalidArgument("to_user_ids", "name at least two receivers / 平均分配须指定至少两名接收人")
    if mode in ("by_rules", "pool") and receivers:
        raise InvalidArgument(
            "to_user_ids", "receivers are chosen by rules or the pool / 按规则或公海交接时不能指定接收人"
        )
    pool_id = identifier(request.pool_id, "pool_id", required=False)
    if pool_id and mode != "pool":
        raise InvalidArgument("pool_id", "only for a transfer to a pool / 仅用于交接到公海")
    return TransferInput(
        from_user_id=identifier(request.from_user_id, "from_user_id"),
        filter=transfer_filter(request.filter),
        mode=mode,
        to_user_ids=receivers,
        pool_id=pool_id,
        reason=text(request.reason, "reason", max_len=200, required=True),
    )
