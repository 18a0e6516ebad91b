"""Which schedule applies to a person, as the pure ``ScheduleSpec`` the rules and days use.

A person's own schedule wins over their department's. Someone with neither still gets
a spec: the server's time zone, no intervals (so every day is "off" and worked time is
overtime), the toggle punch mode and the default maximum shift.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from attendance.models import (
    DepartmentSchedule,
    Holiday,
    PersonSchedule,
    ScheduleInterval,
    WorkSchedule,
)
from attendance.timeline import IntervalSpec, ScheduleSpec


def spec_of(schedule: WorkSchedule) -> ScheduleSpec:
    """The pure view of a schedule and its intervals."""
    return ScheduleSpec(
        time_zone=schedule.time_zone,
        intervals=tuple(
            IntervalSpec(interval.weekday, interval.start, interval.end)
            for interval in schedule.intervals.all()
        ),
        punch_mode=schedule.punch_mode,
        late_grace_minutes=schedule.late_grace_minutes,
        early_grace_minutes=schedule.early_grace_minutes,
        break_minutes=schedule.break_minutes,
        break_threshold_minutes=schedule.break_threshold_minutes,
        max_shift_minutes=schedule.max_shift_minutes,
        schedule_id=schedule.pk,
    )


def unscheduled_spec() -> ScheduleSpec:
    """The stand-in for a person with no schedule."""
    return ScheduleSpec(time_zone=settings.TIME_ZONE)


def schedule_for(person_id: int, department_id: int | None) -> WorkSchedule | None:
    """The person's own schedule, else their department's, else None."""
    own = PersonSchedule.objects.filter(person_id=person_id).select_related("schedule").first()
    if own is not None:
        return own.schedule
    if department_id is None:
        return None
    shared = (
        DepartmentSchedule.objects.filter(department_id=department_id)
        .select_related("schedule")
        .first()
    )
    return shared.schedule if shared is not None else None


def effective_spec(person_id: int, department_id: int | None) -> ScheduleSpec:
    """The spec the person's rules and days follow."""
    schedule = schedule_for(person_id, department_id)
    return spec_of(schedule) if schedule is not None else unscheduled_spec()


def holidays_between(first: date, last: date) -> set[date]:
    """The holiday dates from ``first`` to ``last`` inclusive."""
    return set(Holiday.objects.filter(date__range=(first, last)).values_list("date", flat=True))


_SPEC_CACHE_LIMIT = 1024
_specs: dict[tuple[int, datetime], ScheduleSpec] = {}


def cached_spec(schedule_id: int | None, updated_at: datetime | None) -> ScheduleSpec:
    """The spec of a schedule at the version ``updated_at`` (read in the caller's query),
    built once per process per version: any change to a schedule or its intervals moves
    its ``updated_at`` (``touch_schedule``), so a stale spec is never served, in any
    process."""
    if schedule_id is None or updated_at is None:
        return unscheduled_spec()
    key = (schedule_id, updated_at)
    spec = _specs.get(key)
    if spec is None:
        schedule = WorkSchedule.objects.prefetch_related("intervals").filter(pk=schedule_id).first()
        if schedule is None:
            return unscheduled_spec()
        if len(_specs) >= _SPEC_CACHE_LIMIT:
            _specs.clear()
        spec = _specs[key] = spec_of(schedule)
    return spec


def touch_schedule(sender: Any, instance: ScheduleInterval, **_kwargs: Any) -> None:
    """``post_save``/``post_delete`` of an interval: move its schedule's version, so
    every process's cached spec of it is rebuilt."""
    WorkSchedule.objects.filter(pk=instance.schedule_id).update(updated_at=timezone.now())
