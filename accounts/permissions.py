"""The one permission class every API view uses.

Each view declares ``roles = RoleRules(...)`` (``accounts.roles``); this class reads it.
A view without ``roles`` is closed to everyone, so a forgotten declaration fails safe.
Queryset restriction by role lives in ``accounts.api.viewsets.RoleScopedMixin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import RoleRules

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class RolePermission(BasePermission):
    """Allow a request when the user's role is in the view's ``roles`` for it."""

    message = "Your role does not allow this action."

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Active, signed-in users whose role the view's rules allow for this action."""
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
