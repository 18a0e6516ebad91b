"""Writing ``AttendanceDay`` rows: work dates from their events, and the nightly pass.

A row is always ``days.compute_day`` of the events, so this module only gathers the
inputs: the events around the work date, the person's schedule, the holidays. A day that
has nothing to say yet (a working day not over, no attendance) has no row. Any number of
(person, work date) pairs are recomputed together (``recompute_days``: one statement
reads all their events and holiday flags, one upsert writes the rows, one delete removes
the empty ones), so a batch of sightings settles its days in three round trips at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from attendance.days import DayNumbers, compute_day
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DepartmentSchedule,
    Holiday,
    PersonSchedule,
    WorkSchedule,
)
from attendance.schedules import effective_spec, spec_of, unscheduled_spec
from attendance.timeline import ScheduleSpec, event_window, local_date, work_date_for
from faces.models import Person


@dataclass(frozen=True)
class DayEvent:
    """An active event as ``compute_day`` reads it (``recompute_days`` reads no models)."""

    id: int
    kind: str
    at: datetime
    voided_at: datetime | None = None


@dataclass(frozen=True)
class DayKey:
    """One work date of one person to recompute, under the schedule that applies."""

    person_id: int
    spec: ScheduleSpec
    work_date: date


@cache
def _inputs_sql() -> str:
    """For each (person, window, date) of the arrays: the person's active events in the
    window and the first one after it (the check-out of a pair that runs past it), each
    with whether the date is a holiday; a key with no events gives one row of NULLs with
    that flag. Only table names are interpolated."""
    event = AttendanceEvent._meta.db_table
    active = f"SELECT id, kind, at FROM {event} WHERE person_id = k.person_id AND voided_at IS NULL"  # noqa: S608
    return (
        "SELECT k.i, e.id, e.kind, e.at,"  # noqa: S608
        f" EXISTS(SELECT 1 FROM {Holiday._meta.db_table} h WHERE h.date = k.work_date)"
        " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::date[])"
        " WITH ORDINALITY AS k(person_id, start, stop, work_date, i)"
        f" LEFT JOIN LATERAL (({active} AND at >= k.start AND at < k.stop)"
        f" UNION ALL ({active} AND at >= k.stop ORDER BY at, id LIMIT 1)) e ON true"
    )


def _day_inputs_orm(keys: list[DayKey]) -> tuple[list[list[DayEvent]], list[bool]]:
    """``_day_inputs`` through the ORM, two statements a key, for databases other than
    PostgreSQL."""
    events, holidays = [], []
    for key in keys:
        start, end = event_window(key.spec, key.work_date)
        active = AttendanceEvent.objects.active().filter(person_id=key.person_id)
        window = active.filter(at__gte=start, at__lt=end)
        following = active.filter(at__gte=end).order_by("at", "id")[:1]
        found = [DayEvent(*row) for row in window.values_list("id", "kind", "at")]
        found += [DayEvent(*row) for row in following.values_list("id", "kind", "at")]
        events.append(sorted(found, key=lambda e: (e.at, e.id)))
        holidays.append(Holiday.objects.filter(date=key.work_date).exists())
    return events, holidays


def _day_inputs(keys: list[DayKey]) -> tuple[list[list[DayEvent]], list[bool]]:
    """Every key's events (see ``events_for_day``) and holiday flag, in one statement on
    PostgreSQL."""
    if connection.vendor != "postgresql":
        return _day_inputs_orm(keys)
    windows = [event_window(key.spec, key.work_date) for key in keys]
    params = [
        [key.person_id for key in keys],
        [start for start, _ in windows],
        [stop for _, stop in windows],
        [key.work_date for key in keys],
    ]
    events: list[list[DayEvent]] = [[] for _ in keys]
    holidays = [False] * len(keys)
    with connection.cursor() as cursor:
        cursor.execute(_inputs_sql(), params)
        for index, event_id, kind, at, holiday in cursor.fetchall():
            holidays[index - 1] = holiday
            if event_id is not None:
                events[index - 1].append(DayEvent(event_id, kind, at))
    for found in events:
        found.sort(key=lambda e: (e.at, e.id))
    return events, holidays


def events_for_day(person_id: int, spec: ScheduleSpec, work_date: date) -> list[DayEvent]:
    """The person's active events that can form the date's pairs: those in the date's
    window, plus the first one after it (the check-out of a pair that runs past it)."""
    return _day_inputs([DayKey(person_id, spec, work_date)])[0][0]


def _defaults(numbers: DayNumbers, spec: ScheduleSpec) -> dict[str, object]:
    return {
        "schedule_id": spec.schedule_id,
        "first_in": numbers.first_in,
        "last_out": numbers.last_out,
        "worked_minutes": numbers.worked_minutes,
        "scheduled_minutes": numbers.scheduled_minutes,
        "late_minutes": numbers.late_minutes,
        "early_leave_minutes": numbers.early_leave_minutes,
        "overtime_minutes": numbers.overtime_minutes,
        "status": numbers.status,
        "is_open": numbers.is_open,
    }


UPSERT_FIELDS = [
    "schedule_id",
    "first_in",
    "last_out",
    "worked_minutes",
    "scheduled_minutes",
    "late_minutes",
    "early_leave_minutes",
    "overtime_minutes",
    "status",
    "is_open",
    "updated_at",
]


def recompute_days(
    keys: Iterable[DayKey], *, now: datetime | None = None
) -> dict[tuple[int, date], AttendanceDay | None]:
    """Write each key's row from the events alone: one statement reads them all, one
    upsert writes the rows, one delete removes the days with nothing to record yet.
    Returns each (person id, work date)'s row, None where there is none."""
    unique = {(key.person_id, key.work_date): key for key in keys}
    keys = list(unique.values())
    if not keys:
        return {}
    now = now or timezone.now()
    events, holidays = _day_inputs(keys)
    rows: list[AttendanceDay] = []
    empty: list[DayKey] = []
    for key, found, holiday in zip(keys, events, holidays, strict=True):
        dates = {key.work_date} if holiday else set()
        numbers = compute_day(found, key.spec, key.work_date, dates, now)
        if numbers is None:
            empty.append(key)
            continue
        fields = _defaults(numbers, key.spec)
        rows.append(AttendanceDay(person_id=key.person_id, work_date=key.work_date, **fields))
    if empty:
        gone = Q()
        for key in empty:
            gone |= Q(person_id=key.person_id, work_date=key.work_date)
        AttendanceDay.objects.filter(gone).delete()
    written: dict[tuple[int, date], AttendanceDay | None] = dict.fromkeys(unique)
    if rows:
        AttendanceDay.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["person", "work_date"],
            update_fields=UPSERT_FIELDS,
        )
        written.update({(row.person_id, row.work_date): row for row in rows})
    return written


