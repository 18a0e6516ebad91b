"""Prometheus metrics: how apps declare them, and what ``/metrics`` exposes.

The kernel imports no app (architecture.md), so each app declares its own series in its
``metrics.py`` with the helpers below, increments them where the events happen, and
registers from its ``apps.py`` a collector for the gauges that come from the database
(``register_collector``): those are computed at scrape time, in one cheap query each,
rather than kept up to date by every writer.

With ``PROMETHEUS_MULTIPROC_DIR`` set (production: web, workers and camera supervisors
share one folder), counters and histograms go to per-process files that every scrape
sums (``config.metrics_multiprocess``); without it (the embedded run, tests) they live in
this process. Importing this module before any metric exists sets the mode up, which is
why apps declare metrics only through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from config import metrics_multiprocess

logger = logging.getLogger(__name__)

PREFIX = "presence_"
#: Seconds; from a few milliseconds (a cached API read) to tens of seconds (an export).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

Collector = Callable[[], Iterable[Metric]]
_collectors: dict[str, Collector] = {}

_MULTIPROCESS_DIR = metrics_multiprocess.multiprocess_dir()
if _MULTIPROCESS_DIR is not None:
    metrics_multiprocess.prepare(_MULTIPROCESS_DIR)


def counter(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
    """A counter named ``presence_<name>`` (the library adds ``_total``)."""
    return Counter(PREFIX + name, documentation, labelnames)


def histogram(
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    buckets: Sequence[float] = LATENCY_BUCKETS,
) -> Histogram:
    """A histogram named ``presence_<name>``, in seconds unless the name says otherwise."""
    return Histogram(PREFIX + name, documentation, labelnames, buckets=buckets)


def live_gauge(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Gauge:
    """A gauge that processes add up while they live (``livesum``): a process that ends
    stops counting (``metrics_multiprocess`` marks it dead)."""
    return Gauge(PREFIX + name, documentation, labelnames, multiprocess_mode="livesum")


def register_collector(name: str, collect: Collector) -> None:
    """Have ``collect()`` run at every scrape; it yields metric families (prefixed
    ``presence_``), computed cheaply, usually from one database query."""
    _collectors[name] = collect


class _AppCollectors:
    """The registered collectors, each isolated: one that fails (the database is down)
    is reported as ``presence_metrics_collector_up{collector=...} 0`` and the others
    still answer, so a scrape never fails as a whole."""

    def collect(self) -> Iterable[Metric]:
        """Run every registered collector."""
        up = GaugeMetricFamily(
            PREFIX + "metrics_collector_up",
            "1 if the collector's source answered at this scrape, else 0.",
            labels=["collector"],
        )
        for name, collect in sorted(_collectors.items()):
            try:
                families = list(collect())
            except Exception as exc:  # noqa: BLE001 - one source down must not fail the scrape
                logger.warning("Metrics collector %s failed: %s", name, type(exc).__name__)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def exposition(*, from_database: bool = True) -> tuple[bytes, str]:
    """The text a scrape returns, and its content type (the classic text format, which
    every Prometheus version reads). ``from_database=False`` leaves out the series read
    from the database (cameras online, outbox rows, ...), which a camera host's own
    listener must not repeat: the main host's ``/metrics`` has them once."""
    registry = CollectorRegistry()
    if _MULTIPROCESS_DIR is not None:
        metrics_multiprocess.mark_dead_processes(_MULTIPROCESS_DIR)
        MultiProcessCollector(registry, path=str(_MULTIPROCESS_DIR))
    else:
        registry.register(_ProcessRegistry())
    if from_database:
        registry.register(_AppCollectors())
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


class _ProcessRegistry:
    """This process's own metrics (single-process mode), read through the default
    registry, where the library puts every metric and its process and GC collectors."""

    def collect(self) -> Iterable[Metric]:
        """Everything in the default registry."""
        return REGISTRY.collect()
