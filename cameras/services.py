"""Camera rules shared by the API, the admin and the supervisor, so all accept exactly the
same input and refuse the same addresses."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from cameras.addresses import check_url_address
from cameras.models import CameraStatus, encode_url_secrets
from cameras.sources import (
    SourceError,
    split_credentials,
    split_query_secrets,
    validate_source_url,
)

#: Written by the supervisor, never by people.
STATUS_FIELDS = (
    "status",
    "last_frame_at",
    "fps",
    "last_error",
    "reconnects_last_hour",
    "width",
    "height",
    "decoder",
    "decoder_state",
    "analysed_fps",
    "dropped_frames",
    "decoder_error",
    "main_stream_state",
    "main_stream_error",
    "heartbeat_at",
)


def clean_source(raw: str) -> str:
    """A validated source URL whose host is in ``CAMERA_ALLOWED_NETWORKS``; raises
    ``cameras.sources.SourceError`` (``cameras.addresses.AddressRefused`` for the host)."""
    url = validate_source_url(raw, file_root=settings.CAMERA_FILE_ROOT)
    check_url_address(url, settings.CAMERA_ALLOWED_NETWORKS, require_dns=False)
    return url


def check_before_connect(url: str, *, require_dns: bool = True) -> None:
    """Refuse to open ``url`` unless its host is allowed *now*: DNS may have changed since
    the URL was saved, so this runs right before each connection. ``require_dns=False``
    lets a name that does not resolve pass (the open then reports it)."""
    check_url_address(url, settings.CAMERA_ALLOWED_NETWORKS, require_dns=require_dns)


def connect_guard(url: str) -> Callable[[], None]:
    """A guard for the stream layer, which knows nothing of settings: called before every
    open, it raises ``SourceError`` to refuse the connection."""
    return lambda: check_before_connect(url)


def move_credentials(values: dict, previous_secrets: list[list[str]] | None = None) -> dict:
    """Credentials typed into ``source_url`` leave it: userinfo goes to the username and
    password fields (unless those were given too) and secret query values to
    ``url_secrets`` (a value sent back as ``***`` keeps the stored one), so the stored URL
    never carries them."""
    if values.get("source_url"):
        url, username, password = split_credentials(values["source_url"])
        url, secrets = split_query_secrets(url, previous_secrets)
        values["source_url"] = url
        values["url_secrets"] = encode_url_secrets(secrets)
        if username and not values.get("username"):
            values["username"] = username
        if password and not values.get("password"):
            values["password"] = password
    return values


def move_main_stream_credentials(
    values: dict,
    previous_secrets: list[list[str]] | None = None,
    stored: tuple[str, str] = ("", ""),
) -> dict:
    """The main stream's credentials leave its URL as ``move_credentials`` does for the
    source: secret query values to ``main_stream_url_secrets``, userinfo to the camera's
    username and password, which open both streams (one device, one account). Userinfo
    that differs from the camera's own credentials (given now, else ``stored``) is refused
    with ``SourceError`` rather than dropped, so nobody believes a second account is kept."""
    url = values.get("main_stream_url")
    if url is None:
        return values
    if not url:
        values["main_stream_url_secrets"] = ""
        return values
    url, username, password = split_credentials(url)
    url, secrets = split_query_secrets(url, previous_secrets)
    values["main_stream_url"] = url
    values["main_stream_url_secrets"] = encode_url_secrets(secrets)
    current_user = values.get("username") if "username" in values else stored[0]
    current_password = values.get("password") if "password" in values else stored[1]
    for typed, current, field in (
        (username, current_user, "username"),
        (password, current_password, "password"),
    ):
        if not typed:
            continue
        if current and current != typed:
            raise SourceError(
                "The main stream is opened with the camera's username and password: "
                "give the same ones in its URL, or none."
            )
        values[field] = typed
    return values


def status_after_edit(enabled: bool, current: str | None) -> str | None:
    """Disabling shows ``disabled`` at once; enabling again starts from ``offline`` until
    a supervisor reports. ``None``: leave the status alone."""
    if not enabled:
        return CameraStatus.DISABLED
    if current in (None, CameraStatus.DISABLED):
        return CameraStatus.OFFLINE
    return None
