"""A refusal in the back-office is a page that says what the user's role may do.

Django answers a ``PermissionDenied`` raised by an admin view with a bare "403 Forbidden"
and logs it with its traceback, though a refusal is the role policy working, not a fault.
This middleware answers it with ``admin/403.html`` (the role, the apps it may change or
only view, its capabilities); Django then logs the 403 as the one line it logs for every
4xx response ("Forbidden: /admin/..."), with no traceback. API paths are left to the API's
envelope.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.roles import role_summary


def _app_names() -> dict[str, str]:
    return {config.label: str(config.verbose_name) for config in apps.get_app_configs()}


def admin_forbidden_page(request: HttpRequest) -> HttpResponse:
    """The 403 page of the back-office for the signed-in user."""
    user = request.user
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "summary": role_summary(getattr(user, "role", ""), _app_names()),
    }
    response = TemplateResponse(request, "admin/403.html", context, status=403)
    return response.render()


class AdminForbiddenMiddleware:
    """Answers an admin view's ``PermissionDenied`` with ``admin_forbidden_page``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on; refusals are caught in ``process_exception``."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A signed-in user refused under the admin gets the page; anything else goes on."""
        if not isinstance(exception, PermissionDenied):
            return None
        if not request.path.startswith(reverse("admin:index")):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return admin_forbidden_page(request)
