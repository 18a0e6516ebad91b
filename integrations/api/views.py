"""The Odoo connection: read, replace, and test it (admins only)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.permissions import RolePermission
from accounts.roles import ADMIN_ONLY, RoleRules
from config.api.schema import error_responses
from integrations.api.serializers import ConnectionTestSerializer, OdooConnectionSerializer
from integrations.models import OdooConnection
from integrations.services import probe_connection


class OdooConnectionViewSet(viewsets.GenericViewSet):
    """One connection row: ``GET`` and ``PUT /integrations/odoo``, and its test."""

    roles = RoleRules(read=ADMIN_ONLY, write=ADMIN_ONLY, actions={"test": ADMIN_ONLY})
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
