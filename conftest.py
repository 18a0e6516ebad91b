"""Fixtures shared by every app's tests: personas, authenticated API clients, a clean cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.roles import Role
from config import counters

PERSONA_PASSWORD = "correct-horse-battery-staple"  # noqa: S105


def make_user(role: str, email: str | None = None, **fields) -> User:
    return User.objects.create_user(
        email or f"{role}@example.com",
        PERSONA_PASSWORD,
        full_name=fields.pop("full_name", role.replace("_", " ").title()),
        role=role,
        **fields,
    )


def client_for(user: User | None) -> APIClient:
    """An API client signed in as ``user`` with a real access token (or anonymous)."""
    client = APIClient()
    if user is not None:
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs ~0.3 s per user; tests make hundreds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[tuple]:
    """Background jobs are recorded, not started: a thread or a Celery worker running
    beside a test would race it. Tests run the job functions themselves."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        "config.background.enqueue",
        lambda task, *args, **_options: calls.append((task.name, *args)),
    )
    return calls


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    counters.reset_local()
    yield
    cache.clear()
    counters.reset_local()


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    """The suite makes many requests a minute as one user; throttle tests set their own."""
    settings.THROTTLE_RATES = {
        "user": "100000/min",
        "identify": "100000/min",
        "verify": "100000/min",
        "camera_test": "100000/min",
        "odoo_test": "100000/min",
    }


@pytest.fixture
def admin_user(db) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def hr_manager(db) -> User:
    return make_user(Role.HR_MANAGER)


@pytest.fixture
def operator(db) -> User:
    return make_user(Role.OPERATOR)


@pytest.fixture
def viewer(db) -> User:
    return make_user(Role.VIEWER)


@pytest.fixture
def personas(admin_user, hr_manager, operator, viewer) -> dict[str, User]:
    return {
        Role.ADMIN: admin_user,
        Role.HR_MANAGER: hr_manager,
        Role.OPERATOR: operator,
        Role.VIEWER: viewer,
    }


@pytest.fixture
def api(personas) -> dict[str, APIClient]:
    """One signed-in client per role, plus ``anonymous``."""
    clients = {role: client_for(user) for role, user in personas.items()}
    clients["anonymous"] = client_for(None)
    return clients


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return client_for(admin_user)
