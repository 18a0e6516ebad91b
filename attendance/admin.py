"""Back-office for attendance: HR corrects events (void with a reason, then add the right
event by hand), reads days by status colour and why each sighting did or did not count,
and edits schedules and holidays. Stored events, days and decisions are never edited by
hand: events change only by void and manual add (the API's rules and services), days and
decisions are derived.

The person's and the detection's pages get panels from here (``accounts.admin_panels``):
faces and detections may not import attendance, which builds on them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime, AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timezone import localtime

from accounts.admin_audit import AuditedModelAdmin, ReadOnlyModelAdmin, admin_context
from accounts.admin_panels import AdminPanel, add_panel, html_table
from accounts.admin_roles import has_capability
from accounts.roles import AdminCapability
from attendance.events import add_manual_event, void_event
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DayStatus,
    DepartmentSchedule,
    EventKind,
    Holiday,
    PersonSchedule,
    ScheduleInterval,
    SightingDecision,
    SightingOutcome,
    WorkSchedule,
)
from config.errors import DomainError
from detections.models import Detection
from faces.models import Person

#: Work dates shown on a person's page, newest first.
RECENT_DAYS = 14
#: Sighting decisions shown on a person's page, newest first.
RECENT_DECISIONS = 20

#: Why a sighting did what it did, in the words HR reads on the person's and the
#: detection's pages and in the decision log.
OUTCOME_EXPLANATIONS = {
    SightingOutcome.CREATED_CHECK_IN: "The sighting made a check-in.",
    SightingOutcome.CREATED_CHECK_OUT: "The sighting made a check-out.",
    SightingOutcome.MOVED_CHECK_OUT: "The day's check-out moved to this later sighting.",
    SightingOutcome.COOLDOWN: "Did not count: too soon after the person's last counted "
    "sighting (the cooldown).",
    SightingOutcome.ALREADY_IN: "Did not count: the person was already checked in.",
    SightingOutcome.NOT_CHECKED_IN: "Did not count: the person was not checked in, so "
    "there was nothing to check out.",
    SightingOutcome.DAY_CLOSED: "Did not count: the day's check-out was set by hand.",
    SightingOutcome.OUT_OF_ORDER: "Did not count: the sighting is older than the person's "
    "latest event.",
    SightingOutcome.INACTIVE_PERSON: "Did not count: the person is marked inactive.",
    SightingOutcome.NOT_RECOGNIZED: "Did not count: the face was not recognised.",
    SightingOutcome.NO_CAMERA: "Did not count: the camera was deleted.",
}

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


class ManualEventForm(forms.Form):
    """A check-in or check-out added by hand, as ``POST /attendance/events`` takes it.
    The form only checks the shape; the rules (alternation, overlap, not in the future)
    are ``attendance.events.add_manual_event``'s, whose refusal becomes a form error."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.all(),
        widget=AutocompleteSelect(AttendanceEvent._meta.get_field("person"), admin.site),
    )
    kind = forms.ChoiceField(choices=EventKind.choices)
    at = forms.SplitDateTimeField(label="At", widget=AdminSplitDateTime)
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the event is added by hand; kept with the event and in the audit log.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["at"].help_text = f"Date and time in {zone}."

    def refuse(self, exc: DomainError) -> None:
        """Show the service's refusal on the field it names, else on the whole form."""
        fields = [name for name in exc.details if name in self.fields]
        self.add_error(fields[0] if fields else None, exc.message)


