"""JWT authentication for WebSocket connections.

Browsers cannot set headers on a WebSocket, so the access token comes in the query
string (``?token=...``). The middleware sets ``scope["user"]`` and the token's expiry,
or refuses the handshake itself (close code 4401) when the token is missing, expired,
tampered with, or its user is inactive: no consumer ever sees an anonymous connection.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def _active_user(user_id):
    from accounts.models import User

    return User.objects.filter(pk=user_id, is_active=True).first()


def _token_from_query(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


class JWTAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        user, expires_at = None, None
        raw = _token_from_query(scope)
        if raw:
            try:
                token = AccessToken(raw)
            except TokenError:
                token = None
            if token is not None:
                user = await _active_user(token.get(jwt_settings.USER_ID_CLAIM))
                expires_at = token.get("exp")
        if user is None:
            return await self._refuse(receive, send)
        scope = dict(scope, user=user, token_expires_at=expires_at)
        return await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(receive, send) -> None:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED})
