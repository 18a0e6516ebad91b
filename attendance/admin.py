"""Back-office for attendance: HR corrects events (void with a reason), reads days by
status colour and why each sighting did or did not count, and edits schedules and
holidays. Events, days and decisions are never edited by hand: events change only by
void and manual add (the API's rules), days and decisions are derived."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime

from accounts.admin_audit import AuditedModelAdmin, ReadOnlyModelAdmin, admin_context
from accounts.roles import AdminCapability
from attendance.events import void_event
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DayStatus,
    DepartmentSchedule,
    Holiday,
    PersonSchedule,
    ScheduleInterval,
    SightingDecision,
    WorkSchedule,
)
from config.errors import DomainError
from faces.admin import PersonPanel, add_person_panel, html_table
from faces.models import Person

#: Work dates shown on a person's page, newest first.
RECENT_DAYS = 14

STATUS_COLOURS = {
    DayStatus.PRESENT: "#2e7d32",
    DayStatus.LATE: "#ef6c00",
    DayStatus.ABSENT: "#c62828",
    DayStatus.HOLIDAY: "#1565c0",
    DayStatus.INCOMPLETE: "#6a1b9a",
    DayStatus.OFF: "#757575",
}


class VoidedFilter(admin.SimpleListFilter):
    """Voided or active events."""

    title = "voided"
    parameter_name = "voided"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Yes or no."""
        return [("yes", "Voided"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Events voided or not, as chosen."""
        if self.value() == "yes":
            return queryset.filter(voided_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(voided_at__isnull=True)
        return queryset


class VoidForm(forms.Form):
    """The reason every void needs; it goes into the event and the audit log."""

    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(AttendanceEvent)
class AttendanceEventAdmin(ReadOnlyModelAdmin):
    """Every event with its trace. A correction is a void (asking why) and a new event."""

    list_display = ("at", "person", "kind", "source", "camera", "voided", "created_by")
    list_filter = ("source", "kind", VoidedFilter, "person__department", "person", "camera")
    list_select_related = ("person", "camera", "created_by")
    search_fields = ("person__full_name", "person__employee_code", "reason", "void_reason")
    date_hierarchy = "at"
    actions = ["void_events"]

    @admin.display(boolean=True, description="voided")
    def voided(self, event: AttendanceEvent) -> bool:
        """Whether a correction took the event out of every computation."""
        return event.voided_at is not None

    @admin.action(
        description="Void the selected events (asks for a reason)",
        permissions=[AdminCapability.VOID_ATTENDANCE],
    )
    def void_events(
        self, request: HttpRequest, queryset: QuerySet[AttendanceEvent]
    ) -> HttpResponse | None:
        """Show the reason form; once it is posted, void each event (a check-in's
        check-out with it) through ``attendance.events.void_event``."""
        form = VoidForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Void attendance events",
                "form": form,
                "events": queryset.select_related("person"),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/attendance/void_events.html", context)
        voided = 0
        for event in queryset.filter(voided_at__isnull=True).order_by("-at"):
            try:
                voided += len(
                    void_event(
                        event,
                        form.cleaned_data["reason"],
                        request.user,
                        context=admin_context(request),
                    )
                )
            except DomainError as exc:
                self.message_user(request, f"{event}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Voided {voided} event(s).")
        return None


def coloured(day: AttendanceDay) -> str:
    """The day's status as a coloured badge."""
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:8px">{}</span>',
        STATUS_COLOURS.get(day.status, "#757575"),
        day.get_status_display(),
    )


def recent_days(person: Person) -> str:
    """The person's newest work dates, for their page in the faces admin."""
    days = AttendanceDay.objects.filter(person=person).order_by("-work_date")[:RECENT_DAYS]
    rows = [
        (
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:attendance_attendanceday_change", args=[day.pk]),
                day.work_date.isoformat(),
            ),
            coloured(day),
            localtime(day.first_in).strftime("%H:%M") if day.first_in else "-",
            localtime(day.last_out).strftime("%H:%M") if day.last_out else "-",
            day.worked_minutes,
            day.late_minutes,
        )
        for day in days
    ]
    return html_table(
        ("date", "status", "first in", "last out", "worked (min)", "late (min)"),
        rows,
        "No attendance days yet.",
    )


add_person_panel(PersonPanel("Attendance days", AttendanceDay, recent_days))


@admin.register(AttendanceDay)
class AttendanceDayAdmin(ReadOnlyModelAdmin):
    """Work dates as the events make them, coloured by status."""

    list_display = (
        "work_date",
        "person",
        "coloured_status",
        "first_in",
        "last_out",
        "worked_minutes",
        "late_minutes",
        "early_leave_minutes",
        "overtime_minutes",
    )
    list_filter = ("status", "person__department", "schedule")
    list_select_related = ("person",)
    search_fields = ("person__full_name", "person__employee_code")
    date_hierarchy = "work_date"

    @admin.display(ordering="status", description="status")
    def coloured_status(self, day: AttendanceDay) -> str:
        """The status as a coloured badge."""
        return coloured(day)


@admin.register(SightingDecision)
class SightingDecisionAdmin(ReadOnlyModelAdmin):
    """Why each recognised sighting did or did not make an event. Filter by person or
    detection with ``?person__id__exact=`` / ``?detection__id__exact=``, or search."""

    list_display = ("at", "person", "camera", "outcome", "event_link", "detection_link")
    list_filter = ("outcome", "camera", "person")
    list_select_related = ("person", "camera")
    search_fields = ("person__full_name", "person__employee_code", "=detection__id")
    date_hierarchy = "at"

    @admin.display(description="event")
    def event_link(self, decision: SightingDecision) -> str:
        """The event the sighting made, if any."""
        if decision.event_id is None:
            return "-"
        url = reverse("admin:attendance_attendanceevent_change", args=[decision.event_id])
        return format_html('<a href="{}">#{}</a>', url, decision.event_id)

    @admin.display(description="detection")
    def detection_link(self, decision: SightingDecision) -> str:
        """The detection the decision is about."""
        if decision.detection_id is None:
            return "-"
        url = reverse("admin:detections_detection_change", args=[decision.detection_id])
        return format_html('<a href="{}">#{}</a>', url, decision.detection_id)


class ScheduleIntervalInline(admin.TabularInline):
    """The weekly intervals; an end at or before the start ends the next day."""

    model = ScheduleInterval
    extra = 1


class DepartmentScheduleInline(admin.TabularInline):
    """Departments that follow the schedule."""

    model = DepartmentSchedule
    extra = 0


class PersonScheduleInline(admin.TabularInline):
    """People with this schedule as their own (over their department's)."""

    model = PersonSchedule
    extra = 0
    autocomplete_fields = ("person",)


@admin.register(WorkSchedule)
class WorkScheduleAdmin(AuditedModelAdmin):
    """Schedules with their intervals and who follows them."""

    list_display = ("name", "time_zone", "punch_mode", "late_grace_minutes", "max_shift_minutes")
    list_filter = ("punch_mode", "time_zone")
    search_fields = ("name",)
    inlines = (ScheduleIntervalInline, DepartmentScheduleInline, PersonScheduleInline)


@admin.register(Holiday)
class HolidayAdmin(AuditedModelAdmin):
    """The holiday calendar."""

    list_display = ("date", "name")
    search_fields = ("name",)
    date_hierarchy = "date"
