"""Admin capabilities answered by the role policy.

Django filters admin actions by ``allowed_permissions``: for each name ``x`` it calls
``has_x_permission(request)`` on the ModelAdmin. Every ModelAdmin of Presence mixes in
``RoleAdminMixin``, which has one such method per ``accounts.roles.AdminCapability``, each
asking ``User.has_capability`` (and so ``accounts.roles``), the way ``has_change_permission``
asks ``User.has_perm``. An admin never tests a role itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.roles import ADMIN_CAPABILITIES


def has_capability(request: Any, capability: str) -> bool:
    """Whether the signed-in user of ``request`` has ``capability``."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.has_capability(capability))


def _capability_check(capability: str) -> Callable[..., bool]:
    def check(self: Any, request: Any, obj: Any = None) -> bool:
        return has_capability(request, capability)

    check.__name__ = f"has_{capability}_permission"
    check.__doc__ = f"Whether the user's role has the ``{capability}`` capability."
    return check


class RoleAdminMixin:
    """``has_<capability>_permission`` for every capability in ``ADMIN_CAPABILITIES``."""


for _capability in ADMIN_CAPABILITIES:
    setattr(RoleAdminMixin, f"has_{_capability}_permission", _capability_check(_capability))
