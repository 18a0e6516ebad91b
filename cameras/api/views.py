"""Cameras: CRUD, the newest frame, and probing a source."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.cache import cache
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.api.viewsets import AuditedModelViewSet
from accounts.private_images import private_image_response
from accounts.roles import ALL_ROLES, CAMERA_MANAGERS, RoleRules
from cameras.addresses import AddressRefused
from cameras.api.serializers import CameraSerializer, ProbeResultSerializer, address_refused
from cameras.models import Camera, CameraStatus, Direction, list_cache_version
from cameras.services import check_before_connect, connect_guard
from cameras.snapshots import latest_snapshot
from cameras.streams.probe import probe_source
from config.api.errors import ApiError
from config.api.filters import ApiFilterSet
from config.api.schema import error_responses

PROBE_TIMEOUT_SECONDS = 10.0
LIST_CACHE_SECONDS = 1.0


class CameraFilter(ApiFilterSet):
    """The camera list's filters: the screens show cameras by status and by door side."""

    status = django_filters.ChoiceFilter(choices=CameraStatus.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)

    class Meta:
        model = Camera
        fields = ["status", "direction", "enabled"]


class CameraViewSet(AuditedModelViewSet):
    """Door cameras. Credentials are write-only; URLs are masked in every response."""

    roles = RoleRules(
        read=ALL_ROLES,
        write=CAMERA_MANAGERS,
        actions={"snapshot": ALL_ROLES, "test": CAMERA_MANAGERS},
    )
    # Lists need no password: deferring it saves decrypting one per camera per poll.
    queryset = Camera.objects.defer("password", "url_secrets", "main_stream_url_secrets").annotate(
        has_password=ExpressionWrapper(~Q(password=""), output_field=BooleanField())
    )
    serializer_class = CameraSerializer
    filterset_class = CameraFilter
    search_fields = ["name", "location"]
    ordering_fields = ["name", "status", "last_frame_at", "id"]
    ordering = ["name", "id"]
    # Only the "test" action has a scope of its own (THROTTLE_CAMERA_TEST_RATE): each
    # probe opens a connection to the camera and waits on it.
    throttle_scope: str | None = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cameras with their status, for every role. An edit shows at once; a status
        change may take up to a second to show, as the page is kept that long."""
        # The frontend polls this every few seconds from every open screen: the page is
        # kept for LIST_CACHE_SECONDS. Edits clear it at once (list_cache_version);
        # supervisor heartbeats do not, so statuses lag by at most that long.
        key = f"cameras:list:{list_cache_version()}:{request.get_full_path()}"
        data = cache.get(key)
        if data is None:
            data = super().list(request, *args, **kwargs).data
            cache.set(key, data, timeout=LIST_CACHE_SECONDS)
        return Response(data)

    @extend_schema(
        summary="A camera's newest frame",
        description="409 ``no_snapshot`` while the camera has no recent frame (offline, "
        "disabled, or not yet read).",
        responses={(200, "image/jpeg"): bytes, **error_responses(409)},
    )
    @action(detail=True, methods=["get"])
    def snapshot(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The frame the supervisor kept last, for every role; each read is audited."""
        camera = self.get_object()
        jpeg = latest_snapshot(camera.pk)
        if jpeg is None:
            raise ApiError(
                f"{camera.name} has no recent frame; it is {camera.status}.",
                code="no_snapshot",
                status_code=status.HTTP_409_CONFLICT,
            )
        return private_image_response(
            jpeg,
            context=audit.AuditContext.from_request(request),
            model=Camera,
            image="snapshot",
            object_id=camera.pk,
        )

    @extend_schema(
        summary="Probe a camera's source",
        request=None,
        responses={200: ProbeResultSerializer, **error_responses(422)},
    )
    @action(detail=True, methods=["post"], throttle_scope="camera_test")
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Open the camera's saved source once: ``ok`` with the frame size and rate, or
        the error (credentials removed). Admins and operators only; throttled, as each
        probe holds a connection to the camera for up to ten seconds. 422 when the
        source's host is outside the allowed networks."""
        camera = self.get_object()
        try:
            check_before_connect(camera.source_url, require_dns=False)
        except AddressRefused as exc:
            raise address_refused(exc) from exc
        result = probe_source(
            camera.open_target(),
            timeout=PROBE_TIMEOUT_SECONDS,
            label=camera.masked_source_url,
            guard=connect_guard(camera.source_url),
        )
        return Response(
            {
                "ok": result.ok,
                "width": result.width,
                "height": result.height,
                "fps": round(result.fps, 2) if result.fps else None,
                "error": camera.redact(result.error) if result.error else None,
            }
        )
