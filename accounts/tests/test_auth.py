"""JWT flows: login, refresh rotation, logout, me, password change, and bad tokens."""

from datetime import timedelta

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import AuditLog
from conftest import PERSONA_PASSWORD, client_for

pytestmark = pytest.mark.django_db


def login(client, email, password):
    return client.post("/api/v1/auth/login", {"email": email, "password": password})


def test_login_returns_tokens_and_user(viewer):
    response = login(APIClient(), viewer.email, PERSONA_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == {
        "id": viewer.id,
        "email": viewer.email,
        "full_name": viewer.full_name,
        "role": "viewer",
    }
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get("/api/v1/auth/me").json()["email"] == viewer.email
    viewer.refresh_from_db()
    assert viewer.last_login is not None


def test_login_email_is_case_insensitive(viewer):
    assert login(APIClient(), viewer.email.upper(), PERSONA_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "email,password",
    [("viewer@example.com", "wrong-password"), ("nobody@example.com", PERSONA_PASSWORD)],
)
def test_login_refused_with_the_same_answer(viewer, email, password):
    response = login(APIClient(), email, password)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "access" not in response.json()


def test_login_refused_for_inactive_user(viewer):
    viewer.is_active = False
    viewer.save()
    assert login(APIClient(), viewer.email, PERSONA_PASSWORD).status_code == 401


def test_login_validation_error_in_envelope():
    response = APIClient().post("/api/v1/auth/login", {"email": "not-an-email"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"email", "password"}


def test_refresh_rotates_and_old_token_is_refused(viewer):
    tokens = login(APIClient(), viewer.email, PERSONA_PASSWORD).json()
    first = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]

    again = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_not_valid"
    renewed = APIClient().post("/api/v1/auth/refresh", {"refresh": rotated["refresh"]})
    assert renewed.status_code == 200


def test_logout_blacklists_refresh_token(viewer):
    tokens = login(APIClient(), viewer.email, PERSONA_PASSWORD).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}).status_code == 204
    refused = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert refused.status_code == 401
    # The session's access token ended with it.
    assert client.get("/api/v1/auth/me").status_code == 401
    # Signing out twice is harmless.
    again = client_for(viewer).post("/api/v1/auth/logout", {"refresh": tokens["refresh"]})
    assert again.status_code == 204


def test_logout_refuses_someone_elses_token(viewer, operator):
    other = login(APIClient(), operator.email, PERSONA_PASSWORD).json()["refresh"]
    response = client_for(viewer).post("/api/v1/auth/logout", {"refresh": other})
    assert response.status_code == 403
    assert APIClient().post("/api/v1/auth/refresh", {"refresh": other}).status_code == 200


def test_logout_with_garbage_token(viewer):
    response = client_for(viewer).post("/api/v1/auth/logout", {"refresh": "garbage"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_logout_needs_sign_in():
    assert APIClient().post("/api/v1/auth/logout", {"refresh": "x"}).status_code == 401


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_expired_access_token_refused(viewer):
    token = AccessToken.for_user(viewer)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = _bearer(str(token)).get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_tampered_token_refused(viewer, admin_user):
    token = str(AccessToken.for_user(viewer))
    header, _payload, signature = token.split(".")
    forged_payload = str(AccessToken.for_user(admin_user)).split(".")[1]
    response = _bearer(f"{header}.{forged_payload}.{signature}").get("/api/v1/auth/me")
    assert response.status_code == 401


def test_token_signed_with_another_key_refused(viewer):
    payload = dict(AccessToken.for_user(viewer).payload)
    forged = jwt.encode(payload, "some-other-key-of-sufficient-length-1234", algorithm="HS256")
    assert forged != str(AccessToken.for_user(viewer))
    response = _bearer(forged).get("/api/v1/auth/me")
    assert response.status_code == 401


def test_refresh_token_is_not_an_access_token(viewer):
    response = _bearer(str(RefreshToken.for_user(viewer))).get("/api/v1/auth/me")
    assert response.status_code == 401


def test_missing_header_refused():
    response = APIClient().get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_password_change(viewer):
    tokens = login(APIClient(), viewer.email, PERSONA_PASSWORD).json()
    client = _bearer(tokens["access"])
    wrong = client.post(
        "/api/v1/auth/password", {"old_password": "nope", "new_password": "brand-new-secret-42"}
    )
    assert wrong.status_code == 422
    assert "old_password" in wrong.json()["error"]["details"]
    weak = client.post(
        "/api/v1/auth/password", {"old_password": PERSONA_PASSWORD, "new_password": "123"}
    )
    assert weak.status_code == 422
    assert "new_password" in weak.json()["error"]["details"]

    ok = client.post(
        "/api/v1/auth/password",
        {"old_password": PERSONA_PASSWORD, "new_password": "brand-new-secret-42"},
    )
    assert ok.status_code == 204
    assert login(APIClient(), viewer.email, PERSONA_PASSWORD).status_code == 401
    assert login(APIClient(), viewer.email, "brand-new-secret-42").status_code == 200
    # Every earlier session ends.
    refused = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert refused.status_code == 401
    row = AuditLog.objects.get(object_type="accounts.user", object_id=str(viewer.pk))
    assert row.changes == {"password": {"old": "********", "new": "********"}}
    assert "brand-new-secret-42" not in str(row.changes)
