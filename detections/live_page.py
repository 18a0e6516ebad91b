"""The live page at ``/live/``: what a security desk keeps open all day.

A Django template and a small hand-written script (``static/live/live.js``); no build
step. The page is for back-office staff (the admin's own sign-in and check); everything
it shows or changes goes through the REST API and the WebSocket with an access token the
page mints from the admin's session (``live_token``, ``accounts.browser_sessions``), so
the API's role policy and audit log apply to it as to any client.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from accounts import browser_sessions
from accounts.roles import AdminCapability
from config.api.errors import error_response


def _live_page(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Live",
        "can_assign": request.user.has_capability(AdminCapability.ASSIGN_DETECTIONS),
    }
    return render(request, "live/live.html", context)


# The admin's guard: staff only, others to the admin's sign-in page; never cached.
live_page = admin.site.admin_view(_live_page)


@require_POST
@csrf_protect
def live_token(request: HttpRequest) -> HttpResponse:
    """A short-lived access token for the signed-in staff user, for the page's API calls
    and WebSocket. POST with the CSRF token only: another site can neither call it with
    the user's cookie nor read its answer."""
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
            response = JsonResponse({"access": str(token), "expires_at": token["exp"]})
    add_never_cache_headers(response)
    return response
