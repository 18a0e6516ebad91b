"""Attendance shapes: schedules with their intervals and assignments, holidays, log
entries, manual events and voids, days, the roll call, summaries and the dashboard."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DepartmentSchedule,
    EventKind,
    Holiday,
    PersonAttendanceState,
    PersonSchedule,
    ScheduleInterval,
    WorkSchedule,
    validate_time_zone,
)
from attendance.payloads import event_payload, roll_call_row
from cameras.api.serializers import CameraRefSerializer
from config.api.errors import RULE_CODE
from config.api.serializers import ApiModelSerializer, ApiSerializer, QueryParamsSerializer
from faces.api.serializers import PersonRefSerializer
from faces.models import Department, Person


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its offset: the schema's ``date-time`` does, and
    guessing the zone of a payroll record would be worse than refusing it."""

    def to_internal_value(self, value: Any) -> Any:
        """Refuse a time without an offset (400), then parse as DRF does."""
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed, impossible (12:99): DRF's own error below
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                raise serializers.ValidationError(
                    "The time must carry a UTC offset (e.g. 2026-01-05T08:00:00Z).",
                    code="naive_datetime",
                )
        return super().to_internal_value(value)


class ScheduleIntervalSerializer(ApiModelSerializer):
    """A weekday's working interval; an end at or before the start ends the next day."""

    weekday = serializers.IntegerField(min_value=0, max_value=6)

    class Meta:
        model = ScheduleInterval
        fields = ["weekday", "start", "end"]


class WorkScheduleSerializer(ApiModelSerializer):
    """A schedule with its weekly intervals and who it is assigned to. ``intervals``,
    ``departments`` and ``people`` replace the stored ones when given; assigning a
    department or person moves them from the schedule they had."""

    intervals = ScheduleIntervalSerializer(many=True, required=False)
    departments = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Department.objects.all(), required=False
    )
    people = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Person.objects.all(), required=False
    )

    class Meta:
        model = WorkSchedule
        fields = [
            "id",
            "name",
            "time_zone",
            "punch_mode",
            "late_grace_minutes",
            "early_grace_minutes",
            "break_minutes",
            "break_threshold_minutes",
            "max_shift_minutes",
            "intervals",
            "departments",
            "people",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"time_zone": {"validators": []}}

    def validate_time_zone(self, value: str) -> str:
        """An IANA zone name; one the server does not know breaks a rule (422)."""
        try:
            validate_time_zone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code=RULE_CODE) from exc
        return value

    def to_representation(self, instance: WorkSchedule) -> dict[str, Any]:
        """The schedule with its intervals and the ids it is assigned to (prefetched)."""
        data = super().to_representation(instance)
        data["departments"] = sorted(a.department_id for a in instance.department_assignments.all())
        data["people"] = sorted(a.person_id for a in instance.person_assignments.all())
        return data

    def create(self, validated_data: dict[str, Any]) -> WorkSchedule:
        """Create the schedule, its intervals and its assignments together."""
        nested = _pop_nested(validated_data)
        with transaction.atomic():
            schedule = WorkSchedule.objects.create(**validated_data)
            _save_nested(schedule, nested)
        return schedule

    def update(self, instance: WorkSchedule, validated_data: dict[str, Any]) -> WorkSchedule:
        """Update the fields; replace intervals and assignments that were given."""
        nested = _pop_nested(validated_data)
        with transaction.atomic():
            instance = super().update(instance, validated_data)
            _save_nested(instance, nested)
        return instance


def _pop_nested(validated_data: dict[str, Any]) -> dict[str, Any]:
    return {
        name: validated_data.pop(name)
        for name in ("intervals", "departments", "people")
        if name in validated_data
    }


def _save_nested(schedule: WorkSchedule, nested: dict[str, Any]) -> None:
    if "intervals" in nested:
        schedule.intervals.all().delete()
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=schedule, **interval) for interval in nested["intervals"]
        )
    if "departments" in nested:
        departments = nested["departments"]
        schedule.department_assignments.exclude(department__in=departments).delete()
        for department in departments:
            DepartmentSchedule.objects.update_or_create(
                department=department, defaults={"schedule": schedule}
            )
    if "people" in nested:
        people = nested["people"]
        schedule.person_assignments.exclude(person__in=people).delete()
        for person in people:
            PersonSchedule.objects.update_or_create(person=person, defaults={"schedule": schedule})


class HolidaySerializer(ApiModelSerializer):
    """A date with no work expected; one per date."""

    class Meta:
        model = Holiday
        fields = ["id", "date", "name"]


class AttendanceLogSerializer(ApiModelSerializer):
    """``{"id", "person", "kind", "at", "source", "camera", "voided"}`` plus the trace
    (api.md "An attendance log entry"); values come from ``attendance.payloads``."""

    person = PersonRefSerializer(read_only=True)
    camera = CameraRefSerializer(read_only=True, allow_null=True)
    voided = serializers.BooleanField(read_only=True)

    class Meta:
        model = AttendanceEvent
        fields = [
            "id",
            "person",
            "kind",
            "at",
            "source",
            "camera",
            "voided",
            "reason",
            "voided_at",
            "void_reason",
            "detection",
        ]
        read_only_fields = fields

    def to_representation(self, instance: AttendanceEvent) -> dict[str, Any]:
        """The one log-entry shape the WebSocket also sends."""
        return event_payload(instance)


