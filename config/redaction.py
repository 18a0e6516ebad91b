"""Masking secrets out of text: URL credentials, secret query values, bearer tokens.

Camera URLs carry passwords (``rtsp://admin:secret@cam``) and tokens (``?token=abc``), and
FFmpeg, OpenCV and HTTP libraries quote the URL they were given in their errors. The
cameras app masks what it writes where it writes it; the logging filter
(``config.logs.MaskSecretsFilter``) applies the same masking to every log record as a
backstop. It lives in the kernel so that both can use it without ``config`` importing an
app.
"""

from __future__ import annotations

import re

#: Query parameter names containing any of these (case-insensitive) have their values masked.
SECRET_PARAM_WORDS = (
    "password",
    "pass",
    "pwd",
    "token",
    "key",
    "secret",
    "auth",
    "signature",
    "credential",
)

MASK = "***"

# scheme://userinfo@, where userinfo runs to the last "@" of the URL, not of its authority:
# a password with a raw "/" or "?" (which a URL parser takes for the path) stays hidden too.
_USERINFO = re.compile(r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s'\"<>]*)@")
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;][^=&#\s]*?(?:" + "|".join(SECRET_PARAM_WORDS) + r")[^=&#\s]*=)"
    r"(?P<value>[^&#\s]*)",
    re.IGNORECASE,
)
# An Authorization header's credentials, as a library may print them.
_BEARER = re.compile(r"(?P<scheme>\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}")
# What every pattern above needs somewhere in the text: a line without any is left as is.
_MAYBE_SECRET = re.compile(r"://|=|bearer|basic|token", re.IGNORECASE)


def mask_url(url: object) -> str:
    """``url`` (or any text containing URLs) with passwords and secret query values masked.

    ``rtsp://admin:secret@cam/x?token=abc`` becomes ``rtsp://admin:***@cam/x?token=***``.
    The user name is kept so an operator can tell which account is used. Where a URL is
    ambiguous (an "@" later in it) more is masked rather than less. Never raises.
    """
    try:
        text = url if isinstance(url, str) else str(url)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
        return "<unprintable>"

    def userinfo(match: re.Match[str]) -> str:
        user, sep, _ = match["userinfo"].partition(":")
        return f"{match['prefix']}{user}:{MASK}@" if sep else match[0]

    try:
        text = _USERINFO.sub(userinfo, text)
        return _SECRET_PARAM.sub(lambda m: f"{m['name']}{MASK}", text)
    except Exception:  # noqa: BLE001 - masking is used in error paths and must not fail
        return "<unprintable>"


def mask_secrets(text: str) -> str:
    """``mask_url`` plus the credentials of an ``Authorization`` header (``Bearer abc...``),
    for log lines, where either may turn up."""
    if not _MAYBE_SECRET.search(text):
        return text  # most lines: one C-speed scan, no masking pass
    masked = mask_url(text)
    try:
        return _BEARER.sub(lambda m: f"{m['scheme']}{MASK}", masked)
    except Exception:  # noqa: BLE001 - see mask_url
        return "<unprintable>"
