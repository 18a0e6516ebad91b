"""Periodic jobs of the cameras app."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from cameras.models import Camera, CameraStatus
from cameras.signals import camera_status_changed

#: A camera whose supervisor has not reported for this long is offline.
HEARTBEAT_STALE_SECONDS = 30


@shared_task(name="cameras.tasks.mark_stale_cameras_offline")
def mark_stale_cameras_offline() -> int:
    """Cameras whose heartbeat stopped (a supervisor died) are marked offline."""
    horizon = timezone.now() - timedelta(seconds=HEARTBEAT_STALE_SECONDS)
    stale = list(
        Camera.objects.filter(enabled=True)
        .exclude(status=CameraStatus.OFFLINE)
        .filter(heartbeat_at__lt=horizon)
    )
    for camera in stale:
        # Nobody reads it now: the reader's figures would describe a dead supervisor.
        Camera.objects.filter(pk=camera.pk).update(
            status=CameraStatus.OFFLINE,
            last_error="No heartbeat from a camera supervisor.",
            decoder_state="",
            fps=None,
            analysed_fps=None,
        )
        camera.status = CameraStatus.OFFLINE
        camera_status_changed.send(Camera, camera=camera)
    return len(stale)
