"""Writing attendance events: manual ones, voids, auto-close, and what follows each.

Every change runs under the person's row lock (``lock_state``), so camera sightings, HR
corrections and the auto-close job never interleave for one person. After each change
the person's state is re-read from the events, the affected work dates are recomputed
(``day_records``), the change is audit-logged and ``signals.event_created`` /
``event_voided`` are sent, all in the same transaction.

Which dates a change affects: a pair belongs to its check-in's work date, and a change
only re-pairs the changed events and the active event just before them, so those
events' work dates are the ones to recompute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import audit
from attendance import metrics, signals
from attendance.day_records import recompute_days_at
from attendance.exceptions import EventConflict, EventRuleViolation, InvalidEvent
from attendance.models import AttendanceEvent, EventKind, EventSource, PersonAttendanceState
from attendance.schedules import effective_spec
from attendance.timeline import ScheduleSpec, slot_for
from faces.models import Person

CLOCK_SKEW = timedelta(minutes=1)
UNSCHEDULED_AUTO_CLOSE = timedelta(hours=8)
MOVED_REASON = "moved by a later sighting"


@dataclass(frozen=True)
class Neighbours:
    """The person's active events just before and just after an instant."""

    before: AttendanceEvent | None
    after: AttendanceEvent | None


def lock_state(person_id: int) -> PersonAttendanceState:
    """The person's state row, created if needed, locked until the transaction ends."""
    PersonAttendanceState.objects.get_or_create(person_id=person_id)
    return PersonAttendanceState.objects.select_for_update().get(person_id=person_id)


def refresh_state(state: PersonAttendanceState) -> None:
    """Set ``is_in``, ``open_event`` and ``last_event_at`` from the latest active event."""
    latest = (
        AttendanceEvent.objects.active()
        .filter(person_id=state.person_id)
        .order_by("-at", "-id")
        .only("id", "kind", "at")
        .first()
    )
    state.is_in = latest is not None and latest.kind == EventKind.CHECK_IN
    state.open_event = latest if state.is_in else None
    state.last_event_at = latest.at if latest is not None else None


def _save_state(state: PersonAttendanceState) -> None:
    refresh_state(state)
    state.save()


def neighbours(person_id: int, at: datetime) -> Neighbours:
    """The active events immediately before and after ``at``."""
    active = AttendanceEvent.objects.active().filter(person_id=person_id)
    return Neighbours(
        before=active.filter(at__lt=at).order_by("-at", "-id").first(),
        after=active.filter(at__gt=at).order_by("at", "id").first(),
    )


def settle(
    person: Person,
    changed: Iterable[AttendanceEvent],
    *,
    spec: ScheduleSpec | None = None,
    now: datetime | None = None,
) -> set[date]:
    """Recompute the work dates a change to ``changed`` affects (see the module text)."""
    changed = list(changed)
    instants = [event.at for event in changed]
    if changed:
        before = neighbours(person.pk, min(instants)).before
        if before is not None:
            instants.append(before.at)
    return recompute_days_at(person, instants, spec=spec, now=now)


def create_event(
    person: Person, kind: str, at: datetime, source: str, context: audit.AuditContext, **fields: Any
) -> AttendanceEvent:
    """Insert one event, audit-logged and announced (the caller holds the lock)."""
    event = AttendanceEvent.objects.create(person=person, kind=kind, at=at, source=source, **fields)
    audit.record_create(event, context)
    signals.event_created.send(AttendanceEvent, event=event)
    count_created([event])
    return event


def count_created(events: Iterable[AttendanceEvent]) -> None:
    """Count new events in ``presence_attendance_events_total`` once their transaction
    commits: an event whose transaction rolls back never happened. Every path that
    inserts events calls it, the batched camera sightings included."""
    for event in events:
        transaction.on_commit(metrics.EVENTS.labels(str(event.source), str(event.kind)).inc)


def mark_voided(
    event: AttendanceEvent,
    reason: str,
    by: Any,
    context: audit.AuditContext,
    now: datetime,
) -> None:
    """Void one event in place: the row stays, audit-logged with the reason."""
    before = audit.snapshot(event)
    event.voided_at = now
    event.voided_by = by
    event.void_reason = reason
    event.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit.record_update(event, before, context)
    signals.event_voided.send(AttendanceEvent, event=event)