@admin.register(AttendanceEvent)
class AttendanceEventAdmin(ReadOnlyModelAdmin):
    """Every event with its trace. A correction is a void (asking why) and a new event
    added by hand (``add_view``); a stored event is never changed."""

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Adding a manual event is the ``add_attendance_event`` capability, the API's rule
        for ``POST /attendance/events``."""
        return has_capability(request, AdminCapability.ADD_ATTENDANCE_EVENT)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Add one check-in or check-out through ``add_manual_event``, as the API does:
        same rules, source ``manual``, created by the signed-in user, audit-logged (as
        done in the admin). A refusal is an error on the form and stores nothing."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ManualEventForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = add_manual_event(
                    data["person"],
                    data["kind"],
                    data["at"],
                    data["reason"],
                    request.user,
                    context=admin_context(request),
                )
            except DomainError as exc:
                form.refuse(exc)
            else:
                self.message_user(request, f"Added: {event}, {data['person']}.", messages.SUCCESS)
                changelist = reverse("admin:attendance_attendanceevent_changelist")
                return redirect(f"{changelist}?person__id__exact={event.person_id}")
        context = {
            **self.admin_site.each_context(request),
            "title": "Add attendance event",
            "form": form,
            "media": self.media + form.media,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/attendance/add_event.html", context)

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


add_panel(Person, AdminPanel("Attendance days", AttendanceDay, recent_days))


def explain(decision: SightingDecision) -> str:
    """What the sighting did, or why it did nothing, in plain words."""
    return OUTCOME_EXPLANATIONS.get(decision.outcome, decision.get_outcome_display())


def linked_event(decision: SightingDecision) -> str:
    """The event the sighting made, linked, or "-"."""
    event = decision.event
    if event is None:
        return "-"
    url = reverse("admin:attendance_attendanceevent_change", args=[event.pk])
    return format_html('<a href="{}">{}</a>', url, event)


def linked_detection(decision: SightingDecision) -> str:
    """The detection the decision is about, linked, or "-"."""
    if decision.detection_id is None:
        return "-"
    url = reverse("admin:detections_detection_change", args=[decision.detection_id])
    return format_html('<a href="{}">#{}</a>', url, decision.detection_id)


def decision_rows(decisions: QuerySet[SightingDecision], *, detections: bool) -> list[tuple]:
    """One row per decision: when, camera, outcome, why, the event (and the detection)."""
    rows = []
    for decision in decisions.select_related("camera", "event"):
        row = (
            localtime(decision.at).strftime("%Y-%m-%d %H:%M:%S"),
            decision.camera.name if decision.camera else "-",
            decision.get_outcome_display(),
            explain(decision),
            linked_event(decision),
        )
        rows.append((*row, linked_detection(decision)) if detections else row)
    return rows


def decisions_link(field: str, value: int) -> str:
    """The decision log filtered to one person or one detection."""
    url = reverse("admin:attendance_sightingdecision_changelist")
    return format_html('<p><a href="{}?{}={}">The whole decision log</a></p>', url, field, value)


DECISION_HEADERS = ("when", "camera", "outcome", "why", "event")


def person_decisions(person: Person) -> str:
    """The person's newest sighting decisions, for their page in the faces admin."""
    decisions = SightingDecision.objects.filter(person=person).order_by("-at", "-id")
    rows = decision_rows(decisions[:RECENT_DECISIONS], detections=True)
    table = html_table((*DECISION_HEADERS, "detection"), rows, "No sighting decided yet.")
    return format_html("{}{}", table, decisions_link("person__id__exact", person.pk))


def detection_decision(detection: Detection) -> str:
    """What the detection's sighting did for attendance, for its page in the detections
    admin."""
    decisions = SightingDecision.objects.filter(detection=detection)
    rows = decision_rows(decisions, detections=False)
    return html_table(
        DECISION_HEADERS, rows, "No attendance decision: only recognised faces are decided."
    )


add_panel(Person, AdminPanel("Attendance decisions", SightingDecision, person_decisions))
add_panel(Detection, AdminPanel("Attendance decision", SightingDecision, detection_decision))


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

    list_display = ("at", "person", "camera", "outcome", "why", "event_link", "detection_link")
    list_filter = ("outcome", "camera", "person")
    list_select_related = ("person", "camera", "event")
    search_fields = ("person__full_name", "person__employee_code", "=detection__id")
    date_hierarchy = "at"

    @admin.display(description="why")
    def why(self, decision: SightingDecision) -> str:
        """What the sighting did, or why it did nothing, in plain words."""
        return explain(decision)

    @admin.display(description="event")
    def event_link(self, decision: SightingDecision) -> str:
        """The event the sighting made, if any."""
        return linked_event(decision)

    @admin.display(description="detection")
    def detection_link(self, decision: SightingDecision) -> str:
        """The detection the decision is about."""
        return linked_detection(decision)


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
