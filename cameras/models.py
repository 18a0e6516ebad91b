"""Cameras: where a stream comes from, how to analyse it, and how it is doing.

Credentials live apart from the URL, the password encrypted at rest, so the URL can be
shown (masked all the same, in case one was typed into a query string). Status fields
are written by the stream supervisor with ``update()``, which leaves ``updated_at`` alone:
``updated_at`` moves only when someone edits the camera, and that is how supervisors
notice configuration changes.
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save

from accounts.crypto import EncryptedTextField


class Direction(models.TextChoices):
    ENTRY = "entry", "Entry"
    EXIT = "exit", "Exit"
    BOTH = "both", "Both"


class CameraStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    ERROR = "error", "Error"
    DISABLED = "disabled", "Disabled"


class Camera(models.Model):
    audit_secret_fields = ("password",)

    name = models.CharField(max_length=100, unique=True)
    source_url = models.CharField(
        max_length=2000, help_text="rtsp://, http(s)://, file:///path (tests) or a device index."
    )
    username = models.CharField(max_length=200, blank=True)
    password = EncryptedTextField(blank=True)
    location = models.CharField(max_length=200, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.BOTH)
    enabled = models.BooleanField(default=True)
    analysis_fps = models.FloatField(
        default=2.0, validators=[MinValueValidator(0.2), MaxValueValidator(15)]
    )
    detection_width = models.PositiveIntegerField(
        default=640, validators=[MinValueValidator(160), MaxValueValidator(3840)]
    )
    min_face_size = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(16), MaxValueValidator(1000)]
    )
    roi = models.JSONField(
        null=True,
        blank=True,
        help_text="Region of interest: a polygon of [x, y] points from 0 to 1; empty = all.",
    )

    status = models.CharField(
        max_length=10, choices=CameraStatus.choices, default=CameraStatus.OFFLINE
    )
    last_frame_at = models.DateTimeField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    reconnects_last_hour = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_source_url(self) -> str:
        from cameras.sources import mask_url

        return mask_url(self.source_url)

    def redact(self, text: str) -> str:
        """``text`` with this camera's password removed, in plain and URL-encoded form.
        Reader errors are masked where they are made; this is the second line of defence
        for anything that is shown or logged."""
        from urllib.parse import quote

        if not text or not self.password:
            return text
        for secret in {self.password, quote(self.password, safe="")}:
            text = text.replace(secret, "***")
        return text

    def open_target(self) -> str | int:
        """What the stream reader opens: the URL with the decrypted credentials."""
        from cameras.sources import open_target, with_credentials

        url = self.source_url
        if self.username or self.password:
            url = with_credentials(url, self.username or "", self.password or "")
        return open_target(url)


LIST_VERSION_KEY = "cameras:list-version"


def list_cache_version() -> int:
    return cache.get_or_set(LIST_VERSION_KEY, 1, timeout=None)


def _bump_list_version(**_kwargs) -> None:
    try:
        cache.incr(LIST_VERSION_KEY)
    except ValueError:
        cache.set(LIST_VERSION_KEY, 1, timeout=None)


post_save.connect(_bump_list_version, sender=Camera, dispatch_uid="cameras-list-save")
post_delete.connect(_bump_list_version, sender=Camera, dispatch_uid="cameras-list-delete")