def _validate(kind: str, at: datetime, reason: str, now: datetime) -> None:
    if kind not in EventKind.values:
        message = f"Unknown event kind {kind!r}: use check_in or check_out."
        raise InvalidEvent(message, code="invalid_kind", details={"kind": [message]})
    if not isinstance(at, datetime) or timezone.is_naive(at):
        message = "The time must carry a UTC offset or time zone."
        raise InvalidEvent(message, code="naive_datetime", details={"at": [message]})
    if not reason or not reason.strip():
        message = "A manual event needs a reason."
        raise EventRuleViolation(message, code="reason_required", details={"reason": [message]})
    if at > now + CLOCK_SKEW:
        message = f"An event may not be in the future (server time {now.isoformat()})."
        raise EventRuleViolation(message, code="event_in_future", details={"at": [message]})


def _refuse(code: str, message: str, event: AttendanceEvent | None) -> EventConflict:
    details = {} if event is None else {"event": event.pk, "event_at": event.at.isoformat()}
    return EventConflict(message, code=code, details=details)


@dataclass(frozen=True)
class _Point:
    """An event in a sequence being checked: stored (with a row) or about to be added."""

    kind: str
    at: datetime
    row: AttendanceEvent | None = None


def _nearest(
    points: list[_Point], stored: AttendanceEvent | None, *, before: bool
) -> _Point | None:
    candidates = [*points]
    if stored is not None:
        candidates.append(_Point(stored.kind, stored.at, stored))
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.at) if before else min(candidates, key=lambda p: p.at)


def _check_fits(person_id: int, new: list[_Point]) -> None:
    """Refuse ``new`` events unless the person's events still alternate around each one
    and none falls inside an existing pair."""
    for point in new:
        clash = AttendanceEvent.objects.active().filter(person_id=person_id, at=point.at).first()
        if clash is not None:
            raise _refuse("event_overlaps", "Another event is at that exact time.", clash)
        around = neighbours(person_id, point.at)
        if (
            around.before is not None
            and around.before.kind == EventKind.CHECK_IN
            and around.after is not None
            and around.after.kind == EventKind.CHECK_OUT
        ):
            raise _refuse(
                "event_overlaps",
                "The time falls inside an existing attendance; void it first to change it.",
                around.before,
            )
        others = [p for p in new if p is not point]
        before = _nearest([p for p in others if p.at < point.at], around.before, before=True)
        after = _nearest([p for p in others if p.at > point.at], around.after, before=False)
        _check_neighbours(point.kind, before, after)


def _check_neighbours(kind: str, before: _Point | None, after: _Point | None) -> None:
    if kind == EventKind.CHECK_IN:
        if before is not None and before.kind == EventKind.CHECK_IN:
            raise _refuse(
                "already_checked_in", "The person is already checked in at that time.", before.row
            )
        if after is not None and after.kind == EventKind.CHECK_IN:
            raise _refuse(
                "not_alternating", "The next event is a check-in too: two in a row.", after.row
            )
        return
    if before is None or before.kind != EventKind.CHECK_IN:
        raise _refuse(
            "check_out_without_check_in",
            "There is no check-in before that check-out.",
            before.row if before else None,
        )
    if after is not None and after.kind == EventKind.CHECK_OUT:
        raise _refuse(
            "not_alternating", "The next event is a check-out too: two in a row.", after.row
        )


def add_manual_events(
    person: Person,
    items: list[tuple[str, datetime]],
    reason: str,
    by: Any,
    *,
    source: str = EventSource.MANUAL,
    context: audit.AuditContext | None = None,
    now: datetime | None = None,
) -> list[AttendanceEvent]:
    """Add check-ins and check-outs by hand, anywhere in the past, keeping alternation
    and with no pairs overlapping; refused with the reason otherwise (nothing stored).

    A pair goes in together (``add_manual_pair``): into a gap between a check-out and
    a check-in neither event alone would alternate.
    """
    now = now or timezone.now()
    for kind, at in items:
        _validate(kind, at, reason, now)
    context = context or audit.AuditContext(actor=by)
    points = [_Point(kind, at) for kind, at in sorted(items, key=lambda item: item[1])]
    with transaction.atomic():
        state = lock_state(person.pk)
        if len(points) > 1:
            inside = AttendanceEvent.objects.active().filter(
                person_id=person.pk, at__gt=points[0].at, at__lt=points[-1].at
            )
            if inside.exists():
                raise _refuse(
                    "event_overlaps", "The new attendance overlaps another.", inside.first()
                )
        _check_fits(person.pk, points)
        events = [
            create_event(
                person, p.kind, p.at, source, context, created_by=by, reason=reason.strip()
            )
            for p in points
        ]
        _save_state(state)
        settle(person, events, now=now)
    return events


