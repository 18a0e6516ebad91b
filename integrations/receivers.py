"""Receivers of the attendance app's signals: every event and every void writes an
outbox row in the transaction that made it, and asks for a push once it commits.

The row commits or rolls back with the event (the signals are sent inside the
transaction), so nothing is pushed that did not happen and nothing that happened is
forgotten. The push itself runs after the commit, off the request
(``config.background.enqueue``), at most once a second (``request_push``), and the
minute beat catches anything it missed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from attendance.models import AttendanceEvent
from config import background
from config.cache import UNAVAILABLE_ERRORS, strict_cache
from integrations.models import OdooOutbox, OutboxKind

PUSH_COALESCE_SECONDS = 1
PUSH_REQUESTED_KEY = "integrations:push-requested"


def request_push() -> None:
    """Start a push run off the request, at most one a second for every process: the
    first request of a second sets a key that lives one second and schedules a run one
    second on, later requests in that second find the key and add nothing, and the run
    pushes every row committed before it starts (each request comes after its row's
    commit). A row reaches Odoo up to a second later than it would have; the camera
    rules make events far faster than one Celery message each could carry. Should the
    cache not answer, the run is asked for anyway (the run itself does nothing when
    another is running)."""
    from integrations.tasks import push_attendance

    try:
        first = strict_cache().add(PUSH_REQUESTED_KEY, 1, timeout=PUSH_COALESCE_SECONDS)
    except UNAVAILABLE_ERRORS:
        first = True
    if first:
        background.enqueue(push_attendance, countdown=PUSH_COALESCE_SECONDS)


def outbox_event_created(sender: Any, event: AttendanceEvent, **kwargs: Any) -> None:
    """A check-in or check-out: a row to push."""
    OdooOutbox.objects.create(event=event, person_id=event.person_id, kind=event.kind, at=event.at)
    transaction.on_commit(request_push)


def outbox_events_created(sender: Any, events: list[AttendanceEvent], **kwargs: Any) -> None:
    """Events the camera rules made together: their rows in one INSERT, one push request."""
    OdooOutbox.objects.bulk_create(
        [OdooOutbox(event=e, person_id=e.person_id, kind=e.kind, at=e.at) for e in events]
    )
    transaction.on_commit(request_push)


def outbox_event_voided(sender: Any, event: AttendanceEvent, **kwargs: Any) -> None:
    """A void: a row that undoes in Odoo what the event's row did."""
    OdooOutbox.objects.create(
        event=event, person_id=event.person_id, kind=OutboxKind.VOID, at=event.at
    )
    transaction.on_commit(request_push)
