"""Reactions of the attendance app to signals: its own and other apps'.

A recognised detection becomes a sighting decision, in the next batch of this process
(``attendance.batcher``). The camera pipeline sends the signal after its own commit;
whatever goes wrong here is logged and swallowed so attendance can never stop detections
from being recorded. Each new event is announced on the live
WebSocket once its transaction commits.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_delete, post_save

from attendance import live, signals
from attendance.models import ScheduleInterval
from attendance.schedules import touch_schedule
from detections.models import Detection
from detections.signals import detection_recognized

logger = logging.getLogger(__name__)


def on_detection_recognized(sender: Any, detection: Detection, **_kwargs: Any) -> None:
    """Record the sighting (now, or queued for the next batch); never raise into the
    detection pipeline."""
    from attendance.batcher import submit

    try:
        submit(detection)
    except Exception:
        logger.exception("Attendance could not record detection #%s", detection.pk)


def connect() -> None:
    """Connect the receivers (called from ``AttendanceConfig.ready``)."""
    detection_recognized.connect(on_detection_recognized, dispatch_uid="attendance-sighting")
    signals.event_created.connect(live.announce_created, dispatch_uid="attendance-live-created")
    signals.events_created.connect(
        live.announce_many_created, dispatch_uid="attendance-live-many-created"
    )
    for signal in (post_save, post_delete):
        signal.connect(touch_schedule, sender=ScheduleInterval, dispatch_uid="attendance-touch")