def add_manual_event(
    person: Person,
    kind: str,
    at: datetime,
    reason: str,
    by: Any,
    *,
    source: str = EventSource.MANUAL,
    context: audit.AuditContext | None = None,
    now: datetime | None = None,
) -> AttendanceEvent:
    """Add one check-in or check-out by hand (see ``add_manual_events``)."""
    (event,) = add_manual_events(
        person, [(kind, at)], reason, by, source=source, context=context, now=now
    )
    return event


def add_manual_pair(
    person: Person,
    check_in_at: datetime,
    check_out_at: datetime,
    reason: str,
    by: Any,
    *,
    context: audit.AuditContext | None = None,
    now: datetime | None = None,
) -> list[AttendanceEvent]:
    """Add a whole attendance (a check-in and its check-out) by hand."""
    for at in (check_in_at, check_out_at):
        _validate(EventKind.CHECK_IN, at, reason, now or timezone.now())
    if check_out_at <= check_in_at:
        message = "The check-out must come after the check-in."
        raise EventRuleViolation(
            message, code="check_out_before_check_in", details={"check_out_at": [message]}
        )
    return add_manual_events(
        person,
        [(EventKind.CHECK_IN, check_in_at), (EventKind.CHECK_OUT, check_out_at)],
        reason,
        by,
        context=context,
        now=now,
    )


def void_event(
    event: AttendanceEvent,
    reason: str,
    by: Any,
    *,
    context: audit.AuditContext | None = None,
    now: datetime | None = None,
) -> list[AttendanceEvent]:
    """Void an event, and with a check-in its check-out too (alternation must hold).
    The rows stay; returns the events voided."""
    now = now or timezone.now()
    if not reason or not reason.strip():
        message = "A void needs a reason."
        raise EventRuleViolation(message, code="reason_required", details={"reason": [message]})
    context = context or audit.AuditContext(actor=by)
    with transaction.atomic():
        state = lock_state(event.person_id)
        event = AttendanceEvent.objects.select_related("person").get(pk=event.pk)
        if event.voided_at is not None:
            raise _refuse("already_voided", "The event was already voided.", event)
        voided = [event]
        if event.kind == EventKind.CHECK_IN:
            after = neighbours(event.person_id, event.at).after
            if after is not None and after.kind == EventKind.CHECK_OUT:
                voided.append(after)
        for target in voided:
            mark_voided(target, reason.strip(), by, context, now)
        _save_state(state)
        settle(event.person, voided, now=now)
    return voided


def auto_close_at(spec: ScheduleSpec, check_in_at: datetime) -> datetime:
    """Where an over-long open attendance is closed: check-in plus its interval's
    scheduled length, or plus 8 hours without one."""
    slot = slot_for(spec, check_in_at)
    length = slot.end - slot.start if slot is not None else UNSCHEDULED_AUTO_CLOSE
    return check_in_at + length


def close_if_stale(
    state: PersonAttendanceState,
    person: Person,
    spec: ScheduleSpec,
    now: datetime,
) -> AttendanceEvent | None:
    """Close the person's open attendance when it has been open longer than the maximum
    shift (the caller holds the lock); returns the ``auto_close`` check-out.

    ``now`` is the instant the staleness is judged at: for a sighting, its own time, which
    a batch or the recovery job decides later. The days the check-out changes are still
    computed against the clock: judged at the sighting's time, a past work day with no
    attendance yet was "nothing to record" and lost its ``absent`` row."""
    open_event = state.open_event
    if not state.is_in or open_event is None:
        return None
    if now - open_event.at <= timedelta(minutes=spec.max_shift_minutes):
        return None
    at = min(auto_close_at(spec, open_event.at), now)
    event = create_event(
        person,
        EventKind.CHECK_OUT,
        at,
        EventSource.AUTO_CLOSE,
        audit.AuditContext(),
        reason=f"open longer than the maximum shift of {spec.max_shift_minutes} minutes",
    )
    _save_state(state)
    settle(person, [event], spec=spec)
    return event


def auto_close_open_attendances(now: datetime | None = None) -> int:
    """The periodic job: close every attendance open longer than its maximum shift."""
    now = now or timezone.now()
    candidates = PersonAttendanceState.objects.filter(is_in=True, open_event__isnull=False)
    closed = 0
    for person_id, opened_at in candidates.values_list("person_id", "open_event__at"):
        person = Person.objects.only("id", "department_id").get(pk=person_id)
        spec = effective_spec(person.pk, person.department_id)
        if now - opened_at <= timedelta(minutes=spec.max_shift_minutes):
            continue
        with transaction.atomic():
            state = lock_state(person_id)
            if close_if_stale(state, person, spec, now) is not None:
                closed += 1
    return closed
