"""Sign-in sessions (``/auth/sessions``, ``/users/{id}/sessions``) and the token version."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import sessions
from accounts.models import AuditLog, User, UserSession
from accounts.roles import Role
from conftest import PERSONA_PASSWORD, client_for

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sign_in(user: User, *, agent: str = FIREFOX, ip: str = "192.0.2.10") -> dict:
    client = APIClient(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post(
        "/api/v1/auth/login", {"email": user.email, "password": PERSONA_PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(tokens: dict) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def refresh(raw: str, ip: str = "192.0.2.10"):
    return APIClient(REMOTE_ADDR=ip).post("/api/v1/auth/refresh", {"refresh": raw})


def session_of(tokens: dict) -> UserSession:
    key = RefreshToken(tokens["refresh"])[sessions.SESSION_CLAIM]
    return UserSession.objects.get(key=key)


def assert_no_token_in(text: str, *tokens: dict) -> None:
    for pair in tokens:
        for raw in pair.values():
            if isinstance(raw, str):
                assert raw not in text


def test_login_opens_a_session_with_device_and_address(viewer):
    tokens = sign_in(viewer, agent="A" * 400, ip="198.51.100.7")
    session = session_of(tokens)
    assert session.user == viewer
    assert session.user_agent == "A" * 256
    assert session.ip == "198.51.100.7"
    assert session.revoked_at is None
    assert session.refresh_jti == RefreshToken(tokens["refresh"])["jti"]
    assert session.expires_at > timezone.now() + timedelta(days=1)


def test_login_address_comes_from_the_one_place_that_decides(viewer, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = APIClient(REMOTE_ADDR="192.0.2.99", HTTP_X_FORWARDED_FOR="203.0.113.66")
    tokens = client.post(
        "/api/v1/auth/login", {"email": viewer.email, "password": PERSONA_PASSWORD}
    ).json()
    assert session_of(tokens).ip == "192.0.2.99"


def test_refresh_follows_rotation_and_marks_last_use(viewer):
    tokens = sign_in(viewer)
    session = session_of(tokens)
    earlier = timezone.now() - timedelta(hours=1)
    UserSession.objects.filter(pk=session.pk).update(last_used_at=earlier)

    rotated = refresh(tokens["refresh"], ip="198.51.100.20")
    assert rotated.status_code == 200
    rotated = rotated.json()
    session.refresh_from_db()
    assert session.refresh_jti == RefreshToken(rotated["refresh"])["jti"]
    assert session.last_used_at > earlier
    assert session.ip == "198.51.100.20"
    assert UserSession.objects.count() == 1

    # The old token of the chain is spent; the new one goes on.
    assert refresh(tokens["refresh"]).status_code == 401
    again = refresh(rotated["refresh"])
    assert again.status_code == 200
    assert session_of(again.json()).pk == session.pk
    assert bearer(again.json()).get("/api/v1/auth/me").status_code == 200


def test_only_the_current_refresh_token_of_a_session_is_exchanged(viewer):
    """Even a spent token that escaped the blacklist (flushed, say) is refused."""
    tokens = sign_in(viewer)
    assert refresh(tokens["refresh"]).status_code == 200
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    BlacklistedToken.objects.all().delete()
    response = refresh(tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_refresh_token_of_no_session_is_refused(viewer):
    legacy = str(RefreshToken.for_user(viewer))
    response = refresh(legacy)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_list_own_sessions_marks_the_current_one(viewer, operator):
    phone = sign_in(viewer, agent="Phone", ip="192.0.2.1")
    laptop = sign_in(viewer, agent="Laptop", ip="192.0.2.2")
    sign_in(operator)
    response = bearer(laptop).get("/api/v1/auth/sessions")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = {row["device"]: row for row in body["results"]}
    assert set(rows) == {"Phone", "Laptop"}
    assert rows["Laptop"]["current"] is True
    assert rows["Phone"]["current"] is False
    assert rows["Phone"]["ip"] == "192.0.2.1"
    assert set(rows["Phone"]) == {"id", "device", "ip", "created_at", "last_used_at", "current"}
    assert_no_token_in(response.content.decode(), phone, laptop)


def test_signing_out_one_session_ends_its_tokens_and_no_other(viewer):
    phone = sign_in(viewer, agent="Phone")
    laptop = sign_in(viewer, agent="Laptop")
    phone_session = session_of(phone)

    response = bearer(laptop).delete(f"/api/v1/auth/sessions/{phone_session.pk}")
    assert response.status_code == 204

    assert refresh(phone["refresh"]).status_code == 401
    assert bearer(phone).get("/api/v1/auth/me").status_code == 401
    assert bearer(laptop).get("/api/v1/auth/me").status_code == 200
    assert refresh(laptop["refresh"]).status_code == 200
    listed = bearer(laptop).get("/api/v1/auth/sessions").json()
    assert [row["device"] for row in listed["results"]] == ["Laptop"]

    row = AuditLog.objects.get(object_type="accounts.usersession")
    assert row.object_id == str(phone_session.pk)
    assert row.actor == viewer
    assert set(row.changes) == {"revoked_at"}
    assert_no_token_in(str(row.changes) + row.object_repr, phone, laptop)
    # A session signed out is gone from the list: signing it out again is not found.
    again = bearer(laptop).delete(f"/api/v1/auth/sessions/{phone_session.pk}")
    assert again.status_code == 404


def test_nobody_sees_or_signs_out_another_users_session(viewer, operator, admin_user):
    theirs = session_of(sign_in(operator))
    for user in (viewer, admin_user):
        mine = sign_in(user)
        listed = bearer(mine).get("/api/v1/auth/sessions").json()
        assert theirs.pk not in {row["id"] for row in listed["results"]}
        response = bearer(mine).delete(f"/api/v1/auth/sessions/{theirs.pk}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert not AuditLog.objects.filter(object_type="accounts.usersession").exists()


def test_revoke_all_ends_every_token_access_tokens_included(viewer):
    phone = sign_in(viewer, agent="Phone")
    laptop = sign_in(viewer, agent="Laptop")
    plain_access = client_for(viewer)  # a token issued without session or version claims
    assert plain_access.get("/api/v1/auth/me").status_code == 200

    response = bearer(laptop).post("/api/v1/auth/sessions/revoke-all")
    assert response.status_code == 204

    for tokens in (phone, laptop):
        me = bearer(tokens).get("/api/v1/auth/me")
        assert me.status_code == 401
        assert me.json()["error"]["code"] == "token_not_valid"
        assert refresh(tokens["refresh"]).status_code == 401
    assert plain_access.get("/api/v1/auth/me").status_code == 401
    viewer.refresh_from_db()
    assert viewer.token_version == 1
    assert not sessions.live_sessions(viewer).exists()
    row = AuditLog.objects.get(object_type="accounts.user", object_id=str(viewer.pk))
    assert row.changes["signed_out_everywhere"] == {"old": False, "new": True}
    assert row.changes["live_sessions"] == {"old": 2, "new": 0}

    # Signing in again works, under the new version.
    fresh = sign_in(viewer)
    assert bearer(fresh).get("/api/v1/auth/me").status_code == 200
    assert RefreshToken(fresh["refresh"])[sessions.VERSION_CLAIM] == 1


def test_password_change_ends_every_access_token(viewer):
    other = sign_in(viewer, agent="Other device")
    tokens = sign_in(viewer)
    response = bearer(tokens).post(
        "/api/v1/auth/password",
        {"old_password": PERSONA_PASSWORD, "new_password": "brand-new-secret-42"},
    )
    assert response.status_code == 204
    for pair in (tokens, other):
        assert bearer(pair).get("/api/v1/auth/me").status_code == 401
        assert refresh(pair["refresh"]).status_code == 401
    assert not sessions.live_sessions(viewer).exists()


def test_admin_setting_a_password_ends_the_users_tokens(admin_api, viewer):
    tokens = sign_in(viewer)
    response = admin_api.patch(
        f"/api/v1/users/{viewer.pk}", {"password": "brand-new-secret-42"}, format="json"
    )
    assert response.status_code == 200
    assert bearer(tokens).get("/api/v1/auth/me").status_code == 401


def test_admin_lists_and_signs_out_another_users_sessions(admin_user, viewer):
    admin_tokens = sign_in(admin_user)
    admin = bearer(admin_tokens)
    phone = sign_in(viewer, agent="Phone")
    laptop = sign_in(viewer, agent="Laptop")

    listed = admin.get(f"/api/v1/users/{viewer.pk}/sessions")
    assert listed.status_code == 200
    assert {row["device"] for row in listed.json()["results"]} == {"Phone", "Laptop"}
    assert not any(row["current"] for row in listed.json()["results"])

    phone_session = session_of(phone)
    assert admin.delete(f"/api/v1/users/{viewer.pk}/sessions/{phone_session.pk}").status_code == 204
    assert bearer(phone).get("/api/v1/auth/me").status_code == 401
    assert bearer(laptop).get("/api/v1/auth/me").status_code == 200
    row = AuditLog.objects.get(object_type="accounts.usersession")
    assert row.actor == admin_user

    # A session of someone else is not found under this user.
    admin_session = session_of(admin_tokens)
    wrong = admin.delete(f"/api/v1/users/{viewer.pk}/sessions/{admin_session.pk}")
    assert wrong.status_code == 404

    assert admin.post(f"/api/v1/users/{viewer.pk}/sessions/revoke-all").status_code == 204
    assert bearer(laptop).get("/api/v1/auth/me").status_code == 401
    assert bearer(admin_tokens).get("/api/v1/auth/me").status_code == 200
    assert admin.get("/api/v1/users/999999/sessions").status_code == 404
    assert admin.post("/api/v1/users/999999/sessions/revoke-all").status_code == 404


@pytest.mark.parametrize("role", [Role.HR_MANAGER, Role.OPERATOR, Role.VIEWER])
def test_other_roles_may_not_touch_anyone_elses_sessions(role, personas, admin_user):
    target = personas[Role.VIEWER] if role != Role.VIEWER else admin_user
    victim = sign_in(target)
    session = session_of(victim)
    caller = bearer(sign_in(personas[role]))
    calls = [
        caller.get(f"/api/v1/users/{target.pk}/sessions"),
        caller.delete(f"/api/v1/users/{target.pk}/sessions/{session.pk}"),
        caller.post(f"/api/v1/users/{target.pk}/sessions/revoke-all"),
    ]
    assert [call.status_code for call in calls] == [403, 403, 403]
    assert all(call.json()["error"]["code"] == "permission_denied" for call in calls)
    assert bearer(victim).get("/api/v1/auth/me").status_code == 200
    target.refresh_from_db()
    assert target.token_version == 0


def test_sessions_need_sign_in():
    anonymous = APIClient()
    assert anonymous.get("/api/v1/auth/sessions").status_code == 401
    assert anonymous.post("/api/v1/auth/sessions/revoke-all").status_code == 401


def test_inactive_users_tokens_are_refused(viewer):
    tokens = sign_in(viewer)
    User.objects.filter(pk=viewer.pk).update(is_active=False)
    response = bearer(tokens).get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"
    assert refresh(tokens["refresh"]).status_code == 401


def test_authentication_loads_the_user_in_one_query(viewer, django_assert_num_queries):
    client = bearer(sign_in(viewer))
    with django_assert_num_queries(1):
        assert client.get("/api/v1/auth/me").status_code == 200


def test_expired_sessions_are_purged(viewer):
    live = session_of(sign_in(viewer))
    old = session_of(sign_in(viewer))
    UserSession.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert sessions.purge_expired() == 1
    assert list(UserSession.objects.values_list("pk", flat=True)) == [live.pk]
