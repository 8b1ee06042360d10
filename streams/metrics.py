"""``GET /metrics``: Prometheus text format (prometheus-client).

Per worker: notices by status, SMTP send latency, and consumer lag per topic
(the broker's high-water mark minus the offset this worker committed, over
the partitions it owns), computed when scraped.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from faust.web import View
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring


class Metrics:
    """The worker's metrics, in a registry of its own (no global state between apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.notices = Counter(
            "preavis_notices", "Notice delivery outcomes", ["status"], registry=self.registry
        )
        self.smtp_seconds = Histogram(
            "preavis_smtp_send_seconds",
            "Time to hand one message to the relay",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.lag = Gauge(
            "preavis_consumer_lag",
            "Records not yet committed, by topic",
            ["topic"],
            registry=self.registry,
        )
        self.campaigns = Gauge(
            "preavis_campaigns", "Campaigns by status", ["status"], registry=self.registry
        )


def update_lag(app: Any, metrics: Metrics) -> None:
    """Lag of the partitions this worker owns, summed by topic."""
    consumer = app.consumer
    totals: dict[str, int] = {}
    with contextlib.suppress(Exception):  # not assigned yet, or rebalancing
        committed = getattr(consumer, "_committed_offset", {})
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            done = committed.get(tp) or 0
            totals[tp.topic] = totals.get(tp.topic, 0) + max(highwater - done, 0)
    for topic, lag in totals.items():
        metrics.lag.labels(topic=topic).set(lag)


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add ``/metrics``."""
    metrics: Metrics = wiring.metrics

    @app.page("/metrics", name="metrics")
    class MetricsView(View):
        async def get(self, request: Any) -> Any:
            update_lag(app, metrics)
            statuses: dict[str, int] = {}
            for doc in wiring.campaign_documents.documents.values():
                statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
            for status in ("rejected", "running", "completed"):
                metrics.campaigns.labels(status=status).set(statuses.get(status, 0))
            # aiohttp refuses a charset inside content_type; the text is ASCII
            content_type = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")
            return self.bytes(generate_latest(metrics.registry), content_type=content_type)
