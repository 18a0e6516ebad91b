"""Turning recognised detections into attendance decisions (and maybe events).

``record_sightings`` decides a batch in one transaction under the row locks of its
people (``SELECT ... FOR UPDATE`` on ``PersonAttendanceState``, taken in person order in
one statement so two batches never deadlock), so sightings of one person from two camera
hosts at once are decided one after the other: the second sees the first one's event
and its cooldown. Each person's sightings are decided in time order. Every sighting gets
a ``SightingDecision`` row saying what it did or why it did nothing. ``record_sighting``
is a batch of one.

The sighting's instant is the detection's ``captured_at`` (when the face was first seen
on that track).

It runs once per recognised face, so a batch costs a fixed number of round trips however
many sightings it holds (BENCHMARKS.md, "Attendance rules throughput"): one statement
locks the states and reads the people, their open events, their schedules' ids and
versions and any earlier decisions; the pure rules (``attendance.rules``) run in Python
over the state as it evolves; then the events, their audit and outbox rows, the states,
the decisions and the days they change are written with one statement each. A person
whose sightings need more than the state (an auto-close that is due, ``first_last``
looking for the day's check-out to move) is decided one sighting at a time instead,
under the same lock, in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from accounts import audit
from attendance import rules, signals
from attendance.day_records import DayKey, recompute_days, recompute_days_at
from attendance.events import (
    MOVED_REASON,
    close_if_stale,
    count_created,
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
from cameras.models import Camera
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
STATE_FIELDS = [
    "is_in",
    "open_event",
    "last_event_at",
    "last_counted_sighting_at",
    "last_seen_at",
    "last_camera",
]


@cache
def _lock_sql() -> str:
    """The one statement of ``_lock_states``, written out once per process: the ORM
    spent longer compiling its subqueries than PostgreSQL spent running them. Only table
    names are interpolated; the values are parameters."""
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
        "ARRAY(SELECT detection_id FROM decided d WHERE d.person_id = s.person_id)",
    ]
    return (
        f"WITH decided AS MATERIALIZED (SELECT detection_id, person_id"  # noqa: S608
        f" FROM {SightingDecision._meta.db_table} WHERE detection_id = ANY(%s))"
        f" SELECT {', '.join(columns)} FROM {state} s"
        f" JOIN {person} p ON p.id = s.person_id"
        f" LEFT JOIN {event} e ON e.id = s.open_event_id"
        " WHERE s.person_id = ANY(%s) ORDER BY s.person_id FOR UPDATE OF s"
    )


@cache
def _states_and_decisions_sql() -> str:
    """Every state of a batch updated and every decision inserted, in one statement (a
    sighting that changes nothing costs this and the lock), from one array per column."""
    decision = SightingDecision._meta.db_table
    return (
        f"WITH states AS (UPDATE {PersonAttendanceState._meta.db_table} AS s SET"  # noqa: S608
        " is_in = v.is_in, open_event_id = v.open_event_id, last_event_at = v.last_event_at,"
        " last_counted_sighting_at = v.counted, last_seen_at = v.seen,"
        " last_camera_id = v.camera"
        " FROM unnest(%s::bigint[], %s::boolean[], %s::bigint[], %s::timestamptz[],"
        " %s::timestamptz[], %s::timestamptz[], %s::bigint[])"
        " AS v(id, is_in, open_event_id, last_event_at, counted, seen, camera)"
        " WHERE s.id = v.id)"
        f" INSERT INTO {decision}"
        " (detection_id, person_id, camera_id, at, outcome, event_id, created_at)"
        " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[],"
        " %s::text[], %s::bigint[], %s::timestamptz[]) RETURNING id"
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


def _needs_pair(is_in: bool, spec: ScheduleSpec, direction: str | None) -> bool:
    """Whether ``first_last`` would look for the day's last pair (``rules._first_last``)."""
    return direction == rules.BOTH and spec.punch_mode == rules.FIRST_LAST and not is_in


