"""A camera's audit rows never show a credential, wherever the URL carries one; reading
its newest frame (which shows faces) is audited."""

import json

import pytest
from django.test import Client

from accounts.models import AuditLog
from cameras.models import Camera
from cameras.snapshots import store_snapshot

pytestmark = pytest.mark.django_db


def test_query_string_credentials_never_reach_the_audit_log(api):
    url = "http://192.168.1.20/snapshot.jpg?user=admin&password=Hunter2pw&token=T0kenValue"
    response = api["operator"].post(
        "/api/v1/cameras", {"name": "Query creds", "source_url": url}, format="json"
    )
    assert response.status_code == 201, response.json()
    camera_id = response.json()["id"]
    patched = api["operator"].patch(
        f"/api/v1/cameras/{camera_id}",
        {"source_url": "rtsp://192.168.1.21/live?pwd=0therPw&channel=2"},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    rows = AuditLog.objects.filter(object_type="cameras.camera", object_id=str(camera_id))
    assert {row.action for row in rows} == {"create", "update"}
    stored = json.dumps([(row.changes, row.object_repr) for row in rows])
    for secret in ("Hunter2pw", "T0kenValue", "0therPw"):
        assert secret not in stored
    assert "channel=2" in stored  # what is not secret stays legible


def test_snapshot_reads_are_audited_since_frames_show_faces(api, viewer, admin_user):
    camera = Camera.objects.create(name="Hall", source_url="rtsp://192.168.1.30/s")
    assert api["viewer"].get(f"/api/v1/cameras/{camera.pk}/snapshot").status_code == 409
    store_snapshot(camera.pk, b"\xff\xd8fake-jpeg")
    for _ in range(3):  # a polling screen: one row, three reads
        response = api["viewer"].get(
            f"/api/v1/cameras/{camera.pk}/snapshot", REMOTE_ADDR="198.51.100.3"
        )
        assert response.status_code == 200
    browser = Client()
    browser.force_login(admin_user)
    assert browser.get(f"/admin/cameras/camera/{camera.pk}/snapshot/").status_code == 200

    api_row = AuditLog.objects.get(action="read", source="api")
    assert api_row.actor == viewer and api_row.ip == "198.51.100.3"
    assert api_row.object_type == "cameras.camera" and api_row.changes["image"] == "snapshot"
    assert api_row.changes["ids"] == [camera.pk] and api_row.changes["reads"] == 3
    assert AuditLog.objects.get(action="read", source="admin").actor == admin_user
