"""Changing one's own password takes the current one, counted, and ends every token.

Through the API that is ``POST /auth/password``; ``PATCH /users/{own id}`` with a password
is refused (a stolen access token must not be enough to take an account over for good).
In the admin it is ``/admin/password_change/``, to which the user page's password form
leads for one's own account.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from accounts.tests.test_sessions import bearer, sign_in
from conftest import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "brand-new-secret-42"


def test_an_admin_cannot_set_their_own_password_without_the_current_one(admin_user):
    tokens = sign_in(admin_user)
    response = bearer(tokens).patch(
        f"/api/v1/users/{admin_user.pk}",
        {"password": NEW_PASSWORD, "full_name": "Renamed"},
        format="json",
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert "/auth/password" in error["details"]["password"][0]
    admin_user.refresh_from_db()
    assert admin_user.check_password(PERSONA_PASSWORD) and admin_user.full_name != "Renamed"
    assert bearer(tokens).get("/api/v1/auth/me").status_code == 200


def test_an_admin_still_sets_another_users_password(admin_user, viewer):
    response = bearer(sign_in(admin_user)).patch(
        f"/api/v1/users/{viewer.pk}", {"password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    viewer.refresh_from_db()
    assert viewer.check_password(NEW_PASSWORD)


def admin_browser(user: User) -> Client:
    browser = Client(REMOTE_ADDR="192.0.2.20")
    assert (
        browser.post(
            "/admin/login/", {"username": user.email, "password": PERSONA_PASSWORD}
        ).status_code
        == 302
    )
    return browser


def change(browser: Client, old: str, new: str = NEW_PASSWORD):
    return browser.post(
        "/admin/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_the_user_page_leads_to_the_page_that_asks_for_the_current_password(admin_user, viewer):
    browser = admin_browser(admin_user)
    own = browser.get(f"/admin/accounts/user/{admin_user.pk}/password/")
    assert own.status_code == 302 and own["Location"] == "/admin/password_change/"
    assert browser.get(f"/admin/accounts/user/{viewer.pk}/password/").status_code == 200


def test_the_admins_password_change_ends_every_token_and_is_audited(admin_user):
    tokens = sign_in(admin_user)
    browser = admin_browser(admin_user)

    response = change(browser, PERSONA_PASSWORD)

    assert response.status_code == 302 and response["Location"].endswith("/done/")
    admin_user.refresh_from_db()
    assert admin_user.check_password(NEW_PASSWORD)
    assert bearer(tokens).get("/api/v1/auth/me").status_code == 401
    assert browser.get("/admin/").status_code == 200  # this browser stays signed in
    audit = AuditLog.objects.filter(object_id=str(admin_user.pk)).latest("at")
    assert "password" in audit.changes and NEW_PASSWORD not in str(audit.changes)


def test_guesses_of_the_current_password_count_as_sign_in_attempts(admin_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    tokens = sign_in(admin_user)
    browser = admin_browser(admin_user)
    for _ in range(2):
        response = change(browser, "wrong")
        assert response.status_code == 200
        assert "incorrectly" in response.content.decode()

    response = change(browser, PERSONA_PASSWORD)

    assert response.status_code == 200 and "Too many" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.check_password(PERSONA_PASSWORD)
    assert bearer(tokens).get("/api/v1/auth/me").status_code == 200
