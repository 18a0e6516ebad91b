"""Writing ``AttendanceDay`` rows: one work date from its events, and the nightly pass.

A row is always ``days.compute_day`` of the events, so this module only gathers the
inputs: the events around the work date, the person's schedule, the holidays. A day that
has nothing to say yet (a working day not over, no attendance) has no row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Exists, Q
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
from attendance.schedules import effective_spec, holidays_between, spec_of, unscheduled_spec
from attendance.timeline import ScheduleSpec, event_window, local_date, work_date_for
from faces.models import Person

EVENT_FIELDS = ("id", "kind", "at", "voided_at")


def _day_inputs(
    person_id: int, spec: ScheduleSpec, work_date: date
) -> tuple[list[AttendanceEvent], bool | None]:
    """The date's events (see ``events_for_day``) in one statement, each row also saying
    whether the date is a holiday; that flag is None when no row came back to carry it."""
    start, end = event_window(spec, work_date)
    holiday = Exists(Holiday.objects.filter(date=work_date))
    active = (
        AttendanceEvent.objects.active()
        .filter(person_id=person_id)
        .only(*EVENT_FIELDS)
        .annotate(is_holiday=holiday)
    )
    window = active.filter(at__gte=start, at__lt=end)
    following = active.filter(at__gte=end).order_by("at", "id")[:1]
    if connection.features.supports_slicing_ordering_in_compound:
        rows = window.order_by().union(following, all=True)
    else:  # SQLite (the embedded run) allows no LIMIT inside a UNION: two statements
        rows = [*window, *following]
    events = sorted(rows, key=lambda e: (e.at, e.pk))
    return events, (events[0].is_holiday if events else None)


def events_for_day(person_id: int, spec: ScheduleSpec, work_date: date) -> list[AttendanceEvent]:
    """The person's active events that can form the date's pairs: those in the date's
    window, plus the first one after it (the check-out of a pair that runs past it)."""
    return _day_inputs(person_id, spec, work_date)[0]


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
    events, holiday = _day_inputs(person.pk, spec, work_date)
    if holiday is None:
        holiday = bool(holidays_between(work_date, work_date))
    holidays = {work_date} if holiday else set()
    numbers = compute_day(events, spec, work_date, holidays, now or timezone.now())
    if numbers is None:
        AttendanceDay.objects.filter(person_id=person.pk, work_date=work_date).delete()
        return None
    fields = _defaults(numbers, spec)
    (day,) = AttendanceDay.objects.bulk_create(
        [AttendanceDay(person_id=person.pk, work_date=work_date, **fields)],
        update_conflicts=True,
        unique_fields=["person", "work_date"],
        update_fields=[*fields, "updated_at"],
    )
    return day


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
    for work_date in sorted(dates):
        recompute_day(person, work_date, spec=spec, now=now)
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
