"""User management and the audit log, for admins."""

from __future__ import annotations

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view

from accounts import services, sessions
from accounts.api.serializers import AuditLogSerializer, ManagedUserSerializer
from accounts.api.viewsets import AuditedModelViewSet, ReadOnlyViewSet
from accounts.models import AuditAction, AuditLog, User
from accounts.roles import ADMIN_ONLY, Role, RoleRules
from config.api.errors import Conflict
from config.api.filters import ApiFilterSet, IdFilter, TimeRangeFilterSet
from config.api.schema import error_responses


class UserFilter(ApiFilterSet):
    """Filters for the user list: by role and by whether the account is active."""

    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = User
        fields = ["role", "is_active"]


@extend_schema_view(destroy=extend_schema(responses={204: None, **error_responses(409)}))
class UserViewSet(AuditedModelViewSet):
    """Users who sign in to Presence, managed by admins. Admins cannot delete themselves
    or remove the last active admin."""

    roles = RoleRules(read=ADMIN_ONLY, write=ADMIN_ONLY)
    queryset = User.objects.all()
    serializer_class = ManagedUserSerializer
    filterset_class = UserFilter
    search_fields = ["email", "full_name"]
    ordering_fields = ["email", "full_name", "role", "date_joined", "last_login"]
    ordering = ["email"]

    def perform_update(self, serializer: ManagedUserSerializer) -> None:
        """Save the change; a new password signs the user out everywhere."""
        data = serializer.validated_data
        services.ensure_admins_remain(
            serializer.instance, new_role=data.get("role"), new_active=data.get("is_active")
        )
        password_changed = bool(data.get("password"))
        with transaction.atomic():
            super().perform_update(serializer)
            if password_changed:
                sessions.end_all(serializer.instance)

    def perform_destroy(self, instance: User) -> None:
        """Refuse to delete the caller or the last active admin, then delete with audit."""
        if instance.pk == self.request.user.pk:
            raise Conflict("You cannot delete your own account.")
        services.ensure_admins_remain(instance, new_role=None, new_active=False)
        super().perform_destroy(instance)


class AuditLogFilter(TimeRangeFilterSet):
    """Filters for the audit log: time range, action, object, actor and source."""

    time_field = "at"
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    actor = IdFilter(field_name="actor_id")
    source = django_filters.CharFilter()

    class Meta:
        model = AuditLog
        fields = ["action", "object_type", "object_id", "actor", "source"]


class AuditLogViewSet(ReadOnlyViewSet):
    """Every create, update and delete, newest first. Secrets are masked."""

    roles = RoleRules(read=ADMIN_ONLY, write=ADMIN_ONLY)
    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]
