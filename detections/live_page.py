"""The live page at ``/live/``: what a security desk keeps open all day.

A Django template and a small hand-written script (``static/live/live.js``); no build
step. The page is for back-office staff (the admin's own sign-in and check); everything
it shows or changes goes through the REST API and the WebSocket with an access token the
page mints from the admin's session (``POST /live/token``, ``accounts.browser_views``),
so the API's role policy and audit log apply to it as to any client.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import AdminCapability


def _live_page(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Live",
        "can_assign": request.user.has_capability(AdminCapability.ASSIGN_DETECTIONS),
    }
    return render(request, "live/live.html", context)


# The admin's guard: staff only, others to the admin's sign-in page; never cached.
live_page = admin.site.admin_view(_live_page)
