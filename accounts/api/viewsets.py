"""Base viewsets every app builds on: role checks, role-scoped querysets and auditing."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from rest_framework import viewsets

from accounts import audit
from accounts.permissions import RolePermission
from accounts.roles import RoleRules


class RoleScopedMixin:
    """Subclasses narrow what a role may see by overriding ``scope_queryset``; the base
    ``get_queryset`` always applies it, so no view can forget to."""

    roles: RoleRules = RoleRules()
    permission_classes = [RolePermission]

    def scope_queryset(self, queryset: QuerySet, user) -> QuerySet:
        return queryset

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset(), self.request.user)


class AuditedMutationsMixin:
    """Creates, updates and deletes write their audit row in the same transaction."""

    def audit_context(self) -> audit.AuditContext:
        return audit.AuditContext.from_request(self.request)

    def perform_create(self, serializer) -> None:
        with transaction.atomic():
            instance = serializer.save()
            audit.record_create(instance, self.audit_context())

    def perform_update(self, serializer) -> None:
        before = audit.snapshot(serializer.instance)
        with transaction.atomic():
            instance = serializer.save()
            audit.record_update(instance, before, self.audit_context())

    def perform_destroy(self, instance) -> None:
        before = audit.snapshot(instance)
        object_id = instance.pk
        with transaction.atomic():
            instance.delete()
            audit.record_delete(instance, before, object_id, self.audit_context())


class ReadOnlyViewSet(RoleScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class AuditedModelViewSet(RoleScopedMixin, AuditedMutationsMixin, viewsets.ModelViewSet):
    # PUT is not offered: PATCH updates.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
