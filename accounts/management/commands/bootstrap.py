"""Make sure an admin exists and say how to sign in (used by `make run`).

The credentials come from PRESENCE_ADMIN_EMAIL and PRESENCE_ADMIN_PASSWORD when set.
Otherwise a password is generated once, kept in var/initial-admin-password (mode 0600)
and printed on every start for as long as it still works.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import audit
from accounts.models import User
from accounts.roles import Role

DEFAULT_EMAIL = "admin@presence.local"


class Command(BaseCommand):
    """Make a fresh install reachable: one admin, and the way to sign in as them."""

    help = "Create the first admin if there is none, and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the admin only when none exists, so reruns never reset a password."""
        email = os.environ.get("PRESENCE_ADMIN_EMAIL", DEFAULT_EMAIL).strip().lower()
        given_password = os.environ.get("PRESENCE_ADMIN_PASSWORD")
        secret_file = Path(settings.VAR_DIR) / "initial-admin-password"
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            password = given_password or secrets.token_urlsafe(12)
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, full_name="Administrator", role=Role.ADMIN
                )
                audit.record_create(user, audit.AuditContext())
            if not given_password:
                secret_file.parent.mkdir(parents=True, exist_ok=True)
                secret_file.write_text(password)
                secret_file.chmod(0o600)
        self._print_credentials(user, given_password, secret_file)

    def _print_credentials(self, user: User, given_password: str | None, secret_file: Path) -> None:
        if given_password:
            self.stdout.write(f"Admin: {user.email} (password from PRESENCE_ADMIN_PASSWORD)")
            return
        stored = secret_file.read_text().strip() if secret_file.exists() else ""
        if stored and user.check_password(stored):
            self.stdout.write(self.style.SUCCESS(f"Admin: {user.email}  password: {stored}"))
        else:
            self.stdout.write(f"Admin: {user.email} (password was changed since first start)")
