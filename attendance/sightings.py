"""Turning one recognised detection into an attendance decision (and maybe an event).

``record_sighting`` runs in one transaction under the person's row lock
(``SELECT ... FOR UPDATE`` on ``PersonAttendanceState``), so sightings of one person
from two camera hosts at once are decided one after the other: the second sees the
first one's event and its cooldown. Every sighting gets a ``SightingDecision`` row
saying what it did or why it did nothing.

The sighting's instant is the detection's ``captured_at`` (when the face was first seen
on that track).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit
from attendance import rules
from attendance.events import (
    MOVED_REASON,
    close_if_stale,
    create_event,
    lock_state,
    mark_voided,
    refresh_state,
    settle,
)
from attendance.models import (
    AttendanceEvent,
    EventKind,
    EventSource,
    PersonAttendanceState,
    SightingDecision,
    SightingOutcome,
)
from attendance.schedules import effective_spec
from attendance.timeline import ScheduleSpec, work_date_for
from detections.models import Detection, DetectionStatus
from faces.models import Person


def cooldown() -> timedelta:
    """The per-person cooldown across all cameras (``ATTENDANCE_COOLDOWN_SECONDS``)."""
    return timedelta(seconds=settings.ATTENDANCE_COOLDOWN_SECONDS)


def _last_pair(person_id: int, spec: ScheduleSpec) -> rules.LastPair | None:
    active = AttendanceEvent.objects.active().filter(person_id=person_id)
    latest = active.order_by("-at", "-id").only("id", "kind", "at", "source").first()
    if latest is None or latest.kind != EventKind.CHECK_OUT:
        return None
    check_in = (
        active.filter(at__lt=latest.at, kind=EventKind.CHECK_IN).order_by("-at", "-id").first()
    )
    if check_in is None:
        return None
    return rules.LastPair(
        check_in_at=check_in.at,
        check_in_work_date=work_date_for(spec, check_in.at),
        check_out_id=latest.pk,
        check_out_is_camera=latest.source == EventSource.CAMERA,
    )


def _rules_state(
    person: Person, state: PersonAttendanceState, spec: ScheduleSpec, direction: str | None
) -> rules.PersonState:
    needs_pair = direction == rules.BOTH and spec.punch_mode == rules.FIRST_LAST
    return rules.PersonState(
        active=person.active,
        is_in=state.is_in,
        last_event_at=state.last_event_at,
        last_counted_sighting_at=state.last_counted_sighting_at,
        last_pair=_last_pair(person.pk, spec) if needs_pair and not state.is_in else None,
    )


def _unrecognized(detection: Detection) -> SightingDecision:
    decision, _ = SightingDecision.objects.get_or_create(
        detection=detection,
        defaults={
            "person_id": detection.person_id,
            "camera_id": detection.camera_id,
            "at": detection.captured_at,
            "outcome": SightingOutcome.NOT_RECOGNIZED,
        },
    )
    return decision


def _note_seen(state: PersonAttendanceState, detection: Detection) -> None:
    at = detection.captured_at
    if state.last_seen_at is None or at >= state.last_seen_at:
        state.last_seen_at = at
        state.last_camera_id = detection.camera_id


def record_sighting(detection: Detection) -> SightingDecision:
    """Decide what ``detection`` does for its person's attendance, carry it out and
    record the decision. Idempotent per detection."""
    if detection.status != DetectionStatus.RECOGNIZED or detection.person_id is None:
        return _unrecognized(detection)
    with transaction.atomic():
        person = Person.objects.only("id", "active", "department_id").get(pk=detection.person_id)
        state = lock_state(person.pk)
        existing = SightingDecision.objects.filter(detection=detection).first()
        if existing is not None:
            return existing
        at = detection.captured_at
        spec = effective_spec(person.pk, person.department_id)
        close_if_stale(state, person, spec, at)
        camera = detection.camera if detection.camera_id else None
        direction = camera.direction if camera is not None else None
        sighting = rules.Sighting(
            at=at,
            direction=direction,
            work_date=work_date_for(spec, at),
            punch_mode=spec.punch_mode,
            max_shift=timedelta(minutes=spec.max_shift_minutes),
        )
        decision = rules.decide(_rules_state(person, state, spec, direction), sighting, cooldown())
        changed: list[AttendanceEvent] = []
        context = audit.AuditContext()
        if decision.void_event_id is not None:
            moved = AttendanceEvent.objects.get(pk=decision.void_event_id)
            mark_voided(moved, MOVED_REASON, None, context, timezone.now())
            changed.append(moved)
        event = None
        if decision.create is not None:
            event = create_event(
                person,
                decision.create,
                at,
                EventSource.CAMERA,
                context,
                camera=camera,
                detection=detection,
            )
            changed.append(event)
            state.last_counted_sighting_at = at
        _note_seen(state, detection)
        refresh_state(state)
        state.save()
        if changed:
            settle(person, changed, spec=spec)
        return SightingDecision.objects.create(
            detection=detection,
            person=person,
            camera=camera,
            at=at,
            outcome=decision.outcome,
            event=event,
        )
