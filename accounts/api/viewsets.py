"""Base viewsets every app builds on: role checks, role-scoped querysets and auditing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Model, QuerySet
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.permissions import RolePermission
from accounts.roles import RoleRules

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.serializers import BaseSerializer

    from accounts.models import User


class RoleScopedMixin:
    """Subclasses narrow what a role may see by overriding ``scope_queryset``; the base
    ``get_queryset`` always applies it, so no view can forget to."""

    roles: RoleRules = RoleRules()
    permission_classes = [RolePermission]

    def scope_queryset(self, queryset: QuerySet, user: User | AnonymousUser) -> QuerySet:
        """Narrow ``queryset`` to what ``user`` may see; the base lets every row through."""
        return queryset

    def get_queryset(self) -> QuerySet:
        """The view's queryset, always passed through ``scope_queryset`` for the caller."""
        return self.scope_queryset(super().get_queryset(), self.request.user)


class AuditedMutationsMixin:
    """Creates, updates and deletes write their audit row in the same transaction."""

    def audit_context(self) -> audit.AuditContext:
        """Who made the change and from where, taken from the request, for the audit row."""
        return audit.AuditContext.from_request(self.request)

    def perform_create(self, serializer: BaseSerializer) -> None:
        """Save the new object and record its creation in one transaction."""
        with transaction.atomic():
            instance = serializer.save()
            audit.record_create(instance, self.audit_context())

    def perform_update(self, serializer: BaseSerializer) -> None:
        """Save the change and record the fields it changed in one transaction."""
        before = audit.snapshot(serializer.instance)
        with transaction.atomic():
            instance = serializer.save()
            audit.record_update(instance, before, self.audit_context())

    def perform_destroy(self, instance: Model) -> None:
        """Delete the object and record what it was in one transaction."""
        before = audit.snapshot(instance)
        object_id = instance.pk
        with transaction.atomic():
            instance.delete()
            audit.record_delete(instance, before, object_id, self.audit_context())


class ReadOnlyViewSet(RoleScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only rows: listed and shown, never written through the API."""


class AuditedModelViewSet(RoleScopedMixin, AuditedMutationsMixin, viewsets.ModelViewSet):
    """CRUD with audit rows. PUT is not offered: PATCH updates.

    Creates and updates answer with the object read back through ``get_queryset``, in
    full: the same shape as GET (annotations and related names included), not the
    partial view of the object that the write serializer was left with.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _read_back(self, instance: Any) -> dict:
        fresh = self.get_queryset().filter(pk=instance.pk).first() or instance
        return self.get_serializer(fresh).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create, then answer 201 with the object as GET shows it."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return Response(self._read_back(serializer.instance), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Update (PATCH), then answer with the object as GET shows it."""
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(self._read_back(serializer.instance))
