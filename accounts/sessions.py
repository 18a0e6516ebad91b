"""Sign-in sessions and the token version: whether a JWT still speaks for its user.

A login starts a ``UserSession`` (one device) and issues a refresh token for it. Every
token carries two claims besides simplejwt's own:

- ``sid``, the session's key. A refresh exchanges only the session's current refresh
  token (rotation moves ``refresh_jti`` along the chain), and once the session is revoked
  its refresh token is refused and so are the access tokens issued from it.
- ``ver``, the user's ``token_version`` when the token was issued. "Sign out everywhere"
  and a password change raise the version, which ends every token issued before, access
  tokens included, at their next use.

``user_for_token`` is the one check of both claims, used where a token's user is loaded:
the API's authentication (``accounts.authentication``) and the WebSocket's
(``accounts.ws_auth``). A token issued without the claims (before sessions existed)
counts as version 0 of no session: its access token lives out its few minutes, unless
the version is raised, and its refresh token is refused, so its holder signs in again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import audit
from accounts.models import AuditAction, User, UserSession
from accounts.net import client_ip
from config.errors import DomainError

SESSION_CLAIM = "sid"
VERSION_CLAIM = "ver"
USER_AGENT_LENGTH = UserSession._meta.get_field("user_agent").max_length


class TokenRefused(DomainError):
    """A token that no longer speaks for its user: its session ended, the user's token
    version moved on, or the user is gone or inactive."""

    code = "token_not_valid"
    status_hint = 401


class SessionNotFound(DomainError):
    """No live session with that id belongs to the user in question."""

    code = "not_found"
    status_hint = 404


def _session_key(payload: Mapping[str, Any]) -> uuid.UUID | None:
    raw = payload.get(SESSION_CLAIM)
    if raw is None:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise TokenRefused("The token names no valid session.") from exc


def _token_version(payload: Mapping[str, Any]) -> int:
    return payload.get(VERSION_CLAIM, 0)


def _user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH]


def _outstand(refresh: RefreshToken, user: User) -> None:
    """Register ``refresh`` in simplejwt's outstanding list, so that the blacklist (and
    ``flushexpiredtokens``) know it."""
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )


def start(user: User, request: HttpRequest) -> RefreshToken:
    """Open a session for ``user`` signing in through ``request`` and return its first
    refresh token (its ``access_token`` carries the same claims)."""
    session = UserSession(user=user, user_agent=_user_agent(request), ip=client_ip(request))
    refresh = RefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[VERSION_CLAIM] = user.token_version
    refresh[SESSION_CLAIM] = str(session.key)
    session.refresh_jti = refresh[jwt_settings.JTI_CLAIM]
    session.created_at = session.last_used_at = refresh.current_time
    session.expires_at = datetime_from_epoch(refresh["exp"])
    with transaction.atomic():
        session.save()
        _outstand(refresh, user)
    return refresh


def issue_access(session: UserSession) -> AccessToken:
    """A new access token of the live ``session``, with its ``sid`` and the user's current
    ``ver``: for a session whose refresh token never leaves the server (a page of this
    site signed in with the admin's cookie, ``accounts.browser_sessions``)."""
    token = AccessToken()
    token[jwt_settings.USER_ID_CLAIM] = str(session.user_id)
    token[VERSION_CLAIM] = session.user.token_version
    token[SESSION_CLAIM] = str(session.key)
    return token


def rotate(raw: str, request: HttpRequest) -> tuple[str, str]:
    """Exchange the refresh token ``raw`` for a new access and refresh token, if it is
    its session's current one and the session and the user are live. The old refresh
    token is blacklisted and the session follows the new one.

    The session row is locked while it rotates, so two exchanges of the same token cannot
    both succeed: the second finds that the session has moved on.
    """
    try:
        refresh = RefreshToken(raw)
    except TokenError as exc:
        raise TokenRefused(str(exc)) from exc
    key = _session_key(refresh.payload)
    if key is None:
        raise TokenRefused("This refresh token belongs to no session; sign in again.")
    with transaction.atomic():
        session = (
            UserSession.objects.select_for_update().select_related("user").filter(key=key).first()
        )
        if (
            session is None
            or not session.is_live
            or session.refresh_jti != refresh[jwt_settings.JTI_CLAIM]
            or str(session.user_id) != str(refresh.get(jwt_settings.USER_ID_CLAIM))
        ):
            raise TokenRefused("This session has ended; sign in again.")
        user = session.user
        if not user.is_active or _token_version(refresh.payload) != user.token_version:
            raise TokenRefused("This session has ended; sign in again.")
        refresh.blacklist()
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        _outstand(refresh, user)
        session.refresh_jti = refresh[jwt_settings.JTI_CLAIM]
        session.last_used_at = refresh.current_time
        session.expires_at = datetime_from_epoch(refresh["exp"])
        session.ip = client_ip(request)
        session.save(update_fields=["refresh_jti", "last_used_at", "expires_at", "ip"])
    return str(refresh.access_token), str(refresh)


def user_for_token(payload: Mapping[str, Any]) -> User:
    """The active user a validated token speaks for, in one query; ``TokenRefused`` if
    the user is gone or inactive, the token's version is not the user's current one, or
    the token's session was revoked."""
    key = _session_key(payload)
    try:
        users = User.objects.filter(pk=payload.get(jwt_settings.USER_ID_CLAIM))
        if key is not None:
            live = UserSession.objects.filter(user=OuterRef("pk"), key=key, revoked_at__isnull=True)
            users = users.annotate(session_live=Exists(live))
        user = users.first()
    except (ValueError, TypeError, ValidationError) as exc:
        raise TokenRefused("The token names no valid user.", code="user_not_found") from exc
    if user is None:
        raise TokenRefused("User not found.", code="user_not_found")
    if not user.is_active:
        raise TokenRefused("User is inactive.", code="user_inactive")
    if _token_version(payload) != user.token_version:
        raise TokenRefused("This token was revoked; sign in again.")
    if key is not None and not user.session_live:
        raise TokenRefused("This session has ended; sign in again.")
    return user


def current_session_key(payload: Mapping[str, Any] | None) -> uuid.UUID | None:
    """The session a validated token belongs to, if it names one."""
    if payload is None:
        return None
    try:
        return _session_key(payload)
    except TokenRefused:
        return None


def live_sessions_everywhere() -> QuerySet[UserSession]:
    """The sessions of every user that can still be used, most recently used first."""
    return UserSession.objects.filter(
        revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-id")


def live_sessions(user: User) -> QuerySet[UserSession]:
    """The sessions of ``user`` that can still be used, most recently used first."""
    return live_sessions_everywhere().filter(user=user)


def _blacklist_jti(jti: str) -> None:
    outstanding = OutstandingToken.objects.filter(jti=jti).first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)


def end(user: User, session_id: int, context: audit.AuditContext) -> UserSession:
    """Sign out one live session of ``user``: its refresh token is blacklisted and the
    access tokens issued from it are refused from now on. ``SessionNotFound`` if ``user``
    has no live session ``session_id``."""
    with transaction.atomic():
        session = live_sessions(user).select_for_update().filter(pk=session_id).first()
        if session is None:
            raise SessionNotFound("No such session.")
        session.revoked_at = timezone.now()
        session.save(update_fields=["revoked_at"])
        _blacklist_jti(session.refresh_jti)
        audit.record(
            AuditAction.UPDATE,
            session,
            context,
            {"revoked_at": {"old": None, "new": session.revoked_at.isoformat()}},
        )
    return session


def sign_out(refresh: RefreshToken) -> None:
    """Logout with ``refresh``, a valid refresh token: it is blacklisted and the session
    it belongs to ends, so the access tokens issued from it stop working too."""
    key = current_session_key(refresh.payload)
    with transaction.atomic():
        refresh.blacklist()
        if key is not None:
            UserSession.objects.filter(
                key=key,
                user_id=refresh.get(jwt_settings.USER_ID_CLAIM),
                revoked_at__isnull=True,
            ).update(revoked_at=timezone.now())


def close(key: uuid.UUID | str) -> bool:
    """End the session ``key`` if it is live, without an audit row: its owner signed out
    (as ``sign_out`` does for ``POST /auth/logout``). True if a live session was ended."""
    with transaction.atomic():
        session = (
            UserSession.objects.select_for_update().filter(key=key, revoked_at__isnull=True).first()
        )
        if session is None:
            return False
        session.revoked_at = timezone.now()
        session.save(update_fields=["revoked_at"])
        _blacklist_jti(session.refresh_jti)
    return True


def revoke_refresh_tokens(user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


def end_all(user: User, context: audit.AuditContext | None = None) -> int:
    """Sign ``user`` out everywhere: raise the token version (every access token issued
    so far is refused at its next use), revoke every session and blacklist every refresh
    token. Audited when ``context`` is given (a password change audits itself). Returns
    how many sessions were live."""
    with transaction.atomic():
        locked = User.objects.select_for_update().values_list("token_version", flat=True)
        old_version = locked.get(pk=user.pk)
        user.token_version = old_version + 1
        User.objects.filter(pk=user.pk).update(token_version=user.token_version)
        ended = live_sessions(user).count()
        UserSession.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        revoke_refresh_tokens(user)
        if context is not None:
            audit.record(
                AuditAction.UPDATE,
                user,
                context,
                # Not "token_version": the audit log masks any name with "token" in it.
                {
                    "signed_out_everywhere": {"old": False, "new": True},
                    "live_sessions": {"old": ended, "new": 0},
                },
            )
    return ended


def purge_expired() -> int:
    """Delete sessions whose refresh token has expired: nobody can use them any more."""
    deleted, _ = UserSession.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
