"""Attendance API: schedules, holidays, the log, manual events and voids, days, the
roll call, summaries, the dashboard and exports (paths in api.md)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.api.viewsets import AuditedModelViewSet, ReadOnlyViewSet, RoleScopedMixin
from accounts.roles import ADMIN_ONLY, ALL_ROLES, PEOPLE_MANAGERS, RoleRules
from attendance import exports, reports, summary_cache
from attendance.api.filters import DayFilter, LogFilter
from attendance.api.negotiation import FirstRendererNegotiation
from attendance.api.serializers import (
    AnalyticsSerializer,
    AttendanceDaySerializer,
    AttendanceLogSerializer,
    EventListSerializer,
    ExportParamsSerializer,
    HolidaySerializer,
    ManualEventSerializer,
    RollCallParamsSerializer,
    RollCallSerializer,
    SummaryParamsSerializer,
    SummarySerializer,
    VoidSerializer,
    WorkScheduleSerializer,
)
from attendance.events import add_manual_event, add_manual_pair, void_event
from attendance.models import AttendanceDay, AttendanceEvent, Holiday, WorkSchedule
from attendance.payloads import event_payload
from config.api.filters import without_empty_values
from config.api.pagination import LargeTablePagination, StrictPageNumberPagination
from config.api.schema import error_responses
from config.streaming import BatchedStreamingHttpResponse
from detections.api.views import DetectionCursorPagination, PageOrCursorPagination

ATTENDANCE_RULES = RoleRules(read=ALL_ROLES, write=PEOPLE_MANAGERS)
EVENT_RULES = RoleRules(read=ALL_ROLES, write=PEOPLE_MANAGERS, actions={"void": PEOPLE_MANAGERS})
REPORT_RULES = RoleRules(
    read=ALL_ROLES,
    write=ADMIN_ONLY,
    actions={
        "present": ALL_ROLES,
        "summary": ALL_ROLES,
        "analytics": ALL_ROLES,
        "export": PEOPLE_MANAGERS,
    },
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ScheduleViewSet(AuditedModelViewSet):
    """Work schedules with their weekly intervals, assigned to departments and people."""

    roles = ATTENDANCE_RULES
    queryset = WorkSchedule.objects.prefetch_related(
        "intervals", "department_assignments", "person_assignments"
    )
    serializer_class = WorkScheduleSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]


class HolidayViewSet(AuditedModelViewSet):
    """The holiday calendar: dates with no work expected. Changed by delete and add."""

    roles = ATTENDANCE_RULES
    queryset = Holiday.objects.all()
    serializer_class = HolidaySerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_fields = ["date"]
    ordering_fields = ["date", "id"]
    ordering = ["date", "id"]


class LogCursorPagination(DetectionCursorPagination):
    """Cursor pages of attendance events, newest first."""

    ordering = ("-at", "-id")


class LogPagination(PageOrCursorPagination):
    """Pages, or ``?cursor=`` for deep history."""

    cursor_pagination_class: type[CursorPagination] = LogCursorPagination


class LogViewSet(ReadOnlyViewSet):
    """Every attendance event, voided ones included and flagged, newest first."""

    roles = ATTENDANCE_RULES
    queryset = AttendanceEvent.objects.select_related("person", "camera")
    serializer_class = AttendanceLogSerializer
    filterset_class = LogFilter
    pagination_class = LogPagination
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]


def _event_list(events: list[AttendanceEvent]) -> dict[str, Any]:
    return {"events": [event_payload(event) for event in sorted(events, key=lambda e: e.at)]}


class EventViewSet(RoleScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Manual events and voids: HR's corrections, each with a reason and an audit row."""

    roles = EVENT_RULES
    queryset = AttendanceEvent.objects.select_related("person", "camera")
    serializer_class = AttendanceLogSerializer

    @extend_schema(
        summary="Add a manual check-in or check-out, or a whole attendance",
        request=ManualEventSerializer,
        responses={201: EventListSerializer, **error_responses(409, 422)},
    )
    def create(self, request: Request) -> Response:
        """Add the event (or pair) if the person's events still alternate."""
        params = ManualEventSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        context = audit.AuditContext.from_request(request)
        if "kind" in data:
            events = [
                add_manual_event(
                    data["person"],
                    data["kind"],
                    data["at"],
                    data["reason"],
                    request.user,
                    context=context,
                )
            ]
        else:
            events = add_manual_pair(
                data["person"],
                data["check_in"],
                data["check_out"],
                data["reason"],
                request.user,
                context=context,
            )
        return Response(_event_list(events), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Void an event (a check-in's check-out is voided with it)",
        request=VoidSerializer,
        responses={200: EventListSerializer, **error_responses(409, 422)},
    )
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        """Void the event, keeping the row, with the reason in the trace."""
        event = self.get_object()
        params = VoidSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        voided = void_event(
            event,
            params.validated_data["reason"],
            request.user,
            context=audit.AuditContext.from_request(request),
        )
        rows = self.get_queryset().filter(pk__in=[row.pk for row in voided])
        return Response(_event_list(list(rows)))


class DayViewSet(ReadOnlyViewSet):
    """People's work dates with their minutes and status, newest first."""

    roles = ATTENDANCE_RULES
    queryset = AttendanceDay.objects.select_related("person")
    serializer_class = AttendanceDaySerializer
    filterset_class = DayFilter
    pagination_class = LargeTablePagination
    ordering_fields = ["work_date", "worked_minutes", "late_minutes", "id"]
    ordering = ["-work_date", "person_id"]


PAGE_PARAMS = ("page", "page_size")


def _params(serializer_class: type, request: Request, paginated: bool = False) -> dict[str, Any]:
    """The query parameters validated by ``serializer_class``; on a paginated action the
    pagination's own ``page`` and ``page_size`` are left to the paginator."""
    query = without_empty_values(request.query_params)
    for name in PAGE_PARAMS if paginated else ():
        query.pop(name, None)
    params = serializer_class(data=query)
    params.is_valid(raise_exception=True)
    return params.validated_data


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S")


class ReportViewSet(RoleScopedMixin, viewsets.GenericViewSet):
    """Who is on site, totals per period, the dashboard and the exports."""

    roles = REPORT_RULES
    queryset = AttendanceDay.objects.none()
    content_negotiation_class = FirstRendererNegotiation
    filter_backends: list[type] = []

    @extend_schema(
        summary="Who is checked in now, last seen where and when (the roll call)",
        parameters=[RollCallParamsSerializer],
        responses={
            200: RollCallSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(str, description="Everyone on site, as CSV"),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=StrictPageNumberPagination)
    def present(self, request: Request) -> Response | StreamingHttpResponse:
        """The roll call as pages of JSON, or everyone at once as CSV."""
        states = reports.roll_call()
        if _params(RollCallParamsSerializer, request, paginated=True)["format"] == "csv":
            response = BatchedStreamingHttpResponse(
                exports.roll_call_lines(states), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="roll-call-{_stamp()}.csv"'
            return response
        page = self.paginate_queryset(states)
        return self.get_paginated_response(RollCallSerializer(page, many=True).data)

    @extend_schema(
        summary="Minutes and days by status per person and department over a period",
        parameters=[SummaryParamsSerializer],
        responses={200: SummarySerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def summary(self, request: Request) -> Response:
        """Totals over the day, week or month that contains ``date`` (default today).

        ``reports.summary`` already builds the documented shape from plain values, so it
        is rendered as it is: running ``SummarySerializer`` over 5,000 people took about
        150 ms of a request's 220 (BENCHMARKS.md, "Attendance API"). The rendered body
        is cached until its data changes (``attendance.summary_cache``)."""
        params = _params(SummaryParamsSerializer, request)
        scope = reports.SummaryFilter(
            department_id=params.get("department"), person_id=params.get("person")
        )
        period = params["period"]
        anchor = params.get("date") or reports.local_today()
        renderer = request.accepted_renderer

        def build() -> bytes:
            return renderer.render(reports.summary(period, anchor, scope))

        body = summary_cache.summary_body(period, anchor, scope, build)
        return HttpResponse(body, content_type=request.accepted_media_type)

    @extend_schema(
        summary="Today's counts, today's arrivals by hour and the 30-day trend",
        responses={200: AnalyticsSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def analytics(self, request: Request) -> Response:
        """The dashboard's figures."""
        return Response(AnalyticsSerializer(reports.analytics()).data)

    @extend_schema(
        summary="Export attendance events as CSV or XLSX, streamed",
        parameters=[ExportParamsSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(str, description="The events as CSV"),
            (200, XLSX_TYPE): OpenApiResponse(bytes, description="The events as XLSX"),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request) -> HttpResponse:
        """Every event from ``from`` to ``to``, oldest first, one row each."""
        params = _params(ExportParamsSerializer, request)
        events = exports.export_events(params.get("from"), params.get("to"))
        name = f"attendance-{_stamp()}"
        if params["format"] == "xlsx":
            body, content_type, extension = exports.xlsx_blocks(events), XLSX_TYPE, "xlsx"
        else:
            body, content_type = exports.csv_lines(events), "text/csv; charset=utf-8"
            extension = "csv"
        response = BatchedStreamingHttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
        return response
