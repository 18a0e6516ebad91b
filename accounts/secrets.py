"""Finding and masking secrets wherever they appear in a value.

A secret does not only live in a field called ``password``: a camera URL carries one in
its userinfo (``rtsp://user:pass@host``) or its query string (``?password=x``,
``?token=...``), and a JSON value may hold ``{"api_key": ...}`` at any depth. The audit
log stores whatever it is given, so everything it stores passes through ``mask_value``.
These are pure functions (no Django), so any app may use them for logs and messages too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MASK = "********"

#: A name (field, dict key, query parameter) containing one of these holds a secret.
SECRET_NAME_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "credential",
    "private",
    "signature",
)
#: Names that hold a secret only when they are the whole name: as parts they are too
#: common (``model_key``, ``author``) to mask on sight.
SECRET_NAMES = frozenset({"pass", "pwd", "key", "auth", "authorization", "sig"})
#: In a URL's query string over-masking costs nothing, so these count as parts there.
_QUERY_PARTS = (*SECRET_NAME_PARTS, *sorted(SECRET_NAMES))

# scheme://userinfo@, where userinfo runs to the last "@" before a space or quote, not to
# the end of the authority: a password with a raw "/" or "?" stays hidden too.
_USERINFO = re.compile(r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s'\"<>]*)@")
# name=value where the name contains a secret word, at the start of a query string, after
# "?", "&", ";" or a space (a query string on its own or inside a sentence).
_SECRET_PARAM = re.compile(
    r"(?P<name>(?:^|(?<=[?&;\s]))[^=&#\s?;]*?(?:"
    + "|".join(re.escape(part) for part in _QUERY_PARTS)
    + r")[^=&#\s]*=)(?P<value>[^&#\s]*)",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a field, key or parameter called ``name`` holds a secret (remembered per
    name: every audit row asks it of each of its model's field names)."""
    lowered = name.lower()
    return lowered in SECRET_NAMES or any(part in lowered for part in SECRET_NAME_PARTS)


def mask_text(text: str, mask: str = MASK) -> str:
    """``text`` with URL passwords and secret query values replaced by ``mask``.

    ``rtsp://admin:pw@cam/x?token=abc`` becomes ``rtsp://admin:MASK@cam/x?token=MASK``; the
    user name is kept, since it tells which account is used and is not a secret.
    """

    def userinfo(match: re.Match[str]) -> str:
        user, sep, _ = match["userinfo"].partition(":")
        return f"{match['prefix']}{user}:{mask}@" if sep else match[0]

    if "=" not in text and "@" not in text:
        return text
    text = _USERINFO.sub(userinfo, text)
    return _SECRET_PARAM.sub(lambda m: f"{m['name']}{mask}" if m["value"] else m[0], text)


def mask_value(value: Any, *, secret: bool = False) -> Any:
    """A copy of ``value`` (JSON-like: dicts, lists, scalars) with every secret masked.

    Under a secret name (``password``, ``api_key``, ...) every non-empty leaf is masked,
    so ``{"password": {"old": "a", "new": None}}`` keeps its shape and loses its values.
    Elsewhere strings are masked with ``mask_text``.
    """
    if isinstance(value, dict):
        return {
            key: mask_value(item, secret=secret or is_secret_name(str(key)))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_value(item, secret=secret) for item in value]
    if secret:
        return value if value is None or value == "" else MASK
    if isinstance(value, str):
        return mask_text(value)
    return value
