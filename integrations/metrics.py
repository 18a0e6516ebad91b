"""The integrations app's Prometheus series (declared through ``config.metrics``).

How deep the Odoo outbox is and how old its oldest waiting row is are read from the table
at scrape time (``collect_outbox``, one aggregate query on the ``state`` index): the
rows are written by web requests and camera supervisors and drained by workers, so no
single process could keep a gauge of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from config.metrics import PREFIX, counter

OUTBOX_PUSHES = counter(
    "odoo_outbox_pushes",
    "Odoo outbox push attempts, by result (sent, skipped, failed, retried).",
    ["result"],
)


def collect_outbox() -> Iterable[Metric]:
    """``presence_odoo_outbox_rows`` by unfinished state and
    ``presence_odoo_outbox_oldest_age_seconds`` (0 when nothing waits)."""
    from integrations.models import OdooOutbox, OutboxState

    rows = GaugeMetricFamily(
        PREFIX + "odoo_outbox_rows",
        "Outbox rows not yet done: pending (waiting or retrying) and failed (parked for an admin).",
        labels=["state"],
    )
    oldest = GaugeMetricFamily(
        PREFIX + "odoo_outbox_oldest_age_seconds",
        "Age of the oldest pending outbox row, 0 when none is pending.",
    )
    found = dict.fromkeys((OutboxState.PENDING, OutboxState.FAILED), (0, None))
    aggregates = (
        OdooOutbox.objects.filter(state__in=list(found))
        .values("state")
        .annotate(count=Count("id"), oldest=Min("created_at"))
    )
    for row in aggregates:
        found[row["state"]] = (row["count"], row["oldest"])
    for state, (count, _oldest) in found.items():
        rows.add_metric([str(state)], count)
    oldest_pending = found[OutboxState.PENDING][1]
    age = (timezone.now() - oldest_pending).total_seconds() if oldest_pending else 0.0
    oldest.add_metric([], max(0.0, age))
    return [rows, oldest]
