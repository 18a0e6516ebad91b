"""One error envelope for every 4xx and 5xx, including errors raised before any view."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_validation_error_maps_fields_to_lists(admin_api):
    error = assert_envelope(
        admin_api.post("/api/v1/users", {"email": "bad", "role": "wizard"}), 400, "validation_error"
    )
    assert isinstance(error["details"]["email"], list)
    assert isinstance(error["details"]["role"], list)


def test_unknown_id_is_404(admin_api):
    assert_envelope(admin_api.get("/api/v1/users/999999"), 404, "not_found")


def test_non_numeric_id_is_404(admin_api):
    assert_envelope(admin_api.get("/api/v1/users/abc"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/users/", "/api/v2/users"])
def test_unknown_path_is_404(admin_api, path):
    assert_envelope(admin_api.get(path), 404, "not_found")


@override_settings(DEBUG=True)
def test_unknown_path_is_404_envelope_even_in_debug(admin_api):
    assert_envelope(admin_api.get("/api/v1/nothing-here"), 404, "not_found")


def test_method_not_allowed_is_405(admin_api):
    assert_envelope(admin_api.put("/api/v1/auth/me", {}), 405, "method_not_allowed")


def test_unsupported_media_type_is_415(admin_api):
    response = admin_api.post("/api/v1/users", data="<user/>", content_type="application/xml")
    assert_envelope(response, 415, "unsupported_media_type")


def test_malformed_json_is_400(admin_api):
    response = admin_api.post(
        "/api/v1/users", data='{"email": "a@b.c",', content_type="application/json"
    )
    assert_envelope(response, 400, "parse_error")


@override_settings(API_MAX_REQUEST_BYTES=1024)
def test_body_over_the_limit_is_413(admin_api):
    body = '{"full_name": "' + "x" * 2048 + '"}'
    response = admin_api.post("/api/v1/users", data=body, content_type="application/json")
    error = assert_envelope(response, 413, "request_too_large")
    assert error["details"]["limit_bytes"] == 1024


@override_settings(API_MAX_REQUEST_BYTES=1024)
def test_body_over_the_limit_is_413_before_authentication():
    response = APIClient().post(
        "/api/v1/auth/login", data="x" * 4096, content_type="application/json"
    )
    assert_envelope(response, 413, "request_too_large")


def test_forbidden_is_403(api):
    assert_envelope(api["viewer"].get("/api/v1/users"), 403, "permission_denied")


def test_invalid_page_is_404(admin_api):
    assert_envelope(admin_api.get("/api/v1/users?page=99"), 404, "not_found")


def test_page_size_is_capped(admin_api):
    from accounts.models import User
    from config.api.pagination import StrictPageNumberPagination

    cap = StrictPageNumberPagination.max_page_size
    assert cap == 200  # the cap api.md documents
    User.objects.bulk_create(
        User(email=f"user{n}@example.com", password="!", role="viewer") for n in range(cap + 5)
    )
    response = admin_api.get("/api/v1/users?page_size=5000")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == cap + 6  # and the admin
    assert len(body["results"]) == cap
    assert body["next"] is not None


def test_unexpected_failure_is_500_in_envelope(admin_api, monkeypatch):
    from accounts.api import views

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom with a secret in it")

    monkeypatch.setattr(views.UserViewSet, "list", explode)
    client = admin_api
    client.raise_request_exception = False
    error = assert_envelope(client.get("/api/v1/users"), 500, "server_error")
    assert "secret" not in error["message"]
