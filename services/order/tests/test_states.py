"""The order state table, every state × action × payment mode, against the table the issue gives."""

from __future__ import annotations

import itertools

import pytest

from crm.order.v1 import order_pb2
from crm_order.orders.states import ACTIONS, MODES, STATES, IllegalTransition, next_state

# Written out by hand from the issue, not derived from the service's table.
ALLOWED = {
    ("draft", "confirm", "cod"): "confirmed",
    ("draft", "confirm", "credit"): "confirmed",
    ("confirmed", "release", "cod"): "awaiting_payment",
    ("confirmed", "release", "credit"): "ready_to_ship",
    ("awaiting_payment", "record_payment", "cod"): "ready_to_ship",
    ("ready_to_ship", "dispatch", "cod"): "dispatched",
    ("ready_to_ship", "dispatch", "credit"): "dispatched",
    ("dispatched", "deliver", "cod"): "delivered",
    ("dispatched", "deliver", "credit"): "delivered",
    ("delivered", "complete", "cod"): "completed",
    ("delivered", "complete", "credit"): "completed",
    **{
        (state, "cancel", mode): "cancelled"
        for state in ("draft", "confirmed", "awaiting_payment", "ready_to_ship")
        for mode in ("cod", "credit")
    },
}


@pytest.mark.parametrize(("state", "action", "mode"), list(itertools.product(STATES, ACTIONS, MODES)))
def test_every_move_is_allowed_exactly_as_the_table_says(state: str, action: str, mode: str) -> None:
    expected = ALLOWED.get((state, action, mode))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            next_state(state, action, mode)
        assert refused.value.details["current-state"] == state
        assert state in refused.value.message
    else:
        assert next_state(state, action, mode) == expected


def test_the_words_cover_the_contracts_enums() -> None:
    assert len(STATES) == len(order_pb2.OrderState.values()) - 1
    assert len(ACTIONS) == len(order_pb2.OrderAction.values()) - 1
    assert len(MODES) == len(order_pb2.PaymentMode.values()) - 1


def test_nothing_leaves_a_final_state() -> None:
    for state in ("completed", "cancelled"):
        for action, mode in itertools.product(ACTIONS, MODES):
            with pytest.raises(IllegalTransition):
                next_state(state, action, mode)
