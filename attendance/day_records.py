"""Writing ``AttendanceDay`` rows: one work date from its events, and the nightly pass.

A row is always ``days.compute_day`` of the events, so this module only gathers the
inputs: the events around the work date, the person's schedule, the holidays. A day that
has nothing to say yet (a working day not over, no attendance) has no row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from attendance.days import DayNumbers, compute_day
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DepartmentSchedule,
    PersonSchedule,
    WorkSchedule,
)
from attendance.schedules import effective_spec, holidays_between, spec_of, unscheduled_spec
from attendance.timeline import ScheduleSpec, event_window, local_date, work_date_for
from faces.models import Person

EVENT_FIELDS = ("id", "kind", "at", "voided_at")


def events_for_day(person_id: int, spec: ScheduleSpec, work_date: date) -> list[AttendanceEvent]:
    """The person's active events that can form the date's pairs: those in the date's
    window, plus the first one after it (the check-out of a pair that runs past it)."""
    start, end = event_window(spec, work_date)
    active = AttendanceEvent.objects.active().filter(person_id=person_id).only(*EVENT_FIELDS)
    events = list(active.filter(at__gte=start, at__lt=end).order_by("at", "id"))
    following = active.filter(at__gte=end).order_by("at", "id").first()
    if following is not None:
        events.append(following)
    return events


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
    """Write the person's row for ``work_date`` from the events alone (or remove it when
    the day has nothing to record yet) and return it."""
    spec = spec or effective_spec(person.pk, person.department_id)
    numbers = compute_day(
        events_for_day(person.pk, spec, work_date),
        spec,
        work_date,
        holidays_between(work_date, work_date),
        now or timezone.now(),
    )
    if numbers is None:
        AttendanceDay.objects.filter(person_id=person.pk, work_date=work_date).delete()
        return None
    day, _ = AttendanceDay.objects.update_or_create(
        person_id=person.pk, work_date=work_date, defaults=_defaults(numbers, spec)
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
