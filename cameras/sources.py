"""Camera source URLs: what is accepted, how credentials are split off, and how URLs are masked.

A camera's ``source_url`` is typed by an administrator and then opened by FFmpeg inside
the server, so it is an attack surface: ``file:///etc/passwd`` or a ``..`` path would turn
a camera into a file reader, and other schemes (``ftp``, ``data``, ...) reach FFmpeg
protocols nobody meant to expose. Everything is therefore validated here, once, into a
normal form. Credentials are stored encrypted apart from the URL and never shown again, so
this module splits them off, puts them back for the reader, and masks any URL (or text
containing one) before it reaches a response or a log line.

These are pure functions with no Django models, so the stream layer, the API and the
supervisor share them and tests need no database.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

# Masking is shared with the logging backstop (config.logs), so it lives in the kernel;
# re-exported here, where the cameras app has always found it.
from config.redaction import MASK, SECRET_PARAM_WORDS
from config.redaction import mask_url as mask_url

#: Schemes a camera may use, with what they stand for.
NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
FILE_SCHEME = "file"
MAX_URL_LENGTH = 2000

_DEVICE_INDEX = re.compile(r"\d{1,2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"[A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\]")


class SourceError(ValueError):
    """A camera source that is refused; ``str(error)`` is a message for people.

    Messages never contain the URL's credentials: at most the masked URL.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validate_source_url(raw: str, *, file_root: Path) -> str:
    """Return the normal form of a camera source, or raise ``SourceError``.

    Accepted: ``rtsp://``, ``rtsps://``, ``http://`` and ``https://`` URLs with a host
    (credentials in the URL are allowed; see ``split_credentials``); ``file:///abs/path``
    or a bare absolute path, returned as ``file:///...`` with the real path, which must lie
    inside ``file_root`` (after following symlinks and ``..``; the file itself may not exist
    yet); a device index ``"0"`` to ``"99"``, returned as its digits.
    """
    if not isinstance(raw, str):
        raise SourceError("The source must be text.")
    if len(raw) > MAX_URL_LENGTH:
        raise SourceError(f"The source is longer than {MAX_URL_LENGTH} characters.")
    if _CONTROL.search(raw):
        raise SourceError("The source contains control characters (line breaks, tabs, ...).")
    value = raw.strip()
    if not value:
        raise SourceError("The source is empty.")
    if _DEVICE_INDEX.fullmatch(value):
        return str(int(value))
    if value.isdecimal():
        raise SourceError("Device indexes go from 0 to 99.")
    if value.startswith("/"):
        return _validate_file_path(value, file_root)
    scheme, sep, _ = value.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise SourceError(
            "Relative paths are not allowed: give a URL (rtsp://, http://, https://), "
            "an absolute file path inside the media directory, or a device index (0-99)."
        )
    scheme = scheme.lower()
    if scheme == FILE_SCHEME:
        return _validate_file_url(value, file_root)
    if scheme not in NETWORK_SCHEMES:
        raise SourceError(
            f"The scheme {scheme!r} is not supported: use rtsp://, rtsps://, http://, "
            "https://, a file inside the media directory, or a device index (0-99)."
        )
    return _validate_network_url(scheme, value)


def _validate_network_url(scheme: str, value: str) -> str:
    if any(c.isspace() for c in value):
        raise SourceError("A URL cannot contain spaces (percent-encode them as %20).")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise SourceError("The URL is malformed (check the port).") from None
    if not value[len(scheme) + 1 :].startswith("//") or not parts.hostname:
        raise SourceError("The URL has no host.")
    host = parts.netloc.rpartition("@")[2]
    host = host[: -len(f":{port}")] if port is not None and host.endswith(f":{port}") else host
    if not _HOST.fullmatch(host):
        raise SourceError("The URL's host is not valid.")
    if "@" in parts.path:
        raise SourceError(
            "The URL has an '@' after its host: percent-encode '@', ':' and '/' in the user "
            "name and password, or enter them in the credential fields."
        )
    return urlunsplit(parts._replace(scheme=scheme))


def _validate_file_url(value: str, file_root: Path) -> str:
    parts = urlsplit(value)
    if not value[len(FILE_SCHEME) + 1 :].startswith("//"):
        raise SourceError("File URLs must look like file:///absolute/path.")
    if parts.netloc:
        raise SourceError("File URLs must not name a host: use file:///absolute/path.")
    if parts.query or parts.fragment:
        raise SourceError("File URLs cannot have a query or a fragment.")
    path = unquote(parts.path)
    if _CONTROL.search(path):
        raise SourceError("The file path contains control characters.")
    if not path.startswith("/"):
        raise SourceError("File URLs must hold an absolute path: file:///absolute/path.")
    return _validate_file_path(path, file_root)


def _validate_file_path(path: str, file_root: Path) -> str:
    root = os.path.realpath(file_root)
    real = os.path.realpath(path)
    if real == root or os.path.commonpath([root, real]) != root:
        raise SourceError(
            "The file is outside the allowed media directory; video files must be placed inside it."
        )
    return "file://" + quote(real, safe="/")


