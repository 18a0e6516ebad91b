"""Account operations shared by the API, the admin and commands."""

from __future__ import annotations

from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import audit
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


def revoke_refresh_tokens(user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``: all sessions end."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


def change_password(user: User, new_password: str, context: audit.AuditContext) -> None:
    """Set the password and revoke the refresh tokens, so other sessions end; audited."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_refresh_tokens(user)
        audit.record_secret_change(user, "password", context)
