"""Passwords are hashed with bcrypt, and older PBKDF2 hashes upgrade at the next sign-in,
through the API or the admin (issue 7, item 5).

The suite hashes with MD5 for speed (conftest.py); these tests use the production list.
"""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from conftest import PERSONA_PASSWORD, make_user

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = list(django_settings.PASSWORD_HASHERS)


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_bcrypt_comes_first_and_pbkdf2_is_still_accepted():
    assert PRODUCTION_HASHERS[0] == "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in PRODUCTION_HASHERS[1:]


def test_new_passwords_are_hashed_with_bcrypt(production_hashers):
    user = make_user("viewer")
    assert user.password.startswith("bcrypt_sha256$")
    assert user.check_password(PERSONA_PASSWORD)


def with_pbkdf2_hash(role: str) -> User:
    user = make_user(role)
    user.password = make_password(PERSONA_PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$")
    return user


def test_a_pbkdf2_hash_upgrades_to_bcrypt_at_api_sign_in(production_hashers):
    user = with_pbkdf2_hash("viewer")
    response = APIClient().post(
        "/api/v1/auth/login", {"email": user.email, "password": PERSONA_PASSWORD}
    )
    assert response.status_code == 200, response.json()
    assert User.objects.get(pk=user.pk).password.startswith("bcrypt_sha256$")


def test_a_pbkdf2_hash_upgrades_to_bcrypt_at_admin_sign_in(production_hashers):
    user = with_pbkdf2_hash("admin")
    browser = Client()
    response = browser.post("/admin/login/", {"username": user.email, "password": PERSONA_PASSWORD})
    assert response.status_code == 302, response.content
    assert User.objects.get(pk=user.pk).password.startswith("bcrypt_sha256$")
    assert browser.get("/admin/").status_code == 200


def test_a_wrong_password_leaves_the_old_hash(production_hashers):
    user = with_pbkdf2_hash("viewer")
    response = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": "nope"})
    assert response.status_code == 401
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$")
