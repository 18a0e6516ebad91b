"""The admin's sign-in page, limited like the API's sign-in.

Without this, ``/admin/login/`` checked passwords without limit (issue 7, item 6): the
admin's form counts its attempts with the same counters and limits as ``POST
/api/v1/auth/login`` (``accounts.throttling``), so guesses spread over both still meet
one limit. A refused attempt shows the form again with the error and status 429.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from accounts.net import client_ip
from accounts.throttling import begin_login_attempt
from config.errors import Throttled


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """Django's admin sign-in form, whose password check is a counted attempt."""

    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        """Count the attempt before the password is checked; refuse it when over a limit."""
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return super().clean()
        try:
            attempt = begin_login_attempt(email, client_ip(self.request))
        except Throttled as exc:
            self.retry_after = exc.retry_after
            raise ValidationError(exc.message, code="throttled") from exc
        try:
            cleaned = super().clean()
        except ValidationError:
            # A right password of an account that may not use the admin is no guess.
            if self.user_cache is not None:
                attempt.succeeded()
            else:
                attempt.failed()
            raise
        attempt.succeeded()
        return cleaned


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin site's login view, answering 429 with ``Retry-After`` when throttled."""
    response = admin.site.login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    retry_after = getattr(form, "retry_after", None)
    if retry_after:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response