def _rules_state(
    person: Person, state: PersonAttendanceState, spec: ScheduleSpec, direction: str | None
) -> rules.PersonState:
    return rules.PersonState(
        active=person.active,
        is_in=state.is_in,
        last_event_at=state.last_event_at,
        last_counted_sighting_at=state.last_counted_sighting_at,
        last_pair=_last_pair(person.pk, spec)
        if _needs_pair(state.is_in, spec, direction)
        else None,
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


@dataclass(frozen=True)
class LockedState:
    """What ``_lock_states`` read for one person: the state (with its person and open
    event), the schedule that applies at its version, and the ids of the batch's
    detections already decided."""

    state: PersonAttendanceState
    schedule_id: int | None
    schedule_version: datetime | None
    decided: frozenset[int]

    @property
    def spec(self) -> ScheduleSpec:
        """The person's schedule, built once per process per version."""
        return cached_spec(self.schedule_id, self.schedule_version)


def _lock_states(person_ids: list[int], detection_ids: list[int]) -> dict[int, LockedState]:
    """The people's state rows locked (in person order), each with the person, the open
    event, which schedule applies (and its version) and which of ``detection_ids``
    already have a decision; people with no state row yet are absent. One statement on
    PostgreSQL; the ORM elsewhere (SQLite, the embedded run, has no row locks: it lets
    one writer at a time)."""
    if connection.vendor != "postgresql":
        return _read_states(person_ids, detection_ids)
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), [detection_ids, sorted(person_ids)])
        rows = cursor.fetchall()
    db = connection.alias
    split = (len(STATE_COLUMNS), len(STATE_COLUMNS) + len(PERSON_COLUMNS))
    locked = {}
    for row in rows:
        state = PersonAttendanceState.from_db(db, STATE_COLUMNS, row[: split[0]])
        state.person = Person.from_db(db, PERSON_COLUMNS, row[split[0] : split[1]])
        open_event = row[split[1] : split[1] + len(OPEN_EVENT_COLUMNS)]
        if state.open_event_id is None:
            state.open_event = None
        elif open_event[0] == state.open_event_id:
            state.open_event = AttendanceEvent.from_db(db, OPEN_EVENT_COLUMNS, open_event)
        # Otherwise the lock waited for the transaction that changed the open event, and
        # the join read it from this statement's older snapshot: it loads on first use.
        schedule_id, version, decided = row[-3:]
        locked[state.person_id] = LockedState(state, schedule_id, version, frozenset(decided))
    return locked


def _read_states(person_ids: list[int], detection_ids: list[int]) -> dict[int, LockedState]:
    """``_lock_states`` through the ORM, a few statements, for databases other than
    PostgreSQL."""
    states = list(
        PersonAttendanceState.objects.select_for_update()
        .select_related("person", "open_event")
        .filter(person_id__in=person_ids)
        .order_by("person_id")
    )
    own = dict(
        PersonSchedule.objects.filter(person_id__in=person_ids).values_list(
            "person_id", "schedule_id"
        )
    )
    departments = {state.person.department_id for state in states}
    shared = dict(
        DepartmentSchedule.objects.filter(department_id__in=departments).values_list(
            "department_id", "schedule_id"
        )
    )
    schedules = {state.person_id: own.get(state.person_id) for state in states}
    for state in states:
        schedules[state.person_id] = schedules[state.person_id] or shared.get(
            state.person.department_id
        )
    versions = dict(
        WorkSchedule.objects.filter(pk__in=set(schedules.values())).values_list("pk", "updated_at")
    )
    decided: dict[int, set[int]] = defaultdict(set)
    earlier = SightingDecision.objects.filter(detection_id__in=detection_ids)
    for person_id, detection_id in earlier.values_list("person_id", "detection_id"):
        decided[person_id].add(detection_id)
    return {
        state.person_id: LockedState(
            state,
            schedules[state.person_id],
            versions.get(schedules[state.person_id]),
            frozenset(decided[state.person_id]),
        )
        for state in states
    }


def _lock_or_create(person_ids: list[int], detection_ids: list[int]) -> dict[int, LockedState]:
    """``_lock_states``, creating the state rows first for people seen for the first time."""
    locked = _lock_states(person_ids, detection_ids)
    missing = [pk for pk in person_ids if pk not in locked]
    if missing:
        # In person order, as the locks: two batches inserting the same new people
        # wait for each other in one order, never in a cycle.
        existing = Person.objects.filter(pk__in=missing).order_by("pk").values_list("pk", flat=True)
        PersonAttendanceState.objects.bulk_create(
            [PersonAttendanceState(person_id=pk) for pk in existing], ignore_conflicts=True
        )
        locked.update(_lock_states(missing, detection_ids))
    for pk in person_ids:
        if pk not in locked:
            raise Person.DoesNotExist(pk)
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


def _camera(detection: Detection) -> Camera | None:
    return detection.camera if detection.camera_id else None


