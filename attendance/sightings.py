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

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts import audit
from attendance import rules
from attendance.day_records import recompute_days_at
from attendance.events import (
    MOVED_REASON,
    close_if_stale,
    create_event,
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
    WorkSchedule,
)
from attendance.schedules import cached_spec, schedule_id_expression
from attendance.timeline import ScheduleSpec, work_date_for
from detections.models import Detection, DetectionStatus
from faces.models import Person

STATE_FIELDS = (
    "id",
    "person_id",
    "is_in",
    "open_event_id",
    "last_event_at",
    "last_counted_sighting_at",
    "last_seen_at",
    "last_camera_id",
    "person__id",
    "person__active",
    "person__department_id",
    "person__employee_code",
    "person__full_name",
    "open_event__id",
    "open_event__kind",
    "open_event__at",
)


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


def _lock_for_sighting(detection: Detection) -> PersonAttendanceState | None:
    """One statement: the person's state row locked, with the person, the open event,
    which schedule applies (and its version) and any decision already recorded for
    ``detection``; None when the person has no state row yet."""
    version = WorkSchedule.objects.filter(pk=OuterRef("spec_schedule_id")).values("updated_at")
    existing = SightingDecision.objects.filter(detection_id=detection.pk).values("pk")
    return (
        PersonAttendanceState.objects.select_for_update(of=("self",))
        .select_related("person", "open_event")
        .only(*STATE_FIELDS)
        .annotate(
            spec_schedule_id=schedule_id_expression("person_id", "person__department_id"),
            spec_version=Subquery(version[:1]),
            existing_decision_id=Subquery(existing[:1]),
        )
        .filter(person_id=detection.person_id)
        .first()
    )


def _lock_or_create(detection: Detection) -> PersonAttendanceState:
    """``_lock_for_sighting``, creating the state row first for a person's first sighting."""
    state = _lock_for_sighting(detection)
    if state is None:
        Person.objects.only("id").get(pk=detection.person_id)
        PersonAttendanceState.objects.bulk_create(
            [PersonAttendanceState(person_id=detection.person_id)], ignore_conflicts=True
        )
        state = _lock_for_sighting(detection)
    if state is None:
        raise PersonAttendanceState.DoesNotExist(detection.person_id)
    return state


def _apply_event(state: PersonAttendanceState, event: AttendanceEvent) -> None:
    """The state after ``event``, which is now the person's latest active event (the rules
    only make events later than every other), without reading it back."""
    state.is_in = event.kind == EventKind.CHECK_IN
    state.open_event = event if state.is_in else None
    state.last_event_at = event.at


def _settle_new_event(
    person: Person, event: AttendanceEvent, open_check_in: datetime | None, spec: ScheduleSpec
) -> None:
    """Recompute the days a new latest event changes: its own work date, and the date of
    the check-in it closes (``open_check_in``). A check-in after a check-out changes no
    earlier date: those dates only hold pairs that start before it."""
    instants = [event.at] if open_check_in is None else [event.at, open_check_in]
    recompute_days_at(person, instants, spec=spec)


def record_sighting(detection: Detection) -> SightingDecision:
    """Decide what ``detection`` does for its person's attendance, carry it out and
    record the decision. Idempotent per detection."""
    if detection.status != DetectionStatus.RECOGNIZED or detection.person_id is None:
        return _unrecognized(detection)
    with transaction.atomic():
        state = _lock_or_create(detection)
        if state.existing_decision_id is not None:
            return SightingDecision.objects.get(pk=state.existing_decision_id)
        person = state.person
        at = detection.captured_at
        spec = cached_spec(state.spec_schedule_id, state.spec_version)
        auto_closed = close_if_stale(state, person, spec, at) is not None
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
        open_check_in = state.last_event_at if state.is_in else None
        dirty = {"last_seen_at", "last_camera"}
        moved = None
        if decision.void_event_id is not None:
            moved = AttendanceEvent.objects.get(pk=decision.void_event_id)
            mark_voided(moved, MOVED_REASON, None, audit.AuditContext(), timezone.now())
        event = None
        if decision.create is not None:
            event = create_event(
                person,
                decision.create,
                at,
                EventSource.CAMERA,
                audit.AuditContext(),
                camera=camera,
                detection=detection,
            )
            state.last_counted_sighting_at = at
            _apply_event(state, event)
            dirty |= {"last_counted_sighting_at", "is_in", "open_event", "last_event_at"}
        elif moved is not None:
            refresh_state(state)
            dirty |= {"is_in", "open_event", "last_event_at"}
        _note_seen(state, detection)
        if auto_closed:
            state.save()
        else:
            state.save(update_fields=sorted(dirty))
        if moved is not None:
            settle(person, [moved, *([event] if event else [])], spec=spec)
        elif event is not None:
            _settle_new_event(person, event, open_check_in, spec)
        return SightingDecision.objects.create(
            detection=detection,
            person=person,
            camera=camera,
            at=at,
            outcome=decision.outcome,
            event=event,
        )
