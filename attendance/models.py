"""Schedules, attendance events, sighting decisions, per-person state and daily records.

Events are the source of truth and are never deleted: a correction voids one and adds
another. Everything else here is derived from them or kept beside them for speed:
``AttendanceDay`` rows are recomputed from the events alone (``attendance.days``), and
``PersonAttendanceState`` is both the row the rules lock per person and the roll call.
The meaning of every number is fixed in ``shared/design/attendance.md``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    """Refuse anything ``zoneinfo`` cannot load, so every stored zone converts later."""
    if value not in available_timezones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"{value!r} is not an IANA time zone.") from exc


class PunchMode(models.TextChoices):
    """How a 'both' camera's sightings alternate: toggle, or first and last of the day."""

    TOGGLE = "toggle", "Toggle (in, out, in, ...)"
    FIRST_LAST = "first_last", "First and last sighting of the day"


class WorkSchedule(models.Model):
    """A shift pattern: weekly working intervals in one time zone, with its tolerances."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    punch_mode = models.CharField(
        max_length=12,
        choices=PunchMode.choices,
        default=PunchMode.TOGGLE,
        help_text="How sightings on a camera whose direction is 'both' become events.",
    )
    late_grace_minutes = models.PositiveSmallIntegerField(default=0)
    early_grace_minutes = models.PositiveSmallIntegerField(default=0)
    break_minutes = models.PositiveSmallIntegerField(default=0, help_text="Unpaid break.")
    break_threshold_minutes = models.PositiveSmallIntegerField(
        default=360, help_text="The break is deducted only when a day's worked time is longer."
    )
    max_shift_minutes = models.PositiveSmallIntegerField(
        default=960,
        validators=[MinValueValidator(1)],
        help_text="An attendance open longer than this is closed automatically.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ScheduleInterval(models.Model):
    """One working interval on one weekday, in the schedule's wall-clock time.

    An ``end`` at or before ``start`` crosses midnight into the next day.
    """

    schedule = models.ForeignKey(WorkSchedule, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(6)], help_text="0 is Monday, 6 is Sunday."
    )
    start = models.TimeField()
    end = models.TimeField(help_text="At or before the start: the interval ends the next day.")

    class Meta:
        ordering = ["schedule", "weekday", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="interval_weekday_0_6")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def get_weekday_display(self) -> str:
        """The weekday's English name, for the admin and ``__str__``."""
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return names[self.weekday] if 0 <= self.weekday <= 6 else str(self.weekday)


class DepartmentSchedule(models.Model):
    """The schedule of everyone in a department, unless a person has their own."""

    department = models.OneToOneField(
        "faces.Department", on_delete=models.CASCADE, related_name="attendance_schedule"
    )
    schedule = models.ForeignKey(
        WorkSchedule, on_delete=models.PROTECT, related_name="department_assignments"
    )

    def __str__(self) -> str:
        return f"{self.department}: {self.schedule}"


class PersonSchedule(models.Model):
    """A person's own schedule, overriding their department's."""

    person = models.OneToOneField(
        "faces.Person", on_delete=models.CASCADE, related_name="attendance_schedule"
    )
    schedule = models.ForeignKey(
        WorkSchedule, on_delete=models.PROTECT, related_name="person_assignments"
    )

    def __str__(self) -> str:
        return f"{self.person}: {self.schedule}"


