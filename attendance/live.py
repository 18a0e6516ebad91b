"""Each new attendance event goes to the live WebSocket as ``attendance.created``.

The event is written inside a transaction that may still roll back (a refused pair, a
failed day recompute), so the message is built there, from the row as written, and sent
only once that transaction commits.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from attendance.models import AttendanceEvent
from attendance.payloads import event_payload
from detections import live

EVENT_TYPE = "attendance.created"


def announce_created(sender: Any, event: AttendanceEvent, **_kwargs: Any) -> None:
    """``signals.event_created`` receiver: broadcast the log entry after the commit."""
    data = event_payload(event)
    camera_id = event.camera_id
    transaction.on_commit(lambda: live.broadcast(EVENT_TYPE, data, camera_id=camera_id))


def announce_many_created(sender: Any, events: list[AttendanceEvent], **_kwargs: Any) -> None:
    """``signals.events_created`` receiver: each event's message, in order, after the commit."""
    messages = [(event_payload(event), event.camera_id) for event in events]

    def send() -> None:
        for data, camera_id in messages:
            live.broadcast(EVENT_TYPE, data, camera_id=camera_id)

    transaction.on_commit(send)
