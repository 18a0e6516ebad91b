"""Read-side figures of attendance: the roll call, period summaries and the dashboard.

Everything here is a handful of aggregate queries over ``AttendanceDay`` and
``PersonAttendanceState``, whatever the number of people, so the API answers in a
bounded number of queries (an N+1 here would be a bug). "Today" is the server's local
date (``TIME_ZONE``); a work date belongs to each person's schedule zone, which for one
site is the same zone.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, ExtractHour
from django.utils import timezone

from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DayStatus,
    EventKind,
    Holiday,
    PersonAttendanceState,
    ScheduleInterval,
)
from faces.models import Person

PERIODS = ("day", "week", "month")
TREND_DAYS = 30
MINUTE_FIELDS = ("worked_minutes", "late_minutes", "early_leave_minutes", "overtime_minutes")


def server_zone() -> ZoneInfo:
    """The zone "today" and "by hour" are read in."""
    return ZoneInfo(settings.TIME_ZONE)


def local_today(now: datetime | None = None) -> date:
    """The server's local date now."""
    return (now or timezone.now()).astimezone(server_zone()).date()


def roll_call() -> QuerySet[PersonAttendanceState]:
    """Everyone checked in and not out, by name: the evacuation list."""
    return (
        PersonAttendanceState.objects.filter(is_in=True)
        .select_related("person", "last_camera", "open_event")
        .order_by("person__full_name", "person_id")
    )


def period_bounds(period: str, anchor: date) -> tuple[date, date]:
    """The first and last date of the day, ISO week (Monday first) or month of ``anchor``."""
    if period == "day":
        return anchor, anchor
    if period == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6)
    if period == "month":
        last_day = calendar.monthrange(anchor.year, anchor.month)[1]
        return anchor.replace(day=1), anchor.replace(day=last_day)
    raise ValueError(f"Unknown period {period!r}")


def _totals() -> dict[str, Any]:
    totals: dict[str, Any] = {name: Coalesce(Sum(name), 0) for name in MINUTE_FIELDS}
    for status in DayStatus.values:
        totals[f"days_{status}"] = Count("id", filter=Q(status=status))
    return totals


def _numbers(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: int(row[name]) for name in MINUTE_FIELDS},
        "days": {status: int(row[f"days_{status}"]) for status in DayStatus.values},
    }


@dataclass(frozen=True)
class SummaryFilter:
    """Which people a summary covers: everyone, one department or one person."""

    department_id: int | None = None
    person_id: int | None = None

    def apply(self, days: QuerySet[AttendanceDay]) -> QuerySet[AttendanceDay]:
        """``days`` narrowed to the chosen people."""
        if self.department_id is not None:
            days = days.filter(person__department_id=self.department_id)
        if self.person_id is not None:
            days = days.filter(person_id=self.person_id)
        return days


def summary(period: str, anchor: date, scope: SummaryFilter | None = None) -> dict[str, Any]:
    """Worked, late, early-leave and overtime minutes and days by status, per person and
    per department, over the period that contains ``anchor`` (two queries)."""
    first, last = period_bounds(period, anchor)
    days = (scope or SummaryFilter()).apply(
        AttendanceDay.objects.filter(work_date__range=(first, last))
    )
    people = (
        days.values(
            "person_id",
            "person__employee_code",
            "person__full_name",
            "person__department_id",
            "person__department__name",
        )
        .annotate(**_totals())
        .order_by("person__full_name", "person_id")
    )
    departments = (
        days.values("person__department_id", "person__department__name")
        .annotate(people=Count("person_id", distinct=True), **_totals())
        .order_by("person__department__name", "person__department_id")
    )
    return {
        "period": period,
        "from": first,
        "to": last,
        "people": [
            {
                "person": {
                    "id": row["person_id"],
                    "employee_code": row["person__employee_code"],
                    "full_name": row["person__full_name"],
                },
                "department": _department(row),
                **_numbers(row),
            }
            for row in people
        ],
        "departments": [
            {"department": _department(row), "people": row["people"], **_numbers(row)}
            for row in departments
        ],
    }


def _department(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["person__department_id"] is None:
        return None
    return {"id": row["person__department_id"], "name": row["person__department__name"]}


def _scheduled_schedule_ids(today: date) -> set[int]:
    """Schedules with working time on ``today``'s weekday (none on a holiday)."""
    if Holiday.objects.filter(date=today).exists():
        return set()
    return set(
        ScheduleInterval.objects.filter(weekday=today.weekday())
        .values_list("schedule_id", flat=True)
        .distinct()
    )


def expected_today(today: date) -> QuerySet[Person]:
    """Active people whose schedule (their own, else their department's) has working
    time today."""
    return (
        Person.objects.filter(active=True)
        .annotate(
            effective_schedule=Coalesce(
                "attendance_schedule__schedule_id",
                "department__attendance_schedule__schedule_id",
            )
        )
        .filter(effective_schedule__in=_scheduled_schedule_ids(today))
    )


def analytics(now: datetime | None = None) -> dict[str, Any]:
    """The dashboard: who is on site, who arrived late and who is not in yet today,
    today's arrivals by local hour, and the last 30 days' statuses."""
    now = now or timezone.now()
    zone = server_zone()
    today = local_today(now)
    today_days = AttendanceDay.objects.filter(work_date=today)
    attended = today_days.filter(first_in__isnull=False).values("person_id")
    start = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    arrivals = (
        AttendanceEvent.objects.active()
        .filter(kind=EventKind.CHECK_IN, at__gte=start, at__lt=start + timedelta(days=1))
        .annotate(hour=ExtractHour("at", tzinfo=zone))
        .values("hour")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_hour = {row["hour"]: row["count"] for row in arrivals}
    first = today - timedelta(days=TREND_DAYS - 1)
    trend_rows = (
        AttendanceDay.objects.filter(work_date__range=(first, today))
        .values("work_date")
        .annotate(**{s: Count("id", filter=Q(status=s)) for s in DayStatus.values})
        .order_by("work_date")
    )
    trend = {row["work_date"]: row for row in trend_rows}
    return {
        "date": today,
        "present": PersonAttendanceState.objects.filter(is_in=True).count(),
        "arrived": attended.count(),
        "late": today_days.filter(late_minutes__gt=0).count(),
        "absent": expected_today(today).exclude(pk__in=attended).count(),
        "arrivals_by_hour": [{"hour": hour, "count": by_hour.get(hour, 0)} for hour in range(24)],
        "trend": [
            {
                "date": day,
                **{s: int(trend.get(day, {}).get(s, 0)) for s in DayStatus.values},
            }
            for day in (first + timedelta(days=n) for n in range(TREND_DAYS))
        ],
    }
