"""Turning one recognised detection into an attendance decision (and maybe an event).

``record_sighting`` runs in one transaction under the person's row lock
(``SELECT ... FOR UPDATE`` on ``PersonAttendanceState``), so sightings of one person
from two camera hosts at once are decided one after the other: the second sees the
first one's event and its cooldown. Every sighting gets a ``SightingDecision`` row
saying what it did or why it did nothing.

The sighting's instant is the detection's ``captured_at`` (when the face was first seen
on that track).

It runs once per recognised face, so it is kept to few round trips (BENCHMARKS.md,
"Attendance rules throughput"): one statement locks the state and reads the person, the
open event, the schedule's id and version and any earlier decision; the schedule's spec
is cached per version; the new state follows from the event just made (the rules only
make events later than every other) instead of being read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, models, transaction
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
    DepartmentSchedule,
    EventKind,
    EventSource,
    PersonAttendanceState,
    PersonSchedule,
    SightingDecision,
    SightingOutcome,
    WorkSchedule,
)
from attendance.schedules import cached_spec
from attendance.timeline import ScheduleSpec, work_date_for
from detections.models import Detection, DetectionStatus
from faces.models import Person


def _columns(model: type[models.Model], names: set[str]) -> list[str]:
    """``names`` in the model's field order, as ``Model.from_db`` expects them."""
    return [f.attname for f in model._meta.concrete_fields if f.attname in names]


STATE_COLUMNS = _columns(
    PersonAttendanceState,
    {
        "id",
        "person_id",
        "is_in",
        "open_event_id",
        "last_event_at",
        "last_counted_sighting_at",
        "last_seen_at",
        "last_camera_id",
    },
)
PERSON_COLUMNS = _columns(Person, {"id", "active", "department_id", "employee_code", "full_name"})
OPEN_EVENT_COLUMNS = _columns(AttendanceEvent, {"id", "kind", "at"})


@cache
def _lock_sql() -> str:
    """The one statement of ``_lock_for_sighting``, written out once per process: the ORM
    spent longer compiling its three subqueries than PostgreSQL spent running them. Only
    table names are interpolated; the values are parameters. SQLite (the embedded run)
    has no row locks and no ``FOR UPDATE``: each transaction begins IMMEDIATE (settings),
    which takes the database's write lock and so serialises sightings just as well."""
    state = PersonAttendanceState._meta.db_table
    person = Person._meta.db_table
    event = AttendanceEvent._meta.db_table
    schedule_id = (
        f"COALESCE((SELECT schedule_id FROM {PersonSchedule._meta.db_table}"  # noqa: S608
        " WHERE person_id = s.person_id),"
        f" (SELECT schedule_id FROM {DepartmentSchedule._meta.db_table}"
        " WHERE department_id = p.department_id))"
    )
    columns = [
        *(f"s.{name}" for name in STATE_COLUMNS),
        *(f"p.{name}" for name in PERSON_COLUMNS),
        *(f"e.{name}" for name in OPEN_EVENT_COLUMNS),
        schedule_id,
        f"(SELECT updated_at FROM {WorkSchedule._meta.db_table} WHERE id = {schedule_id})",  # noqa: S608
        f"(SELECT id FROM {SightingDecision._meta.db_table} WHERE detection_id = %s)",  # noqa: S608
    ]
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {', '.join(columns)} FROM {state} s"  # noqa: S608
        f" JOIN {person} p ON p.id = s.person_id"
        f" LEFT JOIN {event} e ON e.id = s.open_event_id"
        f" WHERE s.person_id = %s{lock}"
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


@cache
def _row_converters() -> tuple[tuple, ...]:
    """Per column of ``_lock_sql``'s row, the backend's and the field's converters, which
    a raw cursor skips: SQLite returns naive datetimes and integer booleans, which the ORM
    turns into aware datetimes and ``bool`` (PostgreSQL needs none of them)."""
    fields = [
        *(PersonAttendanceState._meta.get_field(name) for name in STATE_COLUMNS),
        *(Person._meta.get_field(name) for name in PERSON_COLUMNS),
        *(AttendanceEvent._meta.get_field(name) for name in OPEN_EVENT_COLUMNS),
        WorkSchedule._meta.pk,
        WorkSchedule._meta.get_field("updated_at"),
        SightingDecision._meta.pk,
    ]
    converters = []
    for field in fields:
        column = field.get_col(field.model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append((column, tuple(found)))
    return tuple(converters)


def _converted(row: tuple) -> list:
    values = list(row)
    for index, (column, converters) in enumerate(_row_converters()):
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return values


@dataclass(frozen=True)
class LockedState:
    """What ``_lock_for_sighting`` read: the state (with its person and open event),
    the schedule that applies at its version, and any decision already recorded."""

    state: PersonAttendanceState
    schedule_id: int | None
    schedule_version: datetime | None
    existing_decision_id: int | None


def _lock_for_sighting(detection: Detection) -> LockedState | None:
    """One statement: the person's state row locked, with the person, the open event,
    which schedule applies (and its version) and any decision already recorded for
    ``detection``; None when the person has no state row yet."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), [detection.pk, detection.person_id])
        row = cursor.fetchone()
    if row is None:
        return None
    row = _converted(row)
    db = connection.alias
    split = (len(STATE_COLUMNS), len(STATE_COLUMNS) + len(PERSON_COLUMNS))
    state = PersonAttendanceState.from_db(db, STATE_COLUMNS, row[: split[0]])
    state.person = Person.from_db(db, PERSON_COLUMNS, row[split[0] : split[1]])
    open_event = row[split[1] : split[1] + len(OPEN_EVENT_COLUMNS)]
    state.open_event = (
        AttendanceEvent.from_db(db, OPEN_EVENT_COLUMNS, open_event)
        if open_event[0] is not None
        else None
    )
    schedule_id, version, existing = row[-3:]
    return LockedState(state, schedule_id, version, existing)


def _lock_or_create(detection: Detection) -> LockedState:
    """``_lock_for_sighting``, creating the state row first for a person's first sighting."""
    locked = _lock_for_sighting(detection)
    if locked is None:
        Person.objects.only("id").get(pk=detection.person_id)
        PersonAttendanceState.objects.bulk_create(
            [PersonAttendanceState(person_id=detection.person_id)], ignore_conflicts=True
        )
        locked = _lock_for_sighting(detection)
    if locked is None:
        raise PersonAttendanceState.DoesNotExist(detection.person_id)
    return locked


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
        locked = _lock_or_create(detection)
        if locked.existing_decision_id is not None:
            return SightingDecision.objects.get(pk=locked.existing_decision_id)
        state = locked.state
        person = state.person
        at = detection.captured_at
        spec = cached_spec(locked.schedule_id, locked.schedule_version)
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
