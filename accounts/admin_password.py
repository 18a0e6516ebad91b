"""The admin site's "Change password" for the signed-in user, held to the API's rules.

Django's own page asks for the current password but checks it without limit, and the new
password left every API token and refresh session of the user alive. Here, as with
``POST /api/v1/auth/password``: the current password is a counted sign-in attempt
(``accounts.throttling``), and a change ends every session and token
(``accounts.sessions.end_all``) and is audited. The browser session that made the change
stays signed in (Django re-keys it). Setting one's own password on the user's page, which
asks for no current password, leads here instead (``UserAdmin.user_change_password``), as
the API refuses it on ``PATCH /users/{id}``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts import audit, sessions
from accounts.admin_audit import admin_context
from accounts.net import client_ip
from accounts.throttling import begin_login_attempt
from config.errors import Throttled


class CountedPasswordChangeForm(AdminPasswordChangeForm):
    """Django's form, whose check of the current password counts as a sign-in attempt."""

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        """Refuse when over a sign-in limit; count a wrong password as a failed attempt."""
        old_password = self.cleaned_data["old_password"]
        try:
            attempt = begin_login_attempt(self.user.email, client_ip(self.request))
        except Throttled as exc:
            raise ValidationError(exc.message, code="throttled") from exc
        if not self.user.check_password(old_password):
            attempt.failed()
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        attempt.succeeded()
        return old_password


def own_password_change(request: HttpRequest) -> HttpResponse:
    """``/admin/password_change/``: the admin's page, with the rules of the module."""
    request.current_app = admin.site.name
    view = PasswordChangeView.as_view(
        form_class=partial(CountedPasswordChangeForm, request=request),
        success_url=reverse("admin:password_change_done"),
        extra_context=admin.site.each_context(request),
    )
    response = view(request)
    if request.method == "POST" and response.status_code == 302:
        with transaction.atomic():
            sessions.end_all(request.user)
            audit.record_secret_change(request.user, "password", admin_context(request))
    return response
