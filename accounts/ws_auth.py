"""Who may open the WebSocket: one check of the page's origin and of the access token.

Browsers cannot set headers on a WebSocket, so the access token comes in the query
string (``?token=...``). Browsers do send ``Origin``, and a page of another site could
otherwise open the socket with a token it stole or tricked out of a user, so:

- ``Origin`` sent and not allowed: refused with close code 4403. Allowed are the origins
  in ``WS_ALLOWED_ORIGINS`` (by default the CORS allowed origins) and the server's own
  origin (``Origin`` naming the ``Host`` the request came to, a host in ``ALLOWED_HOSTS``).
- No ``Origin`` (a non-browser client: a script, a kiosk, a test): no origin check; the
  token alone decides.
- Token missing, expired, tampered with, revoked (its session signed out, or every
  session of its user: ``accounts.sessions``), or its user inactive: close code 4401.

A close code reaches a client only on an accepted connection (a refusal during the
handshake is a bare HTTP 403 that says nothing), so refusals are accepted and closed at
once, before any consumer runs: no consumer ever sees an anonymous or cross-site
connection, and a client tells "get a new token" (4401) from "this page may not connect"
(4403) by the close event's code.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

CLOSE_UNAUTHENTICATED = 4401
CLOSE_ORIGIN_REFUSED = 4403

REASONS = {
    CLOSE_UNAUTHENTICATED: "invalid or expired token",
    CLOSE_ORIGIN_REFUSED: "origin not allowed",
}


@dataclass(frozen=True)
class Admission:
    """The outcome of ``admit``: a user, the token's expiry and claims, or a close code."""

    user: Any = None
    expires_at: int | None = None
    refusal: int | None = None
    claims: dict | None = None


@database_sync_to_async
def _token_user(payload: dict) -> User | None:
    """The token's user, or None if the token was revoked (``accounts.sessions``)."""
    from accounts import sessions

    try:
        return sessions.user_for_token(payload)
    except sessions.TokenRefused:
        return None


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _token_from_query(scope: dict) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


def _normal_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(scope: dict) -> bool:
    """Whether the connection's ``Origin`` may connect; True when none was sent."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    origin = _normal_origin(origin)
    if origin in {_normal_origin(o) for o in settings.WS_ALLOWED_ORIGINS}:
        return True
    host = (_header(scope, b"host") or "").strip().lower()
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    if not host or netloc != host:
        return False
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


async def admit(scope: dict) -> Admission:
    """The one origin-and-token check for a WebSocket connection (origin first: a page
    of another site is refused whatever token it has)."""
    if not origin_allowed(scope):
        return Admission(refusal=CLOSE_ORIGIN_REFUSED)
    raw = _token_from_query(scope)
    if not raw:
        return Admission(refusal=CLOSE_UNAUTHENTICATED)
    try:
        token = AccessToken(raw)
    except TokenError:
        return Admission(refusal=CLOSE_UNAUTHENTICATED)
    user = await _token_user(token.payload)
    if user is None:
        return Admission(refusal=CLOSE_UNAUTHENTICATED)
    return Admission(user=user, expires_at=token.get("exp"), claims=dict(token.payload))


async def recheck(scope: dict) -> User | None:
    """The connection's user as of now, or None once its token was revoked or the user
    deactivated: an open socket re-asks this from time to time (``detections.consumers``)."""
    claims = scope.get("token_claims")
    if claims is None:
        return None
    return await _token_user(claims)


class JWTAuthMiddleware:
    """Sets ``scope["user"]``, ``scope["token_expires_at"]`` and ``scope["token_claims"]``
    (for ``recheck``), or refuses the connection with a close code the client can read
    (see the module's docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        """Admit or refuse a WebSocket before the consumer sees it; other traffic passes."""
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        admission = await admit(scope)
        if admission.refusal is not None:
            logger.info(
                "WebSocket refused (%s): origin %r",
                REASONS[admission.refusal],
                _header(scope, b"origin"),
            )
            return await refuse(receive, send, admission.refusal)
        scope = dict(
            scope,
            user=admission.user,
            token_expires_at=admission.expires_at,
            token_claims=admission.claims,
        )
        return await self.app(scope, receive, send)


async def refuse(receive: Receive, send: Send, code: int) -> None:
    """Accept, then close with ``code``: the only way a close code reaches the client."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code, "reason": REASONS.get(code, "")})
