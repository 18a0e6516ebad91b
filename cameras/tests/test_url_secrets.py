"""Credentials typed into a camera URL's query string are stored encrypted, never raw.

Many cameras take them there (``/cgi-bin/mjpg/video.cgi?user=admin&password=...``). The
stored URL keeps ``***`` in their place, so it can be shown anywhere; the values are put
back only in what the stream reader opens.
"""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from accounts.models import AuditLog
from cameras.models import Camera
from cameras.sources import mask_url, split_query_secrets, with_query_secrets

pytestmark = pytest.mark.django_db

SECRETS = ("S3cr3t-Pw", "tk-998877", "k-4455", "pw%26x")
URL = (
    "http://10.1.1.9/cgi-bin/mjpg/video.cgi?channel=1&user=admin&password=S3cr3t-Pw"
    "&Token=tk-998877&api_key=k-4455&PWD=pw%26x"
)
STORED = (
    "http://10.1.1.9/cgi-bin/mjpg/video.cgi?channel=1&user=admin&password=***"
    "&Token=***&api_key=***&PWD=***"
)


def raw_row(camera_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cameras_camera WHERE id = %s", [camera_id])
        return json.dumps([str(value) for value in cursor.fetchone()])


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "pw&x" not in text


def test_split_and_put_back_restore_the_url_exactly():
    stored, secrets = split_query_secrets(URL)
    assert stored == STORED
    assert secrets == [
        ["password", "S3cr3t-Pw"],
        ["Token", "tk-998877"],
        ["api_key", "k-4455"],
        ["PWD", "pw%26x"],
    ]
    assert with_query_secrets(stored, secrets) == URL
    assert mask_url(stored) == stored
    assert split_query_secrets("rtsp://10.0.0.1/live?channel=1") == (
        "rtsp://10.0.0.1/live?channel=1",
        [],
    )


def test_a_masked_value_sent_back_keeps_the_stored_one():
    _, secrets = split_query_secrets(URL)
    edited = STORED.replace("channel=1", "channel=2").replace("Token=***", "Token=new-tk")
    stored, kept = split_query_secrets(edited, secrets)
    assert stored == STORED.replace("channel=1", "channel=2")
    assert with_query_secrets(stored, kept) == URL.replace("channel=1", "channel=2").replace(
        "tk-998877", "new-tk"
    )


def test_api_stores_query_credentials_encrypted_and_shows_them_masked(api):
    response = api["operator"].post(
        "/api/v1/cameras", {"name": "Gate", "source_url": URL}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert_no_secret(json.dumps(response.json()))
    camera = Camera.objects.get()
    row = raw_row(camera.pk)
    assert_no_secret(row)
    assert "enc1:" in row
    shown = api["viewer"].get(f"/api/v1/cameras/{camera.pk}").json()["source_url"]
    assert shown == STORED
    assert_no_secret(json.dumps(api["viewer"].get("/api/v1/cameras").json()))
    assert camera.open_target() == URL
    assert_no_secret(json.dumps(list(AuditLog.objects.values_list("changes", flat=True))))


def test_api_edit_with_the_masked_url_keeps_the_secrets(api):
    camera = Camera.objects.get(
        pk=api["admin"]
        .post("/api/v1/cameras", {"name": "Gate", "source_url": URL}, format="json")
        .json()["id"]
    )
    moved = STORED.replace("channel=1", "channel=2")
    response = api["admin"].patch(
        f"/api/v1/cameras/{camera.pk}", {"source_url": moved}, format="json"
    )
    assert response.status_code == 200, response.json()
    camera.refresh_from_db()
    assert camera.open_target() == URL.replace("channel=1", "channel=2")
    assert_no_secret(raw_row(camera.pk))
    api["admin"].patch(
        f"/api/v1/cameras/{camera.pk}",
        {"source_url": "http://10.1.1.9/video.mjpg"},
        format="json",
    )
    camera.refresh_from_db()
    assert camera.url_secrets == "" and camera.open_target() == "http://10.1.1.9/video.mjpg"


def test_with_userinfo_credentials_too(api):
    url = "rtsp://admin:p%40ss@10.0.0.3/live?token=tk-998877"
    api["admin"].post("/api/v1/cameras", {"name": "Both", "source_url": url}, format="json")
    camera = Camera.objects.get()
    assert camera.source_url == "rtsp://10.0.0.3/live?token=***"
    assert camera.open_target() == url
    assert_no_secret(raw_row(camera.pk))


def test_errors_are_redacted_of_query_secrets():
    camera = Camera.objects.create(name="Gate", source_url="rtsp://10.0.0.3/live")
    _, secrets = split_query_secrets(URL)
    camera.query_secrets = secrets
    text = "401 for password=S3cr3t-Pw token tk-998877 (pw&x / pw%26x)"
    redacted = camera.redact(text)
    assert_no_secret(redacted)
    assert redacted.startswith("401 for password=***")


def test_admin_shows_the_masked_url_and_keeps_the_secrets_on_save(admin_user):
    stored, secrets = split_query_secrets(URL)
    camera = Camera(name="Gate", source_url=stored)
    camera.query_secrets = secrets
    camera.save()
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get(f"/admin/cameras/camera/{camera.pk}/change/")
    assert page.status_code == 200
    assert_no_secret(page.content.decode())
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"enabled": "on", "location": "Hall", "roi": "null", "password": ""})
    response = browser.post(f"/admin/cameras/camera/{camera.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    camera.refresh_from_db()
    assert camera.location == "Hall"
    assert camera.open_target() == URL
    assert_no_secret(raw_row(camera.pk))


def test_migration_moves_existing_raw_secrets_out_of_the_url():
    Camera.objects.create(name="Old", source_url=URL)  # as stored before this release
    assert "S3cr3t-Pw" in raw_row(Camera.objects.get().pk)
    migration = importlib.import_module("cameras.migrations.0002_url_secrets")
    migration.move_query_secrets(django_apps, None)
    camera = Camera.objects.get()
    assert_no_secret(raw_row(camera.pk))
    assert camera.source_url == STORED and camera.open_target() == URL
