"""Five failed sign-ins per minute, per email and per IP; then 429 with Retry-After."""

import time

import pytest
from rest_framework.test import APIClient

from conftest import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db


def attempt(email, password, ip="10.0.0.1"):
    return APIClient().post(
        "/api/v1/auth/login", {"email": email, "password": password}, REMOTE_ADDR=ip
    )


def test_sixth_attempt_for_an_email_is_throttled_even_with_the_right_password(viewer):
    for i in range(5):
        assert attempt(viewer.email, "wrong", ip=f"10.0.0.{i + 1}").status_code == 401
    response = attempt(viewer.email, PERSONA_PASSWORD, ip="10.0.0.99")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_failures_from_one_ip_throttle_other_emails(viewer, operator):
    for i in range(5):
        assert attempt(f"unknown{i}@example.com", "wrong", ip="10.9.9.9").status_code == 401
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(operator.email, PERSONA_PASSWORD, ip="10.9.9.8").status_code == 200


def test_window_expiry_lets_the_user_in_again(viewer, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    for _ in range(5):
        attempt(viewer.email, "wrong")
    assert attempt(viewer.email, PERSONA_PASSWORD).status_code == 429
    time.sleep(1.5)
    assert attempt(viewer.email, PERSONA_PASSWORD).status_code == 200


def test_success_clears_the_email_counter(viewer):
    for i in range(4):
        attempt(viewer.email, "wrong", ip=f"10.1.0.{i}")
    assert attempt(viewer.email, PERSONA_PASSWORD, ip="10.1.1.1").status_code == 200
    for i in range(4):
        assert attempt(viewer.email, "wrong", ip=f"10.2.0.{i}").status_code == 401
