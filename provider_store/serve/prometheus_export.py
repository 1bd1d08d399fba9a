"""``GET /metrics``: the served view in Prometheus' text format (``prometheus-client``).

Per provider: the age of its model list, whether its last list attempt succeeded, when it last
failed, its empty-list strikes and its models by status. Per model with pings in the last seven
days: availability, pings, and a latency histogram from the ping rollup's buckets (coarsened to
one bucket per doubling, in seconds). And the server's own work: snapshots built, providers
re-read, failed looks at the catalog. Every value is read from the current snapshot when
Prometheus scrapes: nothing is counted twice, nothing is sent to a provider.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from provider_store.history.ping_rollup import BUCKETS_PER_DOUBLING, bucket_value
from provider_store.serve.served_view import CatalogMirror
from provider_store.views.model_view import STATUSES

__all__ = ["CONTENT_TYPE", "metrics_text"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PREFIX = "provider_store_"


class _ViewCollector(Collector):
    def __init__(self, mirror: CatalogMirror) -> None:
        self.mirror = mirror

    def collect(self) -> Iterator[Metric]:
        snapshot = self.mirror.snapshot
        now = time.time()
        age = GaugeMetricFamily(
            _PREFIX + "provider_list_age_seconds",
            "Seconds since the provider's model list was last fetched.",
            labels=["provider"],
        )
        ok = GaugeMetricFamily(
            _PREFIX + "provider_last_refresh_ok",
            "1 when the provider's last list attempt succeeded, 0 when it failed.",
            labels=["provider"],
        )
        failed_at = GaugeMetricFamily(
            _PREFIX + "provider_last_failure_timestamp_seconds",
            "When the provider's list last failed (Unix time).",
            labels=["provider"],
        )
        strikes = GaugeMetricFamily(
            _PREFIX + "provider_empty_list_strikes",
            "Empty model lists in a row from the provider.",
            labels=["provider"],
        )
        counts = GaugeMetricFamily(
            _PREFIX + "provider_models",
            "Models of the provider by status (valid, missing, invalid, unverified).",
            labels=["provider", "status"],
        )
        for provider in snapshot.providers:
            key = provider.key
            if provider.list_fetched_at is not None:
                age.add_metric([key], max(0.0, now - provider.list_fetched_at))
            outcome = provider.last_refresh_ok
            if outcome is not None:
                ok.add_metric([key], 1.0 if outcome else 0.0)
            if provider.last_error_at is not None:
                failed_at.add_metric([key], provider.last_error_at)
            strikes.add_metric([key], provider.empty_list_strikes)
            by_status = dict.fromkeys(STATUSES, 0)
            for model in provider.models:
                by_status[model.status] = by_status.get(model.status, 0) + 1
            for status, number in by_status.items():
                counts.add_metric([key, status], number)
        yield from (age, ok, failed_at, strikes, counts)
        yield from self._models()
        yield from self._server()

    def _models(self) -> Iterator[Metric]:
        availability = GaugeMetricFamily(
            _PREFIX + "model_availability_ratio",
            "Share of the model's pings of the last 7 days that got a chat answer.",
            labels=["provider", "model"],
        )
        pings = GaugeMetricFamily(
            _PREFIX + "model_pings",
            "Pings of the model in the last 7 days.",
            labels=["provider", "model"],
        )
        latency = HistogramMetricFamily(
            _PREFIX + "model_ping_latency_seconds",
            "Latency of the model's pings of the last 7 days (from the ping rollup).",
            labels=["provider", "model"],
        )
        for stats in self.mirror.snapshot.stats():
            labels = [stats.provider, stats.model]
            availability.add_metric(labels, stats.availability)
            pings.add_metric(labels, stats.count)
            if stats.latency_histogram and sum(stats.latency_histogram):
                buckets, total = _buckets(stats.latency_histogram)
                latency.add_metric(labels, buckets, total)
        yield from (availability, pings, latency)

    def _server(self) -> Iterator[Metric]:
        done = self.mirror.stats
        yield CounterMetricFamily(
            _PREFIX + "serve_snapshots", "Snapshots of the catalog built.", value=done.rebuilds
        )
        yield CounterMetricFamily(
            _PREFIX + "serve_providers_reread",
            "Providers re-read because a commit changed them.",
            value=done.providers_reread,
        )
        yield CounterMetricFamily(
            _PREFIX + "serve_catalog_failures",
            "Looks at the catalog that could not read it.",
            value=done.failures,
        )
        yield GaugeMetricFamily(
            _PREFIX + "serve_catalog_reachable",
            "1 when the last look at the catalog reached it.",
            value=1.0 if self.mirror.reachable else 0.0,
        )


def _buckets(histogram: tuple[int, ...]) -> tuple[list[tuple[str, float]], float]:
    """Cumulative ``(le, count)`` pairs, one per doubling of latency (bucket ``i`` of the
    rollup holds latencies under ``2 ** (i / 8)`` ms), and the latencies' estimated sum in
    seconds (each ping at its bucket's middle)."""
    running = list(accumulate(histogram))
    buckets: list[tuple[str, float]] = []
    last = len(histogram) - 1
    for index in range(0, last, BUCKETS_PER_DOUBLING):  # bucket 0: under 1 ms
        buckets.append((repr(2 ** (index // BUCKETS_PER_DOUBLING) / 1000), running[index]))
    buckets.append(("+Inf", running[-1]))
    total = sum(count * bucket_value(i) for i, count in enumerate(histogram)) / 1000
    return buckets, total


def metrics_text(mirror: CatalogMirror) -> bytes:
    """The metrics of ``mirror``'s current snapshot, in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ViewCollector(mirror))
    return generate_latest(registry)
