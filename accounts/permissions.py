"""The one permission class every API view uses.

Each view declares ``roles = RoleRules(...)`` (``accounts.roles``); this class reads it.
A view without ``roles`` is closed to everyone, so a forgotten declaration fails safe.
Queryset restriction by role lives in ``accounts.api.viewsets.RoleScopedMixin``.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import RoleRules


class RolePermission(BasePermission):
    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        rules: RoleRules | None = getattr(view, "roles", None)
        if rules is None:
            return False
        allowed = rules.allowed(
            action=getattr(view, "action", None), safe_method=request.method in SAFE_METHODS
        )
        return user.role in allowed
