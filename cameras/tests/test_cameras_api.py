"""Cameras through the API: validation, secrets, roles, snapshots and probing."""

import itertools
import json

import pytest
from django.db import connection

from accounts.models import AuditLog
from accounts.roles import Role
from accounts.testing import (
    ALL_OK,
    READ_ONLY,
    UNAUTHENTICATED,
    CrudEndpoint,
    check_role_matrix,
)
from cameras.api.views import LIST_CACHE_SECONDS
from cameras.models import Camera, CameraStatus
from cameras.snapshots import store_snapshot
from config.testing import wait_until

pytestmark = pytest.mark.django_db
_names = itertools.count()


@pytest.fixture(autouse=True)
def video_root(settings, tmp_path):
    root = tmp_path / "videos"
    root.mkdir()
    settings.CAMERA_FILE_ROOT = root
    return root


def test_cameras_role_matrix(api):
    endpoint = CrudEndpoint(
        model=Camera,
        list_url="/api/v1/cameras",
        make=lambda: Camera.objects.create(
            name=f"cam {next(_names)}", source_url="rtsp://10.0.0.1/stream"
        ),
        create_payload=lambda: {"name": f"new {next(_names)}", "source_url": "rtsp://10.0.0.2/s"},
        update_payload={"location": "Lobby"},
    )
    check_role_matrix(
        api,
        endpoint,
        {
            Role.ADMIN: ALL_OK,
            Role.OPERATOR: ALL_OK,
            Role.HR_MANAGER: READ_ONLY,
            Role.VIEWER: READ_ONLY,
            "anonymous": UNAUTHENTICATED,
        },
    )


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # The schema allows these strings; the source rules refuse them: 422.
        ("ftp://cam.local/stream", 422),
        ("javascript:alert(1)", 422),
        ("gopher://cam.local/", 422),
        ("relative/path.mp4", 422),
        ("file:///etc/passwd", 422),
        ("/etc/passwd", 422),
        # The schema itself refuses these (blank, NUL): 400.
        ("", 400),
        ("rtsp://cam.local/\x00evil", 400),
    ],
)
def test_bad_sources_are_refused(api, url, status):
    response = api["operator"].post(
        "/api/v1/cameras", {"name": "bad", "source_url": url}, format="json"
    )
    assert response.status_code == status, response.json()
    assert "source_url" in response.json()["error"]["details"]
    assert not Camera.objects.exists()


def test_file_path_escaping_the_media_folder_is_refused(api, video_root):
    escape = f"file://{video_root}/../../../etc/passwd"
    response = api["operator"].post(
        "/api/v1/cameras", {"name": "sneaky", "source_url": escape}, format="json"
    )
    assert response.status_code == 422
    inside = api["operator"].post(
        "/api/v1/cameras",
        {"name": "test file", "source_url": f"file://{video_root}/demo.mp4"},
        format="json",
    )
    assert inside.status_code == 201, inside.json()


