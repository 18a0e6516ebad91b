"""Password guesses are limited per account and per address, atomically, for the API's
sign-in, the admin's sign-in and password changes alike (issue 7, item 6)."""

import re

import pytest
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from config.testing import wait_until
from conftest import PERSONA_PASSWORD, client_for

pytestmark = pytest.mark.django_db

THROTTLED = re.compile(r"Too many failed sign-in attempts\. Try again in (\d+) seconds\.")


def attempt(email, password, ip="10.0.0.1", **headers):
    return APIClient().post(
        "/api/v1/auth/login", {"email": email, "password": password}, REMOTE_ADDR=ip, **headers
    )


def admin_attempt(email, password, ip="10.0.0.1", **headers):
    return Client().post(
        "/admin/login/", {"username": email, "password": password}, REMOTE_ADDR=ip, **headers
    )


def test_sixth_attempt_for_an_account_is_throttled_even_with_the_right_password(viewer):
    for i in range(5):
        assert attempt(viewer.email, "wrong", ip=f"10.0.0.{i + 1}").status_code == 401
    response = attempt(viewer.email, PERSONA_PASSWORD, ip="10.0.0.99")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled"
    seconds = int(THROTTLED.fullmatch(error["message"]).group(1))
    assert 0 < int(response["Retry-After"]) <= 60
    assert seconds == int(response["Retry-After"])


def test_the_account_limit_ignores_case_and_spaces(viewer):
    for i in range(5):
        attempt(f"  {viewer.email.upper()} ", "wrong", ip=f"10.0.1.{i}")
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.0.1.99").status_code == 429


def test_failures_for_one_account_do_not_lock_the_address_for_others(viewer, admin_user):
    """Five wrong passwords for one user locked the whole address: the admin's correct
    sign-in from the same office then got 429 for a minute."""
    for _ in range(5):
        assert attempt(viewer.email, "wrong", ip="10.9.9.9").status_code == 401
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(admin_user.email, PERSONA_PASSWORD, ip="10.9.9.9").status_code == 200
    assert admin_attempt(admin_user.email, PERSONA_PASSWORD, ip="10.9.9.9").status_code == 302


def test_an_address_is_throttled_across_accounts_above_its_own_limit(viewer, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for i in range(12):
        assert attempt(f"guess{i % 3}@example.com", "wrong", ip="10.8.8.8").status_code == 401
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.8.8.8").status_code == 429
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.8.8.7").status_code == 200


def test_correct_sign_ins_do_not_use_up_the_address(viewer, settings):
    """An office behind one address signs in many times each morning."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for _ in range(10):
        assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.7.7.7").status_code == 200


def test_a_refused_attempt_does_not_use_up_the_accounts_guesses(viewer, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for i in range(3):
        attempt(f"other{i}@example.com", "wrong", ip="10.6.6.6")
    for _ in range(10):
        assert attempt(viewer.email, "wrong", ip="10.6.6.6").status_code == 429
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.6.6.5").status_code == 200


def test_the_window_ends_and_the_user_can_sign_in_again(viewer, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    for _ in range(5):
        attempt(viewer.email, "wrong")
    assert attempt(viewer.email, PERSONA_PASSWORD).status_code == 429
    wait_until(
        lambda: attempt(viewer.email, PERSONA_PASSWORD).status_code == 200,
        timeout=5,
        interval=0.25,
        message="the window to end",
    )


def test_success_clears_the_account_counter(viewer):
    for i in range(4):
        attempt(viewer.email, "wrong", ip=f"10.1.0.{i}")
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.1.1.1").status_code == 200
    for i in range(4):
        assert attempt(viewer.email, "wrong", ip=f"10.2.0.{i}").status_code == 401


class ReentrantBackend(ModelBackend):
    """While the first password check runs, ten more attempts arrive, as they would from
    parallel requests; every password check is counted."""

    checks = 0

    def authenticate(self, request, username=None, password=None, **kwargs):
        type(self).checks += 1
        if type(self).checks == 1:
            for _ in range(10):
                attempt(username, "wrong")
        return super().authenticate(request, username=username, password=password, **kwargs)


def test_attempts_at_once_get_no_more_password_checks_than_the_limit(viewer, settings):
    """Checking the count and incrementing it after the password check let every attempt
    that arrived in between through to the password check."""
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.ReentrantBackend"]
    ReentrantBackend.checks = 0
    attempt(viewer.email, "wrong")
    assert ReentrantBackend.checks == settings.LOGIN_FAILURE_LIMIT


# --- The admin's sign-in ---------------------------------------------------------------


def test_the_admin_login_is_throttled_with_429_and_the_reason(admin_user):
    """Seven wrong passwords in a row at /admin/login/ all got the normal form error."""
    for _ in range(5):
        response = admin_attempt(admin_user.email, "wrong")
        assert response.status_code == 200
        assert b"Please enter the correct" in response.content
    response = admin_attempt(admin_user.email, PERSONA_PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert THROTTLED.search(response.content.decode())
    assert "_auth_user_id" not in response.wsgi_request.session


def test_the_admin_login_and_the_api_share_the_counters(admin_user):
    for _ in range(3):
        assert attempt(admin_user.email, "wrong").status_code == 401
    for _ in range(2):
        assert admin_attempt(admin_user.email, "wrong").status_code == 200
    assert attempt(admin_user.email, PERSONA_PASSWORD).status_code == 429
    assert admin_attempt(admin_user.email, PERSONA_PASSWORD).status_code == 429


def test_a_correct_admin_login_clears_the_account_counter(admin_user):
    for _ in range(4):
        admin_attempt(admin_user.email, "wrong")
    assert admin_attempt(admin_user.email, PERSONA_PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt(admin_user.email, "wrong").status_code == 401


def test_password_change_guesses_count_as_sign_in_attempts(viewer):
    client = client_for(viewer)
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/password",
            {"old_password": "wrong", "new_password": "a-brand-new-password-1"},
            REMOTE_ADDR="10.3.3.3",
        )
        assert response.status_code == 400, response.json()
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.3.3.4").status_code == 429
    assert User.objects.get(pk=viewer.pk).check_password(PERSONA_PASSWORD)