def _sighting(detection: Detection, spec: ScheduleSpec) -> rules.Sighting:
    camera = _camera(detection)
    at = detection.captured_at
    direction = camera.direction if camera is not None else None
    first_last = direction == rules.BOTH and spec.punch_mode == rules.FIRST_LAST
    return rules.Sighting(
        at=at,
        direction=direction,
        work_date=work_date_for(spec, at) if first_last else None,
        punch_mode=spec.punch_mode,
        max_shift=timedelta(minutes=spec.max_shift_minutes),
    )


def _decide_alone(locked: LockedState, detection: Detection) -> SightingDecision:
    """One sighting with everything the rules may need read from the database: an
    auto-close that is due first, ``first_last``'s last pair, a moved check-out voided.
    The caller holds the person's lock; the state is saved before returning."""
    state = locked.state
    person = state.person
    at = detection.captured_at
    spec = locked.spec
    auto_closed = close_if_stale(state, person, spec, at) is not None
    camera = _camera(detection)
    sighting = _sighting(detection, spec)
    state_now = _rules_state(person, state, spec, sighting.direction)
    decision = rules.decide(state_now, sighting, cooldown())
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


def _plan(locked: LockedState, detections: list[Detection]) -> list[rules.Decision] | None:
    """The decisions of one person's sightings (in time order) from the locked state
    alone, or None when one of them needs ``_decide_alone``: an open attendance past the
    maximum shift (auto-close), or ``first_last`` deciding from the day's last pair."""
    state, spec = locked.state, locked.spec
    now = rules.PersonState(
        active=state.person.active,
        is_in=state.is_in,
        last_event_at=state.last_event_at,
        last_counted_sighting_at=state.last_counted_sighting_at,
    )
    open_at = state.open_event.at if state.is_in and state.open_event is not None else None
    max_shift = timedelta(minutes=spec.max_shift_minutes)
    blind = {"inactive_person", "no_camera", "cooldown", "out_of_order"}
    decisions = []
    for detection in detections:
        sighting = _sighting(detection, spec)
        if open_at is not None and sighting.at - open_at > max_shift:
            return None
        decision = rules.decide(now, sighting, cooldown())
        if _needs_pair(now.is_in, spec, sighting.direction) and decision.outcome not in blind:
            return None
        if decision.create is not None:
            is_in = decision.create == EventKind.CHECK_IN
            now = replace(
                now, is_in=is_in, last_event_at=sighting.at, last_counted_sighting_at=sighting.at
            )
            open_at = sighting.at if is_in else None
        decisions.append(decision)
    return decisions


@dataclass
class _Writes:
    """The rows a batch's planned people add, written with one statement per table."""

    events: list[AttendanceEvent]
    decisions: list[SightingDecision]
    states: list[PersonAttendanceState]
    days: list[DayKey]


def _carry_out(
    locked: LockedState,
    detections: list[Detection],
    decisions: list[rules.Decision],
    writes: _Writes,
) -> None:
    """Turn one person's planned decisions into rows (unsaved) and the state after them."""
    state, spec = locked.state, locked.spec
    person = state.person
    for detection, decision in zip(detections, decisions, strict=True):
        at = detection.captured_at
        camera = _camera(detection)
        event = None
        if decision.create is not None:
            if state.is_in:
                writes.days.append(
                    DayKey(person.pk, spec, work_date_for(spec, state.last_event_at))
                )
            writes.days.append(DayKey(person.pk, spec, work_date_for(spec, at)))
            event = AttendanceEvent(
                person=person,
                kind=decision.create,
                at=at,
                source=EventSource.CAMERA,
                camera=camera,
                detection=detection,
            )
            writes.events.append(event)
            state.last_counted_sighting_at = at
            _apply_event(state, event)
        _note_seen(state, detection)
        writes.decisions.append(
            SightingDecision(
                detection=detection,
                person=person,
                camera=camera,
                at=at,
                outcome=decision.outcome,
                event=event,
            )
        )
    writes.states.append(state)


def _open_event_id(state: PersonAttendanceState) -> int | None:
    """The open event's id, also when it was assigned before it was inserted."""
    if PersonAttendanceState.open_event.is_cached(state) and state.open_event is not None:
        return state.open_event.pk
    return state.open_event_id


