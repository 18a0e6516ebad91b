"""Filters of the attendance lists: logs by person, department, camera, source and
time; days by person, department, date range and status."""

from __future__ import annotations

import django_filters

from attendance.models import AttendanceDay, AttendanceEvent, DayStatus, EventKind, EventSource
from config.api.filters import ApiFilterSet, IdFilter, StrictBooleanFilter, TimeRangeFilterSet


class LogFilter(TimeRangeFilterSet):
    """``person``, ``department``, ``camera``, ``source``, ``kind``, ``voided``, and
    ``from``/``to`` on the event's time."""

    time_field = "at"
    department = IdFilter(field_name="person__department")
    source = django_filters.ChoiceFilter(choices=EventSource.choices)
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    voided = StrictBooleanFilter(field_name="voided_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = AttendanceEvent
        fields = ["person", "camera"]


class DayFilter(ApiFilterSet):
    """``person``, ``department``, ``status``, and ``from``/``to`` on the work date
    (inclusive)."""

    department = IdFilter(field_name="person__department")
    status = django_filters.ChoiceFilter(choices=DayStatus.choices)

    class Meta:
        model = AttendanceDay
        fields = ["person"]

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        """The declared filters plus ``from`` and ``to`` (Python keywords) on the date."""
        filters = super().get_filters()
        filters["from"] = django_filters.DateFilter(
            field_name="work_date", lookup_expr="gte", label="From work date (inclusive)"
        )
        filters["to"] = django_filters.DateFilter(
            field_name="work_date", lookup_expr="lte", label="To work date (inclusive)"
        )
        return filters
