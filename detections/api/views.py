"""Detections: history, the live feed from the cache, images, and labelling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import Max, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from accounts.api.viewsets import ReadOnlyViewSet
from accounts.private_images import private_image_response
from accounts.roles import ALL_ROLES, STAFF, RoleRules
from cameras.models import Camera
from config.api.errors import ApiError
from config.api.filters import TimeRangeFilterSet, without_empty_values
from config.api.pagination import LargeTablePagination, positive_int_param
from config.api.schema import error_responses
from config.api.serializers import ApiSerializer, QueryParamsSerializer
from detections import live_cache
from detections.api.serializers import (
    AssignSerializer,
    DetectionSerializer,
    LiveResponseSerializer,
    UnknownFaceSerializer,
)
from detections.assignment import assign_detection, assign_group
from detections.models import Detection, DetectionStatus, UnknownFace

MAX_LIVE_SECONDS = 600
DETECTION_RULES = RoleRules(
    read=ALL_ROLES,
    write=STAFF,
    actions={"assign": STAFF, "snapshot": ALL_ROLES, "face": ALL_ROLES, "live": ALL_ROLES},
)


class DetectionCursorPagination(CursorPagination):
    """Cursor pages of detections; ``page_size`` is checked as on page-number lists."""

    ordering = ("-captured_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        """The requested page size, capped, or the default when none is asked for."""
        size = positive_int_param(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)


def _live_from_database(camera_ids: list[int], seconds: float) -> list[dict]:
    """What the live cache would hold for this window, read from the detections table."""
    horizon = timezone.now() - timedelta(seconds=seconds)
    rows = (
        Detection.objects.select_related("person")
        .filter(camera_id__in=camera_ids, last_seen_at__gte=horizon)
        .order_by("-last_seen_at", "-id")[: live_cache.MAX_PER_CAMERA * max(1, len(camera_ids))]
    )
    return DetectionSerializer(rows, many=True).data


class PageOrCursorPagination(LargeTablePagination):
    """Page numbers as everywhere (with an estimated count when unfiltered and huge), or
    ``?cursor=`` (empty to start) for deep scrolling, where offsets get slow."""

    cursor_pagination_class: type[CursorPagination] = DetectionCursorPagination

    def _cursor(self, request: Request) -> bool:
        return "cursor" in request.query_params

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        """The page by cursor when ``cursor`` is given, else by page number; the choice
        is kept for ``get_paginated_response``."""
        if self._cursor(request):
            # Unused in cursor mode, yet still checked: garbage is a 400 either way.
            positive_int_param(request, self.page_query_param)
            self._delegate = self.cursor_pagination_class()
            return self._delegate.paginate_queryset(queryset, request, view)
        self._delegate = None
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: list[Any]) -> Response:
        """The envelope of the pagination that made the page: cursor links or a count."""
        if self._delegate is not None:
            return self._delegate.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """Cursor pages carry no ``count``; page-number pages do."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = [name for name in paginated["required"] if name != "count"]
        return paginated

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        """The page-number parameters plus ``cursor``, so clients see both ways."""
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Cursor pagination instead of pages (empty to start).",
                "schema": {"type": "string"},
            }
        )
        return parameters


class DetectionFilter(TimeRangeFilterSet):
    """The detection history's filters; ``from`` and ``to`` bound the capture time."""

    time_field = "captured_at"
    status = django_filters.ChoiceFilter(choices=DetectionStatus.choices)

    class Meta:
        model = Detection
        fields = ["camera", "person", "status", "unknown_face"]


def _stream(request: Request, detection: Detection, image: str, missing: str) -> HttpResponse:
    field_file = detection.face_crop if image == "face" else detection.frame
    if not field_file:
        raise ApiError(missing, code="no_image", status_code=404)
    return private_image_response(
        field_file,
        context=audit.AuditContext.from_request(request),
        model=Detection,
        image=image,
        object_id=detection.pk,
    )


class _LiveParams(QueryParamsSerializer):
    """``seconds``: the window, default 10, at most 600; ``camera``: only these cameras."""

    seconds = drf_serializers.FloatField(min_value=1, max_value=MAX_LIVE_SECONDS, default=10)
    camera = drf_serializers.ListField(child=drf_serializers.IntegerField(), required=False)


