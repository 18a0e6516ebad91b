"""Handing recognised detections to the rules in batches, off the camera's thread.

The ``detection_recognized`` receiver runs in the camera's recording thread once the
detection commits. Deciding each sighting there costs one transaction per face, and a
batch of them costs hardly more than one (``record_sightings``; BENCHMARKS.md,
"Attendance rules throughput"). So the receiver queues the detection and one thread per
process decides what has queued, as soon as ``ATTENDANCE_BATCH_SIZE`` are waiting or
``ATTENDANCE_BATCH_SECONDS`` after the first of them arrived: a sighting's decision, its
event and the live message come that much later. A batch that fails is retried one
sighting at a time, so one bad sighting cannot lose the others.

The queue lives in memory, and a process that dies loses what it held; but every queued
sighting is a committed detection, so ``decide_pending_sightings`` (a periodic job, every
minute) decides the recognised detections of the last hours that have no decision yet.
A process that exits normally decides what is queued first.

With ``ATTENDANCE_BATCH_SECONDS`` at 0 (the test suite) the receiver decides at once.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from detections.models import Detection, DetectionStatus

logger = logging.getLogger(__name__)

PENDING_WINDOW = timedelta(hours=6)
PENDING_SETTLE = timedelta(seconds=30)
EXIT_WAIT_SECONDS = 10.0
_STOP = object()


def decide(detections: list[Detection]) -> None:
    """``record_sightings`` on the batch; on failure each sighting alone, logging the
    ones that still fail (attendance must never stop the detection pipeline)."""
    from attendance.sightings import record_sighting, record_sightings

    try:
        record_sightings(detections)
    except Exception:
        if len(detections) == 1:
            logger.exception("Attendance could not record detection #%s", detections[0].pk)
            return
        logger.exception("A batch of %s sightings failed; deciding one by one", len(detections))
        for detection in detections:
            try:
                record_sighting(detection)
            except Exception:
                logger.exception("Attendance could not record detection #%s", detection.pk)


class SightingBatcher:
    """A queue of detections and the thread that decides them in batches."""

    def __init__(self, size: int, seconds: float) -> None:
        self.size = max(size, 1)
        self.seconds = seconds
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, detection: Detection) -> None:
        """Queue one detection, starting the thread on first use."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="attendance-batcher", daemon=True
                )
                self._thread.start()
        self._queue.put(detection)

    def _collect(self, first: Detection) -> tuple[list[Detection], bool]:
        """The batch that starts with ``first``; True when the stop sentinel came."""
        batch = [first]
        deadline = time.monotonic() + self.seconds
        while len(batch) < self.size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch, stop = self._collect(item)
                close_old_connections()
                decide(batch)
                if stop:
                    return
        finally:
            connections.close_all()

    def close(self, timeout: float = EXIT_WAIT_SECONDS) -> None:
        """Decide what is queued and stop the thread (at exit)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(_STOP)
        thread.join(timeout)


_batcher: SightingBatcher | None = None
_batcher_lock = threading.Lock()


def batcher() -> SightingBatcher:
    """The process's batcher, sized by the settings when first used."""
    global _batcher
    with _batcher_lock:
        if _batcher is None:
            _batcher = SightingBatcher(
                settings.ATTENDANCE_BATCH_SIZE, settings.ATTENDANCE_BATCH_SECONDS
            )
        return _batcher


def submit(detection: Detection) -> None:
    """Decide ``detection``'s sighting: now when batching is off, else in the next batch."""
    if settings.ATTENDANCE_BATCH_SECONDS <= 0:
        decide([detection])
    else:
        batcher().put(detection)


@atexit.register
def _close_at_exit() -> None:
    if _batcher is not None:
        _batcher.close()


def decide_pending_sightings(now: datetime | None = None) -> int:
    """Decide the recognised detections of the last ``PENDING_WINDOW`` that have no
    decision and have not changed for ``PENDING_SETTLE`` (so a batch still in flight is
    left alone): the sightings a process lost when it died with them queued. A detection
    labelled by hand is no sighting (the pipeline never announced it) and is left alone.
    Returns how many it decided."""
    now = now or timezone.now()
    pending = list(
        Detection.objects.filter(
            status=DetectionStatus.RECOGNIZED,
            person__isnull=False,
            assigned_at__isnull=True,
            captured_at__gte=now - PENDING_WINDOW,
            updated_at__lt=now - PENDING_SETTLE,
            attendance_decision__isnull=True,
        )
        .select_related("camera")
        .order_by("captured_at", "id")[:5000]
    )
    for start in range(0, len(pending), 500):
        decide(pending[start : start + 500])
    return len(pending)
