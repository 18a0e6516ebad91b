"""Camera rules shared by the API and the admin, so both accept exactly the same input."""

from __future__ import annotations

from django.conf import settings

from cameras.models import CameraStatus
from cameras.sources import split_credentials, validate_source_url

#: Written by the supervisor, never by people.
STATUS_FIELDS = (
    "status",
    "last_frame_at",
    "fps",
    "last_error",
    "reconnects_last_hour",
    "width",
    "height",
)


def clean_source(raw: str) -> str:
    """A validated source URL; raises ``cameras.sources.SourceError``."""
    return validate_source_url(raw, file_root=settings.CAMERA_FILE_ROOT)


def move_credentials(values: dict) -> dict:
    """Credentials typed into ``source_url`` go to the username and password fields
    (unless those were given too), so the stored URL never carries them."""
    if values.get("source_url"):
        url, username, password = split_credentials(values["source_url"])
        values["source_url"] = url
        if username and not values.get("username"):
            values["username"] = username
        if password and not values.get("password"):
            values["password"] = password
    return values


def status_after_edit(enabled: bool, current: str | None) -> str | None:
    """Disabling shows ``disabled`` at once; enabling again starts from ``offline`` until
    a supervisor reports. ``None``: leave the status alone."""
    if not enabled:
        return CameraStatus.DISABLED
    if current in (None, CameraStatus.DISABLED):
        return CameraStatus.OFFLINE
    return None
