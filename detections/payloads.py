"""The detection as clients see it, as a plain dict: one shape for the API, the live
cache and the WebSocket.

The recording and assignment code must publish detections without importing the API
layer, and the frontend must get the same bytes whether it polls ``/detections/live``,
lists ``/detections`` or listens on the WebSocket. So the shape is built here, once, and
``DetectionSerializer`` renders through it. Timestamps follow DRF's rendering (ISO 8601 in
the current time zone, ``Z`` for UTC) so cached entries and API answers are identical.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from detections.models import Detection


def iso_datetime(value: datetime | None) -> str | None:
    """A timestamp as DRF's ``DateTimeField`` renders it: ISO 8601, ``Z`` for UTC."""
    if not value:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def person_ref(person: Any) -> dict[str, Any] | None:
    """How other objects refer to a person (api.md): id, employee code and name."""
    if person is None:
        return None
    return {"id": person.pk, "employee_code": person.employee_code, "full_name": person.full_name}


def _image_url(detection: Detection, field: Any, name: str) -> str | None:
    return reverse(name, args=[detection.pk]) if field else None


def detection_payload(detection: Detection) -> dict[str, Any]:
    """``{"id", "camera", "person", "status", "score", "captured_at", "bbox",
    "snapshot_url"}`` plus details; the image URLs need the caller's token."""
    return {
        "id": detection.pk,
        "camera": {"id": detection.camera_id, "name": detection.camera_name},
        "person": person_ref(detection.person),
        "status": str(detection.status),
        "score": float(detection.score),
        "margin": float(detection.margin),
        "votes": int(detection.votes),
        "captured_at": iso_datetime(detection.captured_at),
        "last_seen_at": iso_datetime(detection.last_seen_at),
        "bbox": detection.bbox,
        "quality": detection.quality,
        "track_id": str(detection.track_id),
        "unknown_face": detection.unknown_face_id,
        "snapshot_url": _image_url(detection, detection.frame, "detection-snapshot"),
        "face_url": _image_url(detection, detection.face_crop, "detection-face"),
        "assigned_at": iso_datetime(detection.assigned_at),
    }
