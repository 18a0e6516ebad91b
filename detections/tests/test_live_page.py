"""The live page and the token it mints from the admin's session (``detections.live_page``,
``accounts.browser_views``, ``accounts.browser_sessions``): who may open it, and that its
tokens are an ordinary client's, bound to the admin's session."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import sessions
from accounts.models import UserSession
from accounts.roles import Role
from cameras.models import Camera
from cameras.signals import camera_status_changed
from conftest import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db

STAFF_ROLES = [Role.ADMIN, Role.HR_MANAGER, Role.OPERATOR]


def signed_in(user, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    return client


def mint(client: Client) -> dict:
    response = client.post("/live/token")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_anonymous_is_sent_to_the_admin_sign_in():
    response = Client().get("/live/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/live/"


def test_a_viewer_has_no_back_office_and_no_live_page(viewer):
    response = signed_in(viewer).get("/live/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_see_the_page_with_its_script(personas, role):
    response = signed_in(personas[role]).get("/live/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/live/live.js" in page
    assert 'data-token-url="/live/token"' in page
    assert 'data-can-assign="true"' in page  # every staff role may label (ASSIGN_DETECTIONS)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_admin_header_links_the_live_page(admin_user):
    response = signed_in(admin_user).get("/admin/")
    assert response.status_code == 200
    assert 'href="/live/"' in response.content.decode()


def test_the_token_needs_a_post():
    assert Client().get("/live/token").status_code == 405


def test_the_token_needs_the_csrf_token(admin_user):
    client = signed_in(admin_user, enforce_csrf_checks=True)
    assert client.post("/live/token").status_code == 403
    client.get("/live/")  # sets the CSRF cookie, as the page does
    csrf = client.cookies["csrftoken"].value
    assert client.post("/live/token", HTTP_X_CSRFTOKEN=csrf).status_code == 200


def test_the_token_is_refused_without_a_staff_session(viewer):
    anonymous = Client().post("/live/token")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    refused = signed_in(viewer).post("/live/token")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert not UserSession.objects.filter(user=viewer).exists()


def test_the_token_is_a_short_lived_access_token(admin_user):
    minted = mint(signed_in(admin_user))
    lifetime = AccessToken.lifetime.total_seconds()
    assert minted["expires_in"] == lifetime
    token = AccessToken(minted["access"])
    assert token["exp"] == minted["expires_at"]
    assert token["token_type"] == "access"


def test_the_token_speaks_for_the_user_under_the_same_role_policy(hr_manager):
    access = mint(signed_in(hr_manager))["access"]
    api = bearer(access)
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == hr_manager.email
    # HR managers may not write cameras, whatever client they use.
    refused = api.post("/api/v1/cameras", {"name": "Gate", "source_url": "rtsp://10.0.0.9/s"})
    assert refused.status_code == 403


def test_one_session_per_admin_sign_in_shown_among_the_users_sessions(operator):
    client = signed_in(operator, HTTP_USER_AGENT="DeskBrowser/1.0")
    first, second = mint(client), mint(client)
    assert first["access"] != second["access"]
    session = UserSession.objects.get(user=operator)
    assert session.user_agent == "DeskBrowser/1.0"
    listed = bearer(second["access"]).get("/api/v1/auth/sessions").json()
    assert [row["id"] for row in listed["results"]] == [session.pk]


def test_signing_out_of_the_admin_ends_the_pages_tokens(admin_user):
    phone = sessions.start(admin_user, RequestFactory().get("/"))  # signed in elsewhere too
    client = Client()
    assert client.login(email=admin_user.email, password=PERSONA_PASSWORD)
    access = mint(client)["access"]
    assert bearer(access).get("/api/v1/auth/me").status_code == 200
    client.post("/admin/logout/")
    assert bearer(access).get("/api/v1/auth/me").status_code == 401
    assert bearer(str(phone.access_token)).get("/api/v1/auth/me").status_code == 200


def test_a_revoked_page_session_signs_the_browser_out(admin_user):
    client = signed_in(admin_user)
    access = mint(client)["access"]
    session = UserSession.objects.get(user=admin_user)
    sessions.close(session.key)
    assert bearer(access).get("/api/v1/auth/me").status_code == 401
    refused = client.post("/live/token")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "session_ended"
    assert client.get("/live/").status_code == 302  # signed out of the admin too


def test_signing_out_everywhere_reaches_the_page(admin_user):
    client = signed_in(admin_user)
    access = mint(client)["access"]
    sessions.end_all(admin_user)
    assert bearer(access).get("/api/v1/auth/me").status_code == 401
    assert client.post("/live/token").status_code == 401


def test_an_expired_page_session_is_started_again(admin_user):
    client = signed_in(admin_user)
    mint(client)
    UserSession.objects.filter(user=admin_user).update(expires_at="2000-01-01T00:00:00Z")
    access = mint(client)["access"]
    assert bearer(access).get("/api/v1/auth/me").status_code == 200
    assert UserSession.objects.filter(user=admin_user).count() == 2


def test_signing_out_of_the_admin_without_the_page_ends_nothing_else(admin_user):
    other = sessions.start(admin_user, RequestFactory().get("/"))
    client = Client()
    assert client.login(email=admin_user.email, password=PERSONA_PASSWORD)
    assert client.post("/admin/logout/").status_code == 200
    assert UserSession.objects.get(key=other[sessions.SESSION_CLAIM]).revoked_at is None


def test_the_camera_tiles_are_fed_both_rates(api, monkeypatch):
    """A tile shows the analysed rate as analysed and the read rate as read: the list it
    is drawn from and the ``camera.status`` message that redraws it carry both."""
    camera = Camera.objects.create(
        name="Gate", source_url="rtsp://cam.local/gate", fps=12.0, analysed_fps=2.5
    )
    (listed,) = api[Role.VIEWER].get("/api/v1/cameras").json()["results"]
    assert (listed["fps"], listed["analysed_fps"]) == (12.0, 2.5)

    sent = []
    monkeypatch.setattr(
        "detections.receivers.live.broadcast", lambda kind, data, **_: sent.append((kind, data))
    )
    camera_status_changed.send(Camera, camera=camera)
    assert [(kind, data["fps"], data["analysed_fps"]) for kind, data in sent] == [
        ("camera.status", 12.0, 2.5)
    ]
