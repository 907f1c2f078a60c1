"""The order's life as one table of allowed moves: (state, action) → the next state per payment
mode. Everything that changes an order's state asks `next_state`; nothing else decides."""

from __future__ import annotations

from collections.abc import Mapping

from crmkit.errors import FailedPrecondition
from crmkit.identity import Role

STATES = (
    "draft",
    "confirmed",
    "awaiting_payment",
    "ready_to_ship",
    "dispatched",
    "delivered",
    "completed",
    "cancelled",
)
ACTIONS = ("confirm", "release", "record_payment", "dispatch", "deliver", "complete", "cancel")
MODES = ("cod", "credit")

STATE_LABELS = {
    "draft": "草稿",
    "confirmed": "已确认",
    "awaiting_payment": "待付款",
    "ready_to_ship": "待出库",
    "dispatched": "配送中",
    "delivered": "已签收",
    "completed": "已完成",
    "cancelled": "已取消",
}
ACTION_LABELS = {
    "confirm": "确认",
    "release": "放行",
    "record_payment": "登记付款",
    "dispatch": "发货",
    "deliver": "签收",
    "complete": "完成",
    "cancel": "取消",
}

_BOTH = dict.fromkeys(MODES)
MOVES: Mapping[tuple[str, str], Mapping[str, str]] = {
    ("draft", "confirm"): {"cod": "confirmed", "credit": "confirmed"},
    # A COD order waits for finance to record the payment before it may be shipped.
    ("confirmed", "release"): {"cod": "awaiting_payment", "credit": "ready_to_ship"},
    ("awaiting_payment", "record_payment"): {"cod": "ready_to_ship"},
    ("ready_to_ship", "dispatch"): {mode: "dispatched" for mode in _BOTH},
    ("dispatched", "deliver"): {mode: "delivered" for mode in _BOTH},
    ("delivered", "complete"): {mode: "completed" for mode in _BOTH},
    **{
        (state, "cancel"): {mode: "cancelled" for mode in _BOTH}
        for state in ("draft", "confirmed", "awaiting_payment", "ready_to_ship")
    },
}

SELLING = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES})
# Who may ask for each action (the data scope applies on top).
ACTION_ROLES: Mapping[str, frozenset[Role]] = {
    "confirm": SELLING,
    "release": SELLING,
    "record_payment": frozenset({Role.ADMIN, Role.BOSS, Role.FINANCE}),
    "dispatch": frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SERVICE}),
    "deliver": frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SERVICE}),
    "complete": frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SERVICE, Role.FINANCE}),
    "cancel": SELLING,
}
# States in which the order's content may still change (after confirmation: as a revision).
EDITABLE = frozenset({"draft", "confirmed", "awaiting_payment", "ready_to_ship"})


class IllegalTransition(FailedPrecondition):
    """The action is not allowed from the order's current state (HTTP 409)."""

    code = "illegal_transition"

    def __init__(self, state: str, action: str) -> None:
        super().__init__(
            f"order is {state}; cannot {action} / "
            f"订单当前状态为{STATE_LABELS.get(state, state)}，不能{ACTION_LABELS.get(action, action)}",
            field="action",
            details={"current-state": state},
        )
        self.state = state
        self.action = action


def next_state(state: str, action: str, mode: str) -> str:
    target = MOVES.get((state, action), {}).get(mode)
    if target is None:
        raise IllegalTransition(state, action)
    return target
