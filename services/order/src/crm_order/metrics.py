"""The order service's own Prometheus metrics (the kit's RED metrics cover every RPC)."""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter, Gauge, Histogram

from crm_order.orders.models import Order
from crmkit.clock import as_utc

ORDERS_CREATED = Counter("crm_order_orders_created_total", "Orders created", ["payment_mode"])
ORDER_TRANSITIONS = Counter(
    "crm_order_transitions_total",
    "Moves of the order state table, by action and the state reached",
    ["action", "state"],
)
# How long an order took from its creation to each state it reached: the operators' view of
# state durations (time to confirm, to ship, to deliver) without a read model.
ORDER_AGE_AT_MOVE = Histogram(
    "crm_order_age_at_move_seconds",
    "Time from an order's creation to the move that reached the state",
    ["state"],
    buckets=(60, 600, 3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 30 * 86400),
)
# Set by the `approval-gauges` job (crm_order.approvals) on the replica that runs it.
APPROVALS_WAITING = Gauge("crm_order_approvals_waiting", "Requests waiting for a supervisor's decision", ["kind"])
APPROVAL_OLDEST_WAIT = Gauge(
    "crm_order_approval_oldest_wait_seconds", "How long the oldest request waiting for a decision has waited", ["kind"]
)


def count_move(action: str, order: Order, now: dt.datetime) -> None:
    """A committed move of the state table: counted, and the order's age at it observed."""
    ORDER_TRANSITIONS.labels(action, order.state).inc()
    ORDER_AGE_AT_MOVE.labels(order.state).observe(max((as_utc(now) - as_utc(order.created_at)).total_seconds(), 0.0))
