"""Prometheus metrics shared by every process, declared once."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

GRPC_REQUESTS = Counter("crm_grpc_requests_total", "gRPC requests handled", ["service", "method", "code"])
GRPC_LATENCY = Histogram(
    "crm_grpc_request_duration_seconds",
    "gRPC handling time",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# Partner systems calling a service's gRPC directly (crmkit.partners), by client.
PARTNER_CALLS = Counter(
    "crm_partner_calls_total", "gRPC calls by partner systems", ["service", "client", "method", "code"]
)
HTTP_REQUESTS = Counter("crm_http_requests_total", "HTTP requests handled", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP handling time",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_UNPUBLISHED = Gauge("crm_outbox_unpublished_rows", "Outbox rows not yet acknowledged by JetStream", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "crm_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox row not yet acknowledged by JetStream",
    ["service"],
)
OUTBOX_PUBLISHED = Counter("crm_outbox_published_total", "Outbox rows published", ["service"])
OUTBOX_FAILURES = Counter("crm_outbox_publish_failures_total", "Failed attempts to publish an outbox row", ["service"])
CONSUMER_EVENTS = Counter(
    "crm_consumer_events_total",
    "Events seen by a consumer, by outcome (handled, duplicate, ignored, retried, dead_lettered)",
    ["consumer", "outcome"],
)
CONSUMER_DEAD_LETTERS = Counter(
    "crm_consumer_dead_letters_total", "Events moved to the dead-letter table", ["consumer"]
)

# Periodic jobs (crmkit.jobs). The label is `job_name`, not `job`: the ServiceMonitor honours
# the metrics' own labels, and `job` would replace Prometheus's scrape job.
JOB_RUNS = Counter(
    "crm_job_runs_total",
    "Runs of a periodic job, by outcome (succeeded, failed, lost_lease, interrupted)",
    ["service", "job_name", "outcome"],
)
JOB_DURATION = Histogram(
    "crm_job_run_duration_seconds",
    "How long a run of a periodic job took",
    ["service", "job_name"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
JOB_LAST_SUCCESS = Gauge(
    "crm_job_last_success_timestamp_seconds",
    "Unix time of the periodic job's last successful run on any replica (0: never), from its lease row",
    ["service", "job_name"],
)
JOB_INTERVAL = Gauge("crm_job_interval_seconds", "How often the periodic job is meant to run", ["service", "job_name"])


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Expose /metrics on its own port (0 = do not serve)."""
    if port:
        start_http_server(port, addr=host)
