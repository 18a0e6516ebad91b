"""Account operations shared by the API, the admin and commands."""

from __future__ import annotations

from django.db import transaction

from accounts import audit, sessions
from accounts.models import User
from accounts.roles import Role
from config.errors import Conflict


def ensure_admins_remain(user: User, *, new_role: str | None, new_active: bool | None) -> None:
    """Refuse a change that would leave no active admin to run the system."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    demoted = new_role is not None and new_role != Role.ADMIN
    deactivated = new_active is False
    if not (demoted or deactivated):
        return
    others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise Conflict("This is the last active admin; make another admin first.")


def change_password(user: User, new_password: str, context: audit.AuditContext) -> None:
    """Set a new password and sign the user out everywhere: whoever knew the old one
    keeps no token, access tokens included (``accounts.sessions.end_all``)."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sessions.end_all(user)
        audit.record_secret_change(user, "password", context)