def is_file_source(url: str) -> bool:
    """Whether ``url`` (validated or not) names a local file."""
    return isinstance(url, str) and (url.startswith("/") or url[:7].lower() == f"{FILE_SCHEME}://")


def is_network_source(url: str) -> bool:
    """Whether ``url`` is an rtsp, rtsps, http or https URL (credentials apply to it)."""
    return isinstance(url, str) and url.partition(":")[0].lower() in NETWORK_SCHEMES


def is_device_source(url: str) -> bool:
    """Whether ``url`` is a device index (``"0"`` to ``"99"``)."""
    return isinstance(url, str) and bool(_DEVICE_INDEX.fullmatch(url.strip()))


def open_target(url: str) -> str | int:
    """What to hand to ``cv2.VideoCapture``: an int for a device, a path for a file, else
    the URL itself (with its credentials, if any)."""
    if is_device_source(url):
        return int(url)
    if is_file_source(url):
        return unquote(urlsplit(url).path) if not url.startswith("/") else url
    return url


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url_without_credentials, username, password)``, decoded from percent-encoding.

    Absent parts are None; sources that are not network URLs come back unchanged.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None, None
    if parts.scheme.lower() not in NETWORK_SCHEMES or "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    raw_user, sep, raw_password = userinfo.partition(":")
    username = unquote(raw_user) or None
    password = unquote(raw_password) if sep else None
    return urlunsplit(parts._replace(netloc=hostport)), username, password


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """``url`` with ``username`` and ``password`` percent-encoded into its userinfo.

    Any credentials already in ``url`` are replaced. With neither given, ``url`` is returned
    unchanged. Raises ``SourceError`` for credentials on a source that is not a network URL.
    """
    if not username and not password:
        return url
    bare, _, _ = split_credentials(url)
    parts = urlsplit(bare)
    if parts.scheme.lower() not in NETWORK_SCHEMES or not parts.netloc:
        raise SourceError("Credentials apply only to rtsp, rtsps, http and https sources.")
    userinfo = quote(username or "", safe="")
    if password is not None and password != "":
        userinfo += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def is_secret_param(name: str) -> bool:
    """Whether a query parameter named ``name`` holds a credential (``password``, ``pwd``,
    ``token``, ``api_key``...): the same names ``mask_url`` masks, case-insensitive."""
    lowered = unquote(name).lower()
    return any(word in lowered for word in SECRET_PARAM_WORDS)


def _query_items(query: str) -> list[tuple[str, str, str | None]]:
    """``(separator, name, raw value)`` for each ``name=value`` of ``query``, kept as typed
    (still percent-encoded) so that putting a value back restores the URL exactly."""
    items = []
    for match in re.finditer(r"(^|[&;])([^&;]*)", query):
        name, sep, value = match[2].partition("=")
        items.append((match[1], name, value if sep else None))
    return items


def _join_query(items: list[tuple[str, str, str | None]]) -> str:
    return "".join(
        f"{sep}{name}" + (f"={value}" if value is not None else "") for sep, name, value in items
    )


def split_query_secrets(
    url: str, previous: list[list[str]] | None = None
) -> tuple[str, list[list[str]]]:
    """``(url with each secret query value replaced by MASK, [[name, raw value], ...])``.

    The URL can then be stored and shown as it is; the values are stored encrypted and put
    back by ``with_query_secrets`` only when the stream is opened. A value typed as MASK
    (a masked URL sent back unchanged) keeps the matching one of ``previous``. Sources that
    are not network URLs come back unchanged.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, []
    if parts.scheme.lower() not in NETWORK_SCHEMES or not parts.query:
        return url, []
    kept = _SecretPool(previous or [])
    secrets: list[list[str]] = []
    items = []
    for sep, name, value in _query_items(parts.query):
        if value is not None and value != "" and is_secret_param(name):
            if value == MASK:
                value = kept.take(name)
                if value is None:
                    items.append((sep, name, MASK))
                    continue
            secrets.append([name, value])
            value = MASK
        items.append((sep, name, value))
    if not secrets:
        return url, []
    return urlunsplit(parts._replace(query=_join_query(items))), secrets


def with_query_secrets(url: str, secrets: list[list[str]]) -> str:
    """``url`` with the masked query values of ``split_query_secrets`` put back, by name
    and in order. Values with no stored counterpart stay masked."""
    if not secrets:
        return url
    parts = urlsplit(url)
    pool = _SecretPool(secrets)
    items = []
    for sep, name, value in _query_items(parts.query):
        if value == MASK:
            value = pool.take(name) or value
        items.append((sep, name, value))
    return urlunsplit(parts._replace(query=_join_query(items)))


class _SecretPool:
    """Stored ``[name, value]`` pairs handed out once each, first come first served."""

    def __init__(self, pairs: list[list[str]]) -> None:
        self._pairs = [list(pair) for pair in pairs if len(pair) == 2]

    def take(self, name: str) -> str | None:
        for index, (stored_name, value) in enumerate(self._pairs):
            if stored_name == name:
                del self._pairs[index]
                return value
        return None