class DetectionViewSet(ReadOnlyViewSet):
    """Recognised, uncertain and unknown faces, one per tracked face."""

    roles = DETECTION_RULES
    queryset = Detection.objects.select_related("person")
    serializer_class = DetectionSerializer
    filterset_class = DetectionFilter
    pagination_class = PageOrCursorPagination
    ordering_fields = ["captured_at", "score", "id"]
    ordering = ["-captured_at", "-id"]

    @extend_schema(
        summary="The detections of the last seconds, newest first",
        parameters=[_LiveParams],
        responses={200: LiveResponseSerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def live(self, request: Request) -> Response:
        """The detections seen in the last ``seconds`` (at most 600) on the chosen cameras
        (all by default), newest first, with the server's time so a client can poll for
        what is new. Any role; unpaginated."""
        params = _LiveParams(data=without_empty_values(request.query_params))
        params.is_valid(raise_exception=True)
        cameras = params.validated_data.get("camera") or list(
            Camera.objects.values_list("id", flat=True)
        )
        seconds = params.validated_data["seconds"]
        results = live_cache.recent(cameras, seconds)
        if results is None:  # the cache is down or missed entries: ask the database
            results = _live_from_database(cameras, seconds)
        return Response({"results": results, "server_time": timezone.now()})

    @extend_schema(summary="A detection's frame", responses={(200, "image/jpeg"): bytes})
    @action(detail=True, methods=["get"])
    def snapshot(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The camera frame the detection was made in; 404 ``no_image`` when none was
        stored. Any role; each read is audited."""
        return _stream(request, self.get_object(), "frame", "This detection has no stored frame.")

    @extend_schema(summary="A detection's face crop", responses={(200, "image/jpeg"): bytes})
    @action(detail=True, methods=["get"])
    def face(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The detection's face cropped from its frame; 404 ``no_image`` when none was
        stored. Any role; each read is audited."""
        return _stream(request, self.get_object(), "face", "This detection has no stored face.")

    @extend_schema(
        summary="Label a detection with a person",
        request=AssignSerializer,
        responses={200: DetectionSerializer, **error_responses(422)},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Record that the detection shows this person, audited; with ``enroll`` its face
        crop also becomes a face sample of the person. Admins, HR managers and operators."""
        detection = self.get_object()
        params = AssignSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        assign_detection(
            detection,
            params.validated_data["person"],
            enroll=params.validated_data["enroll"],
            context=audit.AuditContext.from_request(request),
        )
        return Response(DetectionSerializer(detection).data)


class AssignResultSerializer(ApiSerializer):
    """The labelled group, how many of its detections were labelled, and how many of its
    face crops were enrolled (with ``enroll``)."""

    group = UnknownFaceSerializer()
    labelled = drf_serializers.IntegerField()
    enrolled = drf_serializers.IntegerField()


class UnknownFaceViewSet(ReadOnlyViewSet):
    """Groups of detections of the same unknown person."""

    roles = RoleRules(read=ALL_ROLES, write=STAFF, actions={"assign": STAFF})
    queryset = UnknownFace.objects.select_related("last_camera", "resolved_person").annotate(
        latest_detection_id=Max("detections__id")
    )
    serializer_class = UnknownFaceSerializer
    filterset_fields = ["last_camera"]
    ordering_fields = ["last_seen", "seen_count", "id"]
    ordering = ["-last_seen", "-id"]

    @extend_schema(
        summary="Label every detection of an unknown face with a person",
        request=AssignSerializer,
        responses={200: AssignResultSerializer, **error_responses(422)},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Record that every detection of the group shows this person and resolve the
        group, audited; with ``enroll`` its best face crops (up to
        ``UNKNOWN_ENROL_MAX_CROPS``) become face samples, so later sightings are
        recognised. Admins, HR managers and operators."""
        group = self.get_object()
        params = AssignSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = assign_group(
            group,
            params.validated_data["person"],
            enroll=params.validated_data["enroll"],
            context=audit.AuditContext.from_request(request),
        )
        group.refresh_from_db()
        return Response(
            {
                "group": UnknownFaceSerializer(group).data,
                "labelled": result.labelled,
                "enrolled": result.enrolled,
            }
        )
