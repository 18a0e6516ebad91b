"""Periodic jobs of the detections app: retention."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from detections.models import Detection, UnknownFace

BATCH = 500


def _delete_in_batches(queryset: QuerySet[Detection] | QuerySet[UnknownFace]) -> int:
    """Delete row by row in batches so each row's images are removed (post_delete)."""
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        for detection in Detection.objects.filter(pk__in=ids):
            detection.delete()
        total += len(ids)


@shared_task(name="detections.tasks.purge_old_detections")
def purge_old_detections() -> dict[str, int]:
    """Apply the retention periods (detections, unknown-face groups); counts for the log."""
    now = timezone.now()
    old = Detection.objects.filter(
        captured_at__lt=now - timedelta(days=settings.DETECTION_RETENTION_DAYS)
    )
    unknown = Detection.objects.filter(
        person__isnull=True,
        captured_at__lt=now - timedelta(days=settings.UNKNOWN_RETENTION_DAYS),
    )
    purged = {"detections": _delete_in_batches(old), "unknown": _delete_in_batches(unknown)}
    groups, _ = UnknownFace.objects.filter(
        last_seen__lt=now - timedelta(days=settings.UNKNOWN_RETENTION_DAYS)
    ).delete()
    purged["unknown_groups"] = groups
    return purged
