"""The Odoo connection: read, replace, and test it (admins only)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.api.viewsets import ReadOnlyViewSet
from accounts.permissions import RolePermission
from accounts.roles import ADMIN_ONLY, PEOPLE_MANAGERS, RoleRules
from config import background
from config.api.schema import error_responses
from config.errors import Conflict
from integrations import tasks
from integrations.api.serializers import (
    ConnectionTestSerializer,
    OdooConnectionSerializer,
    OdooOutboxSerializer,
    OdooSyncJobSerializer,
    SyncStartedSerializer,
)
from integrations.models import OdooConnection, OdooOutbox, OdooSyncJob
from integrations.services import probe_connection
from integrations.sync import retry_outbox_row, skip_outbox_row


class OdooConnectionViewSet(viewsets.GenericViewSet):
    """One connection row: ``GET`` and ``PUT /integrations/odoo``, and its test."""

    roles = RoleRules(
        read=ADMIN_ONLY, write=ADMIN_ONLY, actions={"test": ADMIN_ONLY, "sync": ADMIN_ONLY}
    )
    permission_classes = [RolePermission]
    serializer_class = OdooConnectionSerializer
    queryset = OdooConnection.objects.all()
    pagination_class = None
    filter_backends: list = []
    # Only the test has a scope of its own: it opens a connection to Odoo and waits.
    throttle_scope: str | None = None

    def get_object(self) -> OdooConnection:
        """The one connection row: the paths carry no id (DRF's OPTIONS asks for it too)."""
        connection = OdooConnection.load()
        self.check_object_permissions(self.request, connection)
        return connection

    @extend_schema(summary="The Odoo connection", tags=["odoo"])
    def retrieve(self, request: Request) -> Response:
        """The settings; ``api_key`` is never returned (``has_api_key`` instead)."""
        return Response(self.get_serializer(OdooConnection.load()).data)

    @extend_schema(
        summary="Replace the Odoo connection",
        description="An empty or omitted ``api_key`` keeps the stored key. 422 when the "
        "base URL points at a refused address or enabling lacks a required field.",
        responses={200: OdooConnectionSerializer, **error_responses(422)},
        tags=["odoo"],
    )
    def update(self, request: Request) -> Response:
        """Save and audit in one transaction; the audit row masks the key."""
        connection = OdooConnection.load()
        serializer = self.get_serializer(connection, data=request.data)
        serializer.is_valid(raise_exception=True)
        before = audit.snapshot(connection)
        with transaction.atomic():
            connection = serializer.save()
            audit.record_update(connection, before, audit.AuditContext.from_request(request))
        return Response(self.get_serializer(connection).data)

    @extend_schema(
        summary="Test the Odoo connection",
        description="Calls ``version`` and ``authenticate``. A failure (refused, timed out, "
        "bad database, bad key, too many login failures) is a 200 with ``ok: false``, a "
        "code in ``error`` and plain words in ``message``: an Odoo that is down is not the "
        "client's mistake.",
        request=None,
        responses={200: ConnectionTestSerializer},
        tags=["odoo"],
    )
    def test(self, request: Request) -> Response:
        """Probe the stored connection, with the address guard and the timeout."""
        return Response(probe_connection(OdooConnection.load()).as_dict())

    @extend_schema(
        summary="Start an employee sync",
        description="Queues a pull of the employees changed in Odoo since the last run "
        "(202). 409 ``odoo_disabled`` while the connection is not enabled. A run already "
        "in progress makes the queued one end at once.",
        request=None,
        responses={202: SyncStartedSerializer, **error_responses(409)},
        tags=["odoo"],
    )
    def sync(self, request: Request) -> Response:
        """Queue ``integrations.tasks.pull_employees`` off the request."""
        if not OdooConnection.load().enabled:
            raise Conflict("Enable the Odoo connection first.", code="odoo_disabled")
        background.enqueue(tasks.pull_employees)
        return Response({"queued": True}, status=202)


class OdooSyncJobViewSet(ReadOnlyViewSet):
    """Sync and push runs, newest first (admins and HR managers)."""

    roles = RoleRules(read=PEOPLE_MANAGERS, write=ADMIN_ONLY)
    queryset = OdooSyncJob.objects.all()
    serializer_class = OdooSyncJobSerializer
    filterset_fields = ["kind", "state"]
    ordering_fields = ["started_at", "id"]
    ordering = ["-started_at", "-id"]

    @extend_schema(summary="Odoo sync and push runs", tags=["odoo"])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Filter by ``kind`` (pull_employees, push_attendance) and ``state``."""
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One Odoo sync or push run", tags=["odoo"])
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        """One run with its counts and reported problems."""
        return super().retrieve(request, *args, **kwargs)


class OdooOutboxViewSet(ReadOnlyViewSet):
    """The attendance outbox: what was pushed, what waits, what is parked."""

    roles = RoleRules(
        read=PEOPLE_MANAGERS, write=ADMIN_ONLY, actions={"retry": ADMIN_ONLY, "skip": ADMIN_ONLY}
    )
    queryset = OdooOutbox.objects.select_related("person")
    serializer_class = OdooOutboxSerializer
    filterset_fields = ["state", "kind", "person"]
    ordering_fields = ["id", "at"]
    ordering = ["-id"]

    @extend_schema(summary="The Odoo outbox", tags=["odoo"])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Filter by ``state`` (pending, sent, failed, skipped), ``kind``, ``person``."""
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One Odoo outbox row", tags=["odoo"])
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        """One row with its outcome and last error."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Retry a parked outbox row",
        description="Puts a failed row back in the queue now, with a fresh 24 hours of "
        "retries. 409 ``outbox_row_not_parked`` for a row that is not failed.",
        request=None,
        responses={200: OdooOutboxSerializer, **error_responses(409)},
        tags=["odoo"],
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Admins only; audited; a push is queued."""
        with transaction.atomic():
            row = self.get_queryset().select_for_update(of=("self",)).get(pk=self.get_object().pk)
            retry_outbox_row(row, audit.AuditContext.from_request(request))
            transaction.on_commit(lambda: background.enqueue(tasks.push_attendance))
        return Response(self.get_serializer(row).data)

    @extend_schema(
        summary="Skip a parked outbox row",
        description="Gives up on a failed row so the person's later rows go on. 409 "
        "``outbox_row_not_parked`` for a row that is not failed.",
        request=None,
        responses={200: OdooOutboxSerializer, **error_responses(409)},
        tags=["odoo"],
    )
    @action(detail=True, methods=["post"])
    def skip(self, request: Request, pk: str | None = None) -> Response:
        """Admins only; audited; a push is queued for the rows it unblocks."""
        with transaction.atomic():
            row = self.get_queryset().select_for_update(of=("self",)).get(pk=self.get_object().pk)
            skip_outbox_row(row, audit.AuditContext.from_request(request))
            transaction.on_commit(lambda: background.enqueue(tasks.push_attendance))
        return Response(self.get_serializer(row).data)