def _write_states_and_decisions(
    states: list[PersonAttendanceState], decisions: list[SightingDecision]
) -> None:
    """The batch's states and decisions in one statement on PostgreSQL (two elsewhere);
    the decisions get their ids."""
    for decision in decisions:
        if decision.event is not None:
            decision.event_id = decision.event.pk  # inserted after it was assigned
    if connection.vendor != "postgresql":
        for state in states:
            state.open_event_id = _open_event_id(state)
        PersonAttendanceState.objects.bulk_update(states, STATE_FIELDS)
        SightingDecision.objects.bulk_create(decisions)
        return
    columns = [
        [s.pk for s in states],
        [s.is_in for s in states],
        [_open_event_id(s) for s in states],
        [s.last_event_at for s in states],
        [s.last_counted_sighting_at for s in states],
        [s.last_seen_at for s in states],
        [s.last_camera_id for s in states],
        [d.detection_id for d in decisions],
        [d.person_id for d in decisions],
        [d.camera_id for d in decisions],
        [d.at for d in decisions],
        [str(d.outcome) for d in decisions],
        [d.event_id for d in decisions],
        [d.created_at for d in decisions],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_states_and_decisions_sql(), columns)
        ids = [row[0] for row in cursor.fetchall()]
    for decision, pk in zip(decisions, ids, strict=True):
        decision.pk = pk
        decision._state.adding = False
        decision._state.db = connection.alias


def _write(writes: _Writes) -> None:
    """The planned rows, in an order that gives each its foreign keys: the events (their
    outbox rows and live messages follow ``signals.events_created``, their audit rows
    here), then the states and decisions that point at them, then the days."""
    if writes.events:
        AttendanceEvent.objects.bulk_create(writes.events)
        audit.record_creates(writes.events, audit.AuditContext())
        signals.events_created.send(AttendanceEvent, events=writes.events)
        count_created(writes.events)
    if writes.decisions:
        _write_states_and_decisions(writes.states, writes.decisions)
    recompute_days(writes.days)


def _load_cameras(detections: list[Detection]) -> None:
    """Give every detection its camera, reading the ones not already loaded at once."""
    missing = {d.camera_id for d in detections if d.camera_id and not Detection.camera.is_cached(d)}
    cameras = Camera.objects.in_bulk(missing) if missing else {}
    for detection in detections:
        if detection.camera_id in missing:
            detection.camera = cameras.get(detection.camera_id)


def _decide_recognized(detections: list[Detection]) -> dict[int, SightingDecision]:
    """The batch's recognised sightings in one transaction; each detection's decision."""
    by_person: dict[int, list[Detection]] = defaultdict(list)
    for detection in sorted(detections, key=lambda d: (d.captured_at, d.pk)):
        by_person[detection.person_id].append(detection)
    ids = [d.pk for d in detections]
    _load_cameras(detections)
    decided: dict[int, SightingDecision] = {}
    with transaction.atomic():
        locked = _lock_or_create(list(by_person), ids)
        earlier = [pk for one in locked.values() for pk in one.decided]
        if earlier:
            decided.update(SightingDecision.objects.in_bulk(earlier, field_name="detection_id"))
        writes = _Writes([], [], [], [])
        for person_id, seen in by_person.items():
            person_locked = locked[person_id]
            fresh = [d for d in seen if d.pk not in person_locked.decided]
            if not fresh:
                continue
            plan = _plan(person_locked, fresh)
            if plan is None:
                for detection in fresh:
                    decided[detection.pk] = _decide_alone(person_locked, detection)
            else:
                _carry_out(person_locked, fresh, plan, writes)
        _write(writes)
    decided.update({d.detection_id: d for d in writes.decisions})
    return decided


def record_sightings(detections: Iterable[Detection]) -> list[SightingDecision]:
    """Decide what each detection does for its person's attendance, carry it out and
    record the decisions, all recognised ones in one transaction (see the module text);
    the decisions in the detections' order. Idempotent per detection."""
    detections = list(detections)
    unique = list({d.pk: d for d in detections}.values())
    recognized = [
        d for d in unique if d.status == DetectionStatus.RECOGNIZED and d.person_id is not None
    ]
    decided = _decide_recognized(recognized) if recognized else {}
    for detection in unique:
        if detection.pk not in decided:
            decided[detection.pk] = _unrecognized(detection)
    return [decided[d.pk] for d in detections]


def record_sighting(detection: Detection) -> SightingDecision:
    """Decide what ``detection`` does for its person's attendance, carry it out and
    record the decision (a batch of one). Idempotent per detection."""
    (decision,) = record_sightings([detection])
    return decision
