"""Users (email login, one role each), their sign-in sessions and the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from accounts.roles import STAFF, Role, admin_capability_allows, admin_site_allows


class UserManager(BaseUserManager):
    """Creates users by email (there is no username) and finds them case-insensitively."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        """Save a user with a lower-cased email; no password leaves it unable to sign in."""
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        """``createsuperuser`` makes an admin: the role, not a flag, grants everything."""
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> User:
        """Sign-in matches the email whatever its case."""
        return self.get(email__iexact=username)


class User(AbstractBaseUser):
    """A person who signs in: staff of the HR or security team, or an administrator.

    Employees recognised by the cameras are ``faces.Person`` rows, not users. There are
    no groups or per-user permissions: the role decides everything (``accounts.roles``).
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Every JWT carries the version it was issued under (``accounts.sessions``); raising
    # it ("sign out everywhere", a password change) ends every token issued before, access
    # tokens included, at their next use.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        """The name to show, falling back on the email when none was given."""
        return self.full_name or self.email

    def get_short_name(self) -> str:
        """The first name for greetings, falling back on the email."""
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_staff(self) -> bool:
        """Back-office (admin site) access follows the role."""
        return self.is_active and self.role in STAFF

    @property
    def is_superuser(self) -> bool:
        """Active admins are Django superusers: the role, not a stored flag, decides."""
        return self.is_active and self.role == Role.ADMIN

    def has_perm(self, perm: str, obj: models.Model | None = None) -> bool:
        """Django's ``app.action_model`` permission, decided by the role, not per user."""
        if not self.is_active:
            return False
        app_label, _, codename = perm.partition(".")
        action = codename.split("_", 1)[0]
        return admin_site_allows(self.role, app_label, action)

    def has_perms(self, perm_list: Iterable[str], obj: models.Model | None = None) -> bool:
        """Every one of ``perm_list``, each decided by the role like ``has_perm``."""
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        """Whether the admin site shows the app at all: the role may view something in it."""
        return self.is_active and admin_site_allows(self.role, app_label, "view")

    def has_capability(self, capability: str) -> bool:
        """An ``accounts.roles.AdminCapability`` beyond view/add/change/delete (an admin
        action, enrolment photos), decided by the role like ``has_perm``."""
        return self.is_active and admin_capability_allows(self.role, capability)


class UserSession(models.Model):
    """One signed-in device: a login and the chain of refresh tokens rotated from it.

    The refresh and access tokens carry the session's ``key`` (the ``sid`` claim), so a
    token is refused once its session is revoked; ``refresh_jti`` is the current refresh
    token of the chain, the only one that may be exchanged (``accounts.sessions``). No
    token is stored here, only its id.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    refresh_jti = models.CharField(max_length=255, db_index=True)
    user_agent = models.CharField(max_length=256, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_used_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} from {self.ip or 'unknown address'} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_live(self) -> bool:
        """Not revoked and its refresh token not yet expired."""
        return self.revoked_at is None and self.expires_at > timezone.now()


class AuditAction(models.TextChoices):
    """What an audit row records: a write, an erasure or a batch of biometric image reads."""

    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    ERASE = "erase", "Erase biometric data"
    READ = "read", "Read biometric images"


class AuditSource(models.TextChoices):
    """Where the change came from, so the API, the back-office and jobs can be told apart."""

    API = "api", "API"
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"


class AuditLog(models.Model):
    """One create, update, delete or batch of image reads: who, from where, what changed.

    Rows are written in the same transaction as the change and never edited (except a
    batch of image reads, extended while it is open: ``accounts.audit_reads``). The actor's
    email is copied so the row still says who it was after the user is deleted.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_logs"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=AuditSource.choices)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        who = self.actor_email or "system"
        target = f"{self.object_type}#{self.object_id}"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} {target}"
