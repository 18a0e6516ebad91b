"""A camera's second URL, its main stream: credentials, address rules and what it is used for.

``source_url`` is then the sub-stream the pipeline analyses (scaled to the detection width
in the decoder) and the main stream feeds the snapshots. Its credentials are kept exactly
like the source's: the URL is stored masked, query secrets encrypted, userinfo moved into
the camera's own username and password (one device, one account).
"""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from django.db import connection
from django.test import Client

from accounts.models import AuditLog
from cameras.addresses import DEFAULT_ALLOWED_NETWORKS
from cameras.models import Camera
from cameras.snapshots import latest_snapshot
from cameras.synthetic_video import VideoInfo, make_test_video
from cameras.testing.supervisor import RunningSupervisor

SECRET = "M41n-Pw"
TOKEN = "tok-5566"


def raw_row(camera_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cameras_camera WHERE id = %s", [camera_id])
        return json.dumps([str(value) for value in cursor.fetchone()])


def create(api, **payload):
    return api["admin"].post("/api/v1/cameras", {"name": "Gate", **payload}, format="json")


@pytest.mark.django_db
def test_main_stream_credentials_are_moved_encrypted_and_masked(api):
    response = create(
        api,
        source_url="rtsp://10.1.1.9/sub",
        main_stream_url=f"rtsp://admin:{SECRET}@10.1.1.9/main?channel=1&token={TOKEN}",
    )
    assert response.status_code == 201, response.json()
    body = json.dumps(response.json())
    assert SECRET not in body and TOKEN not in body
    assert response.json()["main_stream_url"] == "rtsp://10.1.1.9/main?channel=1&token=***"
    camera = Camera.objects.get()
    assert (camera.username, camera.password) == ("admin", SECRET)
    assert camera.main_stream_url == "rtsp://10.1.1.9/main?channel=1&token=***"
    # Both streams are opened with the camera's account; the token only by the main one.
    assert camera.main_stream_target() == (
        f"rtsp://admin:{SECRET}@10.1.1.9/main?channel=1&token={TOKEN}"
    )
    assert camera.open_target() == f"rtsp://admin:{SECRET}@10.1.1.9/sub"
    row = raw_row(camera.pk)
    assert SECRET not in row and TOKEN not in row
    assert camera.redact(f"401 for {TOKEN}") == "401 for ***"
    audit = json.dumps(list(AuditLog.objects.values_list("changes", flat=True)))
    assert SECRET not in audit and TOKEN not in audit and "enc1:" not in audit
    listing = json.dumps(api["viewer"].get("/api/v1/cameras").json())
    assert SECRET not in listing and TOKEN not in listing


@pytest.mark.django_db
def test_an_edit_with_the_masked_url_keeps_the_main_stream_secret_and_blank_removes_it(api):
    camera_id = create(
        api,
        source_url="rtsp://10.1.1.9/sub",
        main_stream_url=f"rtsp://10.1.1.9/main?token={TOKEN}",
    ).json()["id"]
    shown = api["admin"].get(f"/api/v1/cameras/{camera_id}").json()["main_stream_url"]
    response = api["admin"].patch(
        f"/api/v1/cameras/{camera_id}", {"main_stream_url": shown}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Camera.objects.get().main_stream_target() == f"rtsp://10.1.1.9/main?token={TOKEN}"
    response = api["admin"].patch(
        f"/api/v1/cameras/{camera_id}", {"main_stream_url": ""}, format="json"
    )
    assert response.status_code == 200 and response.json()["main_stream_url"] == ""
    camera = Camera.objects.get()
    assert camera.main_stream_target() is None and camera.main_stream_url_secrets == ""


@pytest.mark.django_db
def test_a_second_account_in_the_main_stream_url_is_refused(api):
    response = create(
        api,
        source_url="rtsp://admin:one@10.1.1.9/sub",
        main_stream_url="rtsp://other:two@10.1.1.9/main",
    )
    assert response.status_code == 422, response.json()
    details = response.json()["error"]["details"]
    assert "main_stream_url" in details and "two" not in json.dumps(response.json())
    assert not Camera.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [("ftp://10.1.1.9/main", 422), ("file:///etc/passwd", 422), ("rtsp://x/\x00", 400)],
)
def test_bad_main_streams_are_refused(api, url, status):
    response = create(api, source_url="rtsp://10.1.1.9/sub", main_stream_url=url)
    assert response.status_code == status, response.json()
    assert "main_stream_url" in response.json()["error"]["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["rtsp://127.0.0.1:6379/", "http://169.254.169.254/"])
def test_the_address_policy_applies_to_the_main_stream(api, admin_user, settings, url):
    settings.CAMERA_ALLOWED_NETWORKS = list(DEFAULT_ALLOWED_NETWORKS)
    response = create(api, source_url="rtsp://10.1.1.9/sub", main_stream_url=url)
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "camera_address_not_allowed"
    assert "CAMERA_ALLOWED_NETWORKS" in error["details"]["main_stream_url"][0]
    browser = Client()
    browser.force_login(admin_user)
    form = {
        "name": "Via admin",
        "source_url": "rtsp://10.1.1.9/sub",
        "main_stream_url": url,
        "username": "",
        "password": "",
        "location": "",
        "direction": "both",
        "enabled": "on",
        "analysis_fps": "2",
        "detection_width": "640",
        "min_face_size": "60",
        "roi": "null",
    }
    page = browser.post("/admin/cameras/camera/add/", form)
    assert page.status_code == 200
    assert "CAMERA_ALLOWED_NETWORKS" in page.context["adminform"].form.errors["main_stream_url"][0]
    assert not Camera.objects.exists()


@pytest.mark.django_db
def test_the_admin_keeps_the_main_stream_secret_and_never_shows_it(admin_user):
    camera = Camera.objects.create(name="Gate", source_url="rtsp://10.1.1.9/sub")
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get(f"/admin/cameras/camera/{camera.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "enabled": "on",
            "roi": "null",
            "password": "",
            "main_stream_url": f"rtsp://10.1.1.9/main?token={TOKEN}",
        }
    )
    response = browser.post(f"/admin/cameras/camera/{camera.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    camera.refresh_from_db()
    assert camera.main_stream_target() == f"rtsp://10.1.1.9/main?token={TOKEN}"
    page = browser.get(f"/admin/cameras/camera/{camera.pk}/change/")
    assert TOKEN not in page.content.decode()
    assert TOKEN not in raw_row(camera.pk)


# -- what the supervisor does with it -----------------------------------------------------------


class SizeHandler:
    """Stands in for the pipeline: remembers the size of the frames it is given."""

    sizes: set[tuple[int, int]] = set()

    def __init__(self, camera) -> None:
        pass

    def process(self, image, captured_at, detail=None) -> None:
        SizeHandler.sizes.add((image.shape[1], image.shape[0]))

    def close(self) -> None:
        pass


@pytest.fixture
def main_video(video_dir) -> VideoInfo:
    return make_test_video(video_dir / "main.mp4", seconds=2, fps=10, size=(640, 360))


def snapshot_width(camera_id: int) -> int | None:
    jpeg = latest_snapshot(camera_id)
    if jpeg is None:
        return None
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[1]


@pytest.mark.django_db(transaction=True)
def test_the_sub_stream_is_analysed_scaled_and_snapshots_come_from_the_main_stream(
    settings, short_video, main_video
):
    settings.CAMERA_FILE_ROOT = short_video.path.parent
    SizeHandler.sizes = set()
    camera = Camera.objects.create(
        name="Two streams",
        source_url=f"file://{short_video.path}",  # 320x240: the sub-stream
        main_stream_url=f"file://{main_video.path}",  # 640x360
        detection_width=160,
    )
    single = Camera.objects.create(
        name="One stream", source_url=f"file://{short_video.path}", detection_width=160
    )
    with RunningSupervisor(handler_factory=SizeHandler):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (
            snapshot_width(camera.pk) != 640 or len(SizeHandler.sizes) < 2
        ):
            time.sleep(0.2)
    assert snapshot_width(camera.pk) == 640
    # Scaled in the decoder for the sub-stream; a single stream keeps its full size.
    assert SizeHandler.sizes == {(160, 120), (320, 240)}
    assert snapshot_width(single.pk) == 320