class ManualEventSerializer(ApiSerializer):
    """A manual event: ``{person, kind, at, reason}``, or a whole attendance
    ``{person, check_in, check_out, reason}`` for a gap neither half fits alone."""

    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    kind = serializers.ChoiceField(choices=EventKind.choices, required=False)
    at = AwareDateTimeField(required=False)
    check_in = AwareDateTimeField(required=False)
    check_out = AwareDateTimeField(required=False)
    reason = serializers.CharField(max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Exactly one form: ``kind`` with ``at``, or ``check_in`` with ``check_out``."""
        single = "kind" in attrs or "at" in attrs
        pair = "check_in" in attrs or "check_out" in attrs
        if single == pair:
            raise serializers.ValidationError(
                "Give either kind and at, or check_in and check_out.", code="invalid"
            )
        missing = [
            name
            for name in (("kind", "at") if single else ("check_in", "check_out"))
            if name not in attrs
        ]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}, code="required"
            )
        return attrs


class VoidSerializer(ApiSerializer):
    """Why an event is voided; required, it goes into the audit trail."""

    reason = serializers.CharField(max_length=2000)


class EventListSerializer(ApiSerializer):
    """The events a manual entry created or a void voided, oldest first."""

    events = AttendanceLogSerializer(many=True)


class AttendanceDaySerializer(ApiModelSerializer):
    """A person's work date with its first in, last out and minutes (attendance.md)."""

    person = PersonRefSerializer(read_only=True)

    class Meta:
        model = AttendanceDay
        fields = [
            "id",
            "person",
            "work_date",
            "schedule",
            "status",
            "first_in",
            "last_out",
            "worked_minutes",
            "scheduled_minutes",
            "late_minutes",
            "early_leave_minutes",
            "overtime_minutes",
            "is_open",
            "updated_at",
        ]
        read_only_fields = fields


class RollCallSerializer(ApiModelSerializer):
    """``{"person", "since", "last_seen_at", "camera"}`` (api.md "A roll-call row")."""

    person = PersonRefSerializer(read_only=True)
    since = serializers.DateTimeField(read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True)
    camera = CameraRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PersonAttendanceState
        fields = ["person", "since", "last_seen_at", "camera"]
        read_only_fields = fields

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """The one roll-call shape the CSV also follows."""
        return roll_call_row(instance)


class DepartmentRefSerializer(ApiSerializer):
    """A department inside other objects: id and name."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class DayCountsSerializer(ApiSerializer):
    """How many days had each status."""

    present = serializers.IntegerField()
    late = serializers.IntegerField()
    absent = serializers.IntegerField()
    holiday = serializers.IntegerField()
    incomplete = serializers.IntegerField()
    off = serializers.IntegerField()


class _TotalsSerializer(ApiSerializer):
    worked_minutes = serializers.IntegerField()
    late_minutes = serializers.IntegerField()
    early_leave_minutes = serializers.IntegerField()
    overtime_minutes = serializers.IntegerField()
    days = DayCountsSerializer()


class PersonTotalsSerializer(_TotalsSerializer):
    """One person's totals over the period."""

    person = PersonRefSerializer()
    department = DepartmentRefSerializer(allow_null=True)


class DepartmentTotalsSerializer(_TotalsSerializer):
    """One department's totals over the period (null: people without a department)."""

    department = DepartmentRefSerializer(allow_null=True)
    people = serializers.IntegerField()


class SummarySerializer(ApiSerializer):
    """Totals per person and per department over the day, week or month asked for."""

    period = serializers.ChoiceField(choices=["day", "week", "month"])
    to = serializers.DateField()
    people = PersonTotalsSerializer(many=True)
    departments = DepartmentTotalsSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        """Adds ``from``, a Python keyword that cannot be a class attribute."""
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


class SummaryParamsSerializer(QueryParamsSerializer):
    """``period`` (day, week or month, default day) containing ``date`` (default today);
    ``department`` or ``person`` narrow it."""

    period = serializers.ChoiceField(choices=["day", "week", "month"], default="day")
    date = serializers.DateField(required=False)
    department = serializers.IntegerField(min_value=1, required=False)
    person = serializers.IntegerField(min_value=1, required=False)


class HourCountSerializer(ApiSerializer):
    """Check-ins in one local hour of today."""

    hour = serializers.IntegerField(min_value=0, max_value=23)
    count = serializers.IntegerField()


class TrendDaySerializer(DayCountsSerializer):
    """One date's days by status."""

    date = serializers.DateField()


class AnalyticsSerializer(ApiSerializer):
    """Today: on site now, arrived, late, expected and not in; arrivals by hour; the
    last 30 days by status."""

    date = serializers.DateField()
    present = serializers.IntegerField()
    arrived = serializers.IntegerField()
    late = serializers.IntegerField()
    absent = serializers.IntegerField()
    arrivals_by_hour = HourCountSerializer(many=True)
    trend = TrendDaySerializer(many=True)


class ExportParamsSerializer(QueryParamsSerializer):
    """``format`` (csv or xlsx) of the events from ``from`` to ``to`` (inclusive)."""

    format = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")

    def get_fields(self) -> dict[str, serializers.Field]:
        """Adds ``from`` and ``to`` (``from`` is a Python keyword)."""
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False)
        fields["to"] = serializers.DateTimeField(required=False)
        return fields


class RollCallParamsSerializer(QueryParamsSerializer):
    """``format``: json (default, paged) or csv (everyone, for the evacuation list)."""

    format = serializers.ChoiceField(choices=["json", "csv"], default="json")
