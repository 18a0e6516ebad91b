"""The API's JWT authentication: simplejwt's, with the session and token version checked.

simplejwt checks a token's signature, type and expiry; ``accounts.sessions.user_for_token``
then decides whether it still speaks for its user (session not revoked, token version
current, user active), in the one query that loads the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from accounts import sessions

if TYPE_CHECKING:
    from accounts.models import User


class SessionJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access>``, refused with 401 once the token is revoked."""

    def get_user(self, validated_token: Token) -> User:
        """The token's user, or ``AuthenticationFailed`` (401 in the error envelope)."""
        try:
            return sessions.user_for_token(validated_token.payload)
        except sessions.TokenRefused as exc:
            raise AuthenticationFailed(exc.message, code=exc.code) from exc


class SessionJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of ``SessionJWTAuthentication``: simplejwt's bearer."""

    target_class = "accounts.authentication.SessionJWTAuthentication"
