"""The order service's own Prometheus metrics (the kit's RED metrics cover every RPC)."""

from __future__ import annotations

from prometheus_client import Counter

ORDERS_CREATED = Counter("crm_order_orders_created_total", "Orders created", ["payment_mode"])
ORDER_TRANSITIONS = Counter(
    "crm_order_transitions_total",
    "Moves of the order state table, by action and the state reached",
    ["action", "state"],
)
