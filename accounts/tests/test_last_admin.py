"""The last active admin cannot be demoted or deactivated: a 409 in the envelope."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("change", [{"role": Role.VIEWER}, {"is_active": False}])
def test_the_last_admin_stays(admin_api, admin_user, change):
    response = admin_api.patch(f"/api/v1/users/{admin_user.pk}", change, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "This is the last active admin; make another admin first.",
        "details": {},
    }
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN and admin_user.is_active


def test_an_admin_may_step_down_when_another_remains(admin_api, admin_user):
    User.objects.create_user(email="second@example.com", password="x" * 12, role=Role.ADMIN)
    response = admin_api.patch(
        f"/api/v1/users/{admin_user.pk}", {"role": Role.VIEWER}, format="json"
    )
    assert response.status_code == 200