class Holiday(models.Model):
    """A date with no work expected, for everyone (one global calendar)."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class EventKind(models.TextChoices):
    """Events alternate per person: check-in, check-out, check-in, ..."""

    CHECK_IN = "check_in", "Check-in"
    CHECK_OUT = "check_out", "Check-out"


class EventSource(models.TextChoices):
    """Where an event came from, so HR can find the ones to check (auto-close)."""

    CAMERA = "camera", "Camera"
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    AUTO_CLOSE = "auto_close", "Auto-close"


class ActiveEventQuerySet(models.QuerySet):
    """Events with the voided ones left out, as every computation wants them."""

    def active(self) -> ActiveEventQuerySet:
        """Only events that were not voided."""
        return self.filter(voided_at__isnull=True)


class AttendanceEvent(models.Model):
    """A check-in or check-out. Never deleted: a correction voids it and adds another."""

    person = models.ForeignKey(
        "faces.Person", on_delete=models.PROTECT, related_name="attendance_events"
    )
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    at = models.DateTimeField(help_text="When it happened (stored in UTC).")
    source = models.CharField(max_length=12, choices=EventSource.choices)
    camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detection = models.ForeignKey(
        "detections.Detection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    objects = ActiveEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "at"]),
            models.Index(fields=["at"]),
            models.Index(fields=["-at", "-id"], name="attendance_event_newest"),
        ]

    def __str__(self) -> str:
        voided = " (voided)" if self.voided_at else ""
        when = f"{self.at:%Y-%m-%d %H:%M}"
        return f"{self.get_kind_display()} of person #{self.person_id} at {when}{voided}"

    @property
    def is_voided(self) -> bool:
        """Whether a correction took this event out of every computation."""
        return self.voided_at is not None


class SightingOutcome(models.TextChoices):
    """What a sighting did, or why it did nothing; shown to admins per detection."""

    CREATED_CHECK_IN = "created_check_in", "Checked in"
    CREATED_CHECK_OUT = "created_check_out", "Checked out"
    MOVED_CHECK_OUT = "moved_check_out", "Moved the day's check-out"
    COOLDOWN = "cooldown", "Within the cooldown"
    ALREADY_IN = "already_in", "Already checked in"
    NOT_CHECKED_IN = "not_checked_in", "Not checked in"
    DAY_CLOSED = "day_closed", "The day's check-out was set by hand"
    OUT_OF_ORDER = "out_of_order", "Older than the person's latest event"
    INACTIVE_PERSON = "inactive_person", "Inactive person"
    NOT_RECOGNIZED = "not_recognized", "Not recognized"
    NO_CAMERA = "no_camera", "Camera deleted"


class SightingDecision(models.Model):
    """What one recognised sighting did, or why it did nothing."""

    detection = models.OneToOneField(
        "detections.Detection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attendance_decision",
    )
    person = models.ForeignKey(
        "faces.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attendance_decisions",
    )
    camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=SightingOutcome.choices)
    event = models.ForeignKey(
        AttendanceEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class PersonAttendanceState(models.Model):
    """Where a person stands now: locked by the rules, read by the roll call."""

    person = models.OneToOneField(
        "faces.Person", on_delete=models.CASCADE, related_name="attendance_state"
    )
    is_in = models.BooleanField(default=False)
    open_event = models.ForeignKey(
        AttendanceEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_counted_sighting_at = models.DateTimeField(
        null=True, blank=True, help_text="The last sighting that made an event (the cooldown)."
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["is_in"])]

    def __str__(self) -> str:
        return f"person #{self.person_id} {'in' if self.is_in else 'out'}"


class DayStatus(models.TextChoices):
    """A day's status; the first that applies wins, in attendance.md's order."""

    PRESENT = "present", "Present"
    LATE = "late", "Late"
    ABSENT = "absent", "Absent"
    HOLIDAY = "holiday", "Holiday"
    INCOMPLETE = "incomplete", "Incomplete"
    OFF = "off", "Off"


class AttendanceDay(models.Model):
    """A person's work date: derived from the events, never edited by hand."""

    person = models.ForeignKey("faces.Person", on_delete=models.CASCADE, related_name="+")
    work_date = models.DateField()
    schedule = models.ForeignKey(
        WorkSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_in = models.DateTimeField(null=True, blank=True)
    last_out = models.DateTimeField(null=True, blank=True)
    worked_minutes = models.PositiveIntegerField(default=0)
    scheduled_minutes = models.PositiveIntegerField(default=0)
    late_minutes = models.PositiveIntegerField(default=0)
    early_leave_minutes = models.PositiveIntegerField(default=0)
    overtime_minutes = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=DayStatus.choices)
    is_open = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-work_date", "person_id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "work_date"], name="one_day_per_person")
        ]
        indexes = [models.Index(fields=["work_date", "status"])]

    def __str__(self) -> str:
        return f"person #{self.person_id} on {self.work_date:%Y-%m-%d}: {self.status}"
