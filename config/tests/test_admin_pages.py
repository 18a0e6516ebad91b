"""The back-office as each role meets it: a refusal is a page that says what the role may
do (and one log line, no traceback), pages that show secrets or that Presence does not
use are not there, and numbers, regions and people read as words."""

import logging
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from cameras.models import Camera
from detections.models import Detection
from faces.models import Person

pytestmark = pytest.mark.django_db

HIDDEN = (
    "/admin/token_blacklist/outstandingtoken/",
    "/admin/token_blacklist/blacklistedtoken/",
    "/admin/django_celery_beat/clockedschedule/",
    "/admin/django_celery_beat/solarschedule/",
)


@pytest.fixture
def browsers(personas) -> dict[str, Client]:
    clients = {}
    for role, user in personas.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def test_a_refusal_says_what_the_role_may_do_without_a_traceback(browsers, caplog):
    with caplog.at_level(logging.INFO):
        page = browsers[Role.HR_MANAGER].get("/admin/accounts/user/")
    assert page.status_code == 403
    text = re.sub(r"\s+", " ", page.content.decode())
    assert "Your role does not allow this" in text
    assert "<strong>HR manager</strong>" in text
    assert "View and change: Attendance, Faces" in text
    assert "View only: Cameras, Detections, Integrations" in text
    assert "Record biometric consent" in text and "Void attendance events" in text
    assert "Test the Odoo connection" not in text  # an admin's capability
    refused = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in refused] == ["Forbidden: /admin/accounts/user/"]
    assert all(r.exc_info is None for r in caplog.records)


def test_an_operator_refused_a_photo_page_gets_the_same_page(browsers, caplog):
    with caplog.at_level(logging.INFO):
        page = browsers[Role.OPERATOR].get("/admin/faces/facesample/")
    assert page.status_code == 403
    assert "View and change: Cameras, Detections" in page.content.decode()
    assert all(r.exc_info is None for r in caplog.records)


def test_api_refusals_keep_the_envelope(api):
    response = api["viewer"].post("/api/v1/cameras", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.HR_MANAGER, Role.OPERATOR])
def test_token_blacklist_and_unused_schedules_are_not_in_the_admin(browsers, role):
    index = browsers[role].get("/admin/").content.decode()
    for path in HIDDEN:
        assert path not in index
        assert browsers[role].get(path).status_code in (403, 404)
    if role == Role.ADMIN:
        assert "/admin/django_celery_beat/periodictask/" in index
        assert "/admin/accounts/usersession/" in index  # where sessions are signed out
    else:
        assert "django_celery_beat" not in index and "token_blacklist" not in index


def test_people_are_chosen_by_name_not_by_id(browsers):
    now = timezone.now()
    Person.objects.create(employee_code="AC-1", full_name="Autocomplete Anna")
    detection = Detection.objects.create(
        camera_name="cam",
        status="unknown",
        score=0.123456,
        track_id="t1",
        bbox=[0, 0, 10, 10],
        quality={"face_width": 80.4, "face_height": 96.2, "blur": 210.7, "inter_eye_px": 38.2},
        captured_at=now,
        last_seen_at=now,
        model_key="m",
    )
    client = browsers[Role.OPERATOR]
    page = client.get(f"/admin/detections/detection/{detection.pk}/change/").content.decode()
    assert "admin-autocomplete" in page and "vForeignKeyRawIdAdminField" not in page
    assert "face 80x96 px, eyes 38 px apart, sharpness 211" in page
    assert "0.12" in page and "0.123456" not in page
    found = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "detections",
            "model_name": "detection",
            "field_name": "person",
            "term": "anna",
        },
    ).json()
    assert [r["text"] for r in found["results"]] == ["Autocomplete Anna (AC-1)"]
    listing = client.get("/admin/detections/detection/").content.decode()
    assert "0.12" in listing and "0.123456" not in listing
    for url in ("/admin/detections/unknownface/", "/admin/faces/person/identify/"):
        assert "vForeignKeyRawIdAdminField" not in client.get(url).content.decode()


def test_an_empty_region_reads_whole_frame(browsers):
    camera = Camera.objects.create(name="Gate", source_url="rtsp://10.0.0.5/stream")
    client = browsers[Role.OPERATOR]
    assert "whole frame" in client.get("/admin/cameras/camera/").content.decode()
    page = client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    textarea = re.search(r'<textarea name="roi"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea is not None and textarea.group(1).strip() == ""
    assert 'placeholder="Whole frame (leave empty)"' in page
    assert "null" not in textarea.group(0)


#: Pages with nothing to filter by: a department is only a name, and there is one Odoo
#: connection.
NOTHING_TO_FILTER = {"faces.Department", "integrations.OdooConnection"}
ONE_ROW = {"integrations.OdooConnection"}


def test_every_list_of_ours_has_columns_filters_and_search():
    from django.contrib import admin

    ours = ("accounts", "faces", "cameras", "detections", "attendance", "integrations")
    lacking = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        if model._meta.app_label not in ours:
            continue
        if tuple(model_admin.list_display) == ("__str__",):
            lacking.append(f"{label}: no columns")
        if label not in ONE_ROW and not model_admin.search_fields:
            lacking.append(f"{label}: no search")
        if label not in NOTHING_TO_FILTER and not (
            model_admin.list_filter or model_admin.date_hierarchy
        ):
            lacking.append(f"{label}: no filters")
    assert not lacking, "\n".join(lacking)