def test_credentials_are_never_echoed_and_stored_encrypted(api):
    response = api["admin"].post(
        "/api/v1/cameras",
        {
            "name": "Gate",
            "source_url": "rtsp://admin:Sup3r%40Secret@10.1.1.9:554/live?token=abc123",
            "location": "North gate",
            "direction": "entry",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = json.dumps(response.json())
    for secret in ("Sup3r", "Secret", "abc123"):
        assert secret not in body
    assert "password" not in response.json() and "username" not in response.json()
    assert response.json()["has_credentials"] is True
    camera = Camera.objects.get()
    assert camera.password == "Sup3r@Secret"
    assert camera.username == "admin"
    assert "admin" not in camera.source_url and "Sup3r" not in camera.source_url
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM cameras_camera WHERE id = %s", [camera.pk])
        raw = cursor.fetchone()[0]
    assert "Sup3r" not in raw and raw.startswith("enc1:")
    for client in (api["viewer"], api["operator"]):
        listing = json.dumps(client.get("/api/v1/cameras").json())
        assert "Sup3r" not in listing and "abc123" not in listing
    audit_rows = json.dumps(list(AuditLog.objects.values_list("changes", flat=True)))
    assert "Sup3r" not in audit_rows and "enc1:" not in audit_rows


def test_password_update_keeps_it_secret(api):
    camera = Camera.objects.create(name="Side", source_url="rtsp://10.0.0.5/s")
    response = api["operator"].patch(
        f"/api/v1/cameras/{camera.pk}", {"username": "u", "password": "n3w-pass"}, format="json"
    )
    assert response.status_code == 200
    assert "n3w-pass" not in json.dumps(response.json())
    camera.refresh_from_db()
    assert camera.password == "n3w-pass"
    row = AuditLog.objects.get(object_type="cameras.camera", action="update")
    assert row.changes["password"] == {"old": "", "new": "********"}


def test_contract_shape_and_disable(api):
    camera = Camera.objects.create(name="Lobby", source_url="rtsp://10.0.0.7/s")
    body = api["viewer"].get(f"/api/v1/cameras/{camera.pk}").json()
    assert set(body) >= {
        "id",
        "name",
        "source_url",
        "location",
        "direction",
        "enabled",
        "status",
        "last_frame_at",
        "fps",
        "last_error",
    }
    response = api["operator"].patch(
        f"/api/v1/cameras/{camera.pk}", {"enabled": False}, format="json"
    )
    assert response.json()["status"] == CameraStatus.DISABLED
    response = api["operator"].patch(
        f"/api/v1/cameras/{camera.pk}", {"enabled": True}, format="json"
    )
    assert response.json()["status"] == CameraStatus.OFFLINE


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"analysis_fps": 0}, "analysis_fps"),
        ({"analysis_fps": "fast"}, "analysis_fps"),
        ({"direction": "sideways"}, "direction"),
        ({"roi": [[0, 0], [1, 1]]}, "roi"),
        ({"roi": [[0, 0], [2, 0], [1, 1]]}, "roi"),
        ({"detection_width": 10}, "detection_width"),
    ],
)
def test_wrong_values(api, payload, field):
    camera = Camera.objects.create(name="Dock", source_url="rtsp://10.0.0.8/s")
    response = api["operator"].patch(f"/api/v1/cameras/{camera.pk}", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_snapshot(api):
    camera = Camera.objects.create(name="Hall", source_url="rtsp://10.0.0.9/s")
    missing = api["viewer"].get(f"/api/v1/cameras/{camera.pk}/snapshot")
    assert missing.status_code == 409
    assert missing.json()["error"]["code"] == "no_snapshot"
    store_snapshot(camera.pk, b"\xff\xd8fake-jpeg")
    response = api["viewer"].get(f"/api/v1/cameras/{camera.pk}/snapshot")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == b"\xff\xd8fake-jpeg"
    assert api["anonymous"].get(f"/api/v1/cameras/{camera.pk}/snapshot").status_code == 401


def test_list_is_cheap(api, django_assert_max_num_queries):
    for i in range(30):
        Camera.objects.create(name=f"c{i}", source_url="rtsp://10.0.0.1/s")
    with django_assert_max_num_queries(3):
        assert api["viewer"].get("/api/v1/cameras?page_size=100").json()["count"] == 30


def test_list_is_cached_briefly_and_edits_show_at_once(api, django_assert_max_num_queries):
    camera = Camera.objects.create(name="Cached", source_url="rtsp://10.0.0.3/s")
    client = api["viewer"]
    assert client.get("/api/v1/cameras").json()["results"][0]["location"] == ""
    with django_assert_max_num_queries(1):  # the token's user; the page itself is cached
        client.get("/api/v1/cameras")
    api["operator"].patch(f"/api/v1/cameras/{camera.pk}", {"location": "Hall"}, format="json")
    assert client.get("/api/v1/cameras").json()["results"][0]["location"] == "Hall"
    Camera.objects.filter(pk=camera.pk).update(status=CameraStatus.ONLINE)  # a heartbeat
    wait_until(
        lambda: client.get("/api/v1/cameras").json()["results"][0]["status"] == "online",
        timeout=LIST_CACHE_SECONDS + 5,
        message="the cached camera list to expire",
    )
