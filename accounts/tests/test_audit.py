"""Every create, update and delete through the API or the admin leaves an audit row."""

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from conftest import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db


def rows_for(user_id):
    return AuditLog.objects.filter(object_type="accounts.user", object_id=str(user_id))


def test_api_create_update_delete_are_audited_with_secrets_masked(admin_api, admin_user):
    created = admin_api.post(
        "/api/v1/users",
        {
            "email": "new@example.com",
            "full_name": "New",
            "role": "operator",
            "password": "first-secret-password",
        },
        REMOTE_ADDR="192.0.2.7",
    )
    assert created.status_code == 201
    assert "password" not in created.json()
    user_id = created.json()["id"]

    row = rows_for(user_id).get(action="create")
    assert row.actor == admin_user and row.actor_email == admin_user.email
    assert row.ip == "192.0.2.7" and row.source == "api"
    assert row.changes["role"] == {"old": None, "new": "operator"}
    assert row.changes["password"] == {"old": None, "new": "********"}

    admin_api.patch(
        f"/api/v1/users/{user_id}",
        {"role": "viewer", "password": "second-secret-password"},
        format="json",
    )
    row = rows_for(user_id).get(action="update")
    assert row.changes["role"] == {"old": "operator", "new": "viewer"}
    assert row.changes["password"] == {"old": "********", "new": "********"}
    assert "full_name" not in row.changes

    assert admin_api.delete(f"/api/v1/users/{user_id}").status_code == 204
    row = rows_for(user_id).get(action="delete")
    assert row.changes["email"] == {"old": "new@example.com", "new": None}

    dumped = str(list(AuditLog.objects.values_list("changes", flat=True)))
    assert "first-secret-password" not in dumped and "second-secret-password" not in dumped
    assert "pbkdf2" not in dumped and "md5$" not in dumped


def test_audit_logs_api_filters(admin_api, admin_user, viewer):
    admin_api.patch(f"/api/v1/users/{viewer.pk}", {"full_name": "X"}, format="json")
    admin_api.patch(f"/api/v1/users/{viewer.pk}", {"full_name": "Y"}, format="json")
    listing = admin_api.get(
        "/api/v1/audit-logs", {"action": "update", "object_type": "accounts.user"}
    ).json()
    assert listing["count"] == 2
    newest = listing["results"][0]
    assert newest["changes"]["full_name"] == {"old": "X", "new": "Y"}
    assert newest["actor"] == {"id": admin_user.pk, "email": admin_user.email}
    future = admin_api.get("/api/v1/audit-logs", {"from": "2999-01-01T00:00:00Z"}).json()
    assert future["count"] == 0
    bad = admin_api.get("/api/v1/audit-logs", {"from": "yesterday"})
    assert bad.status_code == 400
    assert "from" in bad.json()["error"]["details"]


def test_no_change_no_row(admin_api, viewer):
    admin_api.patch(f"/api/v1/users/{viewer.pk}", {"full_name": viewer.full_name}, format="json")
    assert not rows_for(viewer.pk).exists()


def test_refused_change_writes_nothing(api, viewer):
    api["operator"].patch(f"/api/v1/users/{viewer.pk}", {"role": "admin"}, format="json")
    assert not AuditLog.objects.exists()


def _admin_browser(user) -> Client:
    browser = Client()
    assert browser.login(email=user.email, password=PERSONA_PASSWORD)
    return browser


def test_admin_changes_are_audited(admin_user, viewer):
    browser = _admin_browser(admin_user)
    response = browser.post(
        f"/admin/accounts/user/{viewer.pk}/change/",
        {
            "email": viewer.email,
            "full_name": "Changed In Admin",
            "role": "operator",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    row = rows_for(viewer.pk).get(action="update")
    assert row.source == "admin"
    assert row.changes["role"] == {"old": "viewer", "new": "operator"}

    response = browser.post(
        f"/admin/accounts/user/{viewer.pk}/password/",
        {"password1": "admin-set-password-77", "password2": "admin-set-password-77"},
    )
    assert response.status_code == 302
    assert rows_for(viewer.pk).filter(changes__has_key="password").exists()

    response = browser.post(f"/admin/accounts/user/{viewer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert rows_for(viewer.pk).filter(action="delete", source="admin").exists()
    assert not User.objects.filter(pk=viewer.pk).exists()


def test_admin_bulk_delete_is_audited(admin_user, viewer, operator):
    browser = _admin_browser(admin_user)
    response = browser.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [viewer.pk, operator.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="delete", source="admin").count() == 2


def test_audit_log_is_read_only_in_admin(admin_user, viewer):
    from accounts import audit

    row = audit.record_create(viewer, audit.AuditContext())
    browser = _admin_browser(admin_user)
    assert browser.get("/admin/accounts/auditlog/").status_code == 200
    assert browser.get(f"/admin/accounts/auditlog/{row.pk}/change/").status_code == 200
    tampered = browser.post(
        f"/admin/accounts/auditlog/{row.pk}/change/", {"action": "delete", "object_id": "9"}
    )
    assert tampered.status_code == 403
    assert browser.post(f"/admin/accounts/auditlog/{row.pk}/delete/").status_code == 403
    assert browser.get("/admin/accounts/auditlog/add/").status_code == 403
    row.refresh_from_db()
    assert row.action == "create"
