"""Who may do what on users and audit logs: the whole grid, per role and action."""

import itertools

import pytest

from accounts import audit
from accounts.models import AuditLog, User
from accounts.roles import Role
from accounts.testing import (
    ALL_OK,
    FORBIDDEN,
    UNAUTHENTICATED,
    CrudEndpoint,
    check_role_matrix,
)

pytestmark = pytest.mark.django_db

_counter = itertools.count()


def _new_user() -> User:
    return User.objects.create_user(f"someone{next(_counter)}@example.com", "x" * 12)


def _new_audit_row() -> AuditLog:
    return audit.record_create(_new_user(), audit.AuditContext())


def test_users_role_matrix(api):
    endpoint = CrudEndpoint(
        model=User,
        list_url="/api/v1/users",
        make=_new_user,
        create_payload=lambda: {
            "email": f"new{next(_counter)}@example.com",
            "full_name": "New Person",
            "role": "viewer",
            "password": "a-long-enough-password",
        },
        update_payload={"full_name": "Renamed"},
    )
    expected = {
        Role.ADMIN: ALL_OK,
        Role.HR_MANAGER: FORBIDDEN,
        Role.OPERATOR: FORBIDDEN,
        Role.VIEWER: FORBIDDEN,
        "anonymous": UNAUTHENTICATED,
    }
    check_role_matrix(api, endpoint, expected)


def test_audit_logs_role_matrix(api):
    endpoint = CrudEndpoint(
        model=AuditLog,
        list_url="/api/v1/audit-logs",
        make=_new_audit_row,
        create_payload=lambda: {"action": "create", "object_type": "x", "source": "api"},
        update_payload={"action": "delete"},
    )
    read_only = {"list": 200, "retrieve": 200, "create": 405, "update": 405, "delete": 405}
    expected = {
        Role.ADMIN: read_only,
        Role.HR_MANAGER: FORBIDDEN,
        Role.OPERATOR: FORBIDDEN,
        Role.VIEWER: FORBIDDEN,
        "anonymous": UNAUTHENTICATED,
    }
    check_role_matrix(api, endpoint, expected)


def test_list_users_query_count(admin_api, django_assert_max_num_queries):
    for _ in range(30):
        _new_user()
    with django_assert_max_num_queries(4):
        response = admin_api.get("/api/v1/users?page_size=200")
    assert response.status_code == 200
    assert response.json()["count"] >= 30
