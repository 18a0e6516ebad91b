"""API and WebSocket credentials for a page of this site, from the admin's sign-in cookie.

The live page (``/live/``, ``detections.live_page``) is plain JavaScript served to a staff
user signed in to the admin with Django's session cookie, but the API and the WebSocket
take only bearer tokens. Teaching the API cookies would make every endpoint a cross-site
request forgery target; instead the page asks for a short-lived access token with a POST
that carries the CSRF token (same origin only: ``accounts.browser_views``), and uses it
as any client does, so the API's role policy and audit apply to the page unchanged.

Each Django session gets one ``UserSession`` (a "device" in ``GET /auth/sessions``),
whose key the Django session keeps, and every token minted for the page names it:

- signing out of the admin ends it (``end_on_logout``), so the page's tokens die with
  the cookie instead of living out their lifetime;
- revoking it (sessions API or admin), "sign out everywhere" or a password change refuse
  its tokens at their next use, and the next mint signs the browser out of the admin
  too (``BrowserSessionEnded``): a revoked device stays signed out;
- no refresh token ever leaves the server: the page mints a new access token when its
  current one nears expiry.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts import sessions
from accounts.models import UserSession
from config.errors import DomainError

SESSION_KEY = "presence_browser_session"


class BrowserSessionEnded(DomainError):
    """The page's session was revoked (or its user signed out everywhere): sign in again."""

    code = "session_ended"
    status_hint = 401


def _stored(request: HttpRequest) -> UserSession | None:
    key = request.session.get(SESSION_KEY)
    if key is None:
        return None
    return UserSession.objects.select_related("user").filter(key=key, user=request.user).first()


def _start(request: HttpRequest) -> UserSession:
    refresh = sessions.start(request.user, request)
    session = UserSession.objects.select_related("user").get(key=refresh[sessions.SESSION_CLAIM])
    request.session[SESSION_KEY] = str(session.key)
    return session


def browser_access(request: HttpRequest) -> AccessToken:
    """A fresh access token for the signed-in user of ``request`` and their page session,
    started on the first call and again once its lifetime ran out;
    ``BrowserSessionEnded`` once it was revoked."""
    session = _stored(request)
    if session is not None and session.revoked_at is not None:
        raise BrowserSessionEnded("This session was signed out; sign in again.")
    if session is None or not session.is_live:
        session = _start(request)
    else:
        session.last_used_at = timezone.now()
        session.save(update_fields=["last_used_at"])
    token = sessions.issue_access(session)
    try:
        sessions.user_for_token(token.payload)
    except sessions.TokenRefused as exc:
        raise BrowserSessionEnded(exc.message) from exc
    return token


def end_on_logout(sender: Any, request: HttpRequest | None, **_kwargs: Any) -> None:
    """``user_logged_out`` receiver: the admin's sign-out ends the page's session too."""
    if request is None or not hasattr(request, "session"):
        return
    key = request.session.get(SESSION_KEY)
    if key is not None:
        sessions.close(key)
