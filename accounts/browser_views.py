"""``POST /live/token``: an access token for a page of this site, from the admin's cookie.

The HTTP side of ``accounts.browser_sessions`` (which says why and how the tokens are
bound to the admin's session). Used by the live page (``detections.live_page``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from accounts import browser_sessions
from config.api.errors import error_response


@require_POST
@csrf_protect
def browser_token(request: HttpRequest) -> HttpResponse:
    """A short-lived access token for the signed-in staff user, for the page's API calls
    and WebSocket. POST with the CSRF token only: another site can neither call it with
    the user's cookie nor read its answer. Errors in the API's envelope."""
    if not request.user.is_authenticated:
        response = error_response(401, "not_authenticated", "Sign in to the admin first.")
    elif not admin.site.has_permission(request):
        response = error_response(403, "permission_denied", "The live page is for staff.")
    else:
        try:
            token = browser_sessions.browser_access(request)
        except browser_sessions.BrowserSessionEnded as exc:
            logout(request)
            response = error_response(401, exc.code, exc.message)
        else:
            expires_in = token["exp"] - int(token.current_time.timestamp())
            response = JsonResponse(
                {"access": str(token), "expires_at": token["exp"], "expires_in": expires_in}
            )
    add_never_cache_headers(response)
    return response