def recompute_day(
    person: Person,
    work_date: date,
    *,
    spec: ScheduleSpec | None = None,
    now: datetime | None = None,
) -> AttendanceDay | None:
    """Write the person's row for ``work_date`` from the events alone, in one upsert (or
    remove it when the day has nothing to record yet) and return it."""
    spec = spec or effective_spec(person.pk, person.department_id)
    return recompute_days([DayKey(person.pk, spec, work_date)], now=now)[(person.pk, work_date)]


def recompute_days_at(
    person: Person,
    instants: Iterable[datetime],
    *,
    spec: ScheduleSpec | None = None,
    now: datetime | None = None,
) -> set[date]:
    """Recompute the work dates of ``instants`` (each once) and return them."""
    spec = spec or effective_spec(person.pk, person.department_id)
    dates = {work_date_for(spec, instant) for instant in instants}
    recompute_days([DayKey(person.pk, spec, d) for d in sorted(dates)], now=now)
    return dates


def _specs_by_person(people: list[Person]) -> dict[int, ScheduleSpec]:
    schedules = {
        schedule.pk: spec_of(schedule)
        for schedule in WorkSchedule.objects.prefetch_related("intervals")
    }
    own = dict(PersonSchedule.objects.values_list("person_id", "schedule_id"))
    shared = dict(DepartmentSchedule.objects.values_list("department_id", "schedule_id"))
    fallback = unscheduled_spec()
    specs = {}
    for person in people:
        schedule_id = own.get(person.pk) or shared.get(person.department_id)
        specs[person.pk] = schedules.get(schedule_id, fallback) if schedule_id else fallback
    return specs


def close_yesterday(now: datetime | None = None) -> int:
    """The nightly pass: recompute each person's previous local date in their own zone,
    which writes absences for scheduled people with no events (and holiday and off
    rows for them), and settles the days of unscheduled people who came in.

    Safe to run as often as wanted: rows are a function of the events.
    """
    now = now or timezone.now()
    recent = set(
        AttendanceEvent.objects.filter(at__gte=now - timedelta(days=3))
        .order_by()
        .values_list("person_id", flat=True)
        .distinct()
    )
    people = list(
        Person.objects.filter(Q(active=True) | Q(pk__in=recent)).only("id", "department_id")
    )
    specs = _specs_by_person(people)
    written = 0
    for person in people:
        spec = specs[person.pk]
        if not spec.has_schedule and person.pk not in recent:
            continue
        yesterday = local_date(now, spec.zone) - timedelta(days=1)
        if recompute_day(person, yesterday, spec=spec, now=now) is not None:
            written += 1
    return written
