"""Cameras: where a stream comes from, how to analyse it, and how it is doing.

Credentials live apart from the URL, encrypted at rest, so the URL can be shown: the
userinfo password in ``password``, and credentials typed into the query string
(``?password=...``, ``token``, ``api_key``...) in ``url_secrets``, the URL keeping ``***``
in their place. Both are put back only when the stream is opened (``open_target``). A
camera may have a second URL, ``main_stream_url``: its full-resolution stream, read for
snapshots while the pipeline analyses ``source_url`` (then its sub-stream). It is the same
device, so it is opened with the same username and password; its own query credentials
are kept, encrypted, in ``main_stream_url_secrets``. Status fields
are written by the stream supervisor with ``update()``, which leaves ``updated_at`` alone:
``updated_at`` moves only when someone edits the camera, and that is how supervisors
notice configuration changes.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save

from accounts.crypto import EncryptedTextField


class Direction(models.TextChoices):
    """Which way people pass the camera, so attendance knows check-in from check-out."""

    ENTRY = "entry", "Entry"
    EXIT = "exit", "Exit"
    BOTH = "both", "Both"


class CameraStatus(models.TextChoices):
    """The stream's health as the supervisor last saw it."""

    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    ERROR = "error", "Error"
    DISABLED = "disabled", "Disabled"


class DecoderState(models.TextChoices):
    """Where a camera's stream reader stands (``cameras.streams.StreamState``), finer than
    the status: ``connecting`` and ``offline`` are both an offline camera, but only one of
    them has ever worked since the reader started."""

    CONNECTING = "connecting", "Connecting"
    ONLINE = "online", "Online"
    IDLE = "idle", "Idle (key frames only)"
    """Online, but no face for ``CAMERA_IDLE_SECONDS``: decoding key frames alone."""
    OFFLINE = "offline", "Offline (reconnecting)"
    ERROR = "error", "Error (retrying)"
    STOPPED = "stopped", "Stopped"


class Decoder(models.TextChoices):
    """What decodes a camera's stream (``settings.CAMERA_DECODER``; a device is OpenCV)."""

    FFMPEG = "ffmpeg", "FFmpeg process"
    OPENCV = "opencv", "OpenCV"


def encode_url_secrets(pairs: list[list[str]]) -> str:
    """How ``Camera.url_secrets`` keeps the query credentials (before encryption)."""
    return json.dumps(pairs) if pairs else ""


class Camera(models.Model):
    """A stream to analyse, its analysis settings, and the supervisor's view of it."""

    audit_secret_fields = ("password", "url_secrets", "main_stream_url_secrets")

    name = models.CharField(max_length=100, unique=True)
    source_url = models.CharField(
        max_length=2000, help_text="rtsp://, http(s)://, file:///path (tests) or a device index."
    )
    main_stream_url = models.CharField(
        max_length=2000,
        blank=True,
        default="",
        help_text="Optional: the camera's full-resolution stream, for snapshots; "
        "source_url is then its sub-stream, which is analysed. Same credentials.",
    )
    main_stream_url_secrets = EncryptedTextField(
        blank=True,
        default="",
        help_text="Credentials from the main stream URL's query string, as JSON.",
    )
    username = models.CharField(max_length=200, blank=True)
    password = EncryptedTextField(blank=True)
    url_secrets = EncryptedTextField(
        blank=True,
        default="",
        help_text="Credentials from the URL's query string, as JSON [[name, value], ...].",
    )
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
    decoder = models.CharField(max_length=10, choices=Decoder.choices, blank=True)
    decoder_state = models.CharField(max_length=12, choices=DecoderState.choices, blank=True)
    analysed_fps = models.FloatField(
        null=True, blank=True, help_text="Frames analysed per second (fps: frames read)."
    )
    dropped_frames = models.PositiveBigIntegerField(
        default=0,
        help_text="Frames read but replaced by a newer one before the analysis took them, "
        "since the supervisor started reading the camera: analysis falling behind.",
    )
    decoder_error = models.TextField(
        blank=True, help_text="The reader's last error, kept after it recovered (masked)."
    )
    main_stream_state = models.CharField(max_length=12, choices=DecoderState.choices, blank=True)
    main_stream_error = models.TextField(blank=True)
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
        """The URL as it may be shown: without any credentials."""
        from cameras.sources import mask_url

        return mask_url(self.source_url)

    @property
    def query_secrets(self) -> list[list[str]]:
        """The ``[name, raw value]`` pairs taken out of the URL's query string."""
        return json.loads(self.url_secrets) if self.url_secrets else []

    @query_secrets.setter
    def query_secrets(self, pairs: list[list[str]]) -> None:
        self.url_secrets = encode_url_secrets(pairs)

    @property
    def main_stream_query_secrets(self) -> list[list[str]]:
        """The ``[name, raw value]`` pairs taken out of the main stream URL's query."""
        return json.loads(self.main_stream_url_secrets) if self.main_stream_url_secrets else []

    @property
    def masked_main_stream_url(self) -> str:
        """The main stream URL as it may be shown (empty when there is none)."""
        from cameras.sources import mask_url

        return mask_url(self.main_stream_url) if self.main_stream_url else ""

    def secret_values(self) -> set[str]:
        """Every secret of this camera as it may appear in text: plain and URL-encoded."""
        from urllib.parse import quote, unquote

        values = {self.password} if self.password else set()
        values.update(value for _name, value in self.query_secrets if value)
        values.update(value for _name, value in self.main_stream_query_secrets if value)
        forms = set()
        for value in values:
            forms.update({value, unquote(value), quote(value, safe=""), quote(unquote(value))})
        return {form for form in forms if form}

    def redact(self, text: str) -> str:
        """``text`` with this camera's secrets (password, query credentials) removed, in
        plain and URL-encoded form. Reader errors are masked where they are made; this is
        the second line of defence for anything that is shown or logged."""
        if not text:
            return text
        for secret in sorted(self.secret_values(), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def open_target(self) -> str | int:
        """What the stream reader opens: the URL with the decrypted credentials."""
        return self._target(self.source_url, self.query_secrets, always_credentials=True)

    def main_stream_target(self) -> str | int | None:
        """What the snapshot reader opens, or None when the camera has no main stream."""
        if not self.main_stream_url:
            return None
        return self._target(self.main_stream_url, self.main_stream_query_secrets)

    def _target(
        self, url: str, query_secrets: list[list[str]], *, always_credentials: bool = False
    ) -> str | int:
        """``url`` with its secrets put back; the camera's username and password go into
        network URLs (a main stream that is a test file takes none; a source that is not a
        network URL but has credentials fails, as validation should have prevented it)."""
        from cameras.sources import (
            is_network_source,
            open_target,
            with_credentials,
            with_query_secrets,
        )

        url = with_query_secrets(url, query_secrets)
        credentials = bool(self.username or self.password)
        if credentials and (always_credentials or is_network_source(url)):
            url = with_credentials(url, self.username or "", self.password or "")
        return open_target(url)


LIST_VERSION_KEY = "cameras:list-version"


def list_cache_version() -> int:
    """The camera list's cache generation; any camera change bumps it, expiring the list."""
    return cache.get_or_set(LIST_VERSION_KEY, 1, timeout=None)


def _bump_list_version(**_kwargs: Any) -> None:
    try:
        cache.incr(LIST_VERSION_KEY)
    except ValueError:
        cache.set(LIST_VERSION_KEY, 1, timeout=None)


post_save.connect(_bump_list_version, sender=Camera, dispatch_uid="cameras-list-save")
post_delete.connect(_bump_list_version, sender=Camera, dispatch_uid="cameras-list-delete")
