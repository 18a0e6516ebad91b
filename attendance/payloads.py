"""Attendance rows as clients see them, as plain dicts: one shape for the API, the
WebSocket and the exports.

A log entry is built in the transaction that writes the event (for the live stream) and
for every row the API lists, so it is built here once and the serializers render through
it, as ``detections.payloads`` does for detections (api.md "An attendance log entry" and
"A roll-call row").
"""

from __future__ import annotations

from typing import Any

from attendance.models import AttendanceEvent, PersonAttendanceState
from detections.payloads import iso_datetime, person_ref


def camera_ref(camera: Any) -> dict[str, Any] | None:
    """How other objects refer to a camera: id and name, null when there is none."""
    if camera is None:
        return None
    return {"id": camera.pk, "name": camera.name}


def event_payload(event: AttendanceEvent) -> dict[str, Any]:
    """``{"id", "person", "kind", "at", "source", "camera", "voided"}`` plus the trace:
    why it was added, and when and why it was voided."""
    return {
        "id": event.pk,
        "person": person_ref(event.person),
        "kind": str(event.kind),
        "at": iso_datetime(event.at),
        "source": str(event.source),
        "camera": camera_ref(event.camera),
        "voided": event.voided_at is not None,
        "reason": event.reason,
        "voided_at": iso_datetime(event.voided_at),
        "void_reason": event.void_reason,
        "detection": event.detection_id,
    }


def roll_call_row(state: PersonAttendanceState) -> dict[str, Any]:
    """``{"person", "since", "last_seen_at", "camera"}``: who is on site, since when, and
    where and when they were last seen (the check-in when no camera saw them since)."""
    since = state.open_event.at if state.open_event is not None else state.last_event_at
    return {
        "person": person_ref(state.person),
        "since": iso_datetime(since),
        "last_seen_at": iso_datetime(state.last_seen_at or since),
        "camera": camera_ref(state.last_camera),
    }
